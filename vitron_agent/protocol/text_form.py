"""The LLM text form of invocations: one renderer and its inverse parser.

Fine-tuning data is written with ``render``, planner output is read with ``parse``, and a test checks
``parse(render(reply, invs)) == ParsedPlan(reply, invs)``. One invocation per line after the reply::

    Sure, segmenting the cup.
    <module>sam</module> <instruction>segment: the cup</instruction> <region>(0.120, 0.040, 0.580, 0.750)</region>

Grammar decisions (the parser is tolerant, the renderer canonical):

- Reply: the text before the first tag, plus loose text after it (between or after tags) that holds
  a letter, each on its own line; bare separators such as ``1.`` are dropped.
- ``<module>`` starts an invocation (or ``<invoke>`` wraps one); tags before any ``<module>`` form one
  with module ``auto``. Render writes ``<module>`` and ``<instruction>`` always, other tags when
  non-default, ``<id>`` when not the positional ``c{n}``.
- Tag names are case-insensitive and may hold spaces; a missing closing tag ends at the next tag.
  Unknown tags and stray closing tags are ParseErrors.
- Escapes: ``&amp; &lt; &gt;`` in reply and tags; inside tags line breaks are written ``&#N;``
  (``&#10;`` for ``\\n``) so an invocation stays on one line. Any ``&#N;`` is read.
- Instructions are ``task: command``, edits ``edit_image.remove: the cat`` (``op`` leaves ``<args>``);
  synonyms (``segmentation``, ``detect``...) resolve against the module's task.
- Regions: see ``text_regions``; drawn on the first input if its size is known, else ``default_input``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from ..errors import ParseError, RegionError
from .invocation import AUTO_MODULE, EDIT_OPS, EDIT_TASKS, MODULE_LETTERS, TASKS, Invocation, Region, is_media_id
from .text_regions import (
    box_from_text,
    box_to_text,
    error,
    escape,
    one_line,
    region_from_text,
    region_to_text,
    show,
    unescape,
)

__all__ = ["Sizes", "ParsedPlan", "render", "render_invocation", "parse"]
__all__ += ["box_to_text", "box_from_text", "region_to_text", "region_from_text"]

_Size = tuple[int, int]
Sizes = Mapping[str, _Size]
"""Media id -> (width, height) in pixels: what regions are normalised against."""

_TAG = re.compile(r"<\s*(?:(/)\s*)?([A-Za-z][A-Za-z0-9_-]*)\s*>")
_TAG_NAMES = {
    "module": "module", "instruction": "instruction", "region": "region", "input": "input",
    "inputs": "input", "after": "after", "depends_on": "after", "args": "args", "sp": "SP",
    "signal": "SP", "id": "id", "invoke": "invoke",
}  # fmt: skip
_KNOWN_TAGS = "module, instruction, region, input, after, args, SP, id, invoke"
_FG_BG = re.compile(r"\b(foreground|background)\s*:", re.IGNORECASE)

_SEGMENT, _GENERATE, _EDIT = ("segment", "track"), ("generate_image", "generate_video", "animate_image"), EDIT_TASKS
_TASK_WORDS: dict[str, tuple[str, ...]] = {t: (t,) for t in TASKS} | {
    "segmentation": _SEGMENT, "seg": _SEGMENT, "grounding": ("ground",), "detection": ("ground",),
    "detect": ("ground",), "locate": ("ground",), "localization": ("ground",), "tracking": ("track",),
    "generation": _GENERATE, "generate": _GENERATE, "editing": _EDIT, "edit": _EDIT,
    "text_to_video": ("generate_video",), "t2v": ("generate_video",), "image_to_video": ("animate_image",),
    "i2v": ("animate_image",), "animation": ("animate_image",), "animate": ("animate_image",),
    "question": ("answer",), "vqa": ("answer",), "qa": ("answer",), "question_answering": ("answer",),
    "image_generation": ("generate_image",), "image_segmentation": ("segment",), "image_editing": ("edit_image",),
    "image_grounding": ("ground",), "visual_grounding": ("ground",), "video_grounding": ("ground",),
    "video_generation": ("generate_video",), "video_segmentation": ("track",), "video_tracking": ("track",),
    "video_editing": ("edit_video",), "image_animation": ("animate_image",),
    "visual_question_answering": ("answer",),
}  # fmt: skip
"""Instruction prefixes (normalised) -> candidate tasks; the module's task wins if listed, else the first."""
_EXPERT_NAMES = ("text_to_video", "image_to_video")
_PAPER_MODULES = {k: v[0] for k, v in _TASK_WORDS.items() if "_" in k and k not in TASKS and k not in _EXPERT_NAMES}
"""The paper's module words (``Video Segmentation``): module ``auto`` plus that task. Words that are also
built-in expert names (``<module>text_to_video</module>``) name the expert."""
_HINTS = {
    "id": "<id> like c3", "module": "<module> with an expert name such as grabcut, auto or a letter A-G",
    "inputs": "<input> ids such as u0, o3 or c1, comma-separated", "depends_on": "<after> ids such as c1",
    "signal": "<SP> with a signal id or None", "args": "<args> with a JSON object of plain values",
}  # fmt: skip


@dataclass(frozen=True)
class ParsedPlan:
    """What the planner wrote: the reply to show the user and the expert calls to run."""

    reply: str
    invocations: list[Invocation]


@dataclass
class _Tag:
    """One tag's raw (still escaped) content and the char offset where it starts."""

    name: str
    text: str
    at: int


@dataclass
class _Draft:
    """The tags of one invocation, before they are read into an ``Invocation``."""

    at: int
    fields: dict[str, _Tag] = field(default_factory=dict)
    instructions: list[_Tag] = field(default_factory=list)


# --- render --------------------------------------------------------------------------------


def _medium(inputs: Sequence[str], sizes: Sizes, default_input: str | None) -> tuple[str | None, _Size | None]:
    """The medium a region is drawn on: the first input when it is a medium (its size must be known),
    else (no input, or an earlier invocation's output) the default medium."""
    if inputs and is_media_id(inputs[0]):
        return inputs[0], sizes.get(inputs[0])
    return default_input, None if default_input is None else sizes.get(default_input)


def _tag(name: str, content: str) -> str:
    return f"<{name}>{escape(content)}</{name}>"


def render_invocation(inv: Invocation, sizes: Sizes, default_input: str | None = None, position: int = 1) -> str:
    """One line; ``position`` (1-based) makes ``<id>`` omissible. RegionError if the region can't be written."""
    args = dict(inv.args)
    label = inv.task
    if inv.task in EDIT_TASKS and isinstance(args.get("op"), str):
        label = f"{inv.task}.{args.pop('op')}"
    parts = [_tag("module", inv.module), _tag("instruction", f"{label}: {inv.command}".rstrip())]
    if inv.region is not None:
        try:
            parts.append(_tag("region", region_to_text(inv.region, _medium(inv.inputs, sizes, default_input)[1])))
        except RegionError as err:
            raise RegionError(f"invocation #{position}: {err}") from None
    if inv.inputs:
        parts.append(_tag("input", ", ".join(inv.inputs)))
    if inv.depends_on:
        parts.append(_tag("after", ", ".join(inv.depends_on)))
    if args:
        parts.append(_tag("args", json.dumps(args, sort_keys=True, ensure_ascii=False)))
    if inv.signal is not None:
        parts.append(_tag("SP", inv.signal))
    if inv.id and inv.id != f"c{position}":
        parts.append(_tag("id", inv.id))
    return " ".join(parts)


def render(reply: str, invocations: Sequence[Invocation], sizes: Sizes, default_input: str | None = None) -> str:
    """The reply (stripped, ``& < >`` escaped), then one line per invocation."""
    lines = [escape(reply.strip(), lines=False)] if reply.strip() else []
    lines += [render_invocation(inv, sizes, default_input, n) for n, inv in enumerate(invocations, 1)]
    return "\n".join(lines)


# --- parse: text -> tags -> drafts ---------------------------------------------------------


def _tag_name(match: re.Match[str]) -> str:
    name = _TAG_NAMES.get(match.group(2).lower())
    if name is None:
        got = f"unknown tag {show(match.group(0))} at char {match.start()}"
        raise error("text", f"one of the tags {_KNOWN_TAGS}", got, "write a literal < as &lt;", at=match.start())
    return name


def _scan(text: str) -> tuple[str, list[_Tag], list[str]]:
    """Split into reply head, tags in order (``invoke``/``/invoke`` as markers), and loose text."""
    matches = list(_TAG.finditer(text))
    if not matches:
        return text, [], []
    tags: list[_Tag] = []
    loose: list[str] = []
    end, k = matches[0].start(), 0
    while k < len(matches):
        match = matches[k]
        loose.append(text[end : match.start()])
        name, closing = _tag_name(match), match.group(1) is not None
        if name == "invoke":
            tags.append(_Tag("/invoke" if closing else "invoke", "", match.start()))
            end, k = match.end(), k + 1
            continue
        if closing:
            got = f"a stray {show(match.group(0))} at char {match.start()}"
            raise error("text", f"<{name}> before it", got, f"write <{name}>...</{name}>", at=match.start())
        nxt = matches[k + 1] if k + 1 < len(matches) else None
        stop = nxt.start() if nxt else len(text)
        tags.append(_Tag(name, text[match.end() : stop], match.end()))
        if nxt is not None and nxt.group(1) and _TAG_NAMES.get(nxt.group(2).lower()) == name:
            end, k = nxt.end(), k + 2
        else:
            end, k = stop, k + 1
    loose.append(text[end:])
    return text[: matches[0].start()], tags, loose


def _group(tags: list[_Tag]) -> list[_Draft]:
    """A ``<module>`` starts a new draft unless it is the first tag inside ``<invoke>``."""
    drafts: list[_Draft] = []
    current: _Draft | None = None
    wrapped = False
    for tag in tags:
        if tag.name in ("invoke", "/invoke"):
            if wrapped == (tag.name == "invoke"):
                got = f"<{tag.name}> at char {tag.at}"
                raise error("text", "<invoke>...</invoke> pairs, not nested", got, at=tag.at)
            wrapped = tag.name == "invoke"
            current = _Draft(tag.at) if wrapped else None
            if current is not None:
                drafts.append(current)
            continue
        if current is None or (tag.name == "module" and not wrapped):
            current = _Draft(tag.at)
            drafts.append(current)
        if tag.name == "instruction":
            current.instructions.append(tag)
        elif tag.name in current.fields:
            where = f"invocation #{len(drafts)}"
            expected, got = f"one <{tag.name}> per invocation", f"a second one at char {tag.at}"
            raise error(where, expected, got, "start each call with <module>", at=tag.at)
        else:
            current.fields[tag.name] = tag
    return drafts


# --- parse: draft -> Invocation ------------------------------------------------------------


def _norm(word: str) -> str:
    return re.sub(r"[\s_-]+", "_", word.strip().lower())


def _module(tag: _Tag | None, n: int) -> tuple[str, str | None]:
    """The module to keep, and the task it implies (VITRON letters and the paper's words do)."""
    if tag is None:
        return AUTO_MODULE, None
    name = unescape(tag.text).strip()
    if len(name) == 1 and name.upper() in MODULE_LETTERS:
        return name.upper(), MODULE_LETTERS[name.upper()]
    if _norm(name) in _PAPER_MODULES:
        return AUTO_MODULE, _PAPER_MODULES[_norm(name)]
    if not name:
        where = f"invocation #{n} <module>"
        raise error(where, "an expert name such as grabcut, auto or A-G", "an empty tag", at=tag.at)
    return name, None


def _lookup_task(head: str, module_task: str | None, where: str) -> tuple[str, str | None] | None:
    """``segmentation`` / ``edit_image.remove`` -> (task, op); None when it names no task."""
    name, dot, op = _norm(head).partition(".")
    family = _TASK_WORDS.get(name)
    if family is None:
        return None
    task = module_task if module_task in family else family[0]
    if dot and (task not in EDIT_TASKS or op not in EDIT_OPS):
        expected = f"an edit op after '{task}.' (one of {', '.join(EDIT_OPS)})"
        raise error(where, expected, show(head), "e.g. edit_image.remove: the cat")
    return task, op if dot else None


def _video_edit(texts: list[str], where: str) -> tuple[str, dict[str, str]]:
    """VITRON module F: ``foreground: X`` then ``background: Y``, ``keep`` = unchanged."""
    joined = "\n".join(texts)
    marks = list(_FG_BG.finditer(joined))
    parts: dict[str, str] = {}
    for mark, nxt in zip(marks, [*marks[1:], None]):
        key = mark.group(1).lower()
        value = joined[mark.end() : nxt.start() if nxt else len(joined)].strip().rstrip(";,").strip()
        if key in parts or not value:
            expected = "foreground: text then background: text, once each ('keep' = unchanged)"
            raise error(where, expected, show(joined))
        parts[key] = value
    changed = [k for k in ("foreground", "background") if k in parts and parts[k].rstrip(".").lower() != "keep"]
    extra = {k: parts[k] for k in changed}
    if not extra:
        hint = "describe the new foreground or background"
        raise error(where, "something to change in foreground: or background:", "'keep' for both", hint)
    return "; ".join(extra.values()), extra


def _instruction(draft: _Draft, module_task: str | None, n: int) -> tuple[str, str | None, str, dict[str, str]]:
    """(task, op, command, extra args) from the instruction tag(s) and the module's task."""
    where = f"invocation #{n} <instruction>"
    texts = [unescape(t.text).strip() for t in draft.instructions]
    fg_bg = [_FG_BG.match(t) is not None for t in texts]
    if texts and all(fg_bg):
        return ("edit_video", None, *_video_edit(texts, where))
    if len(texts) > 1:
        expected = "one <instruction> per invocation (two only for foreground:/background:)"
        got, at = f"{len(texts)} instructions", draft.instructions[1].at
        raise error(where, expected, got, "start each call with <module>", at=at)
    if not texts:
        if module_task is None:
            hint = "e.g. <instruction>segment: the cup</instruction>"
            raise error(where, "<instruction>task: text</instruction>", "no instruction", hint, at=draft.at)
        return module_task, None, "", {}
    head, colon, rest = texts[0].partition(":")
    found = _lookup_task(head, module_task, where) if colon else None
    if found is not None:
        return found[0], found[1], rest.strip(), {}
    if module_task is not None:
        return module_task, None, texts[0], {}
    got = f"unknown task {show(head.strip())}" if colon else f"{show(texts[0])} without a task"
    expected = f"'task: text' with a task among {', '.join(TASKS)}"
    raise error(where, expected, got, "e.g. segment: the cup", at=draft.instructions[0].at)


def _ids(tag: _Tag | None) -> list[str]:
    if tag is None:
        return []
    return [s.strip("'\"[]() ") for s in re.split(r"[\s,;]+", unescape(tag.text)) if s.strip("'\"[]() ")]


def _args(tag: _Tag | None, n: int) -> dict[str, object]:
    text = unescape(tag.text).strip() if tag else ""
    if not text:
        return {}
    where, expected = f"invocation #{n} <args>", 'a JSON object such as {"new": "a dog"}'
    try:
        args = json.loads(text)
    except (ValueError, RecursionError) as exc:
        got = f"{show(text)} ({getattr(exc, 'msg', type(exc).__name__)})"
        raise error(where, expected, got, at=tag.at if tag else None) from None
    if not isinstance(args, dict):
        raise error(where, expected, f"a JSON {type(args).__name__}", at=tag.at if tag else None)
    return args


def _region(draft: _Draft, inputs: list[str], sizes: Sizes, default: str | None, n: int) -> Region | None:
    tag = draft.fields.get("region")
    if tag is None:
        return None
    medium, size = _medium(inputs, sizes, default)
    try:
        return region_from_text(unescape(tag.text), size, medium)
    except ParseError as err:
        raise ParseError(one_line(f"invocation #{n} <region>: {err}"), tag.at + (err.position or 0)) from None


def _build(draft: _Draft, n: int, sizes: Sizes, default_input: str | None) -> Invocation:
    """Read one draft; every failure becomes a ParseError naming invocation #n."""
    module, module_task = _module(draft.fields.get("module"), n)
    task, op, command, extra = _instruction(draft, module_task, n)
    args = _args(draft.fields.get("args"), n)
    if op is not None:
        if args.get("op", op) != op:
            got = f"op {show(str(args['op']))}"
            raise error(f"invocation #{n} <args>", f"the op {op!r} from the instruction", got, "give the op once")
        args["op"] = op
    inputs = _ids(draft.fields.get("input"))
    sp = draft.fields.get("SP")
    signal = unescape(sp.text).strip() if sp else ""
    id_tag = draft.fields.get("id")
    fields = {
        "id": (unescape(id_tag.text).strip() if id_tag else "") or f"c{n}",
        "module": module, "task": task, "command": command, "inputs": inputs,
        "region": _region(draft, inputs, sizes, default_input, n),
        "depends_on": _ids(draft.fields.get("after")),
        "signal": None if signal.lower() in ("", "none", "null") else signal,
        "args": {**args, **extra},
    }  # fmt: skip
    try:
        return Invocation(**fields)
    except ValidationError as err:
        first = err.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        got = f"{name or 'invocation'}: {first['msg'].removeprefix('Value error, ')}"
        raise error(f"invocation #{n}", _HINTS.get(name, "a consistent invocation"), got, at=draft.at) from None


def _reply(head: str, loose: list[str]) -> str:
    """The reply head plus any loose text holding a letter (separators like ``1.`` are dropped)."""
    parts = [unescape(head).strip()] + [unescape(t).strip() for t in loose if any(c.isalpha() for c in t)]
    return "\n".join(p for p in parts if p)


def _parse(text: str, sizes: Sizes, default_input: str | None) -> ParsedPlan:
    head, tags, loose = _scan(text)
    invocations = [_build(d, n, sizes, default_input) for n, d in enumerate(_group(tags), 1)]
    seen: dict[str, int] = {}
    for n, inv in enumerate(invocations, 1):
        if inv.id in seen:
            got = f"{inv.id!r}, already invocation #{seen[inv.id]}"
            raise error(f"invocation #{n} <id>", "an id not used before", got, f"omit <id> to get c{n}")
        seen[inv.id] = n
    return ParsedPlan(_reply(head, loose), invocations)


def parse(text: str, sizes: Sizes, default_input: str | None = None) -> ParsedPlan:
    """Planner text -> ``ParsedPlan`` with pixel regions; ids default to ``c{n}`` (1-based).

    Raises ParseError only; its one-line message (for the planner) names the invocation, what was
    expected, what arrived and how to write it, and ``position`` is a char offset when known.
    """
    if not isinstance(text, str):
        raise error("text", "planner text as a string", type(text).__name__)
    try:
        return _parse(text, sizes, default_input)
    except ParseError:
        raise
    except Exception as exc:  # a bug here must still reach the planner loop as a ParseError
        got = f"internal error {type(exc).__name__}: {exc}"
        raise error("text", "text in the invocation grammar", got) from exc
