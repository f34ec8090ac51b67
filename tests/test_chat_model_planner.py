"""ChatModelPlanner through the real graph (SQLite checkpointer) with a scripted LangChain chat model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from PIL import Image
from pydantic import Field

from vitron_agent import ChatModelPlanner
from vitron_agent.experts.base import ExpertSpec
from vitron_agent.experts.tool_schema import describe_expert

from .synthetic_experts import BoxMaskExpert


class ScriptedChatModel(FakeMessagesListChatModel):
    """Answers from ``responses`` in order; records the tools it was offered and every prompt it was shown."""

    offered: list[list[dict[str, Any]]] = Field(default_factory=list)
    shown: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools, **kwargs):
        self.offered.append(list(tools))
        return self

    def invoke(self, messages, *args, **kwargs):
        self.shown.append(list(messages))
        return super().invoke(messages, *args, **kwargs)


class SegmentOrTrack(BoxMaskExpert):
    """Two tasks, so its tool schema has a real enum."""

    spec = ExpertSpec(name="seg_or_track", tasks=("segment", "track"), description="Boxes to masks, images or videos.",
                      input_kinds=("image", "video"), region_kinds=("box",), region_required=True, outputs=("mask",))


class NeedsAMissingPackage(BoxMaskExpert):
    spec = ExpertSpec(name="not_installed", tasks=("segment",), description="Needs a package that is absent.",
                      region_kinds=("box",), outputs=("mask",), requires=("no_such_package_vitron_test",))


def _call(name: str, args: dict, call_id: str = "call_1") -> dict:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def _segment(box, call_id: str = "call_1") -> dict:
    return _call("box_mask", {"task": "segment", "region": {"box": box}}, call_id)


def _agent(make_agent, registry, *responses: AIMessage):
    model = ScriptedChatModel(responses=list(responses))
    return make_agent(registry=registry, planner=ChatModelPlanner(model)), model


def _mask(result) -> np.ndarray:
    return np.asarray(Image.open(next(a.path for a in result.artifacts if a.kind == "mask"))) > 127


def _tool_messages(view: list[BaseMessage]) -> list[ToolMessage]:
    return [m for m in view if isinstance(m, ToolMessage)]


def test_tool_calls_run_and_the_model_answers_from_the_results(make_agent, synthetic_registry, spot_image):
    agent, model = _agent(make_agent, synthetic_registry,
                          AIMessage(content="Segmenting.", tool_calls=[_segment([50, 30, 70, 40])]),
                          AIMessage(content="The spot is segmented as o1."))
    result = agent.invoke("segment the spot", images=[spot_image])
    assert result.reply == "The spot is segmented as o1." and result.errors == []
    assert [(i.module, i.task) for i in result.invocations] == [("box_mask", "segment")]
    mask = _mask(result)
    assert mask.shape == (100, 120) and mask.sum() == 200 and mask[30:40, 50:70].all()
    assert len(model.shown) == 2  # one call to plan, one to answer after the tool ran
    second_view = model.shown[1]
    plan_message, result_message, shown = second_view[-3], second_view[-2], second_view[-1]
    assert isinstance(result_message, ToolMessage) and result_message.status == "success"
    assert isinstance(shown, HumanMessage) and [b["type"] for b in shown.content][-1] == "image"  # the overlay
    assert "o1 (mask)" in result_message.content
    assert plan_message.tool_calls[0]["id"] == result_message.tool_call_id  # a pair real providers accept
    assert plan_message.tool_calls[0]["name"] == "box_mask"
    assert agent.state(result.thread)["messages"][-1].content == "The spot is segmented as o1."


def test_the_tools_offered_are_generated_from_the_available_experts(make_agent, synthetic_registry, spot_image):
    synthetic_registry.register(SegmentOrTrack)
    synthetic_registry.register(NeedsAMissingPackage)
    agent, model = _agent(make_agent, synthetic_registry, AIMessage(content="Nothing to do."))
    agent.invoke("hello", images=[spot_image])
    assert len(model.offered) == 1
    tools = {t["function"]["name"]: t["function"] for t in model.offered[0]}
    assert set(tools) == {"box_mask", "spot_finder", "invert_remove", "seg_or_track"}  # not the unavailable one
    for name, tool in tools.items():
        spec = synthetic_registry.spec(name)
        assert tool["description"] == describe_expert(spec)
        properties = tool["parameters"]["properties"]
        task = properties["task"]
        assert task.get("enum", [task.get("const")]) == list(spec.tasks)  # one task: pydantic writes "const"
        assert "state" not in properties and "tool_call_id" not in properties
        assert ("region" in properties) == bool(spec.region_kinds)
    assert tools["seg_or_track"]["parameters"]["properties"]["task"]["enum"] == ["segment", "track"]


def test_the_model_sees_media_ids_and_never_a_path(make_agent, synthetic_registry, spot_image):
    agent, model = _agent(make_agent, synthetic_registry,
                          AIMessage(content="", tool_calls=[_segment([50, 30, 70, 40])]),
                          AIMessage(content="Done."))
    result = agent.invoke("segment the object in the box", images=[spot_image], region=[50, 30, 70, 40])
    assert result.reply == "Done."
    system = model.shown[0][0]
    assert isinstance(system, SystemMessage)
    assert "u0: image 120x100, from the user" in system.content
    assert "the user drew a region on u0" in system.content
    assert "- box_mask: Rectangle masks from boxes." in system.content  # the catalogue from the specs
    assert "o1: mask 120x100, made by box_mask from u0" in model.shown[1][0].content
    human = model.shown[0][1]
    assert isinstance(human, HumanMessage) and "[u0: image 120x100]" in human.text
    folders = {str(spot_image.parent), str(agent.config.state_dir)}
    for view in model.shown:
        for message in view:
            seen = repr(message.content) + repr(message.additional_kwargs) + repr(getattr(message, "artifact", None))
            assert not any(folder in seen for folder in folders), message


def test_a_rejected_call_is_sent_back_and_the_corrected_call_runs(make_agent, synthetic_registry, spot_image):
    agent, model = _agent(make_agent, synthetic_registry,
                          AIMessage(content="", tool_calls=[_segment([0, 0, 900, 40])]),
                          AIMessage(content="", tool_calls=[_segment([0, 0, 60, 40], "call_2")]),
                          AIMessage(content="Fixed it."))
    result = agent.invoke("segment the top left", images=[spot_image])
    assert result.reply == "Fixed it." and result.errors == []
    assert len(model.shown) == 3
    revised_view = model.shown[1]
    assert "## Your last plan was rejected" in revised_view[0].content
    assert "lies outside u0 (120x100)" in revised_view[0].content
    errors = [m for m in _tool_messages(revised_view) if m.status == "error"]
    assert len(errors) == 1 and "lies outside" in errors[0].content
    mask = _mask(result)
    assert mask.sum() == 60 * 40 and mask[:40, :60].all()
    assert "rejected" not in model.shown[2][0].content  # the feedback is cleared once a plan passes


def test_an_unknown_tool_is_sent_back_with_the_names_to_use(make_agent, synthetic_registry, spot_image):
    agent, model = _agent(make_agent, synthetic_registry,
                          AIMessage(content="", tool_calls=[_call("sam", {"task": "segment",
                                                                          "region": {"box": [50, 30, 70, 40]}})]),
                          AIMessage(content="", tool_calls=[_segment([50, 30, 70, 40], "call_2")]),
                          AIMessage(content="Used box_mask instead."))
    result = agent.invoke("segment the spot", images=[spot_image])
    assert result.reply == "Used box_mask instead." and _mask(result).sum() == 200
    error = _tool_messages(model.shown[1])[0]
    assert error.status == "error" and "unknown module 'sam'" in error.content
    assert "box_mask, invert_remove, spot_finder" in error.content


@pytest.mark.parametrize("bad_args, feedback", [
    ({"task": "fly"}, "tool call box_mask #1 has bad arguments: task: Input should be"),
    ({"task": "segment", "region": {"box": [50, 30, 70]}}, "region: Value error, box: box must be 4 numbers"),
    ({"task": "segment", "region": [50, 30, 70]}, "region: Value error, a box is 4 numbers [x1, y1, x2, y2]"),
    ({"task": "segment", "region": {"box": [70, 30, 50, 40]}}, "is inverted or empty; need x1 < x2"),
])
def test_malformed_arguments_become_feedback_and_the_retry_runs(make_agent, synthetic_registry, spot_image,
                                                                bad_args, feedback):
    agent, model = _agent(make_agent, synthetic_registry,
                          AIMessage(content="", tool_calls=[_call("box_mask", bad_args)]),
                          AIMessage(content="", tool_calls=[_segment([50, 30, 70, 40], "call_2")]),
                          AIMessage(content="Segmented."))
    result = agent.invoke("segment the spot", images=[spot_image])
    assert result.reply == "Segmented." and result.errors == [] and _mask(result).sum() == 200
    assert len(model.shown) == 3
    assert feedback in model.shown[1][0].content.partition("## Your last plan was rejected")[2]


def test_feedback_for_a_bad_task_names_the_tools_own_tasks(make_agent, synthetic_registry, spot_image):
    """Tool-call args are checked against the schema the tool was offered with, not all nine tasks."""
    agent, model = _agent(make_agent, synthetic_registry,
                          AIMessage(content="", tool_calls=[_call("box_mask", {"task": "fly"})]),
                          AIMessage(content="Sorry."))
    agent.invoke("segment the spot", images=[spot_image])
    feedback = model.shown[1][0].content.partition("## Your last plan was rejected")[2]
    assert "'segment'" in feedback and "edit_video" not in feedback


def test_after_the_last_allowed_retry_the_model_still_answers(make_agent, synthetic_registry, spot_image):
    """Retries of rejected plans do not use up the rounds for answering after the tools ran."""
    agent, model = _agent(make_agent, synthetic_registry,
                          AIMessage(content="", tool_calls=[_call("box_mask", {"task": "fly"})]),
                          AIMessage(content="", tool_calls=[_segment([50, 30, 70])]),
                          AIMessage(content="", tool_calls=[_segment([50, 30, 70, 40])]),
                          AIMessage(content="Segmented."))
    assert agent.config.max_planner_retries == 2 and agent.config.max_plan_rounds == 3  # the defaults
    result = agent.invoke("segment the spot", images=[spot_image])
    assert _mask(result).sum() == 200  # the corrected call ran...
    assert result.reply == "Segmented."  # ...and the model answered from its result


def test_retries_are_bounded_and_the_reason_reaches_the_user(make_agent, synthetic_registry, spot_image):
    bad = AIMessage(content="", tool_calls=[_segment([0, 0, 900, 40])])
    agent, model = _agent(make_agent, synthetic_registry, *[bad] * 8)
    result = agent.invoke("segment everything", images=[spot_image])
    assert 1 + agent.config.max_planner_retries <= len(model.shown)
    assert len(model.shown) <= agent.config.max_planner_retries + agent.config.max_plan_rounds
    assert result.artifacts == [] and any("lies outside u0" in e["message"] for e in result.errors)
    assert "lies outside u0" in result.reply


def test_parallel_calls_with_a_reference_and_a_second_turn(make_agent, synthetic_registry, spot_image):
    agent, model = _agent(
        make_agent, synthetic_registry,
        AIMessage(content="", tool_calls=[
            _segment([50, 30, 70, 40]),
            _call("invert_remove", {"task": "edit_image", "args": {"op": "remove"}, "region": {"ref": "c1"}}, "call_2"),
        ]),
        AIMessage(content="Removed the spot."),
        AIMessage(content="", tool_calls=[_call("invert_remove", {"task": "edit_image", "args": {"op": "remove"},
                                                                  "region": {"ref": "o1"}, "inputs": ["o2"]})]),
        AIMessage(content="Put it back."),
    )
    first = agent.invoke("remove the spot", images=[spot_image])
    assert first.reply == "Removed the spot."
    edited = np.asarray(Image.open(next(a.path for a in first.artifacts if a.id == "o2")))
    assert (edited[30:40, 50:70] == 0).all() and edited.sum() == 0
    results = _tool_messages(model.shown[1])
    assert [m.status for m in results] == ["success", "success"] and "o2 (image)" in results[1].content
    second = agent.invoke("undo that by removing it again", thread=first.thread)
    assert second.reply == "Put it back."
    restored = np.asarray(Image.open(next(a.path for a in second.artifacts if a.kind == "image")))
    assert np.array_equal(restored, np.asarray(Image.open(spot_image)))
    turn2_view = model.shown[2]  # the whole conversation so far, then the new request
    assert [type(m).__name__ for m in turn2_view] == [
        "SystemMessage", "HumanMessage", "AIMessage", "ToolMessage", "ToolMessage", "AIMessage", "HumanMessage"]
    assert "o2: image 120x100, made by invert_remove from u0" in turn2_view[0].content
