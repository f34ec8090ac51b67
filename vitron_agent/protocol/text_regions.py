"""Regions in the LLM text form, plus the escaping and error helpers ``text_form`` shares.

Python holds regions in pixels of the medium they are drawn on. The text holds VITRON's
convention: fractions of that medium's width and height, three decimals, top-left origin:

- box: ``(x1, y1, x2, y2)``; also read: ``[x1, y1, x2, y2]`` JSON, bare ``x1, y1, x2, y2``, and
  0-1000 integers (all four written as integers and one above 1 means thousandths);
- points: ``(x, y)+; (x, y)-``, ``+`` positive (default when read), ``-`` background; groups are
  separated by ``;``, ``,`` or spaces; also read: ``[[x, y], ...]`` JSON (all positive);
- ref: ``o3``, ``o3.1`` or ``c1``;
- any of these optionally followed by ``| f_start, f_end`` (inclusive video frames; ``| f`` reads as ``f, f``).

Parsed pixels are ``round(fraction * extent, PIXEL_DECIMALS)``: four decimals, so a value written
with three decimals comes back exactly on any medium at least 1 px wide.

People write boxes into requests too, in pixels or fractions: ``find_written_boxes`` reads
``[x1, y1, x2, y2]``, ``(x1, y1, x2, y2)``, bare ``x1,y1,x2,y2``, ``from (x1, y1) to (x2, y2)``,
``x=40 y=60 to x=90 y=120`` (also ``x1=.. y1=.. x2=.. y2=..``, ``xmin=.. ymin=.. xmax=.. ymax=..``, ``left 30, top 40,
right 220, bottom 300`` and ``x, y, w, h`` written as ``w=``, ``h=``),
top-left and bottom-right corners (with or without brackets; ``左上角(0,0)到右下角(200,150)``),
four numbers with spaces only after a box word (``in the box 100 50 400 250``), fractions of the medium's
size (all four within 0..1, one with a decimal point), and a video frame
("on frame 12", "第12帧").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..errors import ParseError, RegionError
from .invocation import Point, Region, is_invocation_id, is_media_id

__all__ = [
    "PIXEL_DECIMALS",
    "box_to_text",
    "box_from_text",
    "region_to_text",
    "region_from_text",
    "escape",
    "unescape",
    "error",
    "one_line",
    "show",
    "WrittenBox",
    "find_written_boxes",
    "written_frame_span",
]

PIXEL_DECIMALS = 4
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_GROUP = re.compile(r"\(([^()]*)\)\s*([+-])?")
_FRAME = re.compile(r"\d{1,9}")
_SEPARATORS = re.compile(r"[\s,]+")
_ENTITY = re.compile(r"&(amp|lt|gt|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NAMED = {"amp": "&", "lt": "<", "gt": ">"}
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # every character str.splitlines() splits on
_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_ESCAPES_LINES = _ESCAPES | {ord(c): f"&#{ord(c)};" for c in _LINE_BREAKS}


# --- escaping and messages ---------------------------------------------------------------


def escape(text: str, lines: bool = True) -> str:
    """Make text safe inside a tag: ``& < >`` as entities; with ``lines``, line breaks as ``&#N;``."""
    return text.translate(_ESCAPES_LINES if lines else _ESCAPES)


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _NAMED:
        return _NAMED[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return match.group(0)  # not a character: keep the text as written
    return chr(code)


def unescape(text: str) -> str:
    """Inverse of ``escape`` in one pass (so ``&amp;lt;`` reads as ``&lt;``); also any ``&#N;``."""
    return _ENTITY.sub(_entity, text)


def one_line(message: str, limit: int = 299) -> str:
    """Error messages go back to the planner: one line, bounded length."""
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def show(text: str, limit: int = 40) -> str:
    """A short single-line quote of what arrived."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def error(where: str, expected: str, got: str, hint: str = "", at: int | None = None) -> ParseError:
    """``where: expected X, got Y; hint``: every parse error says what to write instead."""
    head = f"{where}: " if where else ""
    tail = f"; {hint}" if hint else ""
    return ParseError(one_line(f"{head}expected {expected}, got {got}{tail}"), at)


# --- text -> pixels ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """One parenthesised tuple: its values, whether all were written as integers, its sign."""

    values: tuple[float, ...]
    integers: bool
    sign: str | None


def _number(token: str) -> tuple[float, bool]:
    if _NUMBER.fullmatch(token):
        value = float(token)
        if math.isfinite(value):
            return value, not any(c in token for c in ".eE")
    raise error("", "finite numbers such as 0.120", show(token), "coordinates are fractions of width and height")


def _text_group(text: str, sign: str | None) -> _Group:
    parsed = [_number(t) for t in _SEPARATORS.split(text.strip()) if t]
    return _Group(tuple(v for v, _ in parsed), all(i for _, i in parsed), sign)


def _json_group(values: list[Any]) -> _Group:
    floats = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise error("", "numbers in the JSON list", show(json.dumps(values)))
        f = float(v) if isinstance(v, float) or abs(v) < 10**300 else math.inf
        if not math.isfinite(f):
            raise error("", "finite numbers", show(str(v)))
        floats.append(f)
    return _Group(tuple(floats), all(isinstance(v, int) for v in values), None)


def _json_groups(body: str) -> list[_Group]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise error("", "a JSON list like [0.12, 0.04, 0.58, 0.75]", show(body)) from None
    if isinstance(data, list) and data and all(isinstance(p, list) for p in data):
        return [_json_group(p) for p in data]
    if isinstance(data, list):
        return [_json_group(data)]
    raise error("", "a JSON list like [0.12, 0.04, 0.58, 0.75]", show(body))


def _groups(body: str) -> list[_Group]:
    """Split region text into number tuples, refusing anything between them but separators."""
    if body.startswith("["):
        return _json_groups(body)
    if "(" not in body and ")" not in body:
        return [_text_group(body, None)]
    groups, last = [], 0
    for match in [*_GROUP.finditer(body), None]:
        gap = body[last : match.start() if match else len(body)]
        if gap.replace(";", " ").replace(",", " ").strip():
            raise error("", "(x1, y1, x2, y2) or points (x, y)+; (x, y)-", show(gap), at=last)
        if match:
            groups.append(_text_group(match.group(1), match.group(2)))
            last = match.end()
    return groups


def _fractions(groups: list[_Group], body: str) -> tuple[str, list[tuple[float, ...]]]:
    """Classify as box or points and scale to [0, 1]; 0-1000 integers become thousandths."""
    if len(groups) == 1 and len(groups[0].values) == 4 and groups[0].sign is None:
        kind = "box"
    elif groups and all(len(g.values) == 2 for g in groups):
        kind = "points"
    else:
        raise error("", "a box (x1, y1, x2, y2), points (x, y)+; (x, y)- or an id like o3", show(body))
    scale = 1000.0 if all(g.integers for g in groups) and any(v > 1 for g in groups for v in g.values) else 1.0
    scaled = []
    for g in groups:
        for v in g.values:
            if not 0.0 <= v / scale <= 1.0:
                hint = "coordinates are fractions of the medium's width and height, top-left origin"
                raise error("", "fractions in [0, 1] (or integers 0-1000)", f"{v:g}", hint)
        scaled.append(tuple(v / scale for v in g.values))
    if kind == "box" and not (scaled[0][0] < scaled[0][2] and scaled[0][1] < scaled[0][3]):
        raise error("", "x1 < x2 and y1 < y2 in (x1, y1, x2, y2)", show(body), "the box is inverted or empty")
    return kind, scaled


def _split_frames(text: str) -> tuple[str, tuple[int, int] | None]:
    body, bar, tail = text.partition("|")
    if not bar:
        return text.strip(), None
    tokens = [t for t in _SEPARATORS.split(tail.strip().strip("()[]")) if t]
    if not 1 <= len(tokens) <= 2 or not all(_FRAME.fullmatch(t) for t in tokens):
        raise error("", "a frame span '| start, end' of whole numbers", show(tail.strip()), at=len(body))
    start, end = int(tokens[0]), int(tokens[-1])
    if start > end:
        raise error("", "start <= end in the frame span", f"{start}, {end}", at=len(body))
    return body.strip(), (start, end)


def _region(**fields: Any) -> Region:
    try:
        return Region(**fields)
    except ValidationError as err:
        raise error("", "a valid region", err.errors()[0]["msg"].removeprefix("Value error, ")) from None


def region_from_text(text: str, size: tuple[int, int] | None, medium: str | None = None) -> Region | None:
    """Region text -> ``Region`` in pixels of ``size`` (width, height) of ``medium``; empty or ``None`` -> None.

    Raises ParseError with a message naming what was expected (without the invocation number).
    """
    body, frames = _split_frames(text)
    if not body or body.lower() == "none":
        if frames is not None:
            raise error("", "a box, points or id before '|'", show(text))
        return None
    if is_media_id(body) or is_invocation_id(body):
        return _region(ref=body, frames=frames)
    try:
        kind, values = _fractions(groups := _groups(body), body)
    except ParseError as err:  # offsets inside the stripped body -> offsets inside ``text``
        lead = len(text) - len(text.lstrip())
        raise ParseError(str(err), lead + (err.position or 0)) from None
    if size is None:
        got = "no medium" if medium is None else f"{medium!r} of unknown size"
        expected = "a medium of known size for the region (the first <input>, else the default)"
        raise error("", expected, got, "put a known medium first, e.g. <input>u0</input>")
    width, height = size
    if not (width > 0 and height > 0):
        raise error("", "a medium size above 0 x 0", f"{width}x{height} for {medium!r}")
    if kind == "box":
        x1, y1, x2, y2 = values[0]
        return _region(box=(_px(x1, width), _px(y1, height), _px(x2, width), _px(y2, height)), frames=frames)
    clicks = zip(groups, values)
    points = tuple(Point(x=_px(x, width), y=_px(y, height), positive=g.sign != "-") for g, (x, y) in clicks)
    return _region(points=points, frames=frames)


def _px(fraction: float, extent: int) -> float:
    return round(fraction * extent, PIXEL_DECIMALS)


def box_from_text(text: str, width: int, height: int) -> tuple[float, float, float, float]:
    """``"(0.120, 0.040, 0.580, 0.750)"`` -> pixel ``(x1, y1, x2, y2)`` of a width x height medium."""
    region = region_from_text(text, (width, height))
    if region is None or region.box is None:
        raise error("", "a box (x1, y1, x2, y2)", show(text))
    return region.box


# --- pixels -> text ------------------------------------------------------------------------


def _fraction(value: float, extent: int, what: str) -> str:
    text = f"{value / extent:.3f}"
    if text == "-0.000":
        text = "0.000"
    if not 0.0 <= float(text) <= 1.0:
        raise RegionError(f"{what} = {value!r} px lies outside the medium (0..{extent} px); expected its pixels")
    return text


def _extent(width: int, height: int) -> None:
    if not (width > 0 and height > 0):
        raise RegionError(f"medium size {width}x{height} is empty; expected a width and height above 0")


def box_to_text(box: Sequence[float], width: int, height: int) -> str:
    """Pixel ``(x1, y1, x2, y2)`` of a width x height medium -> ``"(0.120, 0.040, 0.580, 0.750)"``."""
    _extent(width, height)
    x1, y1, x2, y2 = box
    xs = (_fraction(x1, width, "x1"), _fraction(x2, width, "x2"))
    ys = (_fraction(y1, height, "y1"), _fraction(y2, height, "y2"))
    if not (float(xs[0]) < float(xs[1]) and float(ys[0]) < float(ys[1])):
        size = f"{width}x{height}"
        raise RegionError(f"box {list(box)!r} is under 1/1000 of the {size} medium wide or high; expected a larger box")
    return f"({xs[0]}, {ys[0]}, {xs[1]}, {ys[1]})"


def region_to_text(region: Region, size: tuple[int, int] | None) -> str:
    """``Region`` in pixels of a (width, height) medium -> text; refs need no size."""
    span = f" | {region.frames[0]}, {region.frames[1]}" if region.frames is not None else ""
    if region.ref is not None:
        return region.ref + span
    if size is None:
        raise RegionError("a box or points region needs its medium's size; expected an input or default of known size")
    width, height = size
    if region.box is not None:
        return box_to_text(region.box, width, height) + span
    _extent(width, height)
    points = [
        f"({_fraction(p.x, width, 'x')}, {_fraction(p.y, height, 'y')}){'+' if p.positive else '-'}"
        for p in region.points or ()
    ]
    return "; ".join(points) + span


# --- boxes written in a request ------------------------------------------------------------


@dataclass(frozen=True)
class WrittenBox:
    """A box written in a request: pixels of the medium, the frame it is on (video), and where it was written
    (``start``, ``end``: the characters of the notation; ``written_frame_span`` finds the frame words)."""

    box: tuple[float, float, float, float]
    frame: int | None
    start: int
    end: int


_NUM = r"[+-]?\d+(?:\.\d+)?"
_SEP = r"\s*[,，;；]\s*|\s+"
_WRITTEN_FORMS = (
    # [x1, y1, x2, y2] / (x1, y1, x2, y2) / bare x1,y1,x2,y2 (commas between all four)
    re.compile(rf"[\[(（]\s*({_NUM})(?:{_SEP})({_NUM})(?:{_SEP})({_NUM})(?:{_SEP})({_NUM})\s*[\])）]"),
    re.compile(rf"(?<![A-Za-z0-9_.])({_NUM})\s*[,，]\s*({_NUM})\s*[,，]\s*({_NUM})\s*[,，]\s*({_NUM})(?![A-Za-z0-9_]|\.\d)"),
    # from (x1, y1) to (x2, y2); between (x1, y1) and (x2, y2); (x1, y1)-(x2, y2); 从(x1,y1)到(x2,y2)
    re.compile(rf"[(（\[]\s*({_NUM})\s*[,，]\s*({_NUM})\s*[)）\]]\s*(?:to|and|through|till|until|-|–|—|到|至|~)\s*"
               rf"(?:(?:the\s+)?(?:bottom|lower)[- ]right(?:\s+corner)?\s*(?:at\s*)?)?"
               rf"[(（\[]\s*({_NUM})\s*[,，]\s*({_NUM})\s*[)）\]]", re.I),
    # x=40 y=60 to x=90 y=120; x1=40, y1=60, x2=90, y2=120
    re.compile(rf"(?<![A-Za-z0-9_])x1?\s*[=:]\s*({_NUM})\s*[,，]?\s*y1?\s*[=:]\s*({_NUM})\s*[,，]?\s*(?:(?:to|and|-|到)\s*)?"
               rf"x2?\s*[=:]\s*({_NUM})\s*[,，]?\s*y2?\s*[=:]\s*({_NUM})", re.I),
    # left 30, top 40, right 220, bottom 300; xmin=30 ymin=40 xmax=220 ymax=300
    re.compile(rf"\bleft\s*[=:]?\s*({_NUM})\s*(?:px)?\s*[,，;]?\s*(?:and\s+)?top\s*[=:]?\s*({_NUM})\s*(?:px)?\s*[,，;]?\s*"
               rf"(?:and\s+)?right\s*[=:]?\s*({_NUM})\s*(?:px)?\s*[,，;]?\s*(?:and\s+)?bottom\s*[=:]?\s*({_NUM})", re.I),
    re.compile(rf"(?<![A-Za-z0-9_])x_?min\s*[=:]\s*({_NUM})\s*[,，]?\s*y_?min\s*[=:]\s*({_NUM})\s*[,，]?\s*"
               rf"x_?max\s*[=:]\s*({_NUM})\s*[,，]?\s*y_?max\s*[=:]\s*({_NUM})", re.I),
)
_SPACED = re.compile(rf"\b(?:box|bbox|region|area|rectangle|rect|zone|window|coordinates|coords|crop|patch)\s*[:=]?\s*"
                     rf"({_NUM})\s+({_NUM})\s+({_NUM})\s+({_NUM})(?![\w.,])", re.I)
"""Four numbers with spaces only, right after a box word ("in the box 100 50 400 250")."""
_WIDTH_HEIGHT = re.compile(rf"(?<![A-Za-z0-9_])x\s*[=:]\s*({_NUM})\s*[,，]?\s*y\s*[=:]\s*({_NUM})\s*[,，]?\s*(?:w|width)\s*[=:]\s*"
                           rf"({_NUM})\s*[,，]?\s*(?:h|height)\s*[=:]\s*({_NUM})", re.I)
_CORNERS = re.compile(rf"(?:top[- ]left|upper[- ]left|左上角?)(?:\s+corner)?(?:\s*(?:coordinates?|coords?|point)|坐标|点)?\s*(?:at\s*|为|是|在)?[(（\[]?\s*({_NUM})\s*[,，]\s*({_NUM})\s*"
                      rf"[)）\]]?\s*[,，、]?\s*(?:and|to|到|至|和|与)?\s*(?:the\s+)?(?:(?:bottom|lower)[- ]right|右下角?)(?:\s+corner)?(?:\s*(?:coordinates?|coords?|point)|坐标|点)?\s*"
                      rf"(?:at\s*|为|是|在)?[(（\[]?\s*({_NUM})\s*[,，]\s*({_NUM})\s*[)）\]]?", re.I)
"""A box by its corners ("with top-left (10, 20) and bottom-right (200, 150)", "top-left 10,20 and bottom-right
200,150", "左上角(0,0)到右下角(200,150)", "左上角坐标(0.1,0.1)、右下角坐标(0.4,0.5)", "top-left corner coordinates
(10, 20), bottom-right coordinates (200, 150)")."""
_WRITTEN_FRAME = re.compile(r"(?:\b(?:on|at|in|from)\s+)?(?:the\s+)?\bframe\s*(?:#|no\.?|number)?\s*(\d{1,6})\b"
                            r"|\b(\d{1,6})(?:st|nd|rd|th)\s+frame\b|(?:在)?第\s*(\d{1,6})\s*帧(?:上|里|中)?", re.I)


def find_written_boxes(text: str, size: tuple[int, int] | None) -> list[WrittenBox]:
    """The boxes written in ``text``, in pixels of a ``size`` (width, height) medium, in the order written.

    Fractions (all four values within 0..1, at least one with a decimal point) are scaled by ``size``
    (without a size they are left out). A frame number anywhere in the text ("on frame 12") goes with every
    box."""
    found: list[tuple[int, int, tuple[float, ...]]] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_CORNERS, _WIDTH_HEIGHT, *_WRITTEN_FORMS, _SPACED):
        for match in pattern.finditer(text):
            start = match.start(1) if pattern is _SPACED else match.start()
            if any(a < match.end() and start < b for a, b in taken):
                continue
            values = [float(v) for v in match.groups()]
            if pattern is _WIDTH_HEIGHT:
                values = [values[0], values[1], values[0] + values[2], values[1] + values[3]]
            box = _written_pixels(values, [g for g in match.groups()], size)
            if box is not None:
                found.append((start, match.end(), box))
                taken.append((start, match.end()))
    frame_match = _WRITTEN_FRAME.search(text)
    frame = int(next(g for g in frame_match.groups() if g)) if frame_match else None
    return [WrittenBox(box, frame, start, end) for start, end, box in sorted(found)]  # type: ignore[arg-type]


def written_frame_span(text: str) -> tuple[int, int] | None:
    """Where the frame words ("on frame 12") are written in ``text``; None when there are none."""
    found = _WRITTEN_FRAME.search(text)
    return (found.start(), found.end()) if found else None


def _written_pixels(values: list[float], written: list[str], size: tuple[int, int] | None) -> tuple[float, ...] | None:
    """Pixels of a written box: fractions scaled by ``size``; None when it is no box (inverted, empty)."""
    x1, y1, x2, y2 = values
    if all(0.0 <= v <= 1.0 for v in values) and any("." in w for w in written):
        if size is None:
            return None
        width, height = size
        x1, y1, x2, y2 = _px(x1, width), _px(y1, height), _px(x2, width), _px(y2, height)
    if not (0 <= x1 < x2 and 0 <= y1 < y2):
        return None
    return (x1, y1, x2, y2)
