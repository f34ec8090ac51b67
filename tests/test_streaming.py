"""Planner tokens on the ``custom`` stream: a streaming chat model through the graph (SQLite checkpointer), the
reply text stream of the VITRON planner, and the chat CLI, web UI and served graph that show them."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from PIL import Image

from vitron_agent import ChatModelPlanner
from vitron_agent.planners.vitron import ReplyStream

PLANNING = "Segmenting the bright spot in your box."
ANSWER = "The spot is segmented as o1, a 20x10 mask."
HELLO = "Hello there! Attach an image and tell me what to do with it."


class StreamingChat(GenericFakeChatModel):
    """Streams its scripted messages word by word (tool calls in OpenAI form come as a last chunk)."""

    def bind_tools(self, tools, **kwargs):
        return self


def _segment_call(box: list[int]) -> dict:
    arguments = json.dumps({"task": "segment", "region": {"box": box}})
    return {"id": "call_1", "type": "function", "function": {"name": "box_mask", "arguments": arguments}}


def _planner(*messages: AIMessage) -> ChatModelPlanner:
    return ChatModelPlanner(StreamingChat(messages=iter(messages)))


def _segment_then_answer() -> ChatModelPlanner:
    return _planner(AIMessage(content=PLANNING, additional_kwargs={"tool_calls": [_segment_call([50, 30, 70, 40])]}),
                    AIMessage(content=ANSWER))


def _tokens(events: list, round_: int) -> list[str]:
    return [e["text"] for mode, e in events if mode == "custom" and e["type"] == "token" and e["round"] == round_]


def test_chat_model_tokens_arrive_in_order_before_the_turn_ends(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry, planner=_segment_then_answer())
    events = list(agent.stream("segment the spot", thread="s1", images=[spot_image]))
    planning, answer = _tokens(events, 0), _tokens(events, 1)
    assert len(planning) > 5 and "".join(planning) == PLANNING  # word by word, as the model wrote them
    assert len(answer) > 5 and "".join(answer) == ANSWER
    kinds = [e["type"] if mode == "custom" else mode for mode, e in events]
    start, end = kinds.index("expert_start"), kinds.index("expert_end")
    first_answer = next(i for i, (m, e) in enumerate(events) if m == "custom" and e.get("round") == 1)
    last_token = max(i for i, k in enumerate(kinds) if k == "token")
    assert max(i for i, (m, e) in enumerate(events) if m == "custom" and e.get("round") == 0) < start
    assert end < first_answer and last_token < len(events) - 1 and kinds[-1] == "updates"  # tokens, then the end

    result = agent.result("s1")
    assert result.reply == ANSWER and [(i.module, i.task) for i in result.invocations] == [("box_mask", "segment")]
    mask = np.asarray(Image.open(next(a.path for a in result.artifacts if a.kind == "mask"))) > 127
    assert mask.sum() == 200 and mask[30:40, 50:70].all()  # the streamed tool call ran
    plan_message = next(m for m in agent.state("s1")["messages"] if getattr(m, "tool_calls", None))
    assert plan_message.content == PLANNING


def test_planners_that_do_not_stream_send_no_tokens(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)  # the rule-based planner
    events = list(agent.stream("segment the object in the box", images=[spot_image], region=[50, 30, 70, 40]))
    assert _tokens(events, 0) == [] and any(m == "custom" and e["type"] == "expert_start" for m, e in events)


def test_the_reply_stream_sends_the_reply_before_the_tags_in_whole_characters():
    text = "  Fish &amp; chips &lt;3, café!  <module>sam</module> <instruction>segment: fish</instruction> loose"
    pieces: list[str] = []
    stream = ReplyStream(lambda ids: bytes(ids).decode("utf-8", errors="replace"), pieces.append)
    for byte in text.encode():  # one byte a token: "é" comes in two, "&amp;" in five
        stream.feed([byte])
    assert "".join(pieces) == "Fish & chips <3, café!" == stream.shown
    assert " &" in pieces and "é" in pieces  # each sent whole once complete, never half an entity or character


def test_the_chat_cli_prints_the_reply_as_it_streams_and_not_twice(make_agent, synthetic_registry, spot_image):
    from vitron_agent.chat import run_chat

    agent = make_agent(registry=synthetic_registry, planner=_segment_then_answer())
    out = io.StringIO()
    run_chat(agent, stdin=io.StringIO(f"/image {spot_image}\nsegment the spot\n"), stdout=out)
    text = out.getvalue()
    assert text.count(PLANNING) == 1 and text.count(ANSWER) == 1
    assert re.search(rf"^{re.escape(PLANNING)}$.*^{re.escape(ANSWER)}$.*^  o1: mask -> ", text, re.M | re.S), text


def test_the_web_ui_grows_the_reply_while_the_planner_writes(make_agent, synthetic_registry):
    pytest.importorskip("gradio")
    from vitron_agent.ui.app import WebSession
    from vitron_agent.ui.history import live_messages

    agent = make_agent(registry=synthetic_registry, planner=_planner(AIMessage(content=HELLO)))
    session = WebSession(agent)
    keys = ("chat", "thread", "thread_label", "text", "pending", "attached", "source", "canvas", "frame",
            "anchor", "region", "trace", "waiting", "approval", "upload")
    session.bind(**{k: k for k in keys})
    updates = list(session.on_send("hi", "", 0, [], None, None, [], None))
    live = [u["chat"][-1]["content"] for u in updates[1:-1]]  # between the first yield and the finished turn
    assert len(live) > 5 and live[-1] == HELLO
    assert all(later.startswith(earlier) and len(later) > len(earlier) for earlier, later in zip(live, live[1:]))
    assert updates[-1]["chat"][-1] == {"role": "assistant", "content": HELLO}
    events = [{"type": "token", "text": "Old.", "round": 0}, {"type": "expert_start", "call": "1.0.c1"},
              {"type": "token", "text": "New", "round": 1}, {"type": "token", "text": " reply.", "round": 1}]
    assert [m["content"] for m in live_messages(events)][1:] == ["New reply."]  # the latest round's reply


def test_the_served_graph_passes_tokens_on(tmp_path, synthetic_registry, spot_image):
    from langgraph.checkpoint.memory import InMemorySaver

    from vitron_agent import AgentConfig, VitronAgent
    from vitron_agent.serve import build_serve_graph

    config = AgentConfig(state_dir=tmp_path / "state", media_roots=(spot_image.parent,))
    with VitronAgent(config, registry=synthetic_registry, planner=_segment_then_answer()) as agent:
        graph = build_serve_graph(agent).copy(update={"checkpointer": InMemorySaver()})
        request = {"messages": [{"role": "user", "content": "segment the spot"}], "images": [str(spot_image)]}
        events = list(graph.stream(request, {"configurable": {"thread_id": "s2"}}, stream_mode=["custom", "values"]))
    assert "".join(_tokens(events, 0)) == PLANNING and "".join(_tokens(events, 1)) == ANSWER
    assert events[-1][0] == "values" and events[-1][1]["reply"] == ANSWER
