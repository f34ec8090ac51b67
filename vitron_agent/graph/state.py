"""Graph state: small, JSON-safe data only, so any checkpointer can save it.

Pixels and tensors live in the media and signal stores; state holds their ids.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AnyMessage, ToolMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

__all__ = ["AgentState", "RunExpertInput", "merge_records", "call_key", "close_unfinished", "STATUS_DONE", "STATUS_FINAL"]

STATUS_DONE = "done"
STATUS_FINAL = ("done", "error", "skipped")
"""Call statuses: planned -> queued -> done | error | skipped."""


def merge_records(old: dict[str, dict] | None, new: dict[str, dict] | None) -> dict[str, dict]:
    """Merge keyed records; a record present in both is updated field by field.

    Parallel ``run_expert`` branches each write their own keys, so nothing is lost.
    """
    merged = dict(old or {})
    for key, value in (new or {}).items():
        merged[key] = {**merged.get(key, {}), **value}
    return merged


def close_unfinished(calls: dict[str, dict] | None) -> tuple[dict[str, dict], list[ToolMessage]]:
    """Calls an earlier turn left unfinished, closed as errors, and the tool messages that answer them.

    A turn is left unfinished when its process stopped mid-turn (a crash, a kill) or when a turn paused
    for approval is abandoned for a new message. Its planned calls would otherwise stay pending forever
    and its tool calls unanswered, which chat-model APIs refuse as history.
    """
    closed: dict[str, dict] = {}
    answers: list[ToolMessage] = []
    for key, record in (calls or {}).items():
        if record.get("status") in STATUS_FINAL:
            continue
        message = ("not run: the turn was interrupted before this call finished (the process stopped, or the "
                   "turn was left for a new message); ask again to run it")
        closed[key] = {"status": "error", "error": {"category": "interrupted", "message": message}}
        answers.append(ToolMessage(content=f"Error: {message}", tool_call_id=record.get("tool_call_id", key),
                                   name=record.get("expert") or "expert", status="error"))
    return closed, answers


def call_key(turn: int, round_: int, invocation_id: str) -> str:
    """Thread-unique key of one call: turn, planning round, invocation id (``3.0.c1``)."""
    return f"{turn}.{round_}.{invocation_id}"


class AgentState(TypedDict, total=False):
    """State of one thread.

    ``media``: media id -> ``MediaRef`` dict (user media ``u*``, outputs ``o*``).
    ``calls``: call key -> record ``{turn, round, invocation, status, expert, output, artifacts,
    error, summary, tool_call_id}``; the thread's whole invocation log.
    ``turn_input``: this turn's request ``{text, new_media, region, region_media, invocations}``.
    ``turn``/``round``: counters; ``plan``: the current round's ``{reply, needs_followup}``.
    ``feedback``: validator or parser complaints for the planner's next attempt.
    ``errors``: this turn's errors that belong to no call, ``{category, message}``.
    ``budget``: this turn's ``{expert_calls, retries}``.
    ``next_output``: counter for output ids.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    media: Annotated[dict[str, dict[str, Any]], merge_records]
    calls: Annotated[dict[str, dict[str, Any]], merge_records]
    turn_input: dict[str, Any]
    turn: int
    round: int
    plan: dict[str, Any]
    feedback: list[str]
    errors: list[dict[str, str]]
    budget: dict[str, int]
    next_output: int


class RunExpertInput(TypedDict):
    """What one ``Send`` carries to ``run_expert``: the call and the media it may read."""

    key: str
    record: dict[str, Any]
    media: dict[str, dict[str, Any]]
    done: dict[str, dict[str, Any]]
