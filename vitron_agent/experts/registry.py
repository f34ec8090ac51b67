"""The expert registry: an explicit dict of built-in experts plus the ``vitron_agent.experts`` entry points.

Entries are import strings so that listing experts imports none of their libraries.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from ..errors import UnavailableError
from ..protocol.tasks import TASK_TABLE
from ..protocol.text_regions import show
from .base import Availability, Expert, ExpertSpec

__all__ = ["BUILTIN_EXPERTS", "ExpertEntry", "ExpertRegistry", "ENTRY_POINT_GROUP"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "vitron_agent.experts"

BUILTIN_EXPERTS: dict[str, str] = {
    "sam": "vitron_agent.tools.sam:SamExpert",
    "sam2": "vitron_agent.tools.sam2:Sam2Expert",
    "sam2_video": "vitron_agent.tools.sam2:Sam2VideoExpert",
    "sam3": "vitron_agent.tools.sam3:Sam3Expert",
    "sam3_video": "vitron_agent.tools.sam3:Sam3VideoExpert",
    "grabcut": "vitron_agent.tools.grabcut:GrabCutExpert",
    "measure_answer": "vitron_agent.tools.measure_answer:MeasureAnswerExpert",
    "opencv_detect": "vitron_agent.tools.opencv_detect:OpenCVDetectExpert",
    "opencv_inpaint": "vitron_agent.tools.opencv_inpaint:OpenCVInpaintExpert",
    "opencv_recolor": "vitron_agent.tools.opencv_recolor:OpenCVRecolorExpert",
    "opencv_restyle": "vitron_agent.tools.opencv_restyle:OpenCVRestyleExpert",
    "pan_zoom": "vitron_agent.tools.pan_zoom:PanZoomExpert",
    "flow_track": "vitron_agent.tools.flow_track:FlowTrackExpert",
    "stable_diffusion": "vitron_agent.tools.stable_diffusion:StableDiffusionExpert",
    "sd_inpaint": "vitron_agent.tools.sd_inpaint:SDInpaintExpert",
    "text_to_video": "vitron_agent.tools.text_to_video:TextToVideoExpert",
    "frame_edit": "vitron_agent.tools.video_edit:FrameEditExpert",
    "video_inpaint": "vitron_agent.tools.video_diffusion_edit:DiffusionVideoEditExpert",
    "owlv2": "vitron_agent.tools.owlv2:Owlv2Expert",
    "grounding_dino": "vitron_agent.tools.grounding_dino:GroundingDinoExpert",
    "qwen_vl": "vitron_agent.tools.qwen_vl:QwenVLExpert",
    "gligen": "vitron_agent.tools.gligen:GligenExpert",
    "gligen_edit": "vitron_agent.tools.gligen:GligenEditExpert",
    "instruct_pix2pix": "vitron_agent.tools.instruct_pix2pix:InstructPix2PixExpert",
    "flux": "vitron_agent.tools.flux:FluxExpert",
    "flux_kontext": "vitron_agent.tools.flux:FluxKontextExpert",
    "flux_fill": "vitron_agent.tools.flux:FluxFillExpert",
    "image_to_video": "vitron_agent.tools.image_to_video:ImageToVideoExpert",
    "yolo": "vitron_agent.tools.yolo:YoloExpert",
    "yolo_track": "vitron_agent.tools.yolo:YoloTrackExpert",
    "wan_t2v": "vitron_agent.tools.wan:WanTextToVideoExpert",
    "wan_i2v": "vitron_agent.tools.wan:WanImageToVideoExpert",
    "wan_vace": "vitron_agent.tools.wan:WanVACEExpert",
}
"""Name -> ``module:Class`` of the experts that ship with the package."""


@dataclass
class ExpertEntry:
    """One registered expert: its class (or import string) and construction options."""

    target: str | type[Expert]
    options: dict[str, Any] = field(default_factory=dict)
    _cls: type[Expert] | None = None

    def expert_class(self) -> type[Expert]:
        if self._cls is None:
            if isinstance(self.target, str):
                module_name, _, attr = self.target.partition(":")
                self._cls = getattr(importlib.import_module(module_name), attr)
            else:
                self._cls = self.target
        return self._cls


class ExpertRegistry:
    """Name -> expert class, with lookups by task.

    ``registry.register(MyExpert, weights="/models/x")`` adds or overrides one expert;
    ``registry.best_for("segment")`` picks the highest-quality installed expert.
    """

    def __init__(self, entries: dict[str, ExpertEntry] | None = None) -> None:
        self._entries: dict[str, ExpertEntry] = dict(entries or {})
        self._availability: dict[str, Availability] = {}

    @classmethod
    def default(cls, *, entry_points_too: bool = True) -> ExpertRegistry:
        """Built-in experts, plus third-party ones declared under the entry-point group."""
        registry = cls({name: ExpertEntry(target) for name, target in BUILTIN_EXPERTS.items()})
        if entry_points_too:
            for point in entry_points(group=ENTRY_POINT_GROUP):
                registry._entries.setdefault(point.name, ExpertEntry(point.value))
        return registry

    def register(self, expert: type[Expert] | str, name: str | None = None, **options: Any) -> str:
        """Add an expert class (or ``module:Class`` string); returns its registry name."""
        entry = ExpertEntry(expert, options)
        name = name or entry.expert_class().spec.name
        self._entries[name] = entry
        self._availability.pop(name, None)
        return name

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def spec(self, name: str) -> ExpertSpec:
        return self._entry(name).expert_class().spec

    def specs(self) -> dict[str, ExpertSpec]:
        """Every expert whose class imports; a broken plug-in is logged and skipped."""
        out: dict[str, ExpertSpec] = {}
        for name in self.names():
            try:
                out[name] = self.spec(name)
            except Exception as exc:  # a third-party plug-in that fails to import
                log.warning("expert %s could not be imported: %s", name, exc)
        return out

    def create(self, name: str) -> Expert:
        """A new, unloaded instance (the pool owns loaded ones). Where the registration names no weights, the release
        ``vitron-agent weights pull`` chose (``weights_dir()/experts.json``) is used."""
        entry = self._entry(name)
        options = entry.options
        if "weights" not in options:
            from ..weights import chosen_weights

            chosen = chosen_weights().get(name)
            options = {**options, "weights": chosen} if chosen else options
        return entry.expert_class()(**options)

    def availability(self, name: str) -> Availability:
        """Cached check of extras and weights, without loading."""
        if name not in self._availability:
            try:
                self._availability[name] = self.create(name).availability()
            except Exception as exc:
                self._availability[name] = Availability(False, f"{name} failed to import: {exc}", "")
        return self._availability[name]

    def candidates(self, task: str, op: str | None = None, input_kind: str | None = None,
                   args: dict[str, Any] | None = None, region_kind: str | None = None) -> list[str]:
        """Names that declare ``task`` (and ``op``, ``input_kind``, read the routing ``args`` given and take a
        ``region_kind`` region as their prompt), best quality first."""
        found = [
            (spec.quality, name)
            for name, spec in self.specs().items()
            if spec.does(task, op) and (input_kind is None or input_kind in spec.input_kinds)
            and (args is None or spec.takes_args(task, args))
            and (region_kind is None or region_kind in spec.region_kinds)
        ]
        return [name for _, name in sorted(found, key=lambda qn: (-qn[0], qn[1]))]

    def best_for(
        self, task: str, op: str | None = None, input_kind: str | None = None, phrase: str | None = None,
        args: dict[str, Any] | None = None, region_kind: str | None = None,
    ) -> str:
        """The best installed expert for the task, or an ``UnavailableError`` saying what to install.

        ``args``: the invocation's args; an expert must read exactly the routing args among them (boxes to
        place phrases in go to a box-grounded generator, never to one that ignores them)."""
        names = self.candidates(task, op, input_kind, args, region_kind)
        label = f"{task}.{op}" if op and TASK_TABLE[task].is_edit else task
        routing = [a for a in TASK_TABLE[task].routing_args if (args or {}).get(a)]
        label += " with args." + " and args.".join(routing) if routing else ""
        where = f" on {input_kind} input" if input_kind else ""
        where += f" prompted by {'clicks' if region_kind == 'points' else 'a ' + region_kind}" if region_kind else ""
        if not names:
            other_kinds = self.candidates(task, op, None, args)
            if not other_kinds:
                raise UnavailableError(f"no expert for {label} is installed")
            raise UnavailableError(f"no expert for {label}{where} is installed (only for other inputs: {', '.join(other_kinds)})")
        reasons = []
        for name in names:
            spec, state = self.spec(name), self.availability(name)
            if not state.ok:
                reasons.append(f"{name}: {state.reason}; {state.fix}")
            elif phrase and not spec.knows(phrase):
                reasons.append(f"{name} only knows: {', '.join(spec.vocabulary or ())}")
            else:
                return name
        target = f" for {show(phrase)}" if phrase else ""
        raise UnavailableError(f"no installed expert can do {label}{target}{where} ({_first_reasons(reasons, names)})")

    def _entry(self, name: str) -> ExpertEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnavailableError(
                f"unknown module {name!r}; installed experts: {', '.join(self.names())}"
            ) from None

    def __iter__(self) -> Iterable[str]:  # pragma: no cover - convenience
        return iter(self.names())


def _first_reasons(reasons: list[str], names: list[str], shown: int = 2) -> str:
    """The best candidates' reasons in full, the others by name: one line, however many experts are registered."""
    rest = names[shown:]
    tail = f"; also not usable here: {', '.join(rest)} (vitron-agent experts says why)" if rest else ""
    return "; ".join(reasons[:shown]) + tail
