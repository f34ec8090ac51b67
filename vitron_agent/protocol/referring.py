"""Referring expressions: how many objects a phrase means, and which grounded boxes it refers to.

"the cat" and "the person on the left" are one object: the best box (the referring words first, such as
"on the left" or "largest", then the grounder's score); "the cats", "all faces", "every person" keep
every instance. Boxes thinner than ``MIN_BOX_SIDE`` pixels are noise and never passed on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, Protocol

__all__ = ["Instances", "MIN_BOX_SIDE", "instances_of", "refer", "is_degenerate"]

Instances = Literal["one", "all"]
MIN_BOX_SIDE = 2.0
"""Boxes narrower or lower than this many pixels are dropped from a grounder's output."""

_ALL = re.compile(r"\b(?:all|every|each|both|any|many|several|multiple|these|those)\b|所有|全部|每个|每一个|各个|这些|那些")
_COUNT = re.compile(r"\b(?:two|three|four|five|six|seven|eight|nine|ten|\d+)\b")
_QUALIFIER = re.compile(r"\b(?:on|in|at|of|to|with|near|next|beside|behind|under|above|below|from|that|which|who|"
                        r"wearing|holding|closest|nearest|farthest|furthest)\b")
_IRREGULAR_PLURALS = {"people", "men", "women", "children", "mice", "geese", "feet", "teeth", "persons", "cattle",
                      "police", "dice"}
_SINGULAR_IN_S = re.compile(r"(?:ss|us|is|ics|ous|news|series|species|lens|canvas|gas|bus|glasses|jeans|pants|"
                            r"trousers|scissors|shorts)$")
_SIDES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:left|leftmost|left-most)\b|左"), "left"),
    (re.compile(r"\b(?:right|rightmost|right-most)\b|右"), "right"),
    (re.compile(r"\b(?:top|upper|uppermost|topmost|highest)\b|上面|上方"), "top"),
    (re.compile(r"\b(?:bottom|lower|lowest|bottommost)\b|下面|下方"), "bottom"),
    (re.compile(r"\b(?:largest|biggest|big|large|closest|nearest|front)\b|最大|最近"), "largest"),
    (re.compile(r"\b(?:smallest|small|little|tiny|farthest|furthest|back)\b|最小|最远"), "smallest"),
    (re.compile(r"\b(?:middle|center|centre|central)\b|中间"), "middle"),
)
_CANDIDATE_SHARE = 0.5
"""A qualifier chooses among boxes scoring at least this share of the best score, so noise is not picked."""


class Boxed(Protocol):
    """Anything with a pixel ``box`` (x1, y1, x2, y2) and a ``score``: a ``Detection``."""

    box: tuple[float, float, float, float]
    score: float


def instances_of(phrase: str) -> Instances:
    """``all`` for a plural or quantified phrase ("the cats", "all faces", "two cups"), else ``one``."""
    text = phrase.lower().strip()
    if not text or _ALL.search(text) or _COUNT.search(text):
        return "all" if text else "one"
    head = _QUALIFIER.split(text, maxsplit=1)[0].strip().split()
    noun = re.sub(r"[^a-z-]", "", head[-1]) if head else ""
    if noun in _IRREGULAR_PLURALS:
        return "all"
    if noun.endswith("s") and len(noun) > 3 and not _SINGULAR_IN_S.search(noun):
        return "all"
    return "one"


def is_degenerate(box: Sequence[float]) -> bool:
    """Whether an (x1, y1, x2, y2) box is narrower or lower than ``MIN_BOX_SIDE`` pixels."""
    return box[2] - box[0] < MIN_BOX_SIDE or box[3] - box[1] < MIN_BOX_SIDE


def refer(found: Sequence[Boxed], phrase: str, width: int, height: int,
          instances: Instances | None = None) -> tuple[list[int], str]:
    """The positions in ``found`` of the boxes ``phrase`` refers to, and how they were chosen (for the summary).

    ``instances``: ``one`` or ``all``; None reads it from the phrase. Degenerate boxes are dropped first.
    """
    kept = [i for i, d in enumerate(found) if not is_degenerate(d.box)]
    wanted = instances or instances_of(phrase)
    dropped = f"dropped {len(found) - len(kept)} degenerate box(es)" if len(kept) < len(found) else ""
    if wanted == "all" or len(kept) <= 1:
        return kept, dropped
    best = max(found[i].score for i in kept)
    candidates = [i for i in kept if found[i].score >= _CANDIDATE_SHARE * best]
    side = next((name for pattern, name in _SIDES if pattern.search(phrase.lower())), None)
    if side is None:
        return [max(kept, key=lambda i: found[i].score)], f"kept the best of {len(kept)}"
    chosen = min(candidates, key=lambda i: _rank(found[i].box, side, width, height))
    return [chosen], f"kept the {side} one of {len(kept)}"


def _rank(box: tuple[float, float, float, float], side: str, width: int, height: int) -> float:
    """Smaller is more ``side`` (left: smallest centre x; largest: biggest area, negated)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    area = (box[2] - box[0]) * (box[3] - box[1])
    return {"left": cx, "right": -cx, "top": cy, "bottom": -cy, "largest": -area, "smallest": area,
            "middle": (cx - width / 2) ** 2 + (cy - height / 2) ** 2}[side]
