"""The call model: one typed record per expert call, its status transitions, output ids, references.

A ``Call`` is an invocation's whole life in a thread: planned by the validator, queued by the scheduler,
then done, skipped or failed. State keeps each call as its JSON dict (any checkpointer saves it);
code reads and writes them only through this module. Reference resolution also lives here: an
invocation id (``c1``) to the media its call made, a media id to its stored ``MediaRef``, and an
earlier mask (``o2``) to the latest version of the image it was drawn on, with the mask carried onto it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from langchain_core.messages import ToolMessage
from pydantic import BaseModel, ConfigDict

from ..errors import RegionError
from ..protocol.invocation import Invocation, is_invocation_id
from ..stores.media import MediaRef

__all__ = [
    "CallStatus",
    "FINAL_STATUSES",
    "CallError",
    "Call",
    "call_key",
    "output_id",
    "part_id",
    "read_calls",
    "calls_of_turn",
    "unfinished_calls",
    "close_unfinished",
    "read_media",
    "resolve_medium",
    "latest_version",
    "latest_medium",
    "carried_mask",
    "output_order",
]

CallStatus = Literal["planned", "queued", "done", "skipped", "failed"]
FINAL_STATUSES: tuple[CallStatus, ...] = ("done", "skipped", "failed")

_NEXT: dict[str, tuple[str, ...]] = {
    "planned": ("queued", "skipped", "failed"),
    "queued": ("done", "skipped", "failed"),
}
"""Allowed transitions; done, skipped and failed are final."""


class CallError(BaseModel):
    """Why a call did not succeed: ``category`` as in ``VitronError`` (``bad_input``, ``budget``...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    category: str
    message: str


def call_key(turn: int, round_: int, invocation_id: str) -> str:
    """Thread-unique key of one call: turn, planning round, invocation id (``3.0.c1``); also its tool-call id."""
    return f"{turn}.{round_}.{invocation_id}"


def output_id(number: int) -> str:
    """``o3``: the id reserved for the primary output of the thread's third call with outputs."""
    return f"o{number}"


def part_id(primary: str, part: int) -> str:
    """``o3`` itself for part 0, then ``o3.1``, ``o3.2``... for a call's other outputs."""
    return primary if part == 0 else f"{primary}.{part}"


class Call(BaseModel):
    """One expert call.

    ``key``: ``call_key(turn, round, invocation.id)``, also the tool-call id of its ``AIMessage``.
    ``expert``: the registry name that runs it (chosen by the validator).
    ``inserted``: the validator added it (a precondition), the planner did not ask for it.
    ``output``: the id reserved for its primary output; ``artifacts``: every media id it made.
    ``text``: the expert's own words (an answer, a count, a short report); ``summary``: that plus ids, for the log.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    turn: int
    round: int
    invocation: Invocation
    expert: str
    status: CallStatus = "planned"
    inserted: bool = False
    output: str | None = None
    artifacts: tuple[str, ...] = ()
    text: str = ""
    summary: str = ""
    error: CallError | None = None
    seconds: float | None = None

    @property
    def id(self) -> str:
        """The invocation id within its plan (``c1``)."""
        return self.invocation.id

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def to_state(self) -> dict[str, Any]:
        """The JSON dict kept in graph state."""
        return self.model_dump(mode="json")

    # -- transitions ---------------------------------------------------------------------------
    def _move(self, status: CallStatus, **fields: Any) -> Call:
        if status not in _NEXT.get(self.status, ()):
            raise RuntimeError(f"call {self.key} cannot go from {self.status} to {status}")
        return self.model_copy(update={"status": status, **fields})

    def queue(self) -> Call:
        return self._move("queued")

    def succeed(self, artifacts: Iterable[str], output: str | None, summary: str, seconds: float,
                text: str = "") -> Call:
        return self._move("done", artifacts=tuple(artifacts), output=output, summary=summary, text=text,
                          seconds=round(seconds, 4))

    def fail(self, category: str, message: str, seconds: float | None = None) -> Call:
        return self._move("failed", error=CallError(category=category, message=message), output=None,
                          seconds=None if seconds is None else round(seconds, 4))

    def skip(self, category: str, message: str) -> Call:
        return self._move("skipped", error=CallError(category=category, message=message), output=None)

    # -- views ---------------------------------------------------------------------------------
    def tool_call(self) -> dict[str, Any]:
        """The call as a tool call of the plan's ``AIMessage`` (what a chat model sees it asked for)."""
        args = self.invocation.model_dump(mode="json", exclude={"id", "module"}, exclude_defaults=True)
        return {"name": self.expert, "args": {**args, "task": self.invocation.task}, "id": self.key,
                "type": "tool_call"}

    def tool_message(self, content: str | None = None) -> ToolMessage:
        """The ``ToolMessage`` answering this call's tool call: its summary, or its error."""
        if self.status == "done":
            return ToolMessage(content=content or self.summary, tool_call_id=self.key, name=self.expert,
                               status="success", artifact=list(self.artifacts))
        text = self.error.message if self.error else "not run"
        return ToolMessage(content=f"Error: {content or text}", tool_call_id=self.key, name=self.expert,
                           status="error")


def read_calls(state: Mapping[str, Any]) -> dict[str, Call]:
    """Every call of a thread, by key, from graph state."""
    return {key: Call.model_validate(value) for key, value in (state.get("calls") or {}).items()}


def calls_of_turn(state: Mapping[str, Any], turn: int, round_: int | None = None) -> dict[str, Call]:
    """The calls of one turn (and one planning round of it), by key, in plan order."""
    return {key: Call.model_validate(value) for key, value in (state.get("calls") or {}).items()
            if value["turn"] == turn and (round_ is None or value["round"] == round_)}


def unfinished_calls(state: Mapping[str, Any]) -> dict[str, Call]:
    """The calls of a thread that are not final yet (none, after a turn that finished), by key; the others are
    not read, so a long thread costs no more to check than a short one."""
    return {key: Call.model_validate(value) for key, value in (state.get("calls") or {}).items()
            if value["status"] not in FINAL_STATUSES}


def close_unfinished(calls: Mapping[str, Call]) -> tuple[dict[str, Call], list[ToolMessage]]:
    """Calls an earlier turn left unfinished, failed as ``interrupted``, and the tool messages answering them.

    A turn is left unfinished when its process stopped mid-turn (a crash, a kill) or when a turn paused
    for approval is abandoned for a new message. Its planned calls would otherwise stay pending forever
    and its tool calls unanswered, which chat-model APIs refuse as history.
    """
    message = ("not run: the turn was interrupted before this call finished (the process stopped, or the "
               "turn was left for a new message); ask again to run it")
    closed = {key: call.fail("interrupted", message) for key, call in calls.items() if not call.final}
    return closed, [call.tool_message() for call in closed.values()]


# -- media references ----------------------------------------------------------------------------
def read_media(state: Mapping[str, Any], ids: Iterable[str] | None = None) -> dict[str, MediaRef]:
    """Every medium of a thread, by id, from graph state; with ``ids``, only those of them it has (a turn's
    outputs, without reading the whole thread's)."""
    media = state.get("media") or {}
    if ids is None:
        return {key: MediaRef.model_validate(value) for key, value in media.items()}
    return {key: MediaRef.model_validate(media[key]) for key in ids if key in media}


def resolve_medium(ref: str, media: Mapping[str, MediaRef], outputs_of: Mapping[str, str]) -> MediaRef:
    """A media id (``u0``, ``o3``) or an invocation id of this plan (``c1``: its primary output) to its medium.

    ``outputs_of``: invocation id -> primary output id of the calls that finished.
    """
    media_id = ref
    if is_invocation_id(ref):
        if ref not in outputs_of:
            raise RegionError(f"{ref} produced no output to use")
        media_id = outputs_of[ref]
    try:
        return media[media_id]
    except KeyError:
        raise RegionError(f"{media_id} is not in this thread's media") from None


def output_order(media_id: str) -> tuple[int, ...]:
    """Sort key: user media first, then outputs by number (``o3`` < ``o3.1`` < ``o12``)."""
    head, _, part = media_id[1:].partition(".")
    return (0 if media_id.startswith("u") else 1, int(head), int(part or 0))


def latest_medium(media: Mapping[str, MediaRef]) -> MediaRef | None:
    """The thread's newest image or video that is not a preview: where a region goes when a turn attaches none."""
    return next((ref for ref in reversed(list(media.values())) if ref.kind in ("image", "video") and not ref.preview),
                None)


def latest_version(media: Mapping[str, MediaRef], image_id: str) -> str:
    """The newest edit of ``image_id`` (an edit of an edit ... of it), or ``image_id`` when it was never
    edited. Follow-up edits act on this version, so edits stack instead of starting over."""
    versions: dict[str, list[str]] = {}
    for ref in media.values():
        if ref.version_of is not None and not ref.preview:
            versions.setdefault(ref.version_of, []).append(ref.id)
    current, seen = image_id, {image_id}
    while versions.get(current):
        newest = max(versions[current], key=output_order)
        if newest in seen:
            break
        current = newest
        seen.add(current)
    return current


def carried_mask(media: Mapping[str, MediaRef], mask_id: str, image_id: str) -> str | None:
    """The mask ``mask_id`` as carried onto ``image_id`` by the edits since (moved with the object), or
    ``mask_id`` itself when it was drawn on ``image_id``; None when no carried copy lies on that image."""
    if mask_id in media and image_id in media[mask_id].parents[:1]:
        return mask_id
    frontier, seen = [mask_id], {mask_id}
    while frontier:
        current = frontier.pop()
        for ref in media.values():
            if ref.carried_from == current and ref.id not in seen:
                if ref.parents[:1] == (image_id,):
                    return ref.id
                seen.add(ref.id)
                frontier.append(ref.id)
    return None
