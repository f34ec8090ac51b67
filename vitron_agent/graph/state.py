"""Graph state: small, JSON-safe data only, so any checkpointer can save it.

Pixels and tensors live in the media and signal stores; state holds their ids. Each structured field
has one typed owner that reads it from state and writes it back as JSON: ``TurnRequest`` (this turn's
input), ``PlanRecord`` (the current planning round), ``TurnBudget`` (per-turn counters), ``Call`` (in
``calls.py``) and ``MediaRef`` (in ``stores.media``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Annotated, Any, ClassVar

from langchain_core.messages import AnyMessage, RemoveMessage
from langgraph.channels import DeltaChannel
from langgraph.graph.message import add_messages
from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from ..protocol.invocation import Invocation, Region
from ..stores.media import MediaRef

__all__ = ["AgentState", "TurnInput", "TurnOutput", "RunExpertInput", "merge_by_key", "TurnRequest", "PlanRecord",
           "TurnBudget", "SNAPSHOT_EVERY", "changes"]


def merge_by_key(old: dict[str, dict] | None, new: dict[str, dict] | None) -> dict[str, dict]:
    """Keyed records, each replaced whole by a newer one; parallel ``run_expert`` branches each write their own."""
    return _merge_all(old, [new])


def _merge_all(old: dict[str, dict] | None, writes: Sequence[dict[str, dict] | None]) -> dict[str, dict]:
    """``merge_by_key`` over a batch of writes, in one copy (a replay of a long thread passes hundreds)."""
    merged = dict(old or {})
    for new in writes:
        merged.update(new or {})
    return merged


def _add_all(old: list[AnyMessage], writes: Sequence[Any]) -> list[AnyMessage]:
    """``add_messages`` over a batch of writes: in one merge (one pass, not one per write) unless a write
    removes messages, where the order of the writes matters."""
    batch = [m for write in writes for m in (write if isinstance(write, list) else [write])]
    if any(isinstance(m, RemoveMessage) for m in batch):
        return reduce(add_messages, writes, old or [])
    return add_messages(old or [], batch)


SNAPSHOT_EVERY = 100
"""Updates of a growing field between full copies of it in a checkpoint (a turn makes three or four).

The thread's growing fields (messages, media records, calls) are LangGraph ``DeltaChannel``s (beta in
LangGraph 1.2): a checkpoint keeps only what each step wrote, not the whole field, so the bytes a turn adds
stay the same however long the thread is; reading a thread replays the writes since the last full copy."""

Messages = Annotated[list[AnyMessage], DeltaChannel(_add_all, snapshot_frequency=SNAPSHOT_EVERY)]
Records = Annotated[dict[str, dict[str, Any]], DeltaChannel(_merge_all, snapshot_frequency=SNAPSHOT_EVERY)]


GROWING = ("messages", "media", "calls")
"""The fields a write adds to (``DeltaChannel``s); every other field is replaced by what is written."""


def changes(state: Mapping[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` less the writes that change nothing: a field set to the value it already has, nothing added to
    a growing field. Each write costs a checkpoint row and a new channel version even when the value is the same,
    and a turn's steps mostly reset fields that are already reset."""
    return {key: value for key, value in update.items()
            if not (value in ({}, []) if key in GROWING else key in state and state[key] == value)}


class _StateModel(BaseModel):
    """A typed view of one state field: ``read`` from state, ``dump`` back to JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    field_name: ClassVar[str] = ""

    @classmethod
    def read(cls, state: Mapping[str, Any]) -> Any:
        return cls.model_validate(state.get(cls.field_name) or {})

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class TurnRequest(_StateModel):
    """This turn's input, as the caller gave it and as ``ingest`` completed it.

    ``new_media``: files validated into the media store (their ids are given by ``ingest``: ``u<n>``).
    ``region``: what the user drew (pixels); ``region_on``: the medium it is on, an index into ``new_media``
    or the id of an earlier medium; ``region_mask``: a mask the user gave as the region (stored, id pending).
    ``invocations``: explicit invocations (or VITRON tag text) that replace the planner on the first round.
    ``dry_run``: validate the plan and stop (``VitronAgent.plan``); nothing runs.
    Set by ``ingest``: ``new_ids`` (ids of ``new_media``) and ``region_media`` (the id ``region`` is on).
    """

    field_name: ClassVar[str] = "turn_input"
    text: str = ""
    new_media: list[MediaRef] = Field(default_factory=list)
    region: Region | None = None
    region_on: int | str | None = None
    region_mask: MediaRef | None = None
    invocations: list[Invocation] | str | None = None
    dry_run: bool = False
    new_ids: list[str] = Field(default_factory=list)
    region_media: str | None = None

    @classmethod
    def is_dry_run(cls, state: Mapping[str, Any]) -> bool:
        """Whether the turn in ``state`` is a dry run, without reading the whole request (routing asks after
        every step)."""
        return bool((state.get(cls.field_name) or {}).get("dry_run"))


class PlanRecord(_StateModel):
    """The current planning round: the planner's reply and invocations (before validation), whether it wants
    to see the results (``needs_followup``), which planner wrote it, and whether planning failed."""

    field_name: ClassVar[str] = "plan"
    reply: str = ""
    invocations: list[Invocation] = Field(default_factory=list)
    needs_followup: bool = False
    planner: str = ""
    failed: bool = False


class TurnBudget(_StateModel):
    """Per-turn counters checked against ``AgentConfig``: expert calls run, plans sent back for revision
    (``retries``), extra planning rounds to read results (``followups``)."""

    field_name: ClassVar[str] = "budget"
    expert_calls: int = 0
    retries: int = 0
    followups: int = 0


class AgentState(TypedDict, total=False):
    """State of one thread.

    ``media``: media id -> ``MediaRef`` JSON (user media ``u*``, outputs ``o*``).
    ``calls``: call key -> ``Call`` JSON; the thread's whole invocation log.
    ``turn_input``: ``TurnRequest``; ``plan``: ``PlanRecord``; ``budget``: ``TurnBudget``.
    ``turn``/``round``: counters (``round``: planning rounds of this turn, from 0).
    ``feedback``: validator or parser complaints the planner revises its plan for (only when a retry is left).
    ``errors``: this turn's errors that belong to no call, ``CallError`` JSON.
    ``next_output``: the number of the next output id (``o<n>``).
    """

    messages: Messages
    media: Records
    calls: Records
    turn_input: dict[str, Any]
    turn: int
    round: int
    plan: dict[str, Any]
    feedback: list[str]
    errors: list[dict[str, str]]
    budget: dict[str, int]
    next_output: int


class TurnInput(TypedDict, total=False):
    """What a run takes: LangChain messages (the last one, a ``HumanMessage`` with text and image or video
    blocks, is the request; its ``additional_kwargs["region"]`` a box or points in pixels of its first medium),
    or ``turn_input``, a ``TurnRequest`` as ``VitronAgent`` builds it."""

    messages: Messages
    turn_input: dict[str, Any]


class TurnOutput(TypedDict, total=False):
    """What a run returns: the conversation, the reply last (its ``additional_kwargs["artifacts"]``: the files
    the turn made)."""

    messages: Messages


class RunExpertInput(TypedDict):
    """What one ``Send`` carries to ``run_expert``: the call, the media it may read, and the primary outputs of
    the calls it refers to (``c1`` -> ``o3``)."""

    call: dict[str, Any]
    media: dict[str, dict[str, Any]]
    outputs_of: dict[str, str]
