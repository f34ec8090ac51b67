"""The nodes at the edges of a turn: ingest the request, call the planner, write the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime

from ..errors import BadInputError, VitronError
from ..planners.base import CallInfo, MediaInfo, PlannerInput, PlannerOutput
from ..protocol.invocation import Invocation, Region
from ..stores.media import MediaRef
from .context import AgentContext
from .state import AgentState, close_unfinished

__all__ = ["ingest", "plan", "respond", "thread_of", "media_infos"]


def thread_of(config: RunnableConfig) -> str:
    """The thread id of this run (the agent always sets one)."""
    return str(config.get("configurable", {}).get("thread_id", "default"))


def media_infos(media: dict[str, dict[str, Any]]) -> list[MediaInfo]:
    """Media as planners see them: ids, kinds and sizes; previews left out."""
    return [
        MediaInfo(m["id"], m["kind"], m["width"], m["height"], m.get("frames", 1), m.get("source", "user"),
                  tuple(m.get("parents", ())))
        for m in media.values()
        if not m.get("data", {}).get("preview")
    ]


def ingest(state: AgentState) -> dict[str, Any]:
    """Give this turn's media their ids, record the human message, reset per-turn counters."""
    request = state["turn_input"]
    media = state.get("media", {})
    n_user = sum(1 for key in media if key.startswith("u"))
    new_media: dict[str, dict[str, Any]] = {}
    for ref in request.get("new_media", []):
        media_id = f"u{n_user + len(new_media)}"
        new_media[media_id] = {**ref, "id": media_id}
    ids = list(new_media)
    region_on = request.get("region_on")
    region_media = ids[region_on] if isinstance(region_on, int) else region_on
    notes = [f"[{i}: {m['kind']} {m['width']}x{m['height']}]" for i, m in new_media.items()]
    if request.get("region"):
        notes.append(f"[region on {region_media}: {_describe_region(request['region'])}]")
    text = request.get("text", "")
    content = text + ("\n" + " ".join(notes) if notes else "")
    human = HumanMessage(content=content, additional_kwargs={"media": ids, "region": request.get("region"),
                                                             "region_media": region_media})
    turn = state.get("turn", 0) + 1
    closed, answers = close_unfinished(state.get("calls"))  # a turn cut short before this one
    return {
        "messages": [*answers, human],
        **({"calls": closed} if closed else {}),
        "media": new_media,
        "turn": turn,
        "round": 0,
        "plan": {},
        "feedback": [],
        "errors": [],
        "budget": {"expert_calls": 0, "retries": 0},
        "turn_input": {**request, "new_ids": ids, "region_media": region_media},
    }


def _describe_region(region: dict[str, Any]) -> str:
    r = Region(**region)
    if r.box is not None:
        return "box " + ", ".join(f"{c:g}" for c in r.box) + " px"
    if r.points is not None:
        return f"{len(r.points)} point(s)"
    return f"ref {r.ref}"


def plan(state: AgentState, config: RunnableConfig, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """One planner call (or the caller's explicit invocations on the first round). A planner that streams
    sends its reply as ``{"type": "token", "text", "round"}`` events on the ``custom`` stream."""
    ctx = runtime.context
    request = state["turn_input"]
    round_ = state.get("round", 0)
    explicit = request.get("invocations")
    planner_name = "explicit" if explicit is not None and round_ == 0 else ctx.planner.name
    try:
        if planner_name == "explicit":
            output = _explicit_plan(explicit, state)
        else:
            output = ctx.planner.plan(_planner_input(state, ctx, thread_of(config), _token_writer(round_)))
    except BadInputError as exc:
        return {"plan": {"failed": True, "final": planner_name == "explicit", "planner": planner_name},
                "feedback": [str(exc)]}
    except Exception as exc:  # a planner bug must not lose the conversation
        category = exc.category if isinstance(exc, VitronError) else "internal"
        error = {"category": category, "message": f"planner {planner_name} failed: {type(exc).__name__}: {exc}"}
        return {"plan": {"failed": True, "final": True, "planner": planner_name}, "errors": [*state.get("errors", []), error]}
    invocations = _store_signals(output, ctx, thread_of(config))
    return {
        "plan": {
            "reply": output.reply,
            "invocations": [inv.model_dump(mode="json") for inv in invocations],
            "needs_followup": output.needs_followup,
            "planner": planner_name,
        },
        "feedback": [],
    }


def _explicit_plan(explicit: list[dict[str, Any]] | str, state: AgentState) -> PlannerOutput:
    """The caller's invocations: JSON dicts, or VITRON's tag text (regions normalised to the medium)."""
    if not isinstance(explicit, str):
        return PlannerOutput(invocations=[Invocation(**d) for d in explicit])
    from ..protocol.text_form import parse

    media = [m for m in media_infos(state.get("media", {})) if m.kind in ("image", "video")]
    new_ids = state["turn_input"].get("new_ids", [])
    default = new_ids[-1] if new_ids else (media[-1].id if media else None)
    parsed = parse(explicit, {m.id: (m.width, m.height) for m in media}, default_input=default)
    return PlannerOutput(reply=parsed.reply, invocations=parsed.invocations)


def _token_writer(round_: int) -> Callable[[str], None]:
    """Reply text as the planner writes it -> ``custom`` stream events (a no-op when nobody streams them)."""
    writer = get_stream_writer()

    def on_token(text: str) -> None:
        if text:
            writer({"type": "token", "text": text, "round": round_})

    return on_token


def _store_signals(output: PlannerOutput, ctx: AgentContext, thread: str) -> list[Invocation]:
    if not output.signals:
        return output.invocations
    _, signals = ctx.stores(thread)
    stored = []
    for position, inv in enumerate(output.invocations, start=1):
        key = inv.id or f"c{position}"
        if key in output.signals:
            value = output.signals[key]
            signal_id = signals.put(**value) if isinstance(value, dict) else signals.put(value)
            inv = inv.model_copy(update={"signal": signal_id})
        stored.append(inv)
    return stored


def _pixel_loader(ctx: AgentContext, thread: str, media: dict[str, dict[str, Any]]) -> Callable[[str], np.ndarray]:
    """Media id -> pixels from the thread's media store: (H, W, 3) for images, (T, H, W, 3) for videos."""
    store, _ = ctx.stores(thread)

    def load(media_id: str) -> np.ndarray:
        if media_id not in media:
            raise BadInputError(f"{media_id} is not in this thread's media")
        ref = MediaRef(**media[media_id])
        return store.load_video(ref)[0] if ref.kind == "video" else store.load_image(ref)

    return load


def _planner_input(state: AgentState, ctx: AgentContext, thread: str | None = None,
                   on_token: Callable[[str], None] | None = None) -> PlannerInput:
    """What the planner sees; with ``thread``, also a loader of the media's pixels; ``on_token``: where a
    streaming planner sends its reply text as it writes it."""
    request = state["turn_input"]
    region = request.get("region")
    history = [
        CallInfo(r["turn"], r["invocation"]["id"], r["invocation"]["task"], r["invocation"].get("command", ""),
                 r["status"], r.get("output"), r.get("expert"), r["invocation"].get("args", {}).get("op"))
        for r in state.get("calls", {}).values()
    ]
    catalogue = {name: ctx.registry.spec(name) for name in ctx.registry.names() if ctx.registry.availability(name).ok}
    return PlannerInput(
        text=request.get("text", ""),
        messages=list(state.get("messages", [])),
        media=media_infos(state.get("media", {})),
        new_media=list(request.get("new_ids", [])),
        region=Region(**region) if region else None,
        region_media=request.get("region_media"),
        history=history,
        catalogue=catalogue,
        feedback=list(state.get("feedback", [])),
        round=state.get("round", 0),
        pixels=_pixel_loader(ctx, thread, dict(state.get("media", {}))) if thread is not None else None,
        on_token=on_token,
    )


def respond(state: AgentState) -> dict[str, Any]:
    """The turn's final message: the reply, what was made, and what went wrong."""
    turn = state.get("turn", 0)
    records = [r for r in state.get("calls", {}).values() if r["turn"] == turn]
    reply = state.get("plan", {}).get("reply", "")
    lines = [reply] if reply else []
    for record in records:
        if record["status"] == "done":
            lines.append(record.get("summary", ""))
        elif record.get("error"):
            lines.append(f"{record['invocation']['id']} failed: {record['error']['message']}")
    lines += [e["message"] for e in state.get("errors", [])]
    last_round = [r for r in records if r["round"] == state.get("round", 0)]
    if not last_round and not state.get("errors") and reply:
        return {}  # the planner answered (after seeing any tool results): its message is the answer
    if not any(lines):
        lines = ["Nothing to do."]
    return {"messages": [AIMessage(content="\n".join(line for line in lines if line), id=f"respond-{turn}")]}
