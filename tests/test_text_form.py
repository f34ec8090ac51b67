"""The LLM text form: render and parse are inverses, real VITRON output parses, junk fails cleanly."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitron_agent.errors import ParseError, RegionError
from vitron_agent.protocol import (
    EDIT_OPS,
    MODULE_LETTERS,
    TASKS,
    Invocation,
    ParsedPlan,
    Point,
    Region,
    box_from_text,
    box_to_text,
    is_media_id,
    parse,
    render,
    render_invocation,
)

SIZES = {"u0": (640, 480), "u1": (1280, 720), "o3": (100, 50)}
MEDIA = ("u0", "u1", "o3", "o3.1")
NOT_SIZED = ("o7", "c1", "c2", "c5")  # invocation inputs use the default medium; an unsized medium takes no box
EDIT_TASKS = ("edit_image", "edit_video")
M_B = "<module>B</module>"

# --- strategies ----------------------------------------------------------------------------

TRICKY = ["<", ">", "&", "&amp;", "&lt;", "&#10;", "\n", "\r\n", "\u2028", "\x85", "</instruction>", "<module>",
          ":", "segment:", "foreground:", "é", "猫", "🙂", " ", "|", "(0.1, 0.2)", "<SP>None</SP>", "'", '"']  # fmt: skip
tricky_text = st.lists(st.sampled_from(TRICKY) | st.text(max_size=3), max_size=8).map("".join)
commands = st.text(max_size=30) | tricky_text
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
scalars |= st.text(max_size=8)
json_values = scalars | st.lists(scalars, max_size=3) | st.dictionaries(st.text(max_size=5), scalars, max_size=3)
arg_keys = st.sampled_from(["new", "color", "style", "op", "direction"]) | st.text(max_size=6)
signals = st.none() | st.from_regex(r"s[0-9a-f]{16}", fullmatch=True)
frames = st.none() | st.tuples(st.integers(0, 5000), st.integers(0, 5000)).map(lambda t: tuple(sorted(t)))
thousandths = st.integers(0, 1000)


def grid(k: int, extent: int) -> float:
    """Pixel on the k/1000 grid of a medium, rounded exactly as parse rounds (4 decimals)."""
    return round(k / 1000 * extent, 4)


@st.composite
def grid_regions(draw: st.DrawFn, size: tuple[int, int]) -> Region:
    width, height = size
    kind = draw(st.sampled_from(["box", "points", "ref"]))
    span = draw(frames)
    if kind == "ref":
        return Region(ref=draw(st.sampled_from(["o3", "o3.1", "c1", "u0"])), frames=span)
    if kind == "box":
        x1, x2 = sorted(draw(st.lists(thousandths, min_size=2, max_size=2, unique=True)))
        y1, y2 = sorted(draw(st.lists(thousandths, min_size=2, max_size=2, unique=True)))
        return Region(box=(grid(x1, width), grid(y1, height), grid(x2, width), grid(y2, height)), frames=span)
    clicks = draw(st.lists(st.tuples(thousandths, thousandths, st.booleans()), min_size=1, max_size=4))
    points = tuple(Point(x=grid(x, width), y=grid(y, height), positive=p) for x, y, p in clicks)
    return Region(points=points, frames=span)


@st.composite
def invocations(draw: st.DrawFn, sizes: dict[str, tuple[int, int]], position: int) -> Invocation:
    task = draw(st.sampled_from(TASKS))
    args = draw(st.dictionaries(arg_keys, json_values, max_size=3))
    if task in EDIT_TASKS:
        args.pop("op", None)
        op = draw(st.none() | st.sampled_from(EDIT_OPS))
        args |= {"op": op} if op else {}
    inputs = draw(st.lists(st.sampled_from(MEDIA + NOT_SIZED), max_size=3))
    medium = inputs[0] if inputs and inputs[0] in sizes else "u0"
    unsized = bool(inputs) and is_media_id(inputs[0]) and inputs[0] not in sizes  # needs a ref region, or none
    module = draw(st.sampled_from([*MODULE_LETTERS, "auto", "grabcut", "sam", "sd", "yolo-v8", "gligen", "x_1.2"]))
    return Invocation(
        id=draw(st.sampled_from(["", f"c{position}", f"c{100 + position}"])),
        module=module,
        task=task,
        command=draw(commands),
        region=draw(st.none() | (st.builds(Region, ref=st.just("o3")) if unsized else grid_regions(sizes[medium]))),
        inputs=inputs,
        depends_on=draw(st.lists(st.sampled_from(["c1", "c2", "c9"]), max_size=2)),
        signal=draw(signals),
        args=args,
    )


@st.composite
def plans(draw: st.DrawFn) -> tuple[str, list[Invocation], dict[str, tuple[int, int]]]:
    extents = st.tuples(st.integers(1, 4096), st.integers(1, 4096))
    sizes = {m: draw(extents) for m in MEDIA}
    count = draw(st.integers(0, 4))
    return draw(commands), [draw(invocations(sizes, n)) for n in range(1, count + 1)], sizes


# --- 1. round trips ------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_parse_inverts_render(plan: tuple[str, list[Invocation], dict[str, tuple[int, int]]]) -> None:
    reply, invs, sizes = plan
    text = render(reply, invs, sizes, "u0")
    expected = [inv.model_copy(update={"id": inv.id or f"c{n}"}) for n, inv in enumerate(invs, 1)]
    assert parse(text, sizes, "u0") == ParsedPlan(reply.strip(), expected)
    assert len(text.splitlines()) == len(invs) + len(reply.strip().splitlines())  # one line per invocation


@st.composite
def float_regions(draw: st.DrawFn) -> tuple[Invocation, tuple[int, int]]:
    size = draw(st.tuples(st.integers(1, 5000), st.integers(1, 5000)))
    x1, y1 = draw(st.floats(0, 0.998)), draw(st.floats(0, 0.998))
    x2, y2 = draw(st.floats(x1 + 0.0011, 1.0)), draw(st.floats(y1 + 0.0011, 1.0))
    box = (x1 * size[0], y1 * size[1], x2 * size[0], y2 * size[1])
    clicks = draw(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=3))
    points = tuple(Point(x=x * size[0], y=y * size[1]) for x, y in clicks)
    region = Region(box=box) if draw(st.booleans()) else Region(points=points)
    return Invocation(task="segment", command="x", region=region, inputs=["u0"]), size


@settings(max_examples=300, deadline=None)
@given(float_regions())
def test_arbitrary_pixels_come_back_within_half_a_thousandth(case: tuple[Invocation, tuple[int, int]]) -> None:
    inv, (width, height) = case
    sizes = {"u0": (width, height)}
    text = render("", [inv], sizes)
    back = parse(text, sizes).invocations[0]
    assert render("", [back], sizes) == text
    if inv.region.box is not None:
        pairs = list(zip(inv.region.box, back.region.box))
        extents = (width, height, width, height)
    else:
        pairs = [(a, b) for p, q in zip(inv.region.points, back.region.points) for a, b in ((p.x, q.x), (p.y, q.y))]
        extents = (width, height) * len(inv.region.points)
    for (a, b), extent in zip(pairs, extents):
        assert abs(a - b) <= extent / 2000 + 0.01


# --- 2. conversions both ways --------------------------------------------------------------

CUP = (76.8, 19.2, 371.2, 360.0)  # (0.12, 0.04, 0.58, 0.75) of 640x480


def test_box_pixels_to_text_and_back() -> None:
    assert box_to_text(CUP, 640, 480) == "(0.120, 0.040, 0.580, 0.750)"
    spellings = ["(0.120, 0.040, 0.580, 0.750)", " ( 0.12 ,0.04, 0.58,0.75 ) ", "[0.12, 0.04, 0.58, 0.75]"]
    spellings += ["0.12 0.04 0.58 0.75", "(.12, .04, .58, .75)"]
    for text in spellings:
        assert box_from_text(text, 640, 480) == CUP


def test_thousandths_integers_scale_but_small_integers_are_fractions() -> None:
    assert box_from_text("(120, 40, 580, 750)", 640, 480) == CUP
    assert box_from_text("[120, 40, 580, 750]", 640, 480) == CUP
    assert box_from_text("(0, 0, 1, 1)", 640, 480) == (0.0, 0.0, 640.0, 480.0)
    assert box_from_text("(0, 0, 1000, 1000)", 640, 480) == (0.0, 0.0, 640.0, 480.0)
    with pytest.raises(ParseError, match="got 1200"):
        box_from_text("(0, 0, 1200, 500)", 640, 480)


def test_video_frame_spans_and_points() -> None:
    text = (
        "<module>E</module> <instruction>track: the dog</instruction> "
        "<region>(0.100, 0.200, 0.300, 0.400) | 3, 10</region> <input>u1</input>"
    )
    inv = parse(text, SIZES).invocations[0]
    assert inv.region == Region(box=(128.0, 144.0, 384.0, 288.0), frames=(3, 10))
    assert render_invocation(inv, SIZES) == text
    clicks = "<module>sam</module><instruction>segment: cup</instruction><region>(500,500) (100, 200)-;(100, 900)+ |7"
    invs = parse(clicks, SIZES, "u0").invocations
    expected = (Point(x=320.0, y=240.0), Point(x=64.0, y=96.0, positive=False), Point(x=64.0, y=432.0))
    assert invs[0].region == Region(points=expected, frames=(7, 7))
    assert "<region>(0.500, 0.500)+; (0.100, 0.200)-; (0.100, 0.900)+ | 7, 7</region>" in render("", invs, SIZES, "u0")
    ref = parse(f"{M_B}<region>o3.1 | 2, 4</region>", {}).invocations[0]
    assert ref.region == Region(ref="o3.1", frames=(2, 4))


def test_render_refuses_regions_it_cannot_write() -> None:
    outside = Invocation(task="segment", region=Region(box=(0, 0, 700, 10)), inputs=["u0"])
    with pytest.raises(RegionError, match="invocation #1: x2"):
        render("", [outside], SIZES)
    thin = Invocation(task="segment", region=Region(box=(10.0, 0, 10.2, 10)), inputs=["u0"])
    with pytest.raises(RegionError, match="1/1000"):
        render("", [thin], SIZES)
    with pytest.raises(RegionError, match="size"):
        render("", [Invocation(task="segment", region=Region(box=(0, 0, 1, 1)))], SIZES)


# --- 3. what VITRON and the paper actually write -------------------------------------------


def test_vitron_release_output() -> None:
    plan = parse("Sure.<module>B</module> <instruction>segmentation: zebra farthest from you</instruction>", SIZES)
    zebra = Invocation(id="c1", module="B", task="segment", command="zebra farthest from you")
    assert plan == ParsedPlan("Sure.", [zebra])


def test_paper_capitalised_form() -> None:
    text = (
        "The clock is here. <Module> Video Segmentation </Module> "
        "<Instruction> segmentation: clock </Instruction> <Region> (0.23, 0.35, 0.41, 0.56) </Region>"
    )
    inv = parse(text, SIZES, "u1").invocations[0]
    assert (inv.module, inv.task, inv.command) == ("auto", "track", "clock")
    assert inv.region == Region(box=(294.4, 252.0, 524.8, 403.2))
    fox = parse("<Module> Image Generation </Module> <Instruction> a red fox </Instruction>", {}).invocations[0]
    assert (fox.module, fox.task, fox.command) == ("auto", "generate_image", "a red fox")


@pytest.mark.parametrize(
    ("instructions", "command", "args"),
    [
        (
            "<instruction>foreground: a red car</instruction> <instruction>background: keep</instruction>",
            "a red car",
            {"foreground": "a red car"},
        ),
        (
            "<instruction>foreground: keep; background: a snowy street.</instruction>",
            "a snowy street.",
            {"background": "a snowy street."},
        ),
        (
            "<instruction>Foreground: a cat\nBackground: the moon</instruction>",
            "a cat; the moon",
            {"foreground": "a cat", "background": "the moon"},
        ),
    ],
)
def test_module_f_foreground_background(instructions: str, command: str, args: dict[str, str]) -> None:
    inv = parse(f"<module>F</module> {instructions} <SP>None</SP>", SIZES).invocations[0]
    assert (inv.module, inv.task, inv.command, inv.args, inv.signal) == ("F", "edit_video", command, args, None)


def test_module_f_with_nothing_to_change_is_an_error() -> None:
    keep_both = "<module>F</module><instruction>foreground: keep</instruction><instruction>background: keep"
    with pytest.raises(ParseError, match="expected something to change"):
        parse(keep_both, SIZES)


def test_missing_closing_tags_and_sloppy_spacing() -> None:
    text = "Ok <MODULE>grabcut< instruction >segment: the cup</ Instruction ><region>(0.1, 0.1, 0.5, 0.5)"
    plan = parse(text, SIZES, "u0")
    assert plan.reply == "Ok"
    inv = plan.invocations[0]
    assert (inv.module, inv.task, inv.command) == ("grabcut", "segment", "the cup")
    assert inv.region == Region(box=(64.0, 48.0, 320.0, 240.0))


def test_no_tags_is_a_plain_answer() -> None:
    answer = "The cat is black & white.\nAnything else?"
    assert parse("The cat is black &amp; white.\nAnything else?", SIZES) == ParsedPlan(answer, [])
    assert parse("", SIZES) == ParsedPlan("", [])
    assert render(answer, [], SIZES) == "The cat is black &amp; white.\nAnything else?"


def test_loose_text_with_letters_joins_the_reply_and_bare_numbering_is_dropped() -> None:
    text = (
        "Two steps:\n<module>A</module><instruction>a fox</instruction>\n"
        "2. <module>G</module><instruction>animate: it</instruction><input>c1</input>\nDone soon!"
    )
    plan = parse(text, SIZES)
    assert plan.reply == "Two steps:\nDone soon!"
    calls = [(i.id, i.task, i.command) for i in plan.invocations]
    assert calls == [("c1", "generate_image", "a fox"), ("c2", "animate_image", "it")]


def test_invoke_wrapper_ids_and_tags_before_any_module() -> None:
    text = (
        "<invoke><instruction>ground: the dog</instruction><module>yolo</module><id>c7</id></invoke> "
        "<invoke><module>sam</module><instruction>segment: x</instruction><after>c7</after></invoke> "
        "<instruction>vqa: what colour?</instruction>"
    )
    calls = [(i.id, i.module, i.task, i.depends_on) for i in parse(text, SIZES).invocations]
    assert calls == [("c7", "yolo", "ground", []), ("c2", "sam", "segment", ["c7"]), ("c3", "auto", "answer", [])]


@pytest.mark.parametrize(
    ("module", "prefix", "task"),
    [
        ("E", "segmentation", "track"),
        ("B", "segmentation", "segment"),
        ("D", "generation", "generate_video"),
        ("A", "Generation", "generate_image"),
        ("G", "generation", "animate_image"),
        ("F", "editing", "edit_video"),
        ("auto", "Text-to-Video", "generate_video"),
        ("auto", "image to video", "animate_image"),
        ("auto", "detect", "ground"),
        ("auto", "locate", "ground"),
        ("auto", "tracking", "track"),
        ("auto", "VQA", "answer"),
        ("auto", "Edit", "edit_image"),
    ],
)
def test_task_synonyms_resolve_against_the_module(module: str, prefix: str, task: str) -> None:
    assert parse(f"<module>{module}</module><instruction>{prefix}: x</instruction>", SIZES).invocations[0].task == task


def test_edit_op_moves_between_prefix_and_args() -> None:
    inv = Invocation(module="C", task="edit_image", command="the cat", args={"op": "replace", "new": "a <dog> & co"})
    text = render_invocation(inv, SIZES)
    assert text == (
        "<module>C</module> <instruction>edit_image.replace: the cat</instruction> "
        '<args>{"new": "a &lt;dog&gt; &amp; co"}</args>'
    )
    assert parse(text, SIZES).invocations == [inv.model_copy(update={"id": "c1"})]
    with pytest.raises(ParseError, match="expected the op 'remove'"):
        parse('<module>C</module><instruction>edit_image.remove: x</instruction><args>{"op": "add"}</args>', SIZES)


def test_commands_with_tags_and_newlines_stay_on_one_line() -> None:
    inv = Invocation(id="c1", task="answer", command="what is <b>\nthis</b> & &amp;?")
    text = render_invocation(inv, SIZES)
    escaped = "what is &lt;b&gt;&#10;this&lt;/b&gt; &amp; &amp;amp;?"
    assert text == f"<module>auto</module> <instruction>answer: {escaped}</instruction>"
    assert parse(text, SIZES).invocations == [inv]
    raw = parse("<module>auto</module><instruction>answer: line one\nline two</instruction>", SIZES)
    assert raw.invocations[0].command == "line one\nline two"


# --- 4. precise errors and the fuzz --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Hi <b>bold</b>", "unknown tag '<b>'"),
        (f"{M_B}<moduel>x</moduel>", "module, instruction, region"),
        ("</module><module>../../etc/passwd", "stray '</module>'"),
        ("<module>auto</module><instruction>the cup</instruction>", "#1 <instruction>: expected 'task: text'"),
        ("<module>auto</module><instruction>paint: it</instruction>", "unknown task 'paint'"),
        ("<module>auto</module>", "expected <instruction>task: text</instruction>"),
        (f"<module>sam</module><instruction>segment: a</instruction>{M_B}<region>(0.5, 0.2, 0.1, 0.9)", "#2 <region>"),
        (f"{M_B}<region>(nan, 0, 1, 1)</region>", "expected finite numbers"),
        (f"{M_B}<region>(0.1, 0.1, 1.5, 0.9)</region>", "fractions in [0, 1]"),
        (f"{M_B}<region>(0.1, 0.1, 0.5, 0.9)</region><input>c1</input>", "no medium"),
        (f"{M_B}<region>(0.1, 0.1, 0.5, 0.9) | 9, 2</region>", "start <= end"),
        (f"{M_B}<region>(0.1, 0.2, 0.3)</region>", "expected a box (x1, y1, x2, y2), points"),
        (f"{M_B}<args>{{bad</args>", "JSON object"),
        (f"{M_B}<args>[1, 2]</args>", "got a JSON list"),
        (f'{M_B}<args>{{"x": NaN}}</args>', "non-finite"),
        (f"{M_B}<region>o3</region><region>o3</region>", "one <region> per invocation"),
        (f"{M_B}<id>c2</id>{M_B}", "already invocation #1"),
        (f"{M_B}<input>zz</input>", "expected <input> ids"),
        (f"{M_B}<SP>not a signal!</SP>", "expected <SP>"),
        ("<module>../etc</module><instruction>answer: x</instruction>", "expert name"),
        ("<module>C</module><instruction>edit_image.explode: x</instruction>", "an edit op"),
        ("<invoke><invoke>", "not nested"),
    ],
)
def test_errors_say_where_what_and_how(text: str, fragment: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text, SIZES)
    message = str(caught.value)
    assert fragment in message and "expected" in message and len(message) < 300


def test_error_positions_point_into_the_text() -> None:
    text = "Sure. <module>B</module><region>(0.1, 0.1, 0.5, 0.9) | x</region>"
    with pytest.raises(ParseError) as caught:
        parse(text, SIZES, "u0")
    assert text[caught.value.position :].startswith("| x")
    with pytest.raises(ParseError) as caught:
        parse("Hello <b>", SIZES)
    assert caught.value.position == 6


JUNK = [
    "(0.1, 0.2, 0.3)", "(nan, 0, 1, 1)", "(1e999, 0, 1, 1)", "(0.5, 0.4, 0.2, 0.9)", "(-1, 0, 1, 1)",
    "[0.1,0.2,0.3,0.4]", "[[0.1, 0.2], [0.3]]", "| 5, 2", "| x", '{"a": NaN}', "{bad json", "[1,2]",
    '{"op": "explode"}', "segment: the cup", "edit_image.explode: x", "foreground: keep", "background: keep",
    "../../etc/passwd", "</module><module>../../etc/passwd", "u0, o3", "c1", "None", "&#55296;", "&#99999999;",
    "&#x110000;", "[" * 3000, "9" * 5000, "1" + "0" * 400, "(" * 50, "o3 | 1, 2", "A", "Video Segmentation", "🙂",
    "\x00", "\u2028", "(0.1, 0.2)+; (0.3, 0.4)-", "(500, 500)", "q: what", "zzz: nope", "{" * 3000, '{"a": ' * 50,
    "1e308", "(0.1, 0.2, 0.3, 0.4)+", ";;", "c99999999999999999999",
]  # fmt: skip
TAGS = ["module", "instruction", "region", "input", "after", "args", "SP", "id", "invoke", "Module", "INSTRUCTION",
        "inputs", "signal", "moduel", "b", "script", "image", "think"]  # fmt: skip
tags = st.builds(
    lambda name, close, pad: f"<{pad}{'/' if close else ''}{name}{pad}>",
    st.sampled_from(TAGS),
    st.booleans(),
    st.sampled_from(["", " "]),
)
soup = st.lists(tags | st.sampled_from(JUNK) | st.text(max_size=12), min_size=1, max_size=14).map("".join)
VALID = (
    "Sure. <module>grabcut</module> <instruction>segment: the cup</instruction> "
    "<region>(0.120, 0.040, 0.580, 0.750) | 1, 4</region> <input>u0</input> <after>c1</after> "
    '<args>{"new": "a dog"}</args> <SP>s0123456789abcdef</SP> <id>c3</id>\n'
    "<module>C</module> <instruction>edit_image.remove: the cat</instruction> <region>(0.1, 0.2)+; (0.3, 0.4)-</region>"
)
splices = st.sampled_from(["", *JUNK[:20], "<", ">", ",", ")", "("]) | st.text(max_size=3)


@st.composite
def mutations(draw: st.DrawFn) -> str:
    """A valid plan with a few random cuts and insertions: the near-misses planners write."""
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        at, cut = draw(st.integers(0, len(text))), draw(st.integers(0, 6))
        text = text[:at] + draw(splices) + text[at + cut :]
    return text


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(soup | mutations())
def test_malformed_planner_output_raises_only_clean_parse_errors(text: str) -> None:
    try:
        plan = parse(text, SIZES, "u0")
    except ParseError as err:
        message = str(err)
        assert message and len(message.splitlines()) == 1 and len(message) < 300
        assert "expected" in message and "internal error" not in message
        assert err.position is None or 0 <= err.position <= len(text)
    else:
        assert all(isinstance(inv, Invocation) for inv in plan.invocations)
        boxes = [inv.region.box for inv in plan.invocations if inv.region and inv.region.box]
        assert all(math.isfinite(v) for box in boxes for v in box)
