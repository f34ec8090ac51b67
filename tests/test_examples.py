"""The examples run offline and do what they say: each is loaded from its file and its outputs checked."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitron_agent import AgentConfig, VitronAgent

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


@pytest.fixture
def agent(tmp_path):
    with VitronAgent(AgentConfig(state_dir=tmp_path / "state")) as agent:
        yield agent


def test_chat_agent_builds_each_turn_on_the_last(agent, photos):
    import cv2

    chat = _example("chat_agent")
    results = chat.chat(agent, photos["coffee"], chat.CONVERSATION)
    assert [r.errors for r in results] == [[], [], []]
    assert len({r.thread for r in results}) == 1
    mask = _load(next(a.path for a in results[0].artifacts if a.kind == "mask")) > 0
    blue = _load(next(a.path for a in results[1].artifacts if a.kind == "image"))
    hue = cv2.cvtColor(blue, cv2.COLOR_RGB2HSV)[..., 0][mask & (cv2.cvtColor(blue, cv2.COLOR_RGB2HSV)[..., 1] > 60)]
    assert ((hue > 95) & (hue < 130)).mean() > 0.6  # the cup is blue now
    sketch = _load(next(a.path for a in results[2].artifacts if a.kind == "image")).astype(int)
    assert sketch.shape == blue.shape
    assert np.abs(sketch[..., 0] - sketch[..., 1]).mean() < 3  # a pencil sketch is grey


def test_scripted_pipeline_segments_removes_and_animates_every_image(tmp_path, photos):
    import av
    import cv2

    pipeline = _example("scripted_pipeline")
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("coffee", "chelsea"):
        Image.open(photos["coffee"] if name == "coffee" else photos["chelsea"]).save(folder / f"{name}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    report = pipeline.run(folder, tmp_path / "out", (172, 18, 410, 300), tmp_path / "state")
    assert "error" in report["broken.png"] and "broken.png" in report["broken.png"]["error"]
    for name in ("coffee.png", "chelsea.png"):
        entry = report[name]
        assert entry["errors"] == [] and [task for task, _ in entry["steps"]] == [
            "segment", "edit_image", "animate_image"]
        files = {Path(f).suffix: f for f in entry["files"]}
        mask = _load(next(f for f in entry["files"] if "_mask" in f)) > 0
        removed = _load(next(f for f in entry["files"] if "_image" in f))
        original = _load(folder / name)
        assert mask.any() and np.abs(removed[mask].astype(int) - original[mask]).mean() > 5
        far = ~cv2.dilate(mask.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
        assert np.array_equal(removed[far], original[far])  # only the object and its edge were filled
        with av.open(files[".mp4"]) as video:
            assert sum(1 for _ in video.decode(video=0)) > 1
    assert json.loads((tmp_path / "out" / "report.json").read_text()).keys() == report.keys()


def test_custom_expert_pixelates_exactly_the_grounded_face(agent, photos):
    custom = _example("custom_expert")
    agent.add_expert(custom.PixelateExpert)
    from vitron_agent import Invocation

    result = agent.invoke(images=[photos["astronaut"]], invocations=[
        Invocation(id="c1", task="ground", command="faces", inputs=["u0"]),
        Invocation(id="c2", module="pixelate", task="edit_image", command="the faces", inputs=["u0"],
                   region={"ref": "c1"}, args={"op": "restyle", "block": 12}),
    ])
    assert result.errors == [] and result.invocations[1].module == "pixelate"
    box = json.loads(Path(next(a.path for a in result.artifacts if a.kind == "boxes")).read_text())
    x1, y1, x2, y2 = (int(v) for v in box["detections"][0]["box"])
    out = _load(next(a.path for a in result.artifacts if a.kind == "image" and not a.preview))
    original = _load(photos["astronaut"])
    block = out[(y1 // 12 + 1) * 12:(y1 // 12 + 2) * 12, (x1 // 12 + 1) * 12:(x1 // 12 + 2) * 12]
    assert (block == block[0, 0]).all()  # one colour per 12x12 block inside the face
    outside = np.ones(out.shape[:2], bool)
    outside[y1:y2, x1:x2] = False
    assert np.array_equal(out[outside], original[outside])


def test_langgraph_host_graph_and_create_agent_tools(agent, photos):
    pytest.importorskip("langchain")
    from langchain_core.messages import HumanMessage, ToolMessage

    host = _example("langgraph_host")
    app = host.host_graph(agent)
    config = {"configurable": {"thread_id": "a"}}
    out = app.invoke({"messages": [host.photo_message("segment the object in the box", photos["coffee"], host.BOX)]},
                     config)
    assert out["messages"][-1].content.startswith("1 file(s) ready")
    mask = _load(out["files"][0]) > 0
    assert mask.shape == (400, 600) and 0.05 < mask.mean() < 0.4
    again = app.invoke({"messages": [HumanMessage("make it red")]}, config)
    assert "recolo" in again["messages"][-2].content and again["messages"][-1].content.startswith("2 file(s) ready")
    red = _load(next(f for f in again["files"] if f.endswith(".png") and _load(f).ndim == 3)).astype(int)[mask]
    assert (red[:, 0] > red[:, 2] + 40).mean() > 0.9

    tool_host, image_id = host.tool_agent(agent, "tools", photos["coffee"])
    final = tool_host.invoke({"messages": [HumanMessage("segment the cup in the box")]})
    tool_message = next(m for m in final["messages"] if isinstance(m, ToolMessage))
    assert image_id == "u0" and "grabcut" in tool_message.content
    masks = [a for a in tool_message.artifact if a["kind"] == "mask"]
    assert masks and np.array_equal(_load(masks[0]["path"]) > 0, mask)
