"""Experts as LangChain tools for host agents: schema, artifacts, errors, injected state, ToolNode."""

from __future__ import annotations

import time

import numpy as np
import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from PIL import Image

from vitron_agent import expert_tools
from vitron_agent.experts.base import ExpertCall
from vitron_agent.experts.tool_schema import args_schema
from vitron_agent.protocol.invocation import Invocation


def _call(name: str, args: dict, call_id: str = "call_1") -> dict:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def _tools(agent, thread: str = "host") -> dict[str, BaseTool]:
    return {t.name: t for t in expert_tools(agent, thread)}


def _file(message: ToolMessage, kind: str) -> np.ndarray:
    return np.asarray(Image.open(next(a["path"] for a in message.artifact if a["kind"] == kind)))


class HostState(MessagesState):
    signals: dict


def _tool_node_graph(agent):
    graph = StateGraph(HostState)
    graph.add_node("tools", ToolNode(expert_tools(agent, "host")))
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    return graph.compile()


def test_tools_have_content_and_artifact_and_hide_injected_arguments(make_agent, synthetic_registry):
    agent = make_agent(registry=synthetic_registry)
    tools = _tools(agent)
    assert set(tools) == {"box_mask", "spot_finder", "invert_remove"}
    for name, tool in tools.items():
        assert isinstance(tool, BaseTool) and tool.response_format == "content_and_artifact"
        visible = tool.tool_call_schema.model_json_schema()["properties"]
        assert {"task", "command", "inputs", "args"} <= set(visible)
        assert "state" not in visible and "tool_call_id" not in visible and "state" not in tool.args
        # the same schema the ChatModelPlanner offers a model, so both paths agree
        offered = convert_to_openai_tool(tool)["function"]["parameters"]["properties"]
        planner_view = args_schema(synthetic_registry.spec(name)).model_json_schema()["properties"]
        assert set(offered) == set(planner_view) and offered["task"]["const"] == planner_view["task"]["const"]
    assert "region" in tools["box_mask"].args and "region" not in tools["spot_finder"].args
    assert [t.name for t in expert_tools(agent, "host", names=["box_mask"])] == ["box_mask"]


def test_a_tool_call_returns_the_summary_and_real_artifact_files(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    assert agent.attach("host", images=[spot_image]) == ["u0"]
    tool = _tools(agent)["box_mask"]
    message = tool.invoke(_call("box_mask", {"task": "segment", "region": {"box": [50, 30, 70, 40]}, "inputs": ["u0"]}))
    assert isinstance(message, ToolMessage) and message.status == "success" and message.tool_call_id == "call_1"
    assert "o1 (mask)" in message.content and "o1.1 (preview)" in message.content
    assert [(a["id"], a["kind"], a["width"], a["height"]) for a in message.artifact] == [
        ("o1", "mask", 120, 100), ("o1.1", "image", 120, 100)]
    mask = _file(message, "mask") > 127
    assert mask.sum() == 200 and mask[30:40, 50:70].all()
    assert set(agent.state("host")["media"]) >= {"u0", "o1", "o1.1"}  # outputs live in the thread
    again = tool.invoke(_call("box_mask", {"task": "segment", "region": {"box": [0, 0, 10, 10]}}, "call_2"))
    assert "o2 (mask)" in again.content and (_file(again, "mask") > 127).sum() == 100


def test_tools_chain_through_output_ids(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    agent.attach("host", images=[spot_image])
    tools = _tools(agent)
    found = tools["spot_finder"].invoke(_call("spot_finder", {"task": "ground", "command": "spot"}))
    assert "o1 (boxes)" in found.content
    masked = tools["box_mask"].invoke(_call("box_mask", {"task": "segment", "region": {"ref": "o1"}}, "call_2"))
    assert (_file(masked, "mask") > 127).sum() == 200
    removed = tools["invert_remove"].invoke(_call("invert_remove", {
        "task": "edit_image", "args": {"op": "remove"}, "region": {"ref": "o2"}}, "call_3"))
    assert "o3 (image)" in removed.content
    edited, original = _file(removed, "image"), np.asarray(Image.open(spot_image))
    assert (edited[30:40, 50:70] == 0).all() and np.array_equal(edited[:30], original[:30])


@pytest.mark.parametrize("args, expected", [
    ({"task": "segment", "region": {"box": [0, 0, 500, 10]}}, "lies outside u0 (120x100)"),
    ({"task": "segment"}, "segment needs a region (box, mask)"),
    ({"task": "segment", "region": {"ref": "o9"}}, "region o9 does not exist"),
    ({"task": "segment", "region": {"box": [0, 0, 5, 5]}, "inputs": ["u7"]}, "input u7 does not exist"),
])
def test_bad_arguments_come_back_as_an_error_message(make_agent, synthetic_registry, spot_image, args, expected):
    agent = make_agent(registry=synthetic_registry)
    agent.attach("host", images=[spot_image])
    message = _tools(agent)["box_mask"].invoke(_call("box_mask", args))
    assert isinstance(message, ToolMessage) and message.status == "error" and expected in message.content
    assert "o1" not in agent.state("host")["media"]


def test_a_thread_without_media_says_what_is_missing(make_agent, synthetic_registry):
    agent = make_agent(registry=synthetic_registry)
    message = _tools(agent)["box_mask"].invoke(_call("box_mask", {"task": "segment", "region": {"box": [0, 0, 5, 5]}}))
    assert message.status == "error" and "segment needs an input image, and none has been given" in message.content


@pytest.mark.parametrize("args, expected", [
    ({"task": "segment", "region": {"box": [1, 2, 3]}}, "box must be 4 numbers"),
    ({"task": "fly", "region": {"box": [1, 2, 3, 4]}}, "task"),
])
def test_schema_violations_come_back_as_an_error_message(make_agent, synthetic_registry, spot_image, args, expected):
    agent = make_agent(registry=synthetic_registry)
    agent.attach("host", images=[spot_image])
    message = _tools(agent)["box_mask"].invoke(_call("box_mask", args))
    assert message.status == "error" and expected in message.content


def test_schema_violations_inside_a_tool_node_are_error_messages(make_agent, synthetic_registry, spot_image):
    """ToolNode catches the ValidationError itself (unlike a bare ``tool.invoke``)."""
    agent = make_agent(registry=synthetic_registry)
    agent.attach("host", images=[spot_image])
    call = AIMessage(content="", tool_calls=[_call("box_mask", {"task": "segment", "region": {"box": [1, 2, 3]}})])
    message = _tool_node_graph(agent).invoke({"messages": [call], "signals": {}})["messages"][-1]
    assert message.status == "error" and "box must be 4 numbers" in message.content


def test_grabcut_through_its_tool_on_a_real_photo(make_agent, photos):
    from vitron_agent.tools.grabcut import GrabCutExpert

    agent = make_agent()
    agent.attach("host", images=[photos["coffee"]])
    (tool,) = expert_tools(agent, "host", names=["grabcut"])
    message = tool.invoke(_call("grabcut", {"task": "segment", "region": {"box": [172, 18, 410, 300]}}))
    assert message.status == "success" and "o1 (mask)" in message.content
    mask = _file(message, "mask") > 127
    assert mask.shape == (400, 600) and 0.05 < mask.mean() < 0.3
    assert not mask[:, :171].any() and not mask[:, 411:].any() and not mask[301:].any()  # inside the box
    assert mask[150, 290] and mask[100, 205] and not mask[250, 120]  # crema and rim in, saucer out
    photo = np.asarray(Image.open(photos["coffee"]))
    direct = GrabCutExpert()
    direct.load()
    (reference,) = direct.run(ExpertCall(invocation=Invocation(task="segment"), images=[photo],
                                         boxes=[(172.0, 18.0, 410.0, 300.0)])).masks
    assert (mask & reference).sum() / (mask | reference).sum() > 0.98  # the tool passed the same box


def test_signals_reach_tools_through_injected_state_in_a_tool_node(make_agent, synthetic_registry, spot_image):
    from .synthetic_experts import SignalMaskExpert

    synthetic_registry.register(SignalMaskExpert)
    agent = make_agent(registry=synthetic_registry)
    agent.attach("host", images=[spot_image])
    host = _tool_node_graph(agent)
    call = AIMessage(content="", tool_calls=[_call("signal_mask", {"task": "segment", "region": {"box": [0, 0, 9, 9]}})])
    missing = host.invoke({"messages": [call], "signals": {"call_1": "s0123456789abcdef"}})["messages"][-1]
    assert missing.status == "error"
    assert "signal s0123456789abcdef is not in this thread's signal store" in missing.content
    assert "o1" not in agent.state("host")["media"]
    _, signals = agent.context.stores("host")
    signal_id = signals.put(np.ones((2, 4), np.float32))
    found = host.invoke({"messages": [call], "signals": {"call_1": signal_id}})["messages"][-1]
    assert found.status == "success" and "o1 (mask)" in found.content and found.tool_call_id == "call_1"
    assert "signal 2x4" in found.content  # the expert received the embeddings
    other = host.invoke({"messages": [call], "signals": {"call_9": "s0123456789abcdef"}})["messages"][-1]
    assert other.status == "success"  # signals are keyed by tool call id: another call's signal is not used
    assert "signal none" in other.content
    no_embeddings = AIMessage(content="", tool_calls=[_call("box_mask", {"task": "segment",
                                                                           "region": {"box": [0, 0, 9, 9]}})])
    refused = host.invoke({"messages": [no_embeddings], "signals": {"call_1": signal_id}})["messages"][-1]
    assert refused.status == "error" and "box_mask takes no signal embeddings" in refused.content


def test_parallel_calls_of_different_tools_get_distinct_outputs(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    agent.attach("host", images=[spot_image])
    read_state = agent.state

    def slow_state(thread):  # a checkpointer that takes 50 ms to read (Postgres over a network)
        values = read_state(thread)
        time.sleep(0.05)
        return values

    agent.state = slow_state
    call = AIMessage(content="", tool_calls=[
        _call("box_mask", {"task": "segment", "region": {"box": [50, 30, 70, 40]}}),
        _call("spot_finder", {"task": "ground", "command": "spot"}, "call_2"),
    ])
    messages = _tool_node_graph(agent).invoke({"messages": [call], "signals": {}})["messages"][1:]
    assert [m.status for m in messages] == ["success", "success"]
    outputs = [m.artifact[0]["id"] for m in messages]
    assert len(set(outputs)) == 2, outputs
    media = read_state("host")["media"]
    assert sorted(media[o]["kind"] for o in outputs) == ["boxes", "mask"]
