"""Checks a plan against the expert specs and resolves what each invocation needs.

Pure functions over the plan, the thread's media and the registry, so they are tested without a
graph. Problems are written for the planner to act on: what was expected, what arrived, what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import BadInputError, MissingRegionError, RegionError, UnavailableError, VitronError
from ..experts.registry import ExpertRegistry
from ..protocol._text_regions import show
from ..protocol.invocation import AUTO_MODULE, EDIT_OPS, MODULE_LETTERS, Invocation, Region, is_invocation_id
from ..stores.media import MediaRef
from ..stores.signals import SignalStore

__all__ = ["Problem", "ValidatedPlan", "validate_plan", "check_region_bounds", "TASK_INPUT", "KEYFRAME_TASKS", "is_preview"]

TASK_INPUT: dict[str, str | None] = {
    "answer": "image",
    "ground": "image",
    "segment": "image",
    "track": "video",
    "generate_image": None,
    "edit_image": "image",
    "generate_video": None,
    "animate_image": "image",
    "edit_video": "video",
}
"""The kind of medium each task acts on when the planner names none (None: text only)."""

_OUTPUT_REGION = {"ground": "box", "segment": "mask", "track": "mask"}
OBJECT_EDITS = ("remove", "replace", "recolor", "move")
"""Edits of an object: given a box, the object in it is segmented first so only the object changes."""
KEYFRAME_TASKS = ("ground", "segment")
PHRASE_TASKS = ("ground", "segment", "track")
"""Tasks whose command names the target, which a closed-set expert must know."""
"""Tasks an image expert may do on a video: on its keyframe (the region's first frame, else frame 0)."""
_REF_KIND = {"mask": "mask", "boxes": "box", "mask_video": "mask"}


@dataclass
class Problem:
    """Why one invocation cannot run as planned; ``category`` as in ``VitronError``."""

    invocation: str
    category: str
    message: str
    missing_region: bool = False

    def text(self) -> str:
        return f"{self.invocation}: {self.message}" if self.invocation else self.message


@dataclass
class ValidatedPlan:
    """Invocations in run order (inserted steps included), the expert chosen for each, problems."""

    invocations: list[Invocation] = field(default_factory=list)
    experts: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    inserted: list[str] = field(default_factory=list)

    def bad_ids(self) -> set[str]:
        return {p.invocation for p in self.problems}


@dataclass
class _Frame:
    """The medium an invocation acts on: kind and size."""

    kind: str | None
    width: int = 0
    height: int = 0
    frames: int = 1


def is_preview(ref: MediaRef) -> bool:
    """Overlays and drawings made for people to look at; never a default input."""
    return bool(ref.data.get("preview"))


def check_region_bounds(region: Region, width: int, height: int, frames: int, name: str) -> None:
    """Raise ``RegionError`` unless a box/points region lies inside a ``width`` x ``height`` medium."""
    size = f"{name} ({width}x{height})"
    if region.box is not None:
        x1, y1, x2, y2 = region.box
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
            raise RegionError(
                f"Box {[round(c, 1) for c in region.box]} lies outside {size}; "
                "coordinates are pixels, x1<x2, y1<y2, within the image."
            )
    for point in region.points or ():
        if not (0 <= point.x <= width and 0 <= point.y <= height):
            raise RegionError(f"Point ({point.x:g}, {point.y:g}) lies outside {size}; coordinates are pixels.")
    if region.frames is not None and region.frames[1] >= frames:
        raise RegionError(f"Frame span {list(region.frames)} is outside {name}, which has {frames} frame(s) (0-based).")


def validate_plan(
    invocations: list[Invocation],
    media: dict[str, MediaRef],
    registry: ExpertRegistry,
    signals: SignalStore | None = None,
    new_media: list[str] | None = None,
) -> ValidatedPlan:
    """Validate and complete a plan; never raises for bad plans, returns problems instead."""
    checker = _Checker(media, registry, signals, new_media or [])
    checker.used = {inv.id for inv in invocations if inv.id}
    for inv in invocations:
        if not inv.id:
            inv = inv.model_copy(update={"id": checker.new_id()})
        if inv.id in checker.frames:
            checker.problem(inv.id, "bad_input", f"duplicate invocation id {inv.id}; give each invocation its own id")
            continue
        checker.add(inv)
    return checker.plan


class _Checker:
    def __init__(self, media: dict[str, MediaRef], registry: ExpertRegistry, signals: SignalStore | None,
                 new_media: list[str]) -> None:
        self.media, self.registry, self.signals, self.new_media = media, registry, signals, new_media
        self.plan = ValidatedPlan()
        self.frames: dict[str, _Frame] = {}
        self.output_region: dict[str, str | None] = {}
        self.used: set[str] = set()

    def new_id(self) -> str:
        """The lowest free ``c<n>`` id of this plan."""
        n = 1
        while f"c{n}" in self.used:
            n += 1
        self.used.add(f"c{n}")
        return f"c{n}"

    def problem(self, inv_id: str, category: str, message: str, missing_region: bool = False) -> None:
        self.plan.problems.append(Problem(inv_id, category, message, missing_region))

    def add(self, inv: Invocation) -> None:
        """Check one invocation, inserting grounding/segmentation steps it needs first."""
        try:
            inv = self._normalise(inv)
            frame = self._input_frame(inv)
            expert = self._choose_expert(inv, frame)
            spec = self.registry.spec(expert)
            if inv.region is None and spec.needs_region(inv.task, inv.op):
                inv = self._resolve_region(inv, spec.region_kinds)
            elif inv.region is not None and inv.task != "segment" and "mask" in spec.region_kinds and \
                    self._region_kind(inv.region) in ("box", "points") and (
                    self._region_kind(inv.region) not in spec.region_kinds or inv.op in OBJECT_EDITS):
                # edit the object in the box, not the whole box (a segment step would only insert itself again)
                inv = self._segment_first(inv, inv.region)
            self._check_region(inv, frame, spec.region_kinds)
            self._check_signal(inv)
        except VitronError as exc:
            self.frames[inv.id] = _Frame(None)
            self.problem(inv.id, exc.category, str(exc), isinstance(exc, MissingRegionError))
            self.plan.invocations.append(inv)
            return
        self.frames[inv.id] = frame
        self.output_region[inv.id] = _OUTPUT_REGION.get(inv.task)
        self.plan.experts[inv.id] = expert
        self.plan.invocations.append(inv)

    def _normalise(self, inv: Invocation) -> Invocation:
        update: dict[str, Any] = {}
        if inv.module in MODULE_LETTERS:
            update["module"] = AUTO_MODULE
        elif inv.module != AUTO_MODULE and inv.module not in self.registry:
            raise BadInputError(
                f"unknown module {inv.module!r}; use 'auto' or one of: {', '.join(self.registry.names())}"
            )
        if inv.task in ("edit_image", "edit_video") and inv.op is None:
            raise BadInputError(f"{inv.task} needs args.op, one of: {', '.join(EDIT_OPS)}")
        for ref in inv.references:
            if ref not in self.frames:
                raise BadInputError(f"refers to {ref}, which is not an earlier invocation of this plan")
            if self.frames[ref].kind is None:
                raise BadInputError(f"depends on {ref}, which cannot run")
        for item in inv.inputs:
            if not is_invocation_id(item) and item not in self.media:
                raise BadInputError(f"input {item} does not exist; known media: {', '.join(self.media) or 'none'}")
        if not inv.inputs and TASK_INPUT[inv.task] is not None:
            default = self._default_input(inv)
            if default is None:
                raise BadInputError(f"{inv.task} needs an input {TASK_INPUT[inv.task]}, and none has been given")
            update["inputs"] = [default]
        return inv.model_copy(update=update) if update else inv

    def _default_input(self, inv: Invocation) -> str | None:
        region = inv.region
        if region is not None and region.ref:
            if is_invocation_id(region.ref):
                earlier = next(i for i in self.plan.invocations if i.id == region.ref)
                return earlier.inputs[0] if earlier.inputs else None
            ref = self.media.get(region.ref)
            if ref is not None and ref.parents:
                return ref.parents[0]
        wanted = TASK_INPUT[inv.task]
        for media_id in reversed(self.new_media):
            if self.media[media_id].kind == wanted:
                return media_id
        for ref in reversed(list(self.media.values())):
            if ref.kind == wanted and not is_preview(ref):
                return ref.id
        return None

    def _input_frame(self, inv: Invocation) -> _Frame:
        if not inv.inputs:
            return _Frame(None)
        first = inv.inputs[0]
        if is_invocation_id(first):
            return self.frames[first]
        ref = self.media[first]
        kind = {"mask": "image", "mask_video": "video"}.get(ref.kind, ref.kind)
        if kind == "boxes":
            raise BadInputError(f"input {first} holds boxes, not an image or video")
        return _Frame(kind, ref.width, ref.height, ref.frames)

    def _choose_expert(self, inv: Invocation, frame: _Frame) -> str:
        phrase = inv.command if inv.task in PHRASE_TASKS else None  # closed-set experts only for words they know
        keyframe = frame.kind == "video" and inv.task in KEYFRAME_TASKS  # image experts run on one frame
        if inv.module == AUTO_MODULE:
            try:
                return self.registry.best_for(inv.task, inv.op, frame.kind, phrase)
            except UnavailableError:
                if not keyframe:
                    raise
                return self.registry.best_for(inv.task, inv.op, "image", phrase)
        spec = self.registry.spec(inv.module)
        if keyframe and "video" not in spec.input_kinds and "image" in spec.input_kinds:
            frame = _Frame("image", frame.width, frame.height)
        if not spec.does(inv.task, inv.op):
            what = f"{inv.task} ({', '.join(spec.edit_ops)})" if inv.task in spec.tasks else inv.task
            raise BadInputError(
                f"{inv.module} cannot do {inv.label}; it does {', '.join(spec.tasks)}. Use module 'auto' for {what}"
            )
        if frame.kind is not None and frame.kind not in spec.input_kinds:
            raise BadInputError(f"{inv.module} takes {', '.join(spec.input_kinds)} input, not {frame.kind}")
        state = self.registry.availability(inv.module)
        if not state.ok:
            raise UnavailableError(f"{inv.module} is not usable here: {state.reason}. {state.fix}")
        if phrase and not spec.knows(phrase):
            raise UnavailableError(f"{inv.module} only knows: {', '.join(spec.vocabulary or ())}; not {show(phrase)}")
        return inv.module

    def _resolve_region(self, inv: Invocation, kinds: tuple[str, ...]) -> Invocation:
        """Insert ground (and segment, when a mask is wanted) for a target named only in words."""
        target = inv.command.strip()
        if inv.task not in ("segment", "track", "edit_image", "edit_video") or not target:
            raise MissingRegionError(f"{inv.label} needs a region ({', '.join(kinds)}); draw a box or name the target")
        try:
            self.registry.best_for("ground", None, "image", target)
        except UnavailableError as exc:
            raise UnavailableError(
                f"cannot locate {show(target)} without a region: {exc}. Draw a box around it instead"
            ) from None
        ground = Invocation(id=self.new_id(), task="ground", command=target, inputs=inv.inputs)
        self._insert(ground)
        if "box" in kinds and inv.task not in ("edit_image", "edit_video"):
            return inv.model_copy(update={"region": Region(ref=ground.id)})
        return self._segment_first(inv, Region(ref=ground.id))

    def _segment_first(self, inv: Invocation, region: Region) -> Invocation:
        """Insert a segmentation of ``region`` and point ``inv`` at its mask.

        A video edit needs masks on every frame (``track``); tracking itself starts from one frame's mask.
        """
        task = "track" if inv.task == "edit_video" else "segment"
        segment = Invocation(id=self.new_id(), task=task, command=inv.command, inputs=inv.inputs, region=region)
        self._insert(segment)
        return inv.model_copy(update={"region": Region(ref=segment.id)})

    def _region_kind(self, region: Region) -> str | None:
        return self._ref_kind(region.ref) if region.ref else region.kind

    def _insert(self, inv: Invocation) -> None:
        before = len(self.plan.problems)
        self.add(inv)
        if len(self.plan.problems) > before:
            raise UnavailableError(f"the inserted step {inv.id} ({inv.label} {show(inv.command)}) cannot run")
        self.plan.inserted.append(inv.id)

    def _check_region(self, inv: Invocation, frame: _Frame, kinds: tuple[str, ...]) -> None:
        region = inv.region
        if region is None:
            return
        if region.ref:
            kind = self._region_kind(region)
            if kind not in kinds:
                raise RegionError(f"region {region.ref} is a {kind}; {inv.label} here accepts {', '.join(kinds) or 'no region'}")
            return
        if region.kind not in kinds:
            raise RegionError(f"{inv.label} with this expert accepts regions: {', '.join(kinds) or 'none'}, not {region.kind}")
        if frame.kind is not None:
            check_region_bounds(region, frame.width, frame.height, frame.frames, inv.inputs[0])

    def _ref_kind(self, ref: str) -> str | None:
        if is_invocation_id(ref):
            kind = self.output_region.get(ref)
            if kind is None:
                raise RegionError(f"region {ref} refers to an invocation that yields no mask or boxes")
            return kind
        media = self.media.get(ref)
        if media is None:
            raise RegionError(f"region {ref} does not exist; refer to a mask or boxes output such as o1")
        kind = _REF_KIND.get(media.kind)
        if kind is None:
            raise RegionError(f"region {ref} is a {media.kind}; a region must be a mask or boxes output")
        return kind

    def _check_signal(self, inv: Invocation) -> None:
        if inv.signal is not None and (self.signals is None or inv.signal not in self.signals):
            raise BadInputError(f"signal {inv.signal} is not in this thread's signal store")
