"""The graph in a host's LangGraph app, fed LangChain messages: images as content blocks, no hand-made ingest."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from PIL import Image

from vitron_agent import AgentConfig, VitronAgent, build_graph
from vitron_agent.errors import BadInputError

CUP = [172, 18, 410, 300]  # the coffee cup in scikit-image's coffee photo, drawn by eye


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _host(agent: VitronAgent):
    builder = StateGraph(MessagesState)
    builder.add_node("vision", agent.as_subgraph())
    builder.add_edge(START, "vision")
    builder.add_edge("vision", END)
    return builder.compile(checkpointer=InMemorySaver())


def test_a_messages_state_host_runs_two_turns_with_image_blocks(tmp_path, photos):
    with VitronAgent(AgentConfig(state_dir=tmp_path / "state")) as agent:
        app = _host(agent)
        config = {"configurable": {"thread_id": "host-1"}}
        first = HumanMessage(content=[{"type": "text", "text": "segment the object in the box"},
                                      {"type": "image", "base64": _b64(photos["coffee"]), "mime_type": "image/png"}],
                             additional_kwargs={"region": CUP})
        out = app.invoke({"messages": [first]}, config)
        reply = out["messages"][-1]
        assert isinstance(reply, AIMessage) and "segment by grabcut" in reply.content
        (mask,) = [a for a in reply.additional_kwargs["artifacts"] if a["kind"] == "mask"]
        inside = np.asarray(Image.open(mask["path"])) > 127
        x1, y1, x2, y2 = CUP
        assert inside.shape == (400, 600) and 0.05 < inside.mean() < 0.3 and inside.sum() == inside[y1:y2, x1:x2].sum()
        stored = out["messages"][0]
        assert stored.id == out["messages"][0].id and isinstance(stored.content, str)  # no base64 kept in state
        assert stored.additional_kwargs["media"] == ["u0"]

        second = app.invoke({"messages": [HumanMessage("now make it red")]}, config)
        reply = second["messages"][-1]
        assert "recolor by opencv_recolor" in reply.content, reply.content
        (edited,) = [a for a in reply.additional_kwargs["artifacts"] if a["kind"] == "image" and not a["preview"]]
        red = np.asarray(Image.open(edited["path"])).astype(int)[inside]
        assert (red[:, 0] > red[:, 2] + 40).mean() > 0.9  # the cup segmented in turn 1 is red now
        human = [m for m in second["messages"] if isinstance(m, HumanMessage)]
        assert len(human) == 2 and all(isinstance(m.content, str) for m in human)


def test_media_the_graph_cannot_use_is_reported_and_the_turn_goes_on(tmp_path, photos):
    with VitronAgent(AgentConfig(state_dir=tmp_path / "state")) as agent:
        app = _host(agent)
        message = HumanMessage(content=[{"type": "text", "text": "find the faces"},
                                        {"type": "image", "url": "https://example.com/cat.png"},
                                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}},
                                        {"type": "image", "url": f"file://{photos['astronaut']}"}])
        out = app.invoke({"messages": [message]}, {"configurable": {"thread_id": "h"}})
    reply = out["messages"][-1].content
    assert "https URLs are not fetched" in reply and "invalid base64" in reply
    assert "ground by opencv_detect" in reply  # the astronaut, given as a file URL, was used


def test_the_graph_without_context_says_what_to_pass():
    graph = build_graph(InMemorySaver())
    with pytest.raises(BadInputError, match=r"context=agent.context .* or add agent.as_subgraph\(\)"):
        graph.invoke({"messages": [HumanMessage("hello")]}, {"configurable": {"thread_id": "x"}})


def test_stream_takes_langgraph_stream_modes(make_agent, photos):
    agent = make_agent()
    values = list(agent.stream("segment the object in the box", images=[photos["coffee"]], region=CUP,
                               stream_mode="values"))
    assert values and isinstance(values[-1]["messages"][-1], AIMessage)
    pairs = list(agent.stream("find the faces", images=[photos["astronaut"]], stream_mode=["messages", "updates"]))
    assert {mode for mode, _ in pairs} == {"messages", "updates"}
