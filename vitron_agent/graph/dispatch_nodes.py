"""The nodes between plan and answer: validate the plan, schedule ready calls, run experts."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt

from ..protocol.invocation import Invocation, Region
from ..stores.media import MediaRef
from ..stores.signals import SignalStore
from .context import AgentContext
from .execute import execute, json_safe
from .state import STATUS_FINAL, AgentState, RunExpertInput, call_key, merge_records
from .turn_nodes import thread_of
from .validate import ValidatedPlan, validate_plan

__all__ = ["validate", "schedule", "run_expert", "route_schedule", "DESTRUCTIVE_TASKS"]

DESTRUCTIVE_TASKS = ("edit_image", "edit_video")


def _refs(state: AgentState) -> dict[str, MediaRef]:
    return {key: MediaRef(**value) for key, value in state.get("media", {}).items()}


def validate(state: AgentState, config: RunnableConfig, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Check the plan; record the calls to run, or reject the plan with feedback for the planner."""
    ctx = runtime.context
    current = state.get("plan", {})
    if current.get("failed"):
        return {}
    turn, round_ = state.get("turn", 0), state.get("round", 0)
    invocations = [Invocation(**d) for d in current.get("invocations", [])]
    _, signals = ctx.stores(thread_of(config))
    new_ids = state["turn_input"].get("new_ids", [])
    checked = validate_plan(invocations, _refs(state), ctx.registry, signals, new_ids)
    if ctx.config.human_in_the_loop:
        checked = _ask_for_regions(checked, invocations, state, ctx, signals, new_ids)
    retry = bool(checked.problems) and ctx.planner.can_revise and current.get("planner") != "explicit" \
        and state.get("budget", {}).get("retries", 0) < ctx.config.max_planner_retries
    bad = checked.bad_ids()
    records, tool_calls, messages = {}, [], []
    next_output = state.get("next_output", 1)
    for inv in checked.invocations:
        key = call_key(turn, round_, inv.id)
        expert = checked.experts.get(inv.id, inv.module)
        tool_calls.append({"name": expert, "args": _tool_args(inv), "id": key, "type": "tool_call"})
        problem = next((p for p in checked.problems if p.invocation == inv.id), None)
        if problem is not None or retry:
            text = problem.message if problem else "not run: the plan was sent back for revision"
            messages.append(ToolMessage(content=f"Error: {text}", tool_call_id=key, name=expert, status="error"))
        if retry:
            continue
        record: dict[str, Any] = {
            "turn": turn, "round": round_, "invocation": inv.model_dump(mode="json"), "expert": expert,
            "tool_call_id": key, "inserted": inv.id in checked.inserted, "status": "planned",
        }
        if inv.id in bad:
            record.update(status="error", error={"category": problem.category if problem else "bad_input",
                                                 "message": problem.message if problem else "invalid"})
        else:
            record["output"] = f"o{next_output}"
            next_output += 1
        records[key] = record
    plan_message = AIMessage(content=current.get("reply", ""), tool_calls=tool_calls, id=f"plan-{turn}-{round_}")
    update: dict[str, Any] = {"messages": [plan_message, *messages], "calls": records, "next_output": next_output}
    update["feedback"] = [p.text() for p in checked.problems] if retry else []
    return update


def _tool_args(inv: Invocation) -> dict[str, Any]:
    data = inv.model_dump(mode="json", exclude={"id", "module"}, exclude_defaults=True)
    data["task"] = inv.task
    return data


def _ask_for_regions(
    checked: ValidatedPlan, invocations: list[Invocation], state: AgentState, ctx: AgentContext,
    signals: SignalStore, new_ids: list[str],
) -> ValidatedPlan:
    """Human in the loop: ask the user to draw regions the plan needs but cannot resolve."""
    for _ in range(len(invocations)):
        missing = next((p for p in checked.problems if p.missing_region), None)
        if missing is None:
            return checked
        target = next(i for i in checked.invocations if i.id == missing.invocation)
        answer = interrupt({"type": "region", "invocation": target.id, "media": target.inputs[:1],
                            "message": missing.message})
        box = answer.get("box") if isinstance(answer, dict) else answer
        invocations = [i.model_copy(update={"region": Region(box=box)}) if i.id == target.id else i
                       for i in checked.invocations]
        checked = validate_plan(invocations, _refs(state), ctx.registry, signals, new_ids)
    return checked


def schedule(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Decide the next step: run ready calls, plan again, or answer; enforce budgets and approvals."""
    ctx = runtime.context
    turn, round_ = state.get("turn", 0), state.get("round", 0)
    current = dict(state.get("plan", {}))
    budget = dict(state.get("budget", {}))
    errors = list(state.get("errors", []))
    if current.get("failed") or state.get("feedback"):
        if not current.get("final") and ctx.planner.can_revise and budget.get("retries", 0) < ctx.config.max_planner_retries:
            budget["retries"] = budget.get("retries", 0) + 1
            return {"plan": {**current, "next": "plan"}, "round": round_ + 1, "budget": budget}
        errors += [{"category": "bad_input", "message": text} for text in state.get("feedback", [])]
        return {"plan": {**current, "next": "respond"}, "errors": errors}
    records = {k: r for k, r in state.get("calls", {}).items() if r["turn"] == turn and r["round"] == round_}
    updates, ready = _ready_calls(records)
    candidates = len(ready)
    room = ctx.config.max_expert_calls - budget.get("expert_calls", 0)
    for key in ready[max(room, 0):]:
        updates[key] = {"status": "error", "error": {"category": "budget", "message":
                        f"not run: the turn's budget of {ctx.config.max_expert_calls} expert calls is spent; "
                        "raise AgentConfig.max_expert_calls or split the request over turns"}}
    ready = ready[: max(room, 0)]
    if ctx.config.human_in_the_loop and ready:
        ready = _ask_approval(ready, records, ctx, updates)
    if len(ready) < candidates:  # calls refused (budget, declined): skip the calls that depend on them
        updates.update(_ready_calls(merge_records(records, updates))[0])
    if ready:
        budget["expert_calls"] = budget.get("expert_calls", 0) + len(ready)
        updates.update({key: {"status": "queued"} for key in ready})
        return {"calls": updates, "budget": budget, "plan": {**current, "next": "run"}}
    pending = [k for k, r in records.items() if r["status"] not in STATUS_FINAL and k not in updates]
    followups = budget.get("followups", 0)
    if not pending and current.get("needs_followup") and followups + 1 < ctx.config.max_plan_rounds:
        budget["followups"] = followups + 1  # retries of rejected plans do not use up these rounds
        return {"calls": updates, "plan": {**current, "next": "plan"}, "round": round_ + 1, "budget": budget}
    return {"calls": updates, "plan": {**current, "next": "respond"}}


def _ready_calls(records: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Planned calls whose dependencies are done; calls after a failure are skipped."""
    by_id = {r["invocation"]["id"]: (k, r) for k, r in records.items()}
    updates: dict[str, dict[str, Any]] = {}
    ready = []
    for key, record in records.items():
        if record["status"] != "planned":
            continue
        refs = [r for r in Invocation(**record["invocation"]).references if r in by_id]
        statuses = {r: updates.get(by_id[r][0], by_id[r][1])["status"] for r in refs}
        failed = [r for r, status in statuses.items() if status in ("error", "skipped")]
        if failed:
            updates[key] = {"status": "skipped", "error": {"category": "skipped",
                            "message": f"not run because {', '.join(failed)} did not succeed"}}
        elif all(status == "done" for status in statuses.values()):
            ready.append(key)
    return updates, ready


def _ask_approval(ready: list[str], records: dict, ctx: AgentContext, updates: dict) -> list[str]:
    risky = [k for k in ready if records[k]["invocation"]["task"] in DESTRUCTIVE_TASKS
             or ctx.registry.spec(records[k]["expert"]).costly]
    if not risky:
        return ready
    answer = interrupt({"type": "approve", "calls": [
        {"key": k, "expert": records[k]["expert"], "task": records[k]["invocation"]["task"],
         "command": records[k]["invocation"].get("command", "")} for k in risky]})
    approved = set(risky) if answer is True or (isinstance(answer, dict) and answer.get("approve") is True) else (
        set(answer.get("approve", [])) if isinstance(answer, dict) else set())
    for key in risky:
        if key not in approved:
            updates[key] = {"status": "skipped", "error": {"category": "declined", "message": "declined by the user"}}
    return [k for k in ready if k not in risky or k in approved]


def route_schedule(state: AgentState) -> list[Send] | str:
    """Pure routing: fan out queued calls with ``Send``, or go to plan / respond."""
    step = state.get("plan", {}).get("next", "respond")
    if step != "run":
        return step
    turn, round_ = state.get("turn", 0), state.get("round", 0)
    records = {k: r for k, r in state.get("calls", {}).items() if r["turn"] == turn and r["round"] == round_}
    done = {r["invocation"]["id"]: r for r in records.values() if r["status"] == "done"}
    return [
        Send("run_expert", _payload(key, record, state.get("media", {}), done))
        for key, record in records.items()
        if record["status"] == "queued"
    ]


def _payload(key: str, record: dict[str, Any], media: dict[str, dict[str, Any]],
             done: dict[str, dict[str, Any]]) -> RunExpertInput:
    """Only what this call reads: its inputs, its region ref, and the outputs of calls it refers to."""
    inv = Invocation(**record["invocation"])
    region_ref = inv.region.ref if inv.region is not None and inv.region.ref else None
    refs = [*inv.inputs, *([region_ref] if region_ref else [])]
    done = {cid: done[cid] for cid in refs if cid in done}
    wanted = {m for m in refs if m in media} | {r["output"] for r in done.values() if r.get("output") in media}
    return RunExpertInput(key=key, record=record, media={m: media[m] for m in wanted}, done=done)


def run_expert(payload: RunExpertInput, config: RunnableConfig, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Run one call on its pooled expert; every outcome, failure included, becomes a ToolMessage."""
    ctx = runtime.context
    record = payload["record"]
    key, expert = payload["key"], record["expert"]
    inv = Invocation(**record["invocation"])
    writer = get_stream_writer()
    writer({"type": "expert_start", "call": key, "expert": expert, "task": inv.label})

    def progress(fraction: float, message: str) -> None:
        writer({"type": "progress", "call": key, "expert": expert, "fraction": float(fraction), "message": message})

    store, signals = ctx.stores(thread_of(config))
    media = {k: MediaRef(**v) for k, v in payload["media"].items()}
    outputs_of = {cid: r["output"] for cid, r in payload["done"].items() if r.get("output") in payload["media"]}
    outcome = execute(inv, expert, record["output"], media, outputs_of, ctx.pool, store, signals, progress,
                      timeout=ctx.config.expert_timeout)
    writer({"type": "expert_end", "call": key, "expert": expert, "ok": outcome.error is None,
            "seconds": round(outcome.seconds, 4)})
    if outcome.error is not None:
        status, content = "error", f"Error: {outcome.error['message']}"
        update = {"status": "error", "error": outcome.error, "output": None}
    else:
        status, content = "success", outcome.summary
        update = {"status": "done", "output": outcome.output, "artifacts": outcome.artifacts,
                  "summary": outcome.summary, "seconds": round(outcome.seconds, 4)}
    message = ToolMessage(content=content, tool_call_id=record["tool_call_id"], name=expert, status=status,
                          artifact=outcome.artifacts)
    return {
        "calls": {key: json_safe(update)},
        "media": {ref.id: ref.model_dump(mode="json") for ref in outcome.media.values()},
        "messages": [message],
    }

