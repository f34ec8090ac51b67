"""Fuzz: 10,000 generated planner outputs through the parser, the validator and the graph's routing.

Three sources, as a planner would produce them: VITRON tag text (6,000), tool calls of a chat model
(2,500) and JSON invocation lists handed to ``VitronAgent.invoke`` (1,500). Inputs are malformed on
purpose: broken and injected tags, wrong types, huge numbers, NaN and infinity, odd unicode, path
traversal. Whatever arrives, only a ``VitronError`` may come out, its message one actionable line;
and a plan that passes is routed by the real graph nodes (``validate``, ``schedule``,
``route_schedule``), whose dispatch must respect dependencies and the per-turn budgets.
Hypothesis runs derandomized (a fixed seed), so every run tries the same cases.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime
from langgraph.types import Send

from vitron_agent import AgentConfig, VitronAgent
from vitron_agent.errors import VitronError
from vitron_agent.experts.pool import ModelPool
from vitron_agent.experts.registry import ExpertRegistry
from vitron_agent.graph.calls import FINAL_STATUSES, Call
from vitron_agent.graph.context import AgentContext
from vitron_agent.graph.dispatch_nodes import route_schedule, schedule, validate
from vitron_agent.graph.state import merge_by_key
from vitron_agent.planners.chat_model import ChatModelPlanner
from vitron_agent.protocol import Invocation, parse
from vitron_agent.stores import MediaRef

from ..synthetic_experts import BoxMaskExpert, BrightSpotGrounder, InvertRemover
from .conftest import assert_actionable
from .fuzz_strategies import json_invocation_lists, tag_texts, tool_calls, valid_ish_tag_texts

TEXT_CASES, TOOL_CASES, JSON_CASES = 6000, 2504, 1504
BATCH = 8
"""Planner outputs per Hypothesis example: drawing several at once costs much less generation time each."""
FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

MEDIA = {
    "u0": MediaRef(id="u0", kind="image", file="blobs/a.png", width=120, height=100),
    "u1": MediaRef(id="u1", kind="video", file="blobs/v.mp4", width=64, height=48, frames=10, fps=10.0),
    "o1": MediaRef(id="o1", kind="mask", file="blobs/m.png", width=120, height=100, source="x", parents=("u0",)),
    "o2": MediaRef(id="o2", kind="boxes", file="blobs/b.json", width=120, height=100, source="x", parents=("u0",),
                   data={"detections": [{"box": [50.0, 30.0, 70.0, 40.0], "label": "spot", "score": 1.0}]}),
    "o3": MediaRef(id="o3", kind="mask_video", file="blobs/mv.npz", width=64, height=48, frames=10, fps=10.0,
                   source="x", parents=("u1",)),
    "o4": MediaRef(id="o4", kind="image", file="blobs/p.jpg", width=120, height=100, source="x", parents=("u0",),
                   data={"preview": True}),
}
SIZES = {k: (m.width, m.height) for k, m in MEDIA.items() if m.kind in ("image", "video")}
OUTPUT_KIND = {"ground": "boxes", "segment": "mask", "track": "mask_video", "edit_image": "image",
               "edit_video": "video", "generate_image": "image", "generate_video": "video",
               "animate_image": "video", "answer": None}

# --- the graph's nodes, run on their own -----------------------------------------------------


class _Planner:
    """Only what ``validate``/``schedule`` read from a planner: whether it may revise a rejected plan."""

    name = "fuzz"

    def __init__(self, can_revise: bool) -> None:
        self.can_revise = can_revise


@pytest.fixture(scope="module")
def registry() -> ExpertRegistry:
    """The built-in experts (those needing weights are unavailable here) plus three synthetic ones."""
    registry = ExpertRegistry.default(entry_points_too=False)
    for expert in (BoxMaskExpert, BrightSpotGrounder, InvertRemover):
        registry.register(expert)
    return registry


@pytest.fixture(scope="module")
def contexts(registry: ExpertRegistry, tmp_path_factory: pytest.TempPathFactory) -> list[AgentContext]:
    """Runtime contexts with small budgets: (expert calls, planner retries, can revise) vary."""
    root = tmp_path_factory.mktemp("fuzz-state")
    made = _Contexts()
    for calls, retries, revise in ((16, 2, False), (2, 1, True), (1, 0, True), (0, 2, False), (4, 2, True)):
        config = AgentConfig(state_dir=root / f"{calls}-{retries}", max_expert_calls=calls, max_planner_retries=retries)
        made.append(AgentContext(registry, ModelPool(registry), _Planner(revise), config))
    return made


class _Contexts(list):
    def __repr__(self) -> str:  # hypothesis prints the fixtures of a failing case
        return f"<{len(self)} contexts: (max_expert_calls, max_planner_retries, can_revise) as in the fixture>"


def _apply(state: dict[str, Any], update: dict[str, Any]) -> None:
    """Merge a node's update as the graph's reducers do."""
    for key, value in update.items():
        if key == "messages":
            state["messages"] = [*state.get("messages", []), *value]
        elif key in ("calls", "media"):
            state[key] = merge_by_key(state.get(key), value)
        else:
            state[key] = value


def _route(invocations: list[Invocation], ctx: AgentContext, outcomes: st.DataObject) -> None:
    """Run validate -> schedule -> route_schedule until the turn answers; simulate each expert's outcome."""
    runtime = Runtime(context=ctx)
    config = {"configurable": {"thread_id": "fuzz"}}
    state: dict[str, Any] = {
        "messages": [], "media": {k: m.model_dump(mode="json") for k, m in MEDIA.items()}, "calls": {},
        "turn": 1, "round": 0, "feedback": [], "errors": [], "budget": {"expert_calls": 0, "retries": 0, "followups": 0},
        "turn_input": {"text": "", "new_ids": ["u0"]}, "next_output": 5,
        "plan": {"reply": "", "invocations": [i.model_dump(mode="json") for i in invocations],
                 "needs_followup": False, "planner": "fuzz"},
    }
    _apply(state, validate(state, config, runtime))
    for text in state["feedback"]:
        assert_actionable(text)
    dispatched: list[str] = []
    for _ in range(len(state["calls"]) + 3):
        _apply(state, schedule(state, runtime))
        route = route_schedule(state, runtime)
        if isinstance(route, str):
            break
        for send in route:
            assert isinstance(send, Send) and send.node == "run_expert"
            call = Call.model_validate(send.arg["call"])
            assert call.key not in dispatched, f"{call.key} dispatched twice"
            dispatched.append(call.key)
            _check_dispatch(call, state, ctx.registry)
            assert set(send.arg["media"]) <= set(state["media"])  # only the thread's own media travel
            _apply(state, _simulated_outcome(call, outcomes))
    else:
        pytest.fail("the router did not reach an answer")
    assert route in ("respond", "plan"), route
    assert len(dispatched) <= ctx.config.max_expert_calls
    if route == "plan":  # a rejected plan goes back to the planner, within the retry budget
        assert not dispatched and state["budget"]["retries"] <= ctx.config.max_planner_retries
        assert ctx.planner.can_revise and state["feedback"]
        return
    for record in state["calls"].values():
        assert record["status"] in FINAL_STATUSES, record
        if record.get("error"):
            assert record["error"]["category"] and record["error"]["message"]
            if record["error"]["category"] not in ("simulated",):
                assert_actionable(record["error"]["message"])
    for error in state["errors"]:
        assert_actionable(error["message"])


def _check_dispatch(call: Call, state: dict[str, Any], registry: ExpertRegistry) -> None:
    """A dispatched call: a known expert that does the task, its dependencies done, its inputs existing."""
    inv = call.invocation
    spec = registry.spec(call.expert)
    assert spec.does(inv.task, inv.op), (call.expert, inv.label)
    assert registry.availability(call.expert).ok
    by_id = {r["invocation"]["id"]: r for r in state["calls"].values() if r["turn"] == call.turn}
    for ref in inv.references:
        assert by_id[ref]["status"] == "done", f"{inv.id} ran before {ref} finished"
    for media_id in inv.inputs:
        assert media_id in by_id or media_id in state["media"]
    assert call.output not in state["media"]


def _simulated_outcome(call: Call, outcomes: st.DataObject) -> dict[str, Any]:
    """What ``run_expert`` would write: done with an output of the task's kind, or a failure."""
    if not outcomes.draw(st.integers(0, 4), label=f"outcome of {call.key}"):
        return {"calls": {call.key: call.fail("simulated", "simulated failure").to_state()}}
    kind, output = OUTPUT_KIND[call.invocation.task], call.output
    if kind is None:
        return {"calls": {call.key: call.succeed([], None, "", 0.0).to_state()}}
    ref = MediaRef(id=output, kind=kind, file=f"blobs/{output}", width=120, height=100,
                   frames=10 if "video" in kind else 1, source=call.expert,
                   data={"detections": [{"box": [1.0, 1.0, 9.0, 9.0], "label": "x", "score": 1.0}]} if kind == "boxes"
                   else {})
    return {"calls": {call.key: call.succeed([output], output, "", 0.0).to_state()},
            "media": {output: ref.model_dump(mode="json")}}


# --- the tests -------------------------------------------------------------------------------


@settings(FUZZ, max_examples=TEXT_CASES // 2 // BATCH)
@given(texts=st.lists(tag_texts(), min_size=BATCH, max_size=BATCH), which=st.integers(0, 4), outcomes=st.data())
def test_tag_text_through_parser_validator_and_router(texts, which, outcomes, contexts):
    for text in texts:
        _text_case(text, contexts[which], outcomes)


@settings(FUZZ, max_examples=TEXT_CASES // 2 // BATCH)
@given(texts=st.lists(valid_ish_tag_texts(), min_size=BATCH, max_size=BATCH), which=st.integers(0, 4),
       outcomes=st.data())
def test_nearly_valid_tag_text_reaches_the_router(texts, which, outcomes, contexts):
    for text in texts:
        _text_case(text, contexts[which], outcomes)


def _text_case(text: str, ctx: AgentContext, outcomes: st.DataObject) -> None:
    try:
        plan = parse(text, SIZES, default_input="u0")
    except VitronError as exc:
        assert_actionable(str(exc))
        return
    _route(plan.invocations, ctx, outcomes)


class _ToolCallingModel:
    """A chat model that answers with given tool calls: what an LLM with tool calling returns."""

    def __init__(self, calls: list[dict[str, Any]]) -> None:
        self.calls = calls

    def bind_tools(self, tools: list[dict[str, Any]]) -> _ToolCallingModel:
        self.tools = tools
        return self

    def invoke(self, messages: list[Any]) -> AIMessage:
        return AIMessage(content="", tool_calls=self.calls)


@pytest.fixture(scope="module")
def chat_planner() -> ChatModelPlanner:
    """One planner for all cases (it binds its tools once); each case sets the calls its model returns."""
    return ChatModelPlanner(_ToolCallingModel([]))


@settings(FUZZ, max_examples=TOOL_CASES // BATCH)
@given(answers=st.lists(tool_calls(), min_size=BATCH, max_size=BATCH), which=st.integers(0, 4), outcomes=st.data())
def test_tool_calls_of_a_chat_model_through_planner_validator_and_router(answers, which, outcomes, contexts,
                                                                         chat_planner):
    from vitron_agent.planners.base import MediaInfo, PlannerInput

    ctx = contexts[which]
    catalogue = {n: ctx.registry.spec(n) for n in ctx.registry.names() if ctx.registry.availability(n).ok}
    media = [MediaInfo(m.id, m.kind, m.width, m.height, m.frames) for m in MEDIA.values()]
    for calls in answers:
        chat_planner.model.calls = calls
        try:
            output = chat_planner.plan(PlannerInput(text="", messages=[], media=media, new_media=["u0"],
                                                    catalogue=catalogue))
        except VitronError as exc:
            assert_actionable(str(exc))
            continue
        _route(output.invocations, ctx, outcomes)


@pytest.fixture(scope="module")
def json_agent(registry: ExpertRegistry, tmp_path_factory: pytest.TempPathFactory):
    with VitronAgent(AgentConfig(state_dir=tmp_path_factory.mktemp("json-agent")), registry=registry) as agent:
        yield agent


@settings(FUZZ, max_examples=JSON_CASES // BATCH)
@given(payloads=st.lists(json_invocation_lists, min_size=BATCH, max_size=BATCH))
def test_json_invocation_lists_with_wrong_types_are_refused_before_the_turn(payloads, json_agent, registry):
    """``invoke(invocations=...)`` refuses a malformed list with a ``BadInputError`` and saves nothing."""
    before = json_agent.state("json")
    for payload in payloads:
        try:
            [Invocation(**item) for item in payload]
            continue  # all valid: what the router makes of them is the other tests' business
        except Exception:
            pass
        with pytest.raises(VitronError) as info:
            json_agent.invoke("", thread="json", invocations=payload)
        assert_actionable(str(info.value))
    assert json_agent.state("json") == before


def test_the_fuzz_budget_is_ten_thousand_planner_outputs():
    assert TEXT_CASES + TOOL_CASES + JSON_CASES >= 10_000


# --- what the fuzz found, pinned ------------------------------------------------------------------

FOUND = [
    # a points region on a segment expert that takes boxes and masks: the validator inserted a segment step
    # before the segment step, forever (RecursionError out of validate_plan)
    ("<module>B</module> <instruction>segment: the spot</instruction> <region>[[0.1, 0.2], [0.3, 0.4]]</region>",
     None),
    # a 4,000-character target phrase was quoted whole, twice, into one error message
    ("<instruction>segment: " + "x" * 4000 + "</instruction>", None),
    # a step refused for the budget left the steps depending on it pending, unreported
    ("<module>auto</module> <instruction>segment: the spot</instruction> <input>u0</input>", 0),
]


@pytest.mark.parametrize("text, calls", FOUND, ids=["segment-inserts-itself", "long-phrase", "budget-dependents"])
def test_what_the_fuzz_found(text, calls, contexts):
    ctx = next(c for c in contexts if calls is None or c.config.max_expert_calls == calls)

    class _Outcomes:
        def draw(self, strategy, label=None):
            return 1  # every simulated expert succeeds

    _text_case(text, ctx, _Outcomes())


@pytest.mark.parametrize("payload, says", [
    ([{}], "task: Field required"),
    ([{"task": "segment", "module": "x" * 5000}], "module must be an expert name"),
    (5, "invocations must be a list"),
    ({"task": "segment"}, "invocations must be a list"),
    (["segment"], "expected an object such as"),
])
def test_malformed_invocation_lists_name_the_field(payload, says, json_agent):
    with pytest.raises(VitronError) as info:
        json_agent.invoke("", thread="json", invocations=payload)
    assert says in str(info.value)
    assert_actionable(str(info.value))
