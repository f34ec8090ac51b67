"""Every expert tool as a model sees it: its schema declares exactly what the expert takes, and the calls a model
writes from the description alone (no op for a one-op expert, a bare box list, an output id) run."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from skimage import data

from vitron_agent import expert_tools
from vitron_agent.experts.registry import ExpertRegistry
from vitron_agent.experts.tool_schema import args_schema
from vitron_agent.stores.media_io import encode_video

from .synthetic_media import pan_clip

CUP = [172, 18, 410, 300]
REGISTRY = ExpertRegistry.default(entry_points_too=False)


@pytest.mark.parametrize("name", REGISTRY.names())
def test_each_schema_declares_what_its_expert_takes(name):
    spec = REGISTRY.spec(name)
    schema = args_schema(spec).model_json_schema()
    properties = schema["properties"]
    if spec.edit_ops:
        op = properties["op"]
        assert [v for o in op.get("anyOf", [op]) for v in o.get("enum", [o.get("const")]) if v] == list(spec.edit_ops)
        assert (op.get("default") == spec.edit_ops[0]) == (len(spec.edit_ops) == 1)  # one op: nothing to choose
        for needed, field in (("recolor", "color"), ("restyle", "style"), ("move", "direction"), ("replace", "new")):
            assert (field in properties) == (needed in spec.edit_ops or field == "new" and "add" in spec.edit_ops)
    else:
        assert "op" not in properties and "color" not in properties
    if spec.region_kinds:
        forms = properties["region"]["anyOf"]
        assert any(f.get("type") == "array" for f in forms) == ("box" in spec.region_kinds)
        assert any(f.get("type") == "string" for f in forms)  # an earlier output id
    else:
        assert "region" not in properties
    assert ("phrases" in properties) == ("boxes" in spec.reads_args)
    assert schema.get("additionalProperties") is False


def _call(name: str, args: dict, n: int) -> dict:
    return {"name": name, "args": args, "id": f"call_{n}", "type": "tool_call"}


def test_calls_written_from_the_descriptions_run(make_agent, photos, tmp_path):
    agent = make_agent()
    agent.attach("host", images=[photos["coffee"], photos["astronaut"]])
    tools = {t.name: t for t in expert_tools(agent, "host")}
    written = [  # what a model writes from each description: the least it must say, in the forms it names
        ("grabcut", {"region": CUP, "inputs": ["u0"]}, "o1"),
        ("opencv_recolor", {"color": "red", "region": "o1"}, "o2"),  # one op: no op needed
        ("opencv_inpaint", {"op": "move", "direction": "right", "region": "o1"}, "o3"),
        ("opencv_restyle", {"style": "pencil sketch", "inputs": ["u0"]}, "o4"),
        ("grabcut", {"region": {"points": [{"x": 290, "y": 150}, {"x": 60, "y": 360, "positive": False}]},
                     "inputs": ["u0"]}, "o5"),
        ("opencv_detect", {"command": "the faces", "inputs": ["u1"]}, "o6"),
        ("measure_answer", {"command": "how many faces are there?", "inputs": ["u1"]}, "o7"),
        ("pan_zoom", {"command": "slow zoom in", "inputs": ["u0"]}, "o8"),
    ]
    for n, (name, args, output) in enumerate(written, start=1):
        message = tools[name].invoke(_call(name, args, n))
        assert isinstance(message, ToolMessage) and message.status == "success", (name, message.content)
        assert message.artifact[0]["id"] == output, (name, message.artifact)
    refused = tools["opencv_inpaint"].invoke(_call("opencv_inpaint", {"region": "o1", "colour": "red"}, 99))
    assert refused.status == "error" and "colour" in refused.content and "Extra inputs are not permitted" in refused.content


def test_video_tools_take_the_frame_a_region_is_on(make_agent, tmp_path):
    frames, offsets = pan_clip(data.rocket(), frames=24, step=2)
    clip = tmp_path / "pan.mp4"
    clip.write_bytes(encode_video(frames, 12.0))
    agent = make_agent()
    agent.attach("video", videos=[clip])
    tools = {t.name: t for t in expert_tools(agent, "video")}
    box = [308 - offsets[8] - 12, 119, 336 - offsets[8] + 12, 360]  # the rocket on frame 8, drawn by eye
    tracked = tools["flow_track"].invoke(_call("flow_track", {"region": box, "frame": 8}, 1))
    assert tracked.status == "success", tracked.content
    assert "segment by grabcut" in tracked.content and "track by flow_track" in tracked.content
    edited = tools["frame_edit"].invoke(_call("frame_edit", {"op": "recolor", "color": "blue",
                                                             "region": tracked.artifact[2]["id"]}, 2))
    assert edited.status == "success", edited.content
    assert json.dumps(convert_to_openai_tool(tools["flow_track"])["function"]["parameters"]).count('"frame"') == 1
