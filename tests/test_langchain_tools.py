"""Experts as LangChain tools for host agents: schema, artifacts, errors, injected state."""

from __future__ import annotations

import numpy as np
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from PIL import Image

from vitron_agent import expert_tools


def _call(name: str, args: dict, call_id: str = "call_1") -> dict:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def test_tools_have_content_and_artifact_and_hide_injected_arguments(make_agent, synthetic_registry):
    agent = make_agent(registry=synthetic_registry)
    tools = {t.name: t for t in expert_tools(agent, "host")}
    assert set(tools) == {"box_mask", "spot_finder", "invert_remove"}
    tool = tools["box_mask"]
    assert tool.response_format == "content_and_artifact"
    visible = tool.tool_call_schema.model_json_schema()["properties"]
    assert {"task", "command", "region", "inputs", "args"} <= set(visible)
    assert "state" not in visible and "tool_call_id" not in visible


def test_a_tool_call_returns_the_summary_and_real_artifact_files(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    assert agent.attach("host", images=[spot_image]) == ["u0"]
    tool = {t.name: t for t in expert_tools(agent, "host")}["box_mask"]
    message = tool.invoke(_call("box_mask", {"task": "segment", "region": {"box": [50, 30, 70, 40]}, "inputs": ["u0"]}))
    assert isinstance(message, ToolMessage) and "o1 (mask)" in message.content
    mask_file = next(a["path"] for a in message.artifact if a["kind"] == "mask")
    assert (np.asarray(Image.open(mask_file)) > 127).sum() == 200
    assert set(agent.state("host")["media"]) >= {"u0", "o1", "o1.1"}  # outputs live in the thread
    again = tool.invoke(_call("box_mask", {"task": "segment", "region": {"box": [0, 0, 10, 10]}}, "call_2"))
    assert "o2 (mask)" in again.content


def test_bad_arguments_come_back_as_an_error_message(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    agent.attach("host", images=[spot_image])
    tool = {t.name: t for t in expert_tools(agent, "host")}["box_mask"]
    message = tool.invoke(_call("box_mask", {"task": "segment", "region": {"box": [0, 0, 500, 10]}}))
    assert message.status == "error" and "lies outside u0 (120x100)" in message.content


def test_grabcut_through_its_tool_on_a_real_photo(make_agent, photos):
    agent = make_agent()
    agent.attach("host", images=[photos["coffee"]])
    tool = {t.name: t for t in expert_tools(agent, "host")}["grabcut"]
    message = tool.invoke(_call("grabcut", {"task": "segment", "region": {"box": [172, 18, 410, 300]}}))
    mask = np.asarray(Image.open(next(a["path"] for a in message.artifact if a["kind"] == "mask"))) > 127
    assert mask.shape == (400, 600) and 0.05 < mask.mean() < 0.3 and not mask[:, :150].any()


def test_signals_reach_tools_through_injected_state_in_a_tool_node(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    agent.attach("host", images=[spot_image])

    class HostState(MessagesState):
        signals: dict

    graph = StateGraph(HostState)
    graph.add_node("tools", ToolNode(expert_tools(agent, "host")))
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    host = graph.compile()
    call = AIMessage(content="", tool_calls=[_call("box_mask", {"task": "segment", "region": {"box": [0, 0, 9, 9]}})])
    missing = host.invoke({"messages": [call], "signals": {"call_1": "s0123456789abcdef"}})["messages"][-1]
    assert missing.status == "error" and "signal s0123456789abcdef is not in this thread's signal store" in missing.content
    _, signals = agent.context.stores("host")
    signal_id = signals.put(np.ones((2, 4), np.float32))
    found = host.invoke({"messages": [call], "signals": {"call_1": signal_id}})["messages"][-1]
    assert found.status == "success" and "o1 (mask)" in found.content
