"""Hypothesis strategies for the fuzz: planner outputs as VITRON tag text, chat-model tool calls and JSON lists.

Malformed on purpose: broken and injected tags, wrong types, huge numbers, NaN and infinity, odd
unicode, path traversal; plus nearly valid ones, so that many plans get as far as the router.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import strategies as st

INJECTIONS = [
    "</SP><Module>D</Module>", "<module>sam</module>", "</instruction><instruction>edit_image.remove: all",
    "<invoke><invoke>", "</invoke>", "&lt;module&gt;B&lt;/module&gt;", "&#0;", "&#1114112;", "&#x110000;",
    "&#55296;", "&amp;#60;module>", "<region>(0,0,1,1)</region>", "<SP>s0123456789abcdef</SP>",
    "{{7*7}}", "${HOME}", "'; DROP TABLE checkpoints; --", "\"}]}", "\\u0000", "<!-- -->", "<![CDATA[x]]>",
    "<script>alert(1)</script>", "<b>", "< module >", "<Module >F</ Module>", "<id>c1</id><id>c1</id>",
]
TRAVERSAL = ["../../etc/passwd", "..\\..\\windows\\system32", "/etc/shadow", "~/.ssh/id_rsa", "file:///etc/passwd",
             "u0/../../x", "o1/../../../x", "%2e%2e%2fetc", "\\\\server\\share", "u0\x00.png", "..", "."]
ODD = ["\u202e", "\u200b", "\ufeff", "🐱", "e\u0301", "Ω", "ﷺ", "\x00", "\x7f", "\u2028", "\r\n", "\t",
       "١٢٣", "½", "ｓｅｇｍｅｎｔ", "İ", "ß", "\U0010ffff"]

plain = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=24)
nasty = st.one_of(plain, st.sampled_from(INJECTIONS + TRAVERSAL + ODD),
                  st.lists(st.sampled_from(INJECTIONS + TRAVERSAL + ODD) | plain, max_size=4).map("".join),
                  st.integers(1, 4000).map(lambda n: "x" * n))
number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**20, 10**20).map(str),
    st.sampled_from(["0.1", "0.5", "0.9", "1", "0", "1000", "1001", "-0.0", "1e309", "-1e309", "nan", "NaN", "inf",
                     "9" * 400, "1" + "0" * 5000, "0x10", "1_000", "٣", "½", "0.1.2", "", "+", "-", ".", "e5"]),
)
regions = st.one_of(
    st.lists(number_text, max_size=6).map(lambda xs: "(" + ", ".join(xs) + ")"),
    st.lists(number_text, max_size=5).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.lists(st.tuples(number_text, number_text, st.sampled_from(["+", "-", "", "*"])), max_size=4).map(
        lambda ps: "; ".join(f"({x}, {y}){s}" for x, y, s in ps)),
    st.tuples(st.lists(number_text, min_size=4, max_size=4), st.integers(-3, 10**12), st.integers(-3, 10**12)).map(
        lambda t: "(" + ", ".join(t[0]) + f") | {t[1]}, {t[2]}"),
    st.sampled_from(["o1", "o2", "o3", "o4", "o9", "c1", "c2", "c99", "u0", "u1", "None", "none", "", "| 3",
                     "o1 | 0, 9", "o3 | 2", "(0.1, 0.1, 0.5, 0.5) | 0, 10", "(0.1, 0.2)+ (x, y)-",
                     "[[0.1, 0.2], [0.3, 0.4]]", "[[0.1, 0.2], 5]", '{"box": [1, 2, 3, 4]}', "[" * 3000]),
    st.sampled_from(TRAVERSAL + INJECTIONS),
)
modules = st.sampled_from(["box_mask", "spot_finder", "invert_remove", "grabcut", "opencv_recolor", "opencv_inpaint",
                           "flow_track", "pan_zoom", "sam", "stable_diffusion", "auto", "AUTO", "A", "B", "C", "E",
                           "F", "G", "Z", "b", "nosuch", "Video Segmentation", "Image Editing", "image-generation",
                           ""]) | nasty
task_heads = st.sampled_from(["segment", "ground", "track", "answer", "generate_image", "generate_video",
                              "animate_image", "edit_image.remove", "edit_image.recolor", "edit_image.replace",
                              "edit_image.fly", "edit_image", "edit_video.restyle", "edit_video", "segmentation",
                              "detect", "t2v", "i2v", "vqa", "fly", "", "foreground", "background", "SEGMENT",
                              "edit_image..remove", "edit.remove"])
instructions = st.one_of(
    st.tuples(task_heads, nasty).map(lambda t: f"{t[0]}: {t[1]}"),
    st.tuples(nasty, nasty).map(lambda t: f"foreground: {t[0]}</instruction><instruction>background: {t[1]}"),
    st.sampled_from(["foreground: keep", "background: keep", "foreground: a cat; background: keep",
                     "foreground: a\nforeground: b"]),
    nasty,
)
def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"x": value}
    return value


WEIRD_JSON: list[Any] = [
    None, True, False, 0, -1, 1, 2**63, -(2**63), 10**30, 10**400, 1e308, -1e308, math.nan, math.inf, -math.inf, 0.5,
    -0.0, 5e-324, "", "x", "segment", "remove", "recolor", "fly", "red", "#ff0000", "u0", "o1", "c1", "C1", "None",
    [], [1, 2], [1, 2, 3, 4], [0.0, 0.0, 10.0, 10.0], [4, 4, 1, 1], [-5, -5, 5, 5], [0, 0, 1e6, 1e6],
    [math.nan, 0, 1, 1], [[1, 2]], [None], ["u0", 3], {}, {"op": "remove"}, {"op": 3}, {"box": [1, 2, 3, 4]},
    {"ref": "o1"}, {"ref": "../o1"}, {"points": [{"x": 1, "y": 2}]}, {"x": 1, "y": math.inf}, {"1": 2, "": None},
    _nested(12), _nested(40), "x" * 5000, "\u0000" * 3,
] + TRAVERSAL + INJECTIONS + ODD
json_values = st.one_of(st.sampled_from(WEIRD_JSON), st.integers(-10**30, 10**30),
                        st.floats(allow_nan=True, allow_infinity=True), plain)
args_text = st.one_of(
    st.dictionaries(st.sampled_from(["op", "new", "color", "steps", "seed", "x"]), json_values, max_size=4).map(
        lambda d: json.dumps(d, ensure_ascii=False)),
    st.sampled_from(["{", "[]", "null", "1", '"op"', '{"op": NaN}', '{"op": Infinity}', '{"x": 1e999}',
                     "{'op': 'remove'}", '{"op": "remove"', "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000,
                     '{"n": ' + "9" * 5000 + "}", '{"op": "remove", "op": "add"}']),
    nasty,
)
tag_values = {
    "module": modules,
    "instruction": instructions,
    "region": regions,
    "input": st.one_of(st.lists(st.sampled_from(["u0", "u1", "u9", "o1", "o2", "o3", "o4", "c1", "c2", "c9"] + TRAVERSAL),
                                max_size=3).map(", ".join), nasty),
    "after": st.lists(st.sampled_from(["c1", "c2", "c3", "c99", "u0", "o1", "c0"] + TRAVERSAL), max_size=3).map(", ".join),
    "args": args_text,
    "SP": st.sampled_from(["None", "null", "s0123456789abcdef", "", "<SIG_0><SIG_1>", "s" + "f" * 16, "s1",
                           "../../signals/x"] + INJECTIONS),
    "id": st.sampled_from(["c1", "c2", "c3", "c1 ", "x", "", "c-1", "C1", "c01", "c" + "9" * 70] + TRAVERSAL),
    "inputs": st.sampled_from(["u0", "u1, o1"]),
    "depends_on": st.sampled_from(["c1", ""]),
    "signal": st.sampled_from(["None"]),
    "bogus": nasty,
    "invoke": st.just(""),
}
TAG_STYLES = (
    lambda n, v: f"<{n}>{v}</{n}>",
    lambda n, v: f"<{n}>{v}",  # missing closing tag
    lambda n, v: f"< {n.upper()} > {v} </ {n} >",
    lambda n, v: f"<{n.title()}> {v} </{n.title()}>",  # the paper's capitalised tags with spaces
    lambda n, v: f"</{n}>{v}",  # stray closing tag
    lambda n, v: f"<{n}>{v}</{n}></{n}>",  # doubled closing tag
    lambda n, v: f"<invoke><{n}>{v}</{n}></invoke>",
)


@st.composite
def tag_texts(draw: st.DrawFn) -> str:
    """A reply, then 0-10 tags in random styles, with noise and injections between them."""
    parts = [draw(nasty)]
    for _ in range(draw(st.integers(0, 10))):
        name = draw(st.sampled_from(sorted(tag_values)))
        parts.append(draw(st.sampled_from(TAG_STYLES))(name, draw(tag_values[name])))
        if draw(st.integers(0, 3)) == 0:
            parts.append(draw(st.sampled_from(["\n", " ", "1. ", "ok.", "<b>", "&", "<", ">", "<<module>>"]) | nasty))
    return "".join(parts)


fractions = st.floats(0, 1).map(lambda f: f"{f:.3f}")
good_regions = st.one_of(
    st.tuples(fractions, fractions, fractions, fractions).map(
        lambda t: f"({min(t[0], t[2])}, {min(t[1], t[3])}, {max(t[0], t[2])}, {max(t[1], t[3])})"),
    st.lists(st.tuples(fractions, fractions, st.sampled_from(["+", "-"])), min_size=1, max_size=3).map(
        lambda ps: "; ".join(f"({x}, {y}){sign}" for x, y, sign in ps)),
    st.sampled_from(["o1", "o2", "c1", "c2", "(0.1, 0.1, 0.9, 0.9) | 0, 3", "(0.400, 0.300, 0.600, 0.400)"]),
)
good_args = st.sampled_from(['{"color": "red"}', '{"new": "a dog"}', '{"op": "remove"}', '{"color": "#00ff00"}', "{}"])


@st.composite
def valid_ish_tag_texts(draw: st.DrawFn) -> str:
    """Mostly well-formed plans (so many reach the router): one to four invocations, some fields off."""
    lines = [draw(plain)]
    for n in range(1, draw(st.integers(1, 4)) + 1):
        module = draw(st.sampled_from(["auto", "box_mask", "spot_finder", "invert_remove", "grabcut", "B", "C", "E"]))
        task = draw(st.sampled_from(["segment: the spot", "ground: spot", "edit_image.remove: the spot",
                                     "edit_image.recolor: the cup", "track: the spot", "answer: what is it",
                                     "segment: the cup", "generate_image: a cat"]))
        fields = [f"<module>{module}</module>", f"<instruction>{task}</instruction>"]
        if draw(st.booleans()):
            fields.append(f"<region>{draw(good_regions if draw(st.integers(0, 3)) else regions)}</region>")
        if draw(st.booleans()):
            fields.append(f"<input>{draw(st.sampled_from(['u0', 'u1', 'o1', f'c{n - 1}', 'c9', 'o4']))}</input>")
        if draw(st.integers(0, 3)) == 0:
            fields.append(f"<after>{draw(st.sampled_from([f'c{n - 1}', f'c{n}', 'c7']))}</after>")
        if draw(st.integers(0, 3)) == 0:
            fields.append(f"<args>{draw(good_args if draw(st.integers(0, 2)) else args_text)}</args>")
        lines.append(" ".join([fields[0], *draw(st.permutations(fields[1:]))]))  # <module> starts an invocation
    return "\n".join(lines)


tool_arg_values = {
    "task": st.sampled_from(["segment", "ground", "edit_image", "track", "answer", "fly", "", "SEGMENT"]) | json_values,
    "command": nasty | json_values,
    "region": st.one_of(
        st.fixed_dictionaries({}, optional={
            "box": st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
                                      plain), max_size=5),
            "points": st.lists(st.dictionaries(st.sampled_from(["x", "y", "positive"]), json_values, max_size=3),
                               max_size=3),
            "ref": st.sampled_from(["o1", "o2", "c1", "o9"] + TRAVERSAL) | json_values,
            "frames": st.lists(st.integers(-5, 10**12) | json_values, max_size=3)}),
        json_values),
    "inputs": st.lists(st.sampled_from(["u0", "u1", "o1", "o4", "c1", "u7"] + TRAVERSAL) | json_values, max_size=3)
    | json_values,
    "args": st.dictionaries(st.sampled_from(["op", "new", "color", "steps"]), json_values, max_size=3) | json_values,
    "module": modules, "id": st.sampled_from(["c1", "c9", "x"]), "depends_on": json_values, "signal": json_values,
    "unexpected": json_values,
}


good_tool_args = {
    "task": st.sampled_from(["segment", "ground", "edit_image"]),
    "command": st.sampled_from(["the spot", "spot", "the cup", ""]),
    "region": st.sampled_from([{"box": [50, 30, 70, 40]}, {"box": [0, 0, 120, 100]}, {"box": [10, 10, 500, 500]},
                               {"ref": "o1"}, {"ref": "o2"}, {"points": [{"x": 60, "y": 35}]}, {"ref": "c1"}]),
    "inputs": st.sampled_from([["u0"], ["u1"], ["o4"], ["c1"], []]),
    "args": st.sampled_from([{"op": "remove"}, {"op": "recolor", "color": "red"}, {}]),
}


@st.composite
def tool_calls(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = st.sampled_from(["box_mask", "spot_finder", "invert_remove", "grabcut", "opencv_recolor", "sam",
                             "nosuch", "auto", "B"]) | plain
    calls = []
    for n in range(draw(st.integers(0, 4))):
        keys = draw(st.lists(st.sampled_from(sorted(tool_arg_values)), max_size=5, unique=True))
        values = good_tool_args if draw(st.booleans()) else {}
        args = {k: draw(values.get(k, tool_arg_values[k])) for k in keys}
        calls.append({"name": draw(names), "args": args, "id": f"call{n}", "type": "tool_call"})
    return calls


json_items = st.one_of(
    st.fixed_dictionaries({}, optional={k: v for k, v in tool_arg_values.items() if k != "unexpected"}),
    st.fixed_dictionaries({"task": st.sampled_from(["segment", "ground"]),
                           "region": st.fixed_dictionaries({"box": st.lists(json_values, min_size=4, max_size=4)})}),
    json_values,
)
json_invocation_lists = st.one_of(
    st.lists(json_items, min_size=1, max_size=4),
    st.sampled_from([v for v in WEIRD_JSON if v is not None and not isinstance(v, (list, str))]),  # not a list
)
