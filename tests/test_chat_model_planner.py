"""ChatModelPlanner through the real graph with a scripted LangChain chat model."""

from __future__ import annotations

import numpy as np
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from PIL import Image

from vitron_agent import ChatModelPlanner


class ScriptedChatModel(FakeMessagesListChatModel):
    """Answers from a script and records what it was offered and shown."""

    def bind_tools(self, tools, **kwargs):
        self.__dict__.setdefault("offered", []).append(tools)
        return self

    def invoke(self, messages, *args, **kwargs):
        self.__dict__.setdefault("shown", []).append(list(messages))
        return super().invoke(messages, *args, **kwargs)


def _call(name: str, args: dict, call_id: str = "call_1") -> dict:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def test_tool_calls_run_and_the_model_answers_from_the_results(make_agent, synthetic_registry, spot_image):
    model = ScriptedChatModel(responses=[
        AIMessage(content="Segmenting.", tool_calls=[_call("box_mask", {"task": "segment",
                                                                        "region": {"box": [50, 30, 70, 40]}})]),
        AIMessage(content="The spot is segmented as o1."),
    ])
    agent = make_agent(registry=synthetic_registry, planner=ChatModelPlanner(model))
    result = agent.invoke("segment the spot", images=[spot_image])
    assert result.reply == "The spot is segmented as o1." and result.errors == []
    mask = np.asarray(Image.open(next(a.path for a in result.artifacts if a.kind == "mask"))) > 127
    assert mask.sum() == 200 and mask[30:40, 50:70].all()
    tools = {t["function"]["name"]: t["function"] for t in model.offered[0]}
    assert set(tools) == {"box_mask", "spot_finder", "invert_remove"}
    params = tools["box_mask"]["parameters"]["properties"]
    task = params["task"]
    assert task.get("enum", [task.get("const")]) == ["segment"]  # one task: pydantic writes "const"
    assert "state" not in params and "tool_call_id" not in params
    second_view = model.shown[1]
    assert isinstance(second_view[-1], ToolMessage) and "o1 (mask)" in second_view[-1].content
    system = second_view[0]
    assert isinstance(system, SystemMessage) and "u0: image 120x100" in system.content
    assert str(spot_image.parent) not in system.content  # ids only, never paths


def test_a_rejected_call_is_sent_back_and_the_corrected_call_runs(make_agent, synthetic_registry, spot_image):
    model = ScriptedChatModel(responses=[
        AIMessage(content="", tool_calls=[_call("box_mask", {"task": "segment", "region": {"box": [0, 0, 900, 40]}})]),
        AIMessage(content="", tool_calls=[_call("box_mask", {"task": "segment", "region": {"box": [0, 0, 60, 40]}},
                                                "call_2")]),
        AIMessage(content="Fixed it."),
    ])
    agent = make_agent(registry=synthetic_registry, planner=ChatModelPlanner(model))
    result = agent.invoke("segment the top left", images=[spot_image])
    assert result.reply == "Fixed it." and any(a.kind == "mask" for a in result.artifacts)
    revised_view = model.shown[1]
    assert "lies outside u0 (120x100)" in revised_view[0].content  # the feedback in the system prompt
    errors = [m for m in revised_view if isinstance(m, ToolMessage) and m.status == "error"]
    assert errors and "lies outside" in errors[0].content


def test_malformed_tool_arguments_become_feedback(make_agent, synthetic_registry, spot_image):
    model = ScriptedChatModel(responses=[
        AIMessage(content="", tool_calls=[_call("box_mask", {"task": "fly"})]),
        AIMessage(content="Sorry, I cannot do that."),
    ])
    agent = make_agent(registry=synthetic_registry, planner=ChatModelPlanner(model))
    result = agent.invoke("do something", images=[spot_image])
    assert result.reply == "Sorry, I cannot do that."
    assert "bad arguments" in model.shown[1][0].content
