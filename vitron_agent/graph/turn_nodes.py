"""The nodes at the edges of a turn: ingest the request, call the planner, write the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime

from ..errors import BadInputError, RegionError, VitronError
from ..messages import read_content
from ..planners.base import CallInfo, MediaInfo, PlannerInput, PlannerOutput
from ..protocol.inputs import read_region
from ..protocol.invocation import Invocation, Region
from ..protocol.tasks import task_spec
from ..stores.media import MediaRef
from .calls import (
    Call,
    CallError,
    calls_of_turn,
    close_unfinished,
    latest_medium,
    read_calls,
    read_media,
    unfinished_calls,
)
from .context import AgentContext, context_of
from .state import AgentState, PlanRecord, TurnBudget, TurnRequest, changes
from .validate import check_region_bounds

__all__ = ["ingest", "route_ingest", "plan", "respond", "thread_of", "media_infos", "planner_input", "call_info"]


def thread_of(config: RunnableConfig) -> str:
    """The thread id of this run (the agent always sets one)."""
    return str(config.get("configurable", {}).get("thread_id", "default"))


def media_infos(media: dict[str, MediaRef], previews: bool = False) -> list[MediaInfo]:
    """Media as planners see them: ids, kinds and sizes; the previews made for people apart (``previews``)."""
    return [MediaInfo(m.id, m.kind, m.width, m.height, m.frames, m.source, m.parents)
            for m in media.values() if m.preview == previews]


def call_info(call: Call) -> CallInfo:
    """An earlier call as planners see it."""
    inv = call.invocation
    return CallInfo(call.turn, inv.id, inv.task, inv.command, call.status, call.output, call.expert, inv.op)


def ingest(state: AgentState, config: RunnableConfig, runtime: Runtime[AgentContext],
           bound: AgentContext | None = None) -> dict[str, Any]:
    """Give this turn's media (and a mask the user drew) their ids, record the human message, reset the turn.

    The request is the newest ``HumanMessage`` when a host sent one (its image and video blocks are stored
    and the message kept as text plus media ids, under the same id), else the ``turn_input`` the agent gave."""
    fresh = _fresh_human(state)
    errors: list[CallError] = []
    if fresh is not None:
        request, errors = _request_from_message(fresh, state, context_of(runtime, bound), thread_of(config))
    else:
        request = TurnRequest.read(state)
    count = sum(1 for key in state.get("media", {}) if key.startswith("u"))
    new_media = {f"u{count + n}": ref.model_copy(update={"id": f"u{count + n}"})
                 for n, ref in enumerate(request.new_media)}
    ids = list(new_media)
    region_media = ids[request.region_on] if isinstance(request.region_on, int) else request.region_on
    region = request.region
    if request.region_mask is not None:  # the user's mask becomes a medium lying on what it was drawn on
        mask_id = f"u{count + len(new_media)}"
        new_media[mask_id] = request.region_mask.model_copy(update={"id": mask_id, "parents": (region_media,)})
        region = Region(ref=mask_id, frames=region.frames if region is not None else None)
    notes = [f"[{i}: {m.kind} {m.width}x{m.height}]" for i, m in new_media.items() if i in ids]
    if region is not None:
        notes.append(f"[region on {region_media}: {_describe_region(region)}]")
    content = request.text + ("\n" + " ".join(notes) if notes else "")
    human = HumanMessage(content=content, id=fresh.id if fresh is not None else None, additional_kwargs={
        "media": ids, "region": region.model_dump(mode="json", exclude_none=True) if region else None,
        "region_media": region_media})
    closed, answers = close_unfinished(unfinished_calls(state))  # a turn cut short before this one
    completed = request.model_copy(update={"new_ids": ids, "region_media": region_media, "region": region,
                                           "region_mask": None, "new_media": []})
    media = {key: ref.model_dump(mode="json") for key, ref in new_media.items()}
    return changes(state, {
        "messages": [*answers, human],
        "calls": {key: call.to_state() for key, call in closed.items()},
        "media": media,
        "turn": state.get("turn", 0) + 1,
        "round": 0,
        "plan": _given_plan(completed, {**state, "media": {**(state.get("media") or {}), **media}}),
        "feedback": [],
        "errors": [e.model_dump() for e in errors],
        "budget": TurnBudget().dump(),
        "turn_input": completed.dump(),
    })


def _given_plan(request: TurnRequest, state: AgentState) -> dict[str, Any]:
    """The plan of a turn whose caller gave the invocations, made here so the turn needs no planning step;
    empty when there are none, or when they cannot be read (the ``plan`` step then reports why)."""
    if request.invocations is None:
        return {}
    try:
        output = _explicit_plan(request.invocations, request, state)
    except Exception:  # noqa: BLE001 - reported by ``plan``, which reads them again
        return {}
    return PlanRecord(reply=output.reply, invocations=output.invocations, planner="explicit").dump()


def route_ingest(state: AgentState) -> str:
    """Straight to ``validate`` when ``ingest`` made the plan from the caller's invocations, else ``plan``."""
    return "validate" if state.get("plan") else "plan"


def _fresh_human(state: AgentState) -> HumanMessage | None:
    """The newest message when it is a host's ``HumanMessage`` this graph has not taken in yet (taken-in ones
    carry their media ids in ``additional_kwargs["media"]``)."""
    messages = state.get("messages") or []
    last = messages[-1] if messages else None
    return last if isinstance(last, HumanMessage) and "media" not in last.additional_kwargs else None


def _request_from_message(message: HumanMessage, state: AgentState, ctx: AgentContext,
                          thread: str) -> tuple[TurnRequest, list[CallError]]:
    """A host message as this turn's request: its text, its media stored, its region checked. Media or a region
    that cannot be used are reported as the turn's errors (the turn goes on without them), never raised."""
    store, _ = ctx.stores(thread)
    text, attached = read_content(message.content, ctx.config.limits.max_bytes)
    errors = [CallError(category="bad_input", message=m.error) for m in attached if m.error is not None]
    new_media: list[MediaRef] = []
    for medium in (m for m in attached if m.error is None):
        try:
            new_media.append(store.ingest_bytes(medium.data, "pending", expect=medium.kind, name=medium.name)
                             if medium.data is not None else store.ingest(medium.path, "pending", expect=medium.kind))
        except VitronError as exc:
            errors.append(CallError(category=exc.category, message=str(exc)))
    fields: dict[str, Any] = {"text": text, "new_media": new_media}
    given = message.additional_kwargs.get("region")
    target = new_media[0] if new_media else latest_medium(read_media(state))
    if given is not None:
        try:
            region, mask, _ = read_region(given, message.additional_kwargs.get("frame"))
            if mask is not None or region is None:
                raise RegionError("a region in a message is a box [x1, y1, x2, y2], points or a ref; "
                                  "pass masks through VitronAgent")
            if target is None:
                raise RegionError("a region was given but there is no image or video to draw it on; attach one")
            check_region_bounds(region, target.width, target.height, target.frames,
                                "the first attached medium" if new_media else target.id)
            fields.update(region=region, region_on=0 if new_media else target.id)
        except VitronError as exc:
            errors.append(CallError(category=exc.category, message=str(exc)))
    return TurnRequest(**fields), errors


def _describe_region(region: Region) -> str:
    frames = f" on frame {region.frames[0]}" if region.frames and region.frames[0] == region.frames[1] else (
        f" on frames {region.frames[0]}-{region.frames[1]}" if region.frames else "")
    if region.box is not None:
        return "box " + ", ".join(f"{c:g}" for c in region.box) + " px" + frames
    if region.points is not None:
        return f"{len(region.points)} point(s)" + frames
    return f"mask {region.ref}" + frames


def plan(state: AgentState, config: RunnableConfig, runtime: Runtime[AgentContext],
         bound: AgentContext | None = None) -> dict[str, Any]:
    """One planner call (or the caller's explicit invocations on the first round). A planner that streams
    sends its reply as ``{"type": "token", "text", "round"}`` events on the ``custom`` stream.

    The first call of a turn is round 0; each later one is a new round, counted against the turn's budget
    as a retry (feedback to act on) or a follow-up (results to read)."""
    ctx = context_of(runtime, bound)
    request = TurnRequest.read(state)
    first = not state.get("plan")
    round_ = 0 if first else state.get("round", 0) + 1
    budget = TurnBudget.read(state)
    if not first:
        field = "retries" if state.get("feedback") else "followups"
        budget = budget.model_copy(update={field: getattr(budget, field) + 1})
    explicit = request.invocations if first else None
    planner_name = "explicit" if explicit is not None else ctx.planner.name
    counters = {"round": round_, "budget": budget.dump()}
    try:
        if explicit is not None:
            output = _explicit_plan(explicit, request, state)
        else:
            this_round: AgentState = {**state, "round": round_}
            output = ctx.planner.plan(planner_input(this_round, ctx, thread_of(config), _token_writer(round_)))
    except BadInputError as exc:
        failed = PlanRecord(planner=planner_name, failed=True).dump()
        if explicit is None and ctx.planner.can_revise and budget.retries < ctx.config.max_planner_retries:
            return changes(state, {**counters, "plan": failed, "feedback": [str(exc)]})
        error = CallError(category=exc.category, message=str(exc))
        return changes(state, {**counters, "plan": failed, "feedback": [],
                               "errors": [*state.get("errors", []), error.model_dump()]})
    except Exception as exc:  # a planner bug must not lose the conversation
        category = exc.category if isinstance(exc, VitronError) else "internal"
        error = CallError(category=category, message=f"planner {planner_name} failed: {type(exc).__name__}: {exc}")
        return changes(state, {**counters, "plan": PlanRecord(planner=planner_name, failed=True).dump(), "feedback": [],
                               "errors": [*state.get("errors", []), error.model_dump()]})
    invocations = _store_signals(output, ctx, thread_of(config))
    record = PlanRecord(reply=output.reply, invocations=invocations, needs_followup=output.needs_followup,
                        planner=planner_name)
    return changes(state, {**counters, "plan": record.dump(), "feedback": []})


def _explicit_plan(explicit: list[Invocation] | str, request: TurnRequest, state: AgentState) -> PlannerOutput:
    """The caller's invocations: objects, or VITRON's tag text (regions normalised to the medium). One that
    acts on an object but names no region gets the region the caller drew this turn, on that medium."""
    if isinstance(explicit, str):
        from ..protocol.text_form import parse

        media = [m for m in media_infos(read_media(state)) if m.kind in ("image", "video")]
        default = request.new_ids[-1] if request.new_ids else (media[-1].id if media else None)
        parsed = parse(explicit, {m.id: (m.width, m.height) for m in media}, default_input=default)
        output = PlannerOutput(reply=parsed.reply, invocations=parsed.invocations)
    else:
        output = PlannerOutput(invocations=list(explicit))
    if request.region is None:
        return output
    drawn = {"region": request.region, "inputs": [request.region_media] if request.region_media else []}
    output.invocations = [inv.model_copy(update={k: v for k, v in drawn.items() if not getattr(inv, k)})
                          if inv.region is None and task_spec(inv.task).acts_on_region
                          and (not inv.inputs or inv.inputs == drawn["inputs"]) else inv
                          for inv in output.invocations]
    return output


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


def _pixel_loader(ctx: AgentContext, thread: str, media: dict[str, MediaRef]) -> Callable[[str], np.ndarray]:
    """Media id -> pixels from the thread's media store: (H, W, 3) for images, (T, H, W, 3) for videos."""
    store, _ = ctx.stores(thread)

    def load(media_id: str) -> np.ndarray:
        if media_id not in media:
            raise BadInputError(f"{media_id} is not in this thread's media")
        ref = media[media_id]
        return store.load_video(ref)[0] if ref.kind == "video" else store.load_image(ref)

    return load


def planner_input(state: AgentState, ctx: AgentContext, thread: str | None = None,
                  on_token: Callable[[str], None] | None = None) -> PlannerInput:
    """What the planner sees; with ``thread``, also a loader of the media's pixels; ``on_token``: where a
    streaming planner sends its reply text as it writes it."""
    request = TurnRequest.read(state)
    media = read_media(state)
    catalogue = {name: ctx.registry.spec(name) for name in ctx.registry.names() if ctx.registry.availability(name).ok}
    return PlannerInput(
        text=request.text,
        messages=list(state.get("messages", [])),
        media=media_infos(media),
        new_media=list(request.new_ids),
        region=request.region,
        region_media=request.region_media,
        history=[call_info(call) for call in read_calls(state).values()],
        catalogue=catalogue,
        feedback=list(state.get("feedback", [])),
        round=state.get("round", 0),
        pixels=_pixel_loader(ctx, thread, media) if thread is not None else None,
        on_token=on_token,
        previews=media_infos(media, previews=True),
    )


def respond(state: AgentState, config: RunnableConfig, runtime: Runtime[AgentContext],
            bound: AgentContext | None = None) -> dict[str, Any]:
    """The turn's final message: the reply, what was made, and what went wrong; the files it made go with it
    (``additional_kwargs["artifacts"]``: id, kind, path, size, frames, preview), for hosts that read messages."""
    turn = state.get("turn", 0)
    calls = list(calls_of_turn(state, turn).values())
    reply = PlanRecord.read(state).reply
    errors = [CallError.model_validate(e) for e in state.get("errors", [])]
    lines = [reply] if reply else []
    for call in calls:
        if call.status == "done":
            lines.append(call.text if call.invocation.task == "answer" and call.text else call.summary)
        elif call.error is not None:
            lines.append(f"{call.id} failed: {call.error.message}")
    lines += [e.message for e in errors]
    last_round = [c for c in calls if c.round == state.get("round", 0)]
    if not last_round and not errors and reply:
        return {}  # the planner answered (after seeing any tool results): its message is the answer
    if not any(lines):
        lines = ["Nothing to do."]
    media = read_media(state, [i for call in calls for i in call.artifacts])
    store, _ = context_of(runtime, bound).stores(thread_of(config))
    artifacts = [{"id": ref.id, "kind": ref.kind, "path": str(store.path(ref)), "width": ref.width,
                  "height": ref.height, "frames": ref.frames, "preview": ref.preview}
                 for call in calls for ref in (media[i] for i in call.artifacts if i in media)]
    reply = AIMessage(content="\n".join(line for line in lines if line), id=f"respond-{turn}",
                      additional_kwargs={"artifacts": artifacts} if artifacts else {})
    return {"messages": [reply]}
