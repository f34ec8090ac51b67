"""Training clauses for LitePlanner's heads from the development sets: requests people wrote without seeing the
templates, labelled with the calls they expect.

Why: the template requests (``lite_data``) teach the heads every task, op and span in a few hundred sentence shapes;
people write thousands of others ("the bike leaning on the wall keeps ruining my shots, can it go?"). The development
sets' requests and dialogue turns carry the expected task, op, region source and phrases, so each clause becomes a
``LiteExample`` in the same form as a template request, read two ways:

- as written: the request cut as the planner cuts it (``without_chatter``, then ``split_clauses``), paired with the
  expected calls when the counts match (a request that expects one call is read whole otherwise); what the heads
  see when no rewrite rule knows the wording. Calls on a box written in the text are left to the second reading;
- as the planner reads it: each request and dialogue turn planned as ``blind_eval`` plans it (same media, drawn
  boxes and earlier turns), with every clause the planner gives ``LitePlanner.predict`` recorded with its context
  flags (a box drawn or written, an earlier output, a video), paired with the expected calls when the counts match
  (a turn that expects nothing gives a ``chat`` clause).

A clause of a one-call request that holds none of the call's phrases, points back to nothing and asks nothing
("Carefully cut out the vase, keep the edges clean": the second) trains as ``chat``: an aside, not a second call.

The labels are the expectation's: task (a video edit is ``edit_image``, as in the templates: the planner makes it
``edit_video`` by the medium), op, region source (a box written in the text reads as a drawn one), and each expected
phrase (target, new, color, style, direction, prompt) found in the clause, case aside, on word edges; when one is not
found there (a prompt reworded, a style named in other words) or the call animates an image (the tagger marks the
thing that moves, the expectation the motion), the clause trains task, op and region but none of its tags.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vitron_agent.planners.base import PlannerInput, PlannerOutput
from vitron_agent.planners.chatter import without_chatter
from vitron_agent.planners.lite import LitePlanner
from vitron_agent.planners.lite_model import CJK
from vitron_agent.planners.phrasing import split_clauses
from vitron_agent.planners.rules import latest_kind, latest_referent
from vitron_agent.protocol.invocation import Invocation

from .lite_data import LiteExample

__all__ = ["SPAN_ARGS", "dev_examples", "phrase_span"]

SPAN_ARGS = ("new", "color", "style", "direction", "prompt")
"""The expected args that are phrases of the request (``op`` is a label)."""
_MAKES_OUTPUT = ("ground", "segment", "track", "edit_image", "edit_video", "generate_image", "generate_video",
                 "animate_image")


def phrase_span(phrase: str, text: str) -> tuple[int, int] | None:
    """The character range of ``phrase`` in ``text`` (case aside; on word edges unless it is Chinese), or None."""
    edge = "" if CJK.search(phrase) else r"(?<!\w)"
    found = re.search(edge + re.escape(phrase.strip()) + ("" if edge == "" else r"(?!\w)"), text, re.I)
    return (found.start(), found.end()) if found else None


def _example(clause: str, call: dict[str, Any], *, has_box: bool, has_output: bool, on_video: bool) -> LiteExample:
    args = call.get("args") or {}
    region = {"box": "box", "text": "box", "output": "output"}.get(call.get("region") or "none", "none")
    phrases = {name: str(args[name]) for name in SPAN_ARGS if args.get(name)}
    if call.get("target"):
        phrases["target"] = str(call["target"])
    spans = {name: phrase_span(value, clause) for name, value in phrases.items()}
    tagged = call["task"] != "animate_image" and all(span is not None for span in spans.values())
    task = "edit_image" if call["task"] == "edit_video" else call["task"]  # the heads' edit; the medium decides
    return LiteExample(clause, task, str(args.get("op") or "none"), region, has_box=has_box or region == "box",
                       has_output=has_output or region == "output", on_video=on_video,
                       spans={k: v for k, v in spans.items() if v is not None} if tagged else {}, tagged=tagged)


class _Recording(LitePlanner):
    """LitePlanner that keeps the clauses it reads, per planned turn."""

    def __init__(self) -> None:
        super().__init__()
        self.turns: list[list[tuple[str, tuple[float, ...]]]] = []

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        self.turns.append([])
        return super().plan(inp)

    def predict(self, clause: str, inp: PlannerInput, earlier: list[Invocation]) -> Any:
        from vitron_agent.planners.lite_model import flags

        context = flags(inp.region is not None, latest_referent(inp, earlier) is not None, latest_kind(inp) == "video")
        read = (clause, tuple(context))
        if read not in self.turns[-1]:
            self.turns[-1].append(read)
        return super().predict(clause, inp, earlier)


_POINTS_BACK = re.compile(r"\b(?:it|its|them|this|that|these|those|him|her|one)\b|它|他|她|这|那", re.I)


def _aside(clause: str, call: dict[str, Any]) -> bool:
    """A clause of a one-call request that is no part of the call: no word of its phrases, nothing that points back to
    them, no question ("..., keep the edges clean"); English only, and only beside a call that names its phrases (a
    call on a box may be asked in any of its clauses)."""
    args = call.get("args") or {}
    phrases = [str(v) for v in (call.get("target"), *(args.get(name) for name in SPAN_ARGS)) if v]
    words = {w for p in phrases for w in re.findall(r"\w+", p.lower()) if w not in _DETERMINERS}
    return (bool(phrases) and call.get("region") in (None, "none") and not CJK.search(clause)
            and not words & set(re.findall(r"\w+", clause.lower())) and not _POINTS_BACK.search(clause)
            and "?" not in clause)


_DETERMINERS = {"the", "a", "an", "my", "our", "his", "her", "their", "its", "of", "in", "on", "with", "and", "to"}


def _examples_of_turn(expect: list[dict[str, Any]], read: list[tuple[str, tuple[float, ...]]]) -> list[LiteExample]:
    def chat(clause: str, c: tuple[float, ...]) -> LiteExample:
        return LiteExample(clause, "chat", has_box=bool(c[0]), has_output=bool(c[1]), on_video=bool(c[2]))

    if not expect:
        return [chat(clause, c) for clause, c in read[:1]]
    if len(read) == len(expect):
        return [_example(clause, call, has_box=bool(c[0]), has_output=bool(c[1]), on_video=bool(c[2]))
                for (clause, c), call in zip(read, expect, strict=True)]
    if len(expect) == 1 and len(read) > 1:
        return [chat(clause, c) for clause, c in read if _aside(clause, expect[0])]
    return []


def _as_written(text: str, expect: list[dict[str, Any]], media: list[str], *, drawn: bool,
                earlier_output: bool) -> list[LiteExample]:
    said = without_chatter(text)
    clauses = split_clauses(said)
    if not expect:
        return [LiteExample(c, "chat") for c in clauses[:1]]
    asides = []
    if len(clauses) != len(expect):
        if len(expect) != 1:
            return []
        asides = [LiteExample(c, "chat", has_box=drawn, has_output=earlier_output, on_video="video" in media)
                  for c in clauses if _aside(c, expect[0])]
        clauses = [said]
    return asides + [_example(clause, call, has_box=drawn, on_video="video" in media,
                     has_output=earlier_output or any(c["task"] in _MAKES_OUTPUT for c in expect[:i]))
            for i, (clause, call) in enumerate(zip(clauses, expect, strict=True)) if call.get("region") != "text"]


def _written_examples(requests: list[dict[str, Any]], dialogues: list[dict[str, Any]]) -> list[LiteExample]:
    out = [ex for row in requests for ex in _as_written(row["text"], row["expect"], row["media"],
                                                        drawn=row.get("box") is not None, earlier_output=False)]
    for row in dialogues:
        for k, turn in enumerate(row.get("turns") or []):
            before = [c for t in row["turns"][:k] for c in t["expect"]]
            out += _as_written(turn["text"], turn["expect"], row["media"], drawn=turn.get("box") is not None,
                               earlier_output=any(c["task"] in _MAKES_OUTPUT for c in before))
    return out


def dev_examples(sets: tuple[tuple[Path, Path], ...]) -> list[LiteExample]:
    """Every usable clause of the (requests, dialogues) files in ``sets``, as written and as the planner reads it,
    each (text, flags) once."""
    from .blind_eval import evaluate, load_rows

    requests = [row for path, _ in sets for row in load_rows(path)]
    dialogues = [row for _, path in sets if path.exists() for row in load_rows(path)]
    planner = _Recording()
    result = evaluate(planner, requests, dialogues)
    scored = [*result["requests"], *result["turns"]]
    read = [ex for s, clauses in zip(scored, planner.turns, strict=True) for ex in _examples_of_turn(s.row["expect"], clauses)]
    unique: dict[tuple[str, bool, bool, bool], LiteExample] = {}
    for ex in [*_written_examples(requests, dialogues), *read]:
        unique.setdefault((ex.text, ex.has_box, ex.has_output, ex.on_video), ex)
    return list(unique.values())
