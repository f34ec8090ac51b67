"""Checks a plan against the expert specs and the task table, and resolves what each invocation needs.

Pure functions over the plan, the thread's media and the registry, so they are tested without a
graph. Resolving means: a default input (the latest version of the image a referred mask lies on, so
edits stack), the mask carried onto that version, grounding and segmentation steps for a target named
only in words (one object for a singular phrase, every instance for a plural one), and the frame a
region was drawn on carried by every step that needs it. Problems are written for the planner to act
on: what was expected, what arrived, what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import BadInputError, MissingRegionError, RegionError, UnavailableError, VitronError
from ..experts.registry import ExpertRegistry
from ..protocol.invocation import AUTO_MODULE, EDIT_OPS, MODULE_LETTERS, Invocation, Region, is_invocation_id
from ..protocol.referring import instances_of
from ..protocol.tasks import OBJECT_EDITS, task_spec
from ..protocol.text_regions import show
from ..stores.media import MediaRef
from ..stores.signals import SignalStore
from .calls import carried_mask, latest_version

__all__ = ["Problem", "ValidatedPlan", "validate_plan", "check_region_bounds", "default_input"]

_REF_KIND = {"mask": "mask", "boxes": "box", "mask_video": "mask"}
"""What a stored medium is when used as a region."""


@dataclass
class Problem:
    """Why one invocation cannot run as planned; ``category`` as in ``VitronError``.

    ``missing_region``: a region the user could draw would fix it (human in the loop asks for one).
    """

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
    """Validate and complete a plan; never raises for bad plans, returns problems instead.

    ``new_media``: ids of the media attached this turn (preferred as default inputs).
    """
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
        """Check one invocation, inserting the grounding/segmentation steps it needs first."""
        try:
            inv = self._normalise(inv)
            frame = self._input_frame(inv)
            expert = self._choose_expert(inv, frame)
            spec = self.registry.spec(expert)
            if inv.signal is not None and not spec.takes_signal(None):
                inv = inv.model_copy(update={"signal": None})  # text fallback: this expert takes no embeddings
            if inv.region is None and spec.needs_region(inv.task, inv.op, signal=inv.signal is not None):
                inv = self._resolve_region(inv, spec.region_kinds)
            elif inv.region is not None and inv.task != "segment" and "mask" in spec.region_kinds and \
                    self._region_kind(inv.region) in ("box", "points") and (
                    self._region_kind(inv.region) not in spec.region_kinds or inv.op in OBJECT_EDITS):
                # edit the object in the box, not the whole box (a segment step would only insert itself again)
                inv = self._segment_first(inv, inv.region)
            self._check_region(inv, frame, spec.region_kinds)
        except VitronError as exc:
            self.frames[inv.id] = _Frame(None)
            self.problem(inv.id, exc.category, str(exc), isinstance(exc, MissingRegionError))
            self.plan.invocations.append(inv)
            return
        self.frames[inv.id] = frame
        self.plan.experts[inv.id] = expert
        self.plan.invocations.append(inv)

    # -- inputs -------------------------------------------------------------------------------
    def _normalise(self, inv: Invocation) -> Invocation:
        update: dict[str, Any] = {}
        if inv.module in MODULE_LETTERS:
            update["module"] = AUTO_MODULE
        elif inv.module != AUTO_MODULE and inv.module not in self.registry:
            raise BadInputError(
                f"unknown module {inv.module!r}; use 'auto' or one of: {', '.join(self.registry.names())}"
            )
        if task_spec(inv.task).is_edit and inv.op is None:
            raise BadInputError(f"{inv.task} needs args.op, one of: {', '.join(EDIT_OPS)}")
        for ref in inv.references:
            if ref not in self.frames:
                raise BadInputError(f"refers to {ref}, which is not an earlier invocation of this plan")
            if self.frames[ref].kind is None:
                raise BadInputError(f"depends on {ref}, which cannot run")
        for item in inv.inputs:
            if not is_invocation_id(item) and item not in self.media:
                raise BadInputError(f"input {item} does not exist; known media: {', '.join(self.media) or 'none'}")
        if inv.signal is not None and (self.signals is None or inv.signal not in self.signals):
            raise BadInputError(f"signal {inv.signal} is not in this thread's signal store")
        found = self.media.get(inv.inputs[0]) if inv.inputs else None
        if found is not None and found.kind == "boxes" and found.parents and inv.region is None:
            # "how many did you find?" on the boxes found: the medium they were found on, the boxes its region
            # (none when nothing was found: the question is then about the whole medium)
            update["inputs"] = [found.parents[0], *inv.inputs[1:]]
            if found.data.get("detections"):
                update["region"] = Region(ref=found.id)
        wanted = task_spec(inv.task).input_kind
        if not inv.inputs and wanted is not None:
            default = self._default_input(inv)
            if default is None:
                raise BadInputError(f"{inv.task} needs an input {wanted}, and none has been given")
            update["inputs"] = [default]
            if inv.region is not None and inv.region.ref in self.media:  # the referred mask, carried onto it
                carried = carried_mask(self.media, inv.region.ref, default)
                if carried is not None and carried != inv.region.ref:
                    update["region"] = inv.region.model_copy(update={"ref": carried})
        return inv.model_copy(update=update) if update else inv

    def _default_input(self, inv: Invocation) -> str | None:
        return default_input(inv, self.media, self.new_media, self.plan.invocations)

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

    # -- experts ------------------------------------------------------------------------------
    def _choose_expert(self, inv: Invocation, frame: _Frame) -> str:
        task = task_spec(inv.task)
        phrase = inv.command if task.names_target and not task.is_edit else None  # closed-set vocabulary
        keyframe = frame.kind == "video" and task.keyframe  # image experts run on one frame
        if inv.module == AUTO_MODULE:
            return self._best(inv, frame.kind, phrase, keyframe)
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
        if not spec.takes_args(inv.task, inv.args):
            given = [a for a in task.routing_args if inv.args.get(a)]
            if given:
                raise BadInputError(f"{inv.module} ignores args.{' and args.'.join(given)}; use module 'auto' to "
                                    "reach an expert that places phrases in boxes, or drop them")
            raise BadInputError(f"{inv.module} needs args.{' and args.'.join(spec.reads_args)} for {inv.label}")
        if inv.signal is not None and not spec.takes_signal(self._signal_space(inv)):
            raise BadInputError(self._signal_mismatch(inv, inv.module))
        state = self.registry.availability(inv.module)
        if not state.ok:
            raise UnavailableError(f"{inv.module} is not usable here: {state.reason}. {state.fix}")
        if phrase and not spec.knows(phrase):
            raise UnavailableError(f"{inv.module} only knows: {', '.join(spec.vocabulary or ())}; not {show(phrase)}")
        return inv.module

    def _best(self, inv: Invocation, kind: str | None, phrase: str | None, keyframe: bool) -> str:
        """The registry's pick for an ``auto`` invocation; with a signal, one of its space first. A segment or track
        goes to an expert that takes its region as a prompt (clicks never reach a box-only expert); failing that, a
        track goes to one that follows a mask, and a segment step is inserted to make it."""
        kinds = [kind, "image"] if keyframe else [kind]
        prompt = self._region_kind(inv.region) if inv.region is not None and inv.task in ("segment", "track") else None
        if inv.signal is not None:
            space = self._signal_space(inv)
            for option in kinds:
                for name in self.registry.candidates(inv.task, inv.op, option, inv.args, prompt):
                    if self.registry.spec(name).takes_signal(space) and self.registry.availability(name).ok \
                            and (phrase is None or self.registry.spec(name).knows(phrase)):
                        return name
            if space is not None:  # projected for one expert's space: another expert cannot read it
                raise BadInputError(self._signal_mismatch(inv, None))
        tries = [(option, prompt) for option in kinds] + ([(kinds[0], None)] if inv.task == "track" and prompt else [])
        for option, kind_of_prompt in tries:
            try:
                return self.registry.best_for(inv.task, inv.op, option, phrase, inv.args, kind_of_prompt)
            except UnavailableError:
                if (option, kind_of_prompt) == tries[-1]:
                    raise
        raise AssertionError("unreachable")

    def _signal_space(self, inv: Invocation) -> str | None:
        return self.signals.space(inv.signal) if self.signals is not None and inv.signal else None

    def _signal_mismatch(self, inv: Invocation, module: str | None) -> str:
        space = self._signal_space(inv)
        fits = sorted({n for n in self.registry.candidates(inv.task, inv.op)
                       if self.registry.spec(n).takes_signal(space)})
        who = f"{module} takes no signal embeddings" if module and self.registry.spec(module).embedding_space is None \
            else f"no installed expert for {inv.label} takes embeddings in {space or 'any space'}" if not module \
            else f"{module} takes {self.registry.spec(module).embedding_space}, not {space}"
        return f"signal {inv.signal}: {who}; {'use ' + ', '.join(fits) if fits else 'drop the signal to use the text'}"

    # -- regions ------------------------------------------------------------------------------
    def _resolve_region(self, inv: Invocation, kinds: tuple[str, ...]) -> Invocation:
        """Insert ground (and segment, when a mask is wanted) for a target named only in words; a singular
        phrase grounds one object, a plural one every instance."""
        target = inv.command.strip()
        if not task_spec(inv.task).names_target or inv.task == "ground" or not target:
            raise MissingRegionError(f"{inv.label} needs a region ({', '.join(kinds)}); draw a box or name the target")
        try:
            self.registry.best_for("ground", None, "image", target)
        except UnavailableError as exc:
            raise MissingRegionError(
                f"cannot locate {show(target)} without a region: {exc}. Draw a box around it instead"
            ) from None
        ground = Invocation(id=self.new_id(), task="ground", command=target, inputs=inv.inputs,
                            args={"instances": instances_of(target)})
        self._insert(ground)
        if "box" in kinds and not task_spec(inv.task).is_edit:
            return inv.model_copy(update={"region": Region(ref=ground.id)})
        return self._segment_first(inv, Region(ref=ground.id))

    def _segment_first(self, inv: Invocation, region: Region) -> Invocation:
        """Insert a segmentation of ``region`` and point ``inv`` at its mask, on the same frame.

        A video edit needs masks on every frame (``track``); tracking itself starts from one frame's mask,
        the frame the region was drawn on.
        """
        task = "track" if inv.task == "edit_video" else "segment"
        segment = Invocation(id=self.new_id(), task=task, command=inv.command, inputs=inv.inputs, region=region)
        self._insert(segment)
        return inv.model_copy(update={"region": Region(ref=segment.id, frames=region.frames)})

    def _region_kind(self, region: Region) -> str | None:
        return self._ref_kind(region.ref) if region.ref else region.kind

    def _insert(self, inv: Invocation) -> None:
        before = len(self.plan.problems)
        self.add(inv)
        if len(self.plan.problems) > before:
            added = self.plan.problems[before:]
            if any(p.missing_region for p in added):
                raise MissingRegionError(added[0].message)
            raise UnavailableError(f"the inserted step {inv.id} ({inv.label} {show(inv.command)}) cannot run: "
                                   f"{added[0].message}")
        self.plan.inserted.append(inv.id)

    def _check_region(self, inv: Invocation, frame: _Frame, kinds: tuple[str, ...]) -> None:
        region = inv.region
        if region is None:
            return
        if region.ref:
            kind = self._region_kind(region)
            if kind not in kinds:
                raise RegionError(f"region {region.ref} is a {kind}; {inv.label} here accepts {', '.join(kinds) or 'no region'}")
            if region.frames is not None and frame.kind is not None:
                check_region_bounds(Region(ref=region.ref, frames=region.frames), frame.width, frame.height,
                                    frame.frames, inv.inputs[0])
            return
        if region.kind not in kinds:
            raise RegionError(f"{inv.label} with this expert accepts regions: {', '.join(kinds) or 'none'}, not {region.kind}")
        if frame.kind is not None:
            check_region_bounds(region, frame.width, frame.height, frame.frames, inv.inputs[0])

    def _ref_kind(self, ref: str) -> str | None:
        if is_invocation_id(ref):
            earlier = next((i for i in self.plan.invocations if i.id == ref), None)
            kind = task_spec(earlier.task).region_output if earlier is not None else None
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


def default_input(inv: Invocation, media: dict[str, MediaRef], new_media: list[str] | None = None,
                  planned: list[Invocation] | None = None) -> str | None:
    """The medium an invocation without inputs acts on: for a region that refers to an earlier output, the
    latest version of the medium it lies on; else the newest fitting medium, this turn's first (``new_media``).
    ``planned``: the invocations validated before it in its plan (a region may name one, ``c1``)."""
    region = inv.region
    if region is not None and region.ref:
        if is_invocation_id(region.ref):
            earlier = next((i for i in planned or [] if i.id == region.ref), None)
            return earlier.inputs[0] if earlier is not None and earlier.inputs else None
        ref = media.get(region.ref)
        if ref is not None and ref.parents:
            return latest_version(media, ref.parents[0])
    spec = task_spec(inv.task)
    kinds = [spec.input_kind, *(["video"] if spec.keyframe else [])]  # image tasks also run on a video's frame
    for kind in kinds:
        found = next((m for m in reversed(new_media or []) if media[m].kind == kind), None)
        if found is not None:
            return found
    for kind in kinds:
        found = next((r.id for r in reversed(list(media.values())) if r.kind == kind and not r.preview), None)
        if found is not None:
            return found
    return None
