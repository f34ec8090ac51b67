"""A transparent rule-based planner for plain requests; the offline default until a learned one ships.

Every decision is a readable pattern below: "segment the cat", "remove the object in the box",
"replace the dog with a cat", "now remove it" (``it`` = the latest mask or boxes), "generate an image of ...".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..colors import NAMED_COLORS
from ..protocol.invocation import Invocation, Region
from ..protocol.tasks import task_spec
from .base import PlannerInput, PlannerOutput

__all__ = ["RuleBasedPlanner", "planned", "history_answer", "latest_referent", "latest_input", "latest_kind", "clean_phrase", "describe_invocation",
           "HELP_TEXT", "POLITE", "CLAUSE_SPLIT"]

_COLORS = "|".join(NAMED_COLORS)
_ASKS_HISTORY = re.compile(r"\bwhat (?:did|have) you (?:do|done|make|made|produce|produced|change|changed)\b|"
                           r"\bwhat have you (?:done|made)\b|\bwhat did we do\b|你(?:做|干)了什么", re.I)
POLITE = re.compile(
    r"^(?:(?:please|pls|now|then|and|also|ok(?:ay)?|next|can you|could you|would you|will you|"
    r"i want you to|i'd like you to|i would like you to|help me|let's|lets)\b[\s,]*)+",
    re.I,
)
_PRONOUN = re.compile(r"^(?:it|this|that|them|these|those|the result|the mask|the selection|the segmented (?:\w+ ?)+)$", re.I)
_IN_BOX = re.compile(
    r"\b(?:in|inside|within|from) (?:the|my|this) (?:box|region|rectangle|selection|area)(?: (?:that )?i drew)?\b", re.I
)
_BOX_WORDS = re.compile(r"^(?:the |this |my )?(?:object|thing|region|area|selection|selected (?:object|area)|box)"
                        r"(?: (?:that )?i (?:drew|selected|marked))?$", re.I)
_TRAILING = re.compile(
    r"(?:\s+(?:from|in|on|of) (?:the|this|my) (?:image|picture|photo|frame|video|clip|scene))+\s*$|[\s.!?,;]+$", re.I
)


@dataclass(frozen=True)
class _Rule:
    task: str
    pattern: re.Pattern[str]
    op: str | None = None


def _r(text: str) -> re.Pattern[str]:
    return re.compile(text, re.I)


_STYLE_WORDS = (r"(?:paint(?:ing)?|watercolou?r|oil|cartoon|comic|anime|sketch|pencil|drawing|charcoal|artistic|"
                r"style|black and white|grayscale|greyscale|monochrome|sepia|smooth|hdr|sharp(?:er)?)")
_IMAGE_NOUN = r"(?:image|picture|photo|drawing|painting|illustration|artwork)s?"
_THIS_IMAGE = r"(?:this|the|my) (?:image|picture|photo)"

_RULES: tuple[_Rule, ...] = (
    _Rule("animate_image", _r(rf"^(?:make|create|turn|convert)\s+(?:a\s+)?(?:video|clip|animation)\s+(?:from|of|out of)\s+"
                              rf"{_THIS_IMAGE}$|^(?:turn|convert|make)\s+{_THIS_IMAGE}\s+into\s+(?:a\s+)?(?:video|clip|"
                              r"animation)$")),
    _Rule("generate_video", _r(r"^(?:generate|create|make|produce|render)\b.*?\b(?:video|clip|movie|animation)\b"
                               r"(?:\s+(?:of|showing|about|where|with))?\s*(?P<p>.*)$")),
    _Rule("animate_image", _r(r"^(?:animate|bring)\b\s*(?P<t>.*?)(?:\s+to life)?$|^make (?P<t2>.+?) (?:move|come alive)$")),
    _Rule("generate_image", _r(r"^(?:generate|create|draw|paint|make|produce|render|imagine|sketch|i want|i'd like|"
                               r"i would like|give me)\b(?:\s+(?:me|us))?(?:\s+(?:an?|some))?(?:\s+(?!the\b|this\b|my\b|that\b)\w+)?\s*"
                               rf"{_IMAGE_NOUN}\b(?:\s+(?:of|showing|with|depicting))?\s*(?P<p>.*)$")),
    _Rule("edit_image", _r(r"^(?:remove|delete|erase|get rid of|take out|eliminate|clear)\b\s*(?P<t>.*)$"), "remove"),
    _Rule("edit_image", _r(r"^(?:replace|swap|substitute)\s+(?P<t>.+?)\s+(?:with|by|for)\s+(?P<n>.+)$"), "replace"),
    _Rule("edit_image", _r(rf"^(?:restyle|stylize|stylise|render|make|turn|convert|change)\s+(?=.*\b{_STYLE_WORDS}\b)"
                           r"(?:(?:it|this|the (?:image|picture|photo))\s+)?(?:(?:look\s+)?(?:like|as|into|to)\s+)?"
                           r"(?P<s>.+?)(?:\s+style)?$"),
          "restyle"),
    _Rule("edit_image", _r(rf"^(?:recolou?r|colou?r|paint|make|turn|change the colou?r of)\s+(?P<t>.+?)\s+(?:to\s+|in\s+)?"
                           rf"(?P<c>(?:light |dark )?(?:{_COLORS}))$|^change\s+(?P<t2>.+?)'s colou?r\s+to\s+(?P<c2>.+)$"),
          "recolor"),
    _Rule("edit_image", _r(r"^(?:turn|change|transform|convert)\s+(?P<t>.+?)\s+(?:in)?to\s+(?P<n>.+)$"), "replace"),
    _Rule("edit_image", _r(r"^(?:move|shift|drag)\s+(?P<t>.+?)\s+(?:to(?: the)?\s+)?(?P<d>left|right|up|down|top|bottom|"
                           r"center|centre)\b.*$"), "move"),
    _Rule("edit_image", _r(r"^(?:add|insert|put|place)\s+(?P<t>.+?)(?:\s+(?:to|in|on|into|at)\s+(?P<w>.+))?$"), "add"),
    _Rule("track", _r(r"^(?:track|follow)\s*(?P<t>.*)$")),
    _Rule("segment", _r(r"^(?:segment|mask(?: out)?|cut out|cut|outline|isolate|extract|select|separate)\b\s*"
                        r"(?P<t>.*?)(?:\s+out)?$")),
    _Rule("ground", _r(r"^(?:find|detect|locate|where (?:is|are)|show me|point (?:to|at|out)|spot|ground|box|"
                       r"look for|search for|highlight)\b\s*(?P<t>.*)$")),
    _Rule("generate_image", _r(r"^(?:draw|paint|imagine|sketch|illustrate)\s+(?P<p>.+)$")),
)
_QUESTION = _r(r"^(?:what|who|how|why|which|when|is|are|does|do|can|describe|caption|tell me|count)\b|\?\s*$")
CLAUSE_SPLIT = re.compile(r"\s*(?:;|\s*(?:->|=>|→)\s*(?:and\s+)?(?:then\s+)?|,?\s*and then\s+|,?\s*then\s+|\.\s+(?=[A-Za-z])|!+\s+(?=[A-Za-z])|[，,；。]?\s*然后|；)\s*", re.I)


class RuleBasedPlanner:
    """Keyword rules over the user's text; deterministic, so validator feedback is not retried."""

    name = "rules"
    can_revise = False

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        invocations: list[Invocation] = []
        for clause in CLAUSE_SPLIT.split(inp.text.strip()):
            inv = self._clause(clause, inp, invocations)
            if inv is not None:
                invocations.append(inv.model_copy(update={"id": f"c{len(invocations) + 1}"}))
        return planned(invocations, inp)

    def _clause(self, clause: str, inp: PlannerInput, earlier: list[Invocation]) -> Invocation | None:
        text = POLITE.sub("", clause.strip()).strip()
        if not text:
            return None
        for rule in _RULES:
            match = rule.pattern.match(text.rstrip(" .!"))
            if match:
                return self._build(rule, match, inp, earlier)
        if _QUESTION.search(text):
            return Invocation(task="answer", command=text, inputs=latest_input(inp))
        return None

    def _build(self, rule: _Rule, match: re.Match[str], inp: PlannerInput, earlier: list[Invocation]) -> Invocation:
        groups = {k: (v or "").strip() for k, v in match.groupdict().items()}
        task = rule.task
        if task_spec(task).from_text:
            return Invocation(task=task, command=clean_phrase(groups.get("p", "")) or match.string)
        target = clean_phrase(groups.get("t") or groups.get("t2") or "")
        args: dict[str, str] = {"op": rule.op} if rule.op else {}
        for key, name in (("n", "new"), ("c", "color"), ("c2", "color"), ("s", "style"), ("d", "direction")):
            if groups.get(key):
                args[name] = clean_phrase(groups[key])
        if rule.op == "add":
            target, args["new"] = "", target
            if groups.get("w"):
                target = clean_phrase(groups["w"])
        if rule.op == "restyle":
            target = ""
        on_video = latest_kind(inp) == "video"
        if on_video and task in ("segment", "edit_image"):
            task = "track" if task == "segment" else "edit_video"
        wants_region = task_spec(task).names_target and task != "ground" and rule.op != "restyle"
        region, target = _region_for(target, inp, earlier, wants_region=wants_region)
        inputs = [] if region is not None and region.ref else latest_input(inp)
        if task == "animate_image" and _PRONOUN.match(target or "it"):
            target = ""  # "animate it": an image made earlier in this request, else the latest image
            made = [inv.id for inv in earlier if inv.task in ("generate_image", "edit_image")]
            inputs = made[-1:] or inputs
        return Invocation(task=task, command=target, region=region, inputs=inputs, args=args)


def planned(invocations: list[Invocation], inp: PlannerInput) -> PlannerOutput:
    """The planner's output for ``invocations``: a reply that says what will be done (answers speak for
    themselves), the help text when there is nothing to do, or, for a question about the thread itself ("what
    have you done so far?"), the answer from its history."""
    history = history_answer(inp)
    if history is not None:
        return PlannerOutput(reply=history)
    if not invocations:
        return PlannerOutput(reply=HELP_TEXT)
    said = "; then ".join(describe_invocation(inv) for inv in invocations if inv.task != "answer")
    return PlannerOutput(reply=f"I'll {said}." if said else "", invocations=invocations)


def history_answer(inp: PlannerInput) -> str | None:
    """What the thread has done so far, when the user asks about it; None for any other text."""
    if not _ASKS_HISTORY.search(inp.text):
        return None
    done = [call for call in inp.history if call.status == "done"]
    if not done:
        return "Nothing yet: no expert has run in this conversation."
    lines = [f"turn {c.turn}: {c.op or c.task} by {c.expert}" + (f" ({c.command})" if c.command else "")
             + (f" -> {c.output}" if c.output else "") for c in done]
    return "So far:\n" + "\n".join(lines)


def clean_phrase(text: str) -> str:
    return _TRAILING.sub("", text.strip()).strip(" \"'")


def _region_for(target: str, inp: PlannerInput, earlier: list[Invocation], wants_region: bool) -> tuple[Region | None, str]:
    """The user's box for "the object in the box"; the latest mask/boxes for "it"; else words only."""
    in_box = bool(_IN_BOX.search(target))
    target = _IN_BOX.sub("", target).strip()
    if inp.region is not None and (in_box or not target or _BOX_WORDS.match(target) or _PRONOUN.match(target)):
        return inp.region, target
    if wants_region and (not target or _PRONOUN.match(target) or _BOX_WORDS.match(target)):
        found = latest_referent(inp, earlier)
        if found is not None:
            return found
    if inp.region is not None and wants_region and not target:
        return inp.region, target
    return None, target


def latest_referent(inp: PlannerInput, earlier: list[Invocation]) -> tuple[Region, str] | None:
    """What "it" means: the latest mask/boxes of this request (``c1``), else of the thread (``o2``),
    as a region reference and the words it was made from; None when there is none."""
    for inv in reversed(earlier):
        if inv.task in ("segment", "ground", "track"):
            return Region(ref=inv.id), inv.command
    for call in reversed(inp.history):
        if call.status == "done" and call.output and call.task in ("segment", "ground", "track"):
            return Region(ref=call.output), call.command
    return None


def latest_kind(inp: PlannerInput) -> str | None:
    ids = inp.new_media or [m.id for m in inp.media if m.kind in ("image", "video")]
    medium = inp.medium(ids[-1]) if ids else None
    return medium.kind if medium else None


def latest_input(inp: PlannerInput) -> list[str]:
    if inp.region is not None and inp.region_media:
        return [inp.region_media]
    return [inp.new_media[-1]] if inp.new_media else []


def describe_invocation(inv: Invocation) -> str:
    words = {"ground": "find", "segment": "segment", "track": "track", "answer": "answer",
             "generate_image": "generate an image of", "generate_video": "generate a video of",
             "animate_image": "animate"}
    verb = inv.op or words.get(inv.task, inv.task)
    what = inv.command or ("the region you drew" if inv.region and inv.region.box else
                           f"{inv.region.ref}" if inv.region and inv.region.ref else "")
    if inv.op in ("replace", "add") and inv.args.get("new"):
        what = f"{what} with {inv.args['new']}" if what and inv.op == "replace" else inv.args["new"]
    return f"{verb} {what}".strip()


HELP_TEXT = (
    "I can find things (\"find the faces\"), segment them (\"segment the object in the box\"), edit images "
    "(\"remove it\", \"replace the cat with a dog\"), track objects in videos, and generate images or videos "
    "when their weights are installed. Attach an image and tell me what to do."
)
