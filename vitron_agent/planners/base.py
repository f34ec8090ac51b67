"""The planner protocol: conversation and media ids in, reply and invocations out.

Planners never see file paths: media are ids with sizes (``u0``: 512x512 image).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from langchain_core.messages import AnyMessage

from ..experts.base import ExpertSpec
from ..protocol.invocation import Invocation, Region

__all__ = ["MediaInfo", "CallInfo", "PlannerInput", "PlannerOutput", "Planner"]


@dataclass(frozen=True)
class MediaInfo:
    """A medium as planners see it: id, kind and size, never a path."""

    id: str
    kind: str
    width: int
    height: int
    frames: int = 1
    source: str = "user"
    parents: tuple[str, ...] = ()

    def describe(self) -> str:
        size = f"{self.width}x{self.height}" + (f", {self.frames} frames" if self.kind in ("video", "mask_video") else "")
        origin = "from the user" if self.source == "user" else f"made by {self.source} from {', '.join(self.parents) or '-'}"
        return f"{self.id}: {self.kind} {size}, {origin}"


@dataclass(frozen=True)
class CallInfo:
    """An earlier expert call of this thread: what it did and what it produced."""

    turn: int
    id: str
    task: str
    command: str
    status: str
    output: str | None
    expert: str | None = None
    op: str | None = None


@dataclass
class PlannerInput:
    """Everything a planner may use for one planning round.

    ``region``/``region_media``: the region the user drew this turn and the medium it is on.
    ``history``: expert calls of this thread so far, oldest first (this turn's earlier rounds too).
    ``feedback``: why the validator rejected the previous attempt, for the planner to revise.
    ``round``: 0 for the first call of a turn; later rounds see tool results in ``messages``.
    ``pixels``: media id -> (H, W, 3) uint8 RGB image or (T, H, W, 3) video, for planners that look at
    media (VITRON, a seeing chat model); pixels, never paths. None when the caller offers none.
    ``previews``: the overlays and drawings made for people (never a target), which a seeing planner is shown.
    ``on_token``: for planners that write their reply token by token (a streaming chat model, the VITRON
    LLM): called with each new piece of reply text as it is produced, in order; the pieces of one call
    join to the reply it returns. None: nobody listens. Planners that do not stream never call it.
    """

    text: str
    messages: list[AnyMessage]
    media: list[MediaInfo]
    new_media: list[str] = field(default_factory=list)
    region: Region | None = None
    region_media: str | None = None
    history: list[CallInfo] = field(default_factory=list)
    catalogue: dict[str, ExpertSpec] = field(default_factory=dict)
    feedback: list[str] = field(default_factory=list)
    round: int = 0
    pixels: Callable[[str], Any] | None = None
    on_token: Callable[[str], None] | None = None
    previews: list[MediaInfo] = field(default_factory=list)

    def medium(self, media_id: str) -> MediaInfo | None:
        return next((m for m in self.media if m.id == media_id), None)


@dataclass
class PlannerOutput:
    """A reply and the invocations to run.

    ``needs_followup``: call the planner again with the results (answer after tool).
    ``signals``: invocation id -> signal embeddings (array or tensor) in the expert's conditioning space,
    stored by the graph; or a dict with those under ``features`` plus named parts kept beside them
    (e.g. the task-specific and task-invariant features).
    """

    reply: str = ""
    invocations: list[Invocation] = field(default_factory=list)
    needs_followup: bool = False
    signals: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Planner(Protocol):
    """``name`` for traces; ``can_revise``: whether validator feedback is worth a retry."""

    name: str
    can_revise: bool

    def plan(self, inp: PlannerInput) -> PlannerOutput: ...
