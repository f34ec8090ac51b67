"""Invocation dialogues as data: media, user requests, replies and the invocations that answer them.

A ``Dialogue`` is what a planner sees and what it should produce, turn by turn, before any rendering:
``planner_view`` renders it into the VITRON prompt text (through ``model.dialogue`` and the protocol's
``render``), and a learned planner can read the structured ``Exchange`` fields directly. Regions are
snapped to the text form's precision, so ``parse(render(x)) == x`` holds exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vitron_agent.model.tokens import signal_mark
from vitron_agent.planners.base import MediaInfo
from vitron_agent.protocol.invocation import AUTO_MODULE, MODULE_LETTERS, Invocation, Region, is_media_id
from vitron_agent.protocol.text_form import region_from_text, region_to_text

from .vocab import EXPERT_FOR, OUTPUT_KIND

__all__ = ["Box", "Medium", "SceneObject", "Scene", "Exchange", "Dialogue", "DialogueBuilder", "snap", "region_form"]

Box = tuple[float, float, float, float]
"""``(x1, y1, x2, y2)`` pixels of the medium, top-left origin."""


@dataclass(frozen=True)
class Medium(MediaInfo):
    """A medium as the planner sees it (``MediaInfo``: a user's ``u0`` or an expert's output ``o1``),
    plus where a user medium's pixels are: ``path``, an image file or a folder of video frames."""

    path: str | None = None

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)


@dataclass(frozen=True)
class SceneObject:
    """An object in a scene: a referring phrase and its box, on videos per annotated frame."""

    name: str
    box: Box | None = None
    boxes: tuple[tuple[int, Box], ...] = ()
    """Video only: (frame, box) pairs, frames 0-based."""


@dataclass(frozen=True)
class Scene:
    """A user medium with the objects known in it (none: the generator invents plausible ones)."""

    medium: Medium
    objects: tuple[SceneObject, ...] = ()


@dataclass
class Exchange:
    """One user request and the assistant's answer. ``media``: ids attached with this request;
    ``region``: what the user drew (pixels of ``region_media``); ``results``: the tool summaries the
    planner sees before the next request."""

    user: str
    media: tuple[str, ...] = ()
    region: Region | None = None
    region_media: str | None = None
    reply: str = ""
    invocations: list[Invocation] = field(default_factory=list)
    results: list[str] = field(default_factory=list)


@dataclass
class Dialogue:
    """Media (user and outputs, in order of appearance) and exchanges; ``tags`` name what it covers
    (``task:segment``, ``op:remove``, ``region:points``, ``multi_turn``, ``no_tool``...)."""

    media: dict[str, Medium]
    exchanges: list[Exchange]
    recipe: str = ""
    tags: frozenset[str] = frozenset()

    def sizes(self) -> dict[str, tuple[int, int]]:
        return {m.id: m.size for m in self.media.values()}

    def media_before(self, n: int) -> list[Medium]:
        """Media that exist when request ``n`` (0-based) is made: user media up to it, outputs before it."""
        attached = {i for ex in self.exchanges[: n + 1] for i in ex.media}
        made = {f"o{k}" for k in range(1, 1 + sum(1 for ex in self.exchanges[:n] for _ in _outputs(ex)))}
        return [m for m in self.media.values() if m.id in attached or m.id in made]


def _outputs(exchange: Exchange) -> list[str]:
    return [inv.id for inv in exchange.invocations if inv.task in OUTPUT_KIND]


def snap(region: Region, size: tuple[int, int] | None) -> Region:
    """``region`` as the text form writes and reads it (three decimals of the medium), so rendering
    and parsing give it back exactly."""
    if region.ref is not None:
        return region
    return region_from_text(region_to_text(region, size), size)


def region_form(region: Region | None) -> str:
    """``box``, ``points``, ``ref`` or ``none``: the coverage label of an invocation's region."""
    return "none" if region is None else region.kind


class DialogueBuilder:
    """Builds one dialogue turn by turn: attach media, ask, answer; ids, signal marks and outputs follow
    the graph's conventions (``c1``... per reply, ``o1``... per thread, ``sp1``... per signal run)."""

    def __init__(self, recipe: str, signal_modules: Sequence[str] = ()) -> None:
        self.recipe, self.signal_modules = recipe, frozenset(signal_modules)
        self.media: dict[str, Medium] = {}
        self.exchanges: list[Exchange] = []
        self.tags: set[str] = set()
        self._outputs = 0

    def attach(self, medium: Medium) -> str:
        """Add a user medium; returns its id (``u0``, ``u1``...)."""
        media_id = f"u{sum(1 for m in self.media if m.startswith('u'))}"
        self.media[media_id] = Medium(media_id, medium.kind, medium.width, medium.height, medium.frames,
                                      path=medium.path)
        return media_id

    def ask(self, text: str, media: Sequence[str] = (), region: Region | None = None,
            region_media: str | None = None) -> None:
        if region is not None:
            region = snap(region, self.media[region_media].size if region_media else None)
        self.exchanges.append(Exchange(text, tuple(media), region, region_media))

    def answer(self, reply: str, *invocations: Invocation) -> list[str | None]:
        """Finish the current exchange; returns each invocation's output id (None for ``answer``)."""
        exchange = self.exchanges[-1]
        runs, outputs, done = 0, [], []
        for n, inv in enumerate(invocations, 1):
            update: dict[str, object] = {"id": f"c{n}"}
            if inv.module in self.signal_modules:
                runs += 1
                update["signal"] = signal_mark(runs)
            if inv.region is not None:
                update["region"] = snap(inv.region, self._drawn_on(inv))
            inv = inv.model_copy(update=update)
            done.append(inv)
            outputs.append(self._record(exchange, inv))
            self._tag(inv)
        exchange.reply, exchange.invocations = reply, done
        if not done:
            self.tags.add("no_tool")
        return outputs

    def build(self, *tags: str) -> Dialogue:
        return Dialogue(dict(self.media), self.exchanges, self.recipe, frozenset(self.tags | set(tags)))

    def _drawn_on(self, inv: Invocation) -> tuple[int, int] | None:
        if inv.region is None or inv.region.ref is not None:
            return None
        if not inv.inputs or not is_media_id(inv.inputs[0]):
            raise ValueError(f"{self.recipe}: a box or points region needs its medium as the first input")
        return self.media[inv.inputs[0]].size

    def _record(self, exchange: Exchange, inv: Invocation) -> str | None:
        kind = OUTPUT_KIND.get(inv.task)
        expert = inv.module if inv.module not in (AUTO_MODULE, *MODULE_LETTERS) else EXPERT_FOR[inv.task]
        if kind is None:
            exchange.results.append(f"{inv.id} {inv.label} by {expert}; answered")
            return None
        self._outputs += 1
        out = f"o{self._outputs}"
        parents = tuple(i for i in inv.inputs if is_media_id(i))
        source = next((self.media[p] for p in parents if p in self.media), None)
        width, height = source.size if source else (512, 512)
        frames = source.frames if source and kind in ("video", "mask_video") else (16 if kind == "video" else 1)
        self.media[out] = Medium(out, kind, width, height, frames, source=expert, parents=parents)
        exchange.results.append(f"{inv.id} {inv.label} by {expert}; outputs: {out} ({kind})")
        return out

    def _tag(self, inv: Invocation) -> None:
        self.tags.update({f"task:{inv.task}", f"region:{region_form(inv.region)}"})
        if inv.op:
            self.tags.add(f"op:{inv.op}")
        if inv.signal is not None:
            self.tags.add("signal")
        ref = inv.region.ref if inv.region is not None else None
        if ref is not None:
            self.tags.add("ref:output" if ref.startswith("o") else "ref:call")
        earlier = (ref or "").startswith("o") or any(i.startswith("o") for i in inv.inputs)
        if len(self.exchanges) > 1 and earlier:
            self.tags.add("multi_turn")
