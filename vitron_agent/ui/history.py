"""A thread's checkpointed state as chat messages, so a reloaded page shows the same conversation.

No Gradio here: messages are Gradio's ``{"role", "content", "metadata"?}`` dicts; files are
``{"path", "alt_text"}``, with ``path`` given by ``publish`` (a copy in a folder the web server may serve).
Turn ``n`` (1-based) is the ``n``-th human message, its AI messages, and the call records with ``turn == n``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..graph import calls as call_model
from ..graph.calls import Call, calls_of_turn, read_media
from ..stores.media import MediaRef

__all__ = ["render_thread", "render_turn", "latest_medium", "progress_message", "live_messages", "interrupt_message",
           "note"]

Publish = Callable[[str], str]
_SHOWN_KINDS = ("image", "video")


def render_thread(agent: Any, thread: str, publish: Publish) -> list[dict[str, Any]]:
    """Every turn of ``thread``, user side included, and the pending human-in-the-loop question if any."""
    state = agent.state(thread)
    turns = sum(1 for m in state.get("messages", []) if m.type == "human")
    messages: list[dict[str, Any]] = []
    for turn in range(1, turns + 1):
        messages += render_turn(agent, thread, publish, turn, state=state, user=True)
    return messages


def render_turn(agent: Any, thread: str, publish: Publish, turn: int | None = None, *,
                state: dict[str, Any] | None = None, user: bool = False) -> list[dict[str, Any]]:
    """One turn (default: the latest): its trace, reply and media, and, if it is paused, the question."""
    state = state if state is not None else agent.state(thread)
    turn = turn if turn is not None else state.get("turn", 0)
    human, replies = _turn_messages(state.get("messages", []), turn)
    if human is None:
        return []
    store, _ = agent.context.stores(thread)
    media = state.get("media", {})

    def file(media_id: str, alt: str) -> dict[str, Any]:
        return {"path": publish(str(store.path(MediaRef(**media[media_id])))), "alt_text": alt}

    out: list[dict[str, Any]] = []
    if user:
        out.append({"role": "user", "content": human.content})
        out += [{"role": "user", "content": file(m, f"{m}: your {media[m]['kind']}")}
                for m in human.additional_kwargs.get("media", []) if m in media]
    records = list(calls_of_turn(state, turn).values())
    if records:
        out.append(_trace_message(records))
    final = next((m for m in reversed(replies) if not getattr(m, "tool_calls", None)), None)
    if final is not None and str(final.content).strip():
        out.append({"role": "assistant", "content": str(final.content)})
    for record in records:
        for media_id in record.artifacts if record.status == "done" else ():
            ref = media.get(media_id)
            if ref is not None and ref["kind"] in _SHOWN_KINDS:
                out.append({"role": "assistant", "content": file(media_id, _alt(MediaRef(**ref)))})
    if turn == state.get("turn", 0):
        paused = agent.result(thread).interrupt
        if paused:
            out.append(interrupt_message(paused))
    return out


def latest_medium(agent: Any, thread: str | None, media_id: str | None = None) -> dict[str, Any] | None:
    """Canvas source for the thread's newest image or video that is not a preview (the medium a region
    goes on when a turn attaches none), or for ``media_id``; None if there is none."""
    if not thread:
        return None
    media = read_media(agent.state(thread))
    ref = media.get(media_id) if media_id is not None else call_model.latest_medium(media)
    if ref is None:
        return None
    store, _ = agent.context.stores(thread)
    return {"path": str(store.path(ref)), "kind": ref.kind, "frames": ref.frames, "label": ref.id}


def progress_message(events: list[dict[str, Any]], done: bool = False) -> dict[str, Any]:
    """The live "working" message of a turn, from the graph's ``custom`` stream events."""
    lines: dict[str, str] = {}
    for event in events:
        call = event.get("call", "")
        name = f"{call.rsplit('.', 1)[-1]} {event.get('expert', '')}".strip()
        if event.get("type") == "expert_start":
            lines[call] = f"{name} ({event.get('task', '')}): started"
        elif event.get("type") == "progress":
            lines[call] = f"{name}: {100 * float(event.get('fraction', 0)):.0f}% {event.get('message', '')}".rstrip()
        elif event.get("type") == "expert_end":
            outcome = "done" if event.get("ok") else "failed"
            lines[call] = f"{name}: {outcome} in {float(event.get('seconds', 0)):.2f} s"
    body = "\n".join(f"- {line}" for line in lines.values()) or "planning..."
    return {"role": "assistant", "content": body,
            "metadata": {"title": "Working" if not done else "Finished", "status": "done" if done else "pending"}}


def live_messages(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a running turn shows: the "working" message, then the reply of the latest planning round as the
    planner writes it (``token`` events; planners that do not stream send none)."""
    tokens = [e for e in events if e.get("type") == "token"]
    latest = [e for e in tokens if e.get("round") == tokens[-1].get("round")] if tokens else []
    reply = "".join(str(e.get("text", "")) for e in latest)
    return [progress_message(events)] + ([{"role": "assistant", "content": reply}] if reply.strip() else [])


def interrupt_message(interrupt: dict[str, Any]) -> dict[str, Any]:
    """The agent's human-in-the-loop question, in words the user can act on."""
    if interrupt.get("type") == "region":
        text = (f"I need a region for {interrupt.get('invocation', 'this step')}: "
                f"{interrupt.get('message', '')}\n\nClick two corners on the image at the right, then press Send.")
    elif interrupt.get("type") == "approve":
        steps = "\n".join(f"- {c['expert']}: {c['task']} {c.get('command', '')}".rstrip()
                          for c in interrupt.get("calls", []))
        text = f"These steps are costly or change your media:\n{steps}\n\nPress Approve to run them or Decline to skip them."
    else:
        text = f"The agent is waiting for an answer: {json.dumps(interrupt)}"
    return {"role": "assistant", "content": text, "metadata": {"title": "Your input is needed"}}


def note(text: str) -> dict[str, Any]:
    """A message from the UI itself (a refused upload, a bad region): shown, never saved in the thread."""
    return {"role": "assistant", "content": f"⚠️ {text}"}


def _turn_messages(messages: list[Any], turn: int) -> tuple[Any, list[Any]]:
    """The ``turn``-th human message and the AI messages after it, up to the next human message."""
    seen, human, replies = 0, None, []
    for message in messages:
        if message.type == "human":
            seen += 1
            if seen > turn:
                break
            if seen == turn:
                human = message
        elif seen == turn and message.type == "ai":
            replies.append(message)
    return human, replies


def _trace_message(records: list[Call]) -> dict[str, Any]:
    """The turn's invocations as a collapsed JSON block: what ran, on what, how it went."""
    rows = []
    for r in records:
        inv = r.invocation.model_dump(mode="json", exclude_none=True)
        row = {"id": r.id, "task": r.invocation.task, "expert": r.expert, "status": r.status}
        row.update({k: inv[k] for k in ("command", "inputs", "args", "depends_on", "region") if inv.get(k)})
        if r.inserted:
            row["inserted"] = True
        row.update({k: v for k, v in (("artifacts", list(r.artifacts)), ("seconds", r.seconds),
                                      ("summary", r.summary)) if v})
        if r.error is not None:
            row["error"] = r.error.message
        rows.append(row)
    steps = ", ".join(f"{row['id']} {row['task']} by {row['expert']} ({row['status']})" for row in rows)
    seconds = sum(float(r.seconds or 0) for r in records)
    return {"role": "assistant", "content": "```json\n" + json.dumps(rows, indent=1) + "\n```",
            "metadata": {"title": f"Trace: {steps}", "status": "done", "duration": round(seconds, 2)}}


def _alt(ref: MediaRef) -> str:
    if ref.preview:
        return f"{ref.id}: overlay on {', '.join(ref.parents) or 'the input'}"
    return f"{ref.id}: {ref.kind} by {ref.source}"
