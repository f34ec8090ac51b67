"""The nodes between plan and answer: validate the plan, schedule ready calls, run experts; and the pure
routing functions after ``schedule`` and after ``run_expert``.

Nodes change data (calls move planned -> queued -> done | skipped | failed; feedback for the planner);
``route_schedule`` reads that data and decides where the turn goes, writing nothing.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt

from ..protocol.invocation import Invocation, Region, is_invocation_id
from ..protocol.tasks import task_spec
from ..protocol.text_regions import show
from ..stores.signals import SignalStore
from .calls import Call, call_key, calls_of_turn, output_id, read_media
from .context import AgentContext, context_of
from .execute import execute
from .state import AgentState, PlanRecord, RunExpertInput, TurnBudget, TurnRequest, changes
from .turn_nodes import thread_of
from .validate import ValidatedPlan, validate_plan

__all__ = ["validate", "schedule", "run_expert", "route_schedule", "route_after_run"]


def validate(state: AgentState, config: RunnableConfig, runtime: Runtime[AgentContext],
             bound: AgentContext | None = None) -> dict[str, Any]:
    """Check the plan; record its calls (planned, or failed with the reason), or send it back as feedback."""
    ctx = context_of(runtime, bound)
    plan = PlanRecord.read(state)
    if plan.failed:
        return {}
    request = TurnRequest.read(state)
    turn, round_ = state.get("turn", 0), state.get("round", 0)
    _, signals = ctx.stores(thread_of(config))
    checked = validate_plan(plan.invocations, read_media(state), ctx.registry, signals, request.new_ids)
    if ctx.config.human_in_the_loop and not request.dry_run:
        checked = _ask_for_regions(checked, state, ctx, signals, request.new_ids)
    retries = TurnBudget.read(state).retries
    retry = bool(checked.problems) and ctx.planner.can_revise and plan.planner != "explicit" \
        and retries < ctx.config.max_planner_retries
    problems = {p.invocation: p for p in checked.problems}
    next_output = state.get("next_output", 1)
    calls: dict[str, Call] = {}
    for inv in checked.invocations:
        call = Call(key=call_key(turn, round_, inv.id), turn=turn, round=round_, invocation=inv,
                    expert=checked.experts.get(inv.id, inv.module), inserted=inv.id in checked.inserted)
        problem = problems.get(inv.id)
        if problem is not None:
            call = call.fail(problem.category, problem.message)
        elif retry:
            call = call.fail("bad_input", "not run: the plan was sent back for revision")
        else:
            call = call.model_copy(update={"output": output_id(next_output)})
            next_output += 1
        calls[call.key] = call
    plan_message = AIMessage(content=plan.reply, tool_calls=[c.tool_call() for c in calls.values()],
                             id=f"plan-{turn}-{round_}")
    answers = [c.tool_message() for c in calls.values() if c.status == "failed"]
    update: dict[str, Any] = {"messages": [plan_message, *answers], "next_output": next_output,
                              "feedback": [p.text() for p in checked.problems] if retry else []}
    if not retry:  # a plan sent back leaves no calls in the log: the revised plan replaces it
        update["calls"] = {key: call.to_state() for key, call in calls.items()}
    return changes(state, update)


def _ask_for_regions(checked: ValidatedPlan, state: AgentState, ctx: AgentContext, signals: SignalStore,
                     new_ids: list[str]) -> ValidatedPlan:
    """Human in the loop: ask the user to draw the regions the plan needs but cannot find."""
    for _ in range(len(checked.invocations) + 1):
        missing = next((p for p in checked.problems if p.missing_region), None)
        if missing is None:
            return checked
        target = next(i for i in checked.invocations if i.id == missing.invocation)
        region = _asked_region(target, missing.message)
        if region is None:  # the user gave none: the step fails with the reason
            return checked
        invocations = [i.model_copy(update={"region": region}) if i.id == target.id else i
                       for i in checked.invocations]
        inserted = checked.inserted
        checked = validate_plan(invocations, read_media(state), ctx.registry, signals, new_ids)
        checked.inserted = [*inserted, *checked.inserted]
    return checked


def _asked_region(target: Invocation, message: str) -> Region | None:
    """Pause the turn until the user draws a region for ``target``: a box ``[x1, y1, x2, y2]`` or
    ``{"box": [...]}`` (pixels of its input), or ``{"points": [...]}``; None when the answer is no region."""
    answer = interrupt({"type": "region", "invocation": target.id, "media": target.inputs[:1], "message": message})
    frames = target.region.frames if target.region is not None else None
    given = {k: v for k, v in answer.items() if k in ("box", "points", "frames")} if isinstance(answer, dict) \
        else {"box": answer}
    try:
        return Region(**{"frames": frames, **given})
    except (ValueError, TypeError):  # no region, or a malformed one
        return None


def schedule(state: AgentState, runtime: Runtime[AgentContext], bound: AgentContext | None = None) -> dict[str, Any]:
    """Queue the calls whose dependencies are done; skip the ones after a failure; enforce the turn's budget
    of expert calls and, with a human in the loop, ask before costly or destructive steps and for a region
    when grounding found nothing."""
    ctx = context_of(runtime, bound)
    if TurnRequest.is_dry_run(state):
        return {}
    turn, round_ = state.get("turn", 0), state.get("round", 0)
    calls = calls_of_turn(state, turn, round_)
    budget = TurnBudget.read(state)
    updates = _skip_after_failures(calls)
    ready = _ready(calls | updates)
    room = max(ctx.config.max_expert_calls - budget.expert_calls, 0)
    for key in ready[room:]:
        updates[key] = calls[key].fail("budget", f"not run: the turn's budget of {ctx.config.max_expert_calls} "
                                       "expert calls is spent; raise AgentConfig.max_expert_calls or split the "
                                       "request over turns")
    ready = ready[:room]
    if ctx.config.human_in_the_loop and ready:
        ready = _ask_approval(ready, calls, ctx, updates)
        for key in ready:
            asked = _region_for_unfound_target(calls[key], calls, state)
            if asked is not None:
                calls[key] = updates[key] = asked
    updates.update(_skip_after_failures(calls | updates))
    for key in ready:
        updates[key] = calls[key].queue()
    budget = budget.model_copy(update={"expert_calls": budget.expert_calls + len(ready)})
    answers = [call.tool_message() for call in updates.values() if call.status in ("skipped", "failed")]
    return changes(state, {"calls": {key: call.to_state() for key, call in updates.items()}, "budget": budget.dump(),
                           "messages": answers})


def _skip_after_failures(calls: dict[str, Call]) -> dict[str, Call]:
    """Planned calls that depend, directly or through others, on a call that failed or was skipped."""
    by_id = {call.id: call for call in calls.values()}
    skipped: dict[str, Call] = {}
    changed = True
    while changed:
        changed = False
        for key, call in calls.items():
            if call.status != "planned" or key in skipped:
                continue
            failed = [ref for ref in call.invocation.references if ref in by_id
                      and (by_id[ref].status in ("failed", "skipped") or by_id[ref].key in skipped)]
            if failed:
                skipped[key] = call.skip("skipped", f"not run because {', '.join(failed)} did not succeed")
                changed = True
    return skipped


def _ready(calls: dict[str, Call]) -> list[str]:
    """Planned calls whose dependencies are all done, in plan order."""
    by_id = {call.id: call for call in calls.values()}
    return [key for key, call in calls.items() if call.status == "planned"
            and all(by_id[ref].status == "done" for ref in call.invocation.references if ref in by_id)]


def _ask_approval(ready: list[str], calls: dict[str, Call], ctx: AgentContext, updates: dict[str, Call]) -> list[str]:
    risky = [k for k in ready if task_spec(calls[k].invocation.task).destructive
             or ctx.registry.spec(calls[k].expert).costly]
    if not risky:
        return ready
    answer = interrupt({"type": "approve", "calls": [
        {"key": k, "expert": calls[k].expert, "task": calls[k].invocation.task,
         "command": calls[k].invocation.command} for k in risky]})
    approved = set(risky) if answer is True or (isinstance(answer, dict) and answer.get("approve") is True) else (
        set(answer.get("approve", [])) if isinstance(answer, dict) else set())
    for key in risky:
        if key not in approved:
            updates[key] = calls[key].skip("declined", "declined by the user")
    return [k for k in ready if k not in risky or k in approved]


def _region_for_unfound_target(call: Call, calls: dict[str, Call], state: AgentState) -> Call | None:
    """When ``call``'s region is the boxes of a grounding of this turn that found nothing, ask the user to draw
    the region (human in the loop) and return the call with it; None otherwise."""
    region = call.invocation.region
    if region is None or region.ref is None or not is_invocation_id(region.ref):
        return None
    source = next((c for c in calls.values() if c.id == region.ref), None)
    found = (state.get("media") or {}).get(source.output or "", {}) if source is not None else {}
    if source is None or source.invocation.task != "ground" or found.get("data", {}).get("detections"):
        return None
    asked = _asked_region(call.invocation, f"could not find {show(source.invocation.command)}; draw a box around it")
    if asked is None:
        return None
    return call.model_copy(update={"invocation": call.invocation.model_copy(update={"region": asked})})


def route_schedule(state: AgentState, runtime: Runtime[AgentContext],
                   bound: AgentContext | None = None) -> list[Send] | str:
    """Pure routing: fan out the queued calls with ``Send``, plan again (feedback to act on, or results the
    planner asked to see, within the turn's rounds), or answer."""
    if TurnRequest.is_dry_run(state):
        return "respond"
    turn, round_ = state.get("turn", 0), state.get("round", 0)
    calls = calls_of_turn(state, turn, round_)
    queued = [call for call in calls.values() if call.status == "queued"]
    if queued:
        done = {c.id: c.output for c in calls.values() if c.status == "done"}
        return [Send("run_expert", _payload(call, state, done)) for call in queued]
    if state.get("feedback"):
        return "plan"
    followups = TurnBudget.read(state).followups
    if PlanRecord.read(state).needs_followup and all(c.final for c in calls.values()) \
            and followups + 1 < context_of(runtime, bound).config.max_plan_rounds:
        return "plan"
    return "respond"


def route_after_run(state: AgentState, runtime: Runtime[AgentContext],
                    bound: AgentContext | None = None) -> list[Send] | str:
    """Pure routing after a call: when every call of the round is finished there is nothing to schedule, so the
    turn goes straight on (plan again or answer, as ``route_schedule`` decides), one checkpointed step fewer;
    else to ``schedule``. LangGraph evaluates this with the call's own result and none of its siblings' (they
    run in the same step), so a call with siblings always goes to ``schedule``, which then runs once."""
    turn, round_ = state.get("turn", 0), state.get("round", 0)
    if any(not call.final for call in calls_of_turn(state, turn, round_).values()):
        return "schedule"
    return route_schedule(state, runtime, bound)


def _payload(call: Call, state: AgentState, done: dict[str, str | None]) -> RunExpertInput:
    """Only what this call reads: its inputs, its region ref, and the outputs of the calls it refers to
    (``done``: invocation id -> primary output of the round's finished calls)."""
    inv = call.invocation
    media = state.get("media") or {}
    refs = [*inv.inputs, *([inv.region.ref] if inv.region is not None and inv.region.ref else [])]
    outputs_of = {ref: done[ref] for ref in refs if ref in done and done[ref] is not None}
    wanted = {ref for ref in refs if ref in media} | set(outputs_of.values())
    return RunExpertInput(call=call.to_state(), media={m: media[m] for m in wanted if m in media},
                          outputs_of=outputs_of)


def run_expert(payload: RunExpertInput, config: RunnableConfig, runtime: Runtime[AgentContext],
               bound: AgentContext | None = None) -> dict[str, Any]:
    """Run one call on its pooled expert; every outcome, failure included, becomes a ToolMessage."""
    from ..stores.media import MediaRef

    ctx = context_of(runtime, bound)
    call = Call.model_validate(payload["call"])
    key, expert, inv = call.key, call.expert, call.invocation
    writer = get_stream_writer()
    writer({"type": "expert_start", "call": key, "expert": expert, "task": inv.label})

    def progress(fraction: float, message: str) -> None:
        writer({"type": "progress", "call": key, "expert": expert, "fraction": float(fraction), "message": message})

    store, signals = ctx.stores(thread_of(config))
    media = {k: MediaRef.model_validate(v) for k, v in payload["media"].items()}
    outcome = execute(inv, expert, call.output or "", media, payload["outputs_of"], ctx.pool, store, signals,
                      progress, timeout=ctx.config.expert_timeout)
    writer({"type": "expert_end", "call": key, "expert": expert, "ok": outcome.error is None,
            "seconds": round(outcome.seconds, 4)})
    if outcome.error is not None:
        finished = call.fail(outcome.error.category, outcome.error.message, outcome.seconds)
    else:
        finished = call.succeed(outcome.media, outcome.output, outcome.summary, outcome.seconds, outcome.text)
    message: ToolMessage = finished.tool_message()
    return {
        "calls": {key: finished.to_state()},
        **({"media": {ref.id: ref.model_dump(mode="json") for ref in outcome.media.values()}} if outcome.media else {}),
        "messages": [message],
    }
