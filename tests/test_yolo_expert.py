"""YOLO detection, instance masks and tracking through the real loading path, on small random models the tests
save in the safetensors folder format (pickled checkpoints refused unless opted in)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("ultralytics") is None:
    pytest.skip("needs the yolo extra (torch, ultralytics)", allow_module_level=True)

from vitron_agent.config import weights_dir  # noqa: E402
from vitron_agent.errors import BadInputError, RegionError, UnavailableError  # noqa: E402
from vitron_agent.experts.base import ExpertCall, VideoClip  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.yolo import (  # noqa: E402
    COCO_NAMES,
    YoloExpert,
    YoloTrackExpert,
    box_iou,
    build_yolo,
    class_ids_for,
    save_yolo,
)

from .synthetic_media import pan_clip  # noqa: E402

NAMES = dict(enumerate(COCO_NAMES))


def _confident(model, class_id: int):
    """Random weights score every class near zero; a strong class bias makes the head sure it sees ``class_id``
    everywhere, so detection, masks and tracking all have something to work with."""
    import torch

    with torch.no_grad():
        for branch in model.model.model[-1].cv3:
            bias = branch[-1].bias
            bias.fill_(-8.0)
            bias[class_id] = 6.0
    return model


@pytest.fixture(scope="module")
def yolo_dir(tmp_path_factory):
    import torch

    torch.manual_seed(0)  # the random head must not depend on what earlier tests drew from torch's generator
    return save_yolo(_confident(build_yolo("yolo11n-seg.yaml"), 0), tmp_path_factory.mktemp("yolo") / "tiny-seg")


@pytest.fixture(scope="module")
def yolo(yolo_dir):
    expert = YoloExpert(weights=str(yolo_dir), imgsz=160)
    expert.load("cpu")
    return expert


def _call(task, command, image=None, **kwargs) -> ExpertCall:
    inv = Invocation(id="c1", task=task, command=command)
    return ExpertCall(invocation=inv, images=[image] if image is not None else [], **kwargs)


def test_words_name_coco_classes():
    assert class_ids_for("all the cars", NAMES) == [2]
    assert class_ids_for("the people on the left", NAMES) == [0]
    assert class_ids_for("the red car and a dog", NAMES) == [2, 16]
    assert class_ids_for("the cell phone", NAMES) == [67]
    assert class_ids_for("my phone", NAMES) == [67]
    assert class_ids_for("the object in the box", NAMES) == []
    assert class_ids_for("the carpet", NAMES) == []  # whole words only


def test_the_safetensors_folder_round_trips_architecture_scale_and_weights(tmp_path):
    import torch

    small = build_yolo("yolo11s.yaml")  # a detection model of scale s: the scale must survive the save
    folder = save_yolo(small, tmp_path / "s")
    expert = YoloExpert(weights=str(folder))
    assert expert.availability().ok
    expert.load("cpu")
    original, loaded = small.model.state_dict(), expert.model.model.state_dict()
    assert original.keys() == loaded.keys()
    assert all(torch.equal(original[k], loaded[k]) for k in original)
    assert expert.model.task == "detect" and expert.names[2] == "car"


def test_pickled_checkpoints_load_only_when_the_user_opts_in(tmp_path):
    model = build_yolo("yolo11n.yaml")
    checkpoint = tmp_path / "tiny.pt"
    model.save(str(checkpoint))
    refused = YoloExpert(weights=str(checkpoint))
    state = refused.availability()
    assert not state.ok and "pickled" in state.reason and "convert_yolo_checkpoint" in state.fix
    with pytest.raises(UnavailableError, match="pickled"):
        refused.load("cpu")
    trusted = YoloExpert(weights=str(checkpoint), allow_pickle=True)
    trusted.load("cpu")
    assert trusted.loaded and trusted.model.task == "detect"


def test_missing_weights_name_the_expert_and_the_fix(tmp_path):
    state = YoloExpert(weights=str(tmp_path / "nowhere")).availability()
    assert not state.ok and "YOLO weights not found" in state.reason and "convert_yolo_checkpoint" in state.fix


def test_ground_returns_named_class_boxes_inside_the_image(yolo):
    from skimage import data

    image = data.astronaut()
    result = yolo.run(_call("ground", "the person", image))
    assert result.detections
    scores = [d.score for d in result.detections]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    for det in result.detections:
        x1, y1, x2, y2 = det.box
        assert 0 <= x1 < x2 <= 512 and 0 <= y1 < y2 <= 512 and det.label == "person"
    assert yolo.run(_call("ground", "the dog", image)).detections == []  # the head only believes in people
    with pytest.raises(BadInputError, match="knows only"):
        yolo.run(_call("ground", "the spaceship", image))


def test_segment_gives_image_sized_masks_and_a_box_picks_one_instance(yolo):
    from skimage import data

    image = data.coffee()
    result = yolo.run(_call("segment", "people", image))
    assert result.masks and len(result.masks) == len(result.detections)
    assert all(m.shape == image.shape[:2] and m.dtype == bool for m in result.masks)
    box = (172.0, 18.0, 410.0, 300.0)
    picked = yolo.run(_call("segment", "the object in the box", image, boxes=[box]))
    assert len(picked.masks) == 1 and len(picked.detections) == 1
    best = max(box_iou(np.array(d.box), np.array(box)) for d in result.detections)
    assert box_iou(np.array(picked.detections[0].box), np.array(box)) == pytest.approx(best, abs=1e-6)


def test_track_follows_the_object_a_box_picks_through_a_pan(yolo_dir):
    from skimage import data

    frames, _ = pan_clip(data.astronaut(), frames=10, step=4, size=(320, 320))
    tracker = YoloTrackExpert(weights=str(yolo_dir), imgsz=160)
    tracker.load("cpu")
    seen = []
    call = ExpertCall(invocation=Invocation(id="c1", task="track", command="the person"),
                      video=VideoClip(frames, 10.0), boxes=[(40.0, 40.0, 200.0, 250.0)], frames=(2, 2),
                      progress=lambda fraction, message: seen.append(fraction))
    result = tracker.run(call)
    masks = result.masks[0]
    assert masks.shape == (10, 320, 320) and masks.dtype == bool
    assert len(result.data["track_ids"]) == 1 and result.data["keyframe"] == 2
    assert masks[2].any() and seen[-1] == pytest.approx(1.0)
    box = result.data["boxes"][2][0]
    assert box_iou(np.array(box), np.array([40.0, 40.0, 200.0, 250.0])) > 0.1
    everyone = tracker.run(ExpertCall(invocation=Invocation(id="c2", task="track", command="people"),
                                      video=VideoClip(frames, 10.0)))
    assert len(everyone.data["track_ids"]) >= 1 and everyone.masks[0].sum() >= masks.sum()
    with pytest.raises(RegionError, match="outside"):
        tracker.run(ExpertCall(invocation=call.invocation, video=VideoClip(frames, 10.0), frames=(30, 30)))


def test_the_graph_picks_yolo_for_coco_words_and_others_for_the_rest(yolo_dir, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(YoloExpert, weights=str(yolo_dir), imgsz=160)
    registry.register(YoloTrackExpert, weights=str(yolo_dir), imgsz=160)
    assert registry.best_for("ground", phrase="the person") == "yolo"
    assert registry.best_for("ground", phrase="the faces") == "opencv_detect"
    assert registry.best_for("track", None, "video", "the dog") == "yolo_track"
    assert registry.best_for("track", None, "video", "the object in the box") == "flow_track"
    agent = make_agent(registry=registry)
    result = agent.invoke("", images=[photos["astronaut"]],
                          invocations=[{"task": "ground", "command": "the person"}])
    assert result.errors == [] and result.invocations[0].module == "yolo"
    assert any(a.kind == "boxes" for a in result.artifacts)
    again = agent.invoke("", invocations=[{"task": "ground", "command": "the person"}], thread=result.thread)
    assert again.errors == []
    assert agent.pool.stats.loads == {"yolo": 1}  # the second call loads nothing


@pytest.mark.weights
def test_real_yolo_finds_the_astronaut():
    from skimage import data

    folder = weights_dir() / "yolo11n-seg"
    if not (folder / "model.safetensors").exists():
        pytest.skip(f"no YOLO weights in {folder}; see vitron-agent experts")
    expert = YoloExpert(weights=str(folder))
    expert.load("cpu")
    result = expert.run(_call("ground", "the person", data.astronaut()))
    reference = np.array([40.0, 0.0, 460.0, 512.0])  # hand-read: the astronaut fills the left three quarters
    assert result.detections and box_iou(np.array(result.detections[0].box), reference) > 0.5


def test_loading_yolo_leaves_pil_and_torch_unpatched(yolo):
    import torch
    from PIL import Image

    assert Image.open.__module__.startswith("PIL") and torch.save.__module__.startswith("torch")
