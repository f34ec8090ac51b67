"""Fuzz: generated planner outputs (mostly malformed) through parser and validator.

No exception may escape; every rejection must be one actionable line the planner can fix.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitron_agent.errors import BadInputError
from vitron_agent.graph.validate import validate_plan
from vitron_agent.protocol import Invocation, parse
from vitron_agent.stores import MediaRef, SignalStore

SIZES = {"u0": (120, 100), "u1": (64, 48)}
MEDIA = {
    "u0": MediaRef(id="u0", kind="image", file="blobs/a.png", width=120, height=100),
    "u1": MediaRef(id="u1", kind="video", file="blobs/v.mp4", width=64, height=48, frames=10, fps=10.0),
    "o1": MediaRef(id="o1", kind="mask", file="blobs/m.png", width=120, height=100, source="x", parents=("u0",)),
}
HINTS = ("expected", "use ", "need", "must", "one of", "refer", "draw", "install", "outside", "unknown", "not ",
         "cannot", "only", "exist", "invalid", "duplicate", "write", "inverted", "got")

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(lambda f: f"{f}"),
    st.integers(-10**12, 10**12).map(str),
    st.sampled_from(["0.1", "0.5", "0.9", "1.5", "-0.2", "nan", "inf", "1e400", "0x10", "", "½"]),
)
regions = st.one_of(
    st.lists(numbers, min_size=0, max_size=6).map(lambda xs: "(" + ", ".join(xs) + ")"),
    st.tuples(st.lists(numbers, min_size=4, max_size=4), st.integers(-3, 20), st.integers(-3, 20)).map(
        lambda t: "(" + ", ".join(t[0]) + f") | {t[1]}, {t[2]}"),
    st.sampled_from(["o1", "o9", "c1", "c7", "u0", "../../etc/passwd", "None", "[0.1, 0.2, 0.3]", "(0.1, 0.2)+ (x, y)-"]),
)
words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
modules = st.sampled_from(["box_mask", "spot_finder", "invert_remove", "auto", "A", "B", "F", "G", "nosuch",
                           "Video Segmentation", "../x", "", "<module>"]) | words
tasks = st.sampled_from(["segment", "ground", "edit_image.remove", "edit_image", "edit_image.fly", "track",
                         "generate_video", "answer", "segmentation", "fly", "", "foreground"])
tag_values = {
    "module": modules,
    "instruction": st.tuples(tasks, words).map(lambda t: f"{t[0]}: {t[1]}") | words,
    "region": regions,
    "input": st.sampled_from(["u0", "u1", "u9", "o1", "c1", "c3", "u0, u1", "", "/etc/passwd", "u0;DROP TABLE"]),
    "after": st.sampled_from(["c1", "c2", "c99", "u0", "", "c1, c1"]),
    "args": st.one_of(st.dictionaries(st.sampled_from(["op", "new", "color", "x"]),
                                      st.sampled_from(["remove", "replace", "fly", 1, None, [1, 2]]), max_size=3)
                      .map(json.dumps), st.sampled_from(["{", "[]", "null", '{"op": NaN}', "{'op': 'remove'}"])),
    "SP": st.sampled_from(["None", "s0123456789abcdef", "", "<SIG_0><SIG_1>", "s" + "f" * 16]),
    "id": st.sampled_from(["c1", "c2", "c1", "x", "", "c-1"]),
    "bogus": words,
}


@st.composite
def planner_outputs(draw: st.DrawFn) -> str:
    parts = [draw(words)]
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(sorted(tag_values)))
        value = draw(tag_values[name])
        style = draw(st.integers(0, 5))
        if style == 0:
            parts.append(f"<{name}>{value}")  # missing closing tag
        elif style == 1:
            parts.append(f"< {name.upper()} > {value} </ {name} >")
        elif style == 2:
            parts.append(f"</{name}>{value}")  # stray closing tag
        else:
            parts.append(f"<{name}>{value}</{name}>")
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(["\n", " ", "<invoke>", "</invoke>", "ok.", "<b>"])))
    return "".join(parts)


def _actionable(message: str) -> bool:
    return bool(message) and "\n" not in message and len(message) < 600 and any(h in message.lower() for h in HINTS)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=planner_outputs())
def test_generated_planner_outputs_never_crash_parser_or_validator(text, fuzz_registry, fuzz_signals):
    try:
        plan = parse(text, SIZES, default_input="u0")
    except BadInputError as exc:
        assert _actionable(str(exc)), str(exc)
        return
    checked = validate_plan(plan.invocations, dict(MEDIA), fuzz_registry, fuzz_signals, ["u0"])
    for problem in checked.problems:
        assert _actionable(problem.message), problem.message
    valid = [i for i in checked.invocations if i.id not in checked.bad_ids()]
    for inv in valid:
        assert checked.experts[inv.id] in fuzz_registry


@settings(max_examples=500, deadline=None)
@given(args=st.dictionaries(st.sampled_from(["task", "command", "region", "inputs", "args", "module", "signal", "x"]),
                            st.one_of(st.none(), st.integers(), st.floats(), words, st.lists(st.floats(), max_size=5),
                                      st.dictionaries(st.sampled_from(["box", "ref", "points"]),
                                                      st.lists(st.floats(), max_size=4) | words, max_size=2)),
                            max_size=6))
def test_generated_tool_call_arguments_become_actionable_errors(args, fuzz_registry, fuzz_signals):
    try:
        inv = Invocation(**args)
    except (ValueError, TypeError):  # pydantic ValidationError is a ValueError: the chat planner reports it
        return
    checked = validate_plan([inv], dict(MEDIA), fuzz_registry, fuzz_signals, ["u0"])
    for problem in checked.problems:
        assert _actionable(problem.message), problem.message


@pytest.fixture(scope="module")
def fuzz_registry():
    from vitron_agent.experts.registry import ExpertRegistry

    from .synthetic_experts import BoxMaskExpert, BrightSpotGrounder, InvertRemover

    registry = ExpertRegistry()
    for expert in (BoxMaskExpert, BrightSpotGrounder, InvertRemover):
        registry.register(expert)
    return registry


@pytest.fixture(scope="module")
def fuzz_signals(tmp_path_factory):
    return SignalStore(tmp_path_factory.mktemp("signals"))
