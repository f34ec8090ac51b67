"""SAM 3 video tracking by words through its real loading path, on tiny random models the tests save, checked
against a direct transformers call (processor, inference session, ``propagate_in_video_iterator``, the
processor's post-processing) on the same frames; and the session's memory stays flat as clips grow."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("transformers")

from vitron_agent.errors import BadInputError  # noqa: E402
from vitron_agent.experts.base import ExpertCall, VideoClip  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.stores import MediaRef  # noqa: E402
from vitron_agent.stores.media_io import encode_video  # noqa: E402
from vitron_agent.tools.sam3 import Sam3VideoExpert  # noqa: E402

from .tiny_sam3 import tiny_sam3_video  # noqa: E402


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory):
    return tiny_sam3_video(tmp_path_factory.mktemp("sam3v") / "tiny-sam3-video")


@pytest.fixture(scope="module")
def hotstart_dir(tmp_path_factory):
    """The release's hot start scaled to short clips: outputs held back 2 frames, and objects unmatched or
    duplicated for 2 frames there dropped."""
    return tiny_sam3_video(tmp_path_factory.mktemp("sam3h") / "tiny-sam3-hotstart", hotstart_delay=2,
                           hotstart_unmatch_thresh=2, hotstart_dup_thresh=2)


@pytest.fixture(scope="module")
def tracker(video_dir):
    expert = Sam3VideoExpert(weights=str(video_dir))
    expert.load("cpu")
    return expert


@pytest.fixture(scope="module")
def cat():
    import cv2
    from skimage import data

    return cv2.resize(data.chelsea(), (96, 64), interpolation=cv2.INTER_AREA)  # (64, 96, 3)


def walk(cat: np.ndarray, count: int) -> np.ndarray:
    """The cat drifting right by 2 pixels a frame: (count, 64, 96, 3) uint8."""
    return np.stack([np.roll(cat, 2 * t, axis=1) for t in range(count)])


def direct(folder, frames, phrase, threshold, new_threshold):
    """What a script gets from transformers alone: object id -> (T, H, W) bool mask (objects ever seen)."""
    import torch
    from transformers import Sam3VideoModel, Sam3VideoProcessor

    processor = Sam3VideoProcessor.from_pretrained(folder, local_files_only=True)
    model = Sam3VideoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()
    model.score_threshold_detection, model.new_det_thresh = threshold, new_threshold
    session = processor.init_video_session(video=list(frames), inference_device="cpu", dtype=torch.float32)
    processor.add_text_prompt(session, phrase)
    masks: dict[int, np.ndarray] = {}
    for output in model.propagate_in_video_iterator(session):
        found = processor.postprocess_outputs(session, output)
        for obj, mask in zip(found["object_ids"].tolist(), found["masks"].numpy()):
            masks.setdefault(obj, np.zeros(frames.shape[:3], bool))[output.frame_idx] = mask
    return {obj: mask for obj, mask in masks.items() if mask.any()}


def track(expert, clip, command="the cat", **kwargs):
    args = {"threshold": 0.0, "new_threshold": 0.0}
    args.update(kwargs.pop("args", {}))
    call = ExpertCall(invocation=Invocation(id="c1", task="track", command=command, args=args),
                      video=VideoClip(clip, 8.0), **kwargs)
    return expert.run(call)


def detector_top_score(folder, image) -> float:
    """The best detection score of the release's detector for 'cat' on one image."""
    import torch
    from transformers import Sam3Model, Sam3Processor

    processor = Sam3Processor.from_pretrained(folder, local_files_only=True)
    model = Sam3Model.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()
    with torch.no_grad():
        out = model(**processor(images=image, text="cat", return_tensors="pt"))
    return float((out.pred_logits.sigmoid() * out.presence_logits.sigmoid()).max())


@pytest.mark.parametrize("weights", ["video_dir", "hotstart_dir"])
def test_one_mask_video_per_object_equal_to_a_direct_transformers_call(weights, cat, request):
    folder = request.getfixturevalue(weights)
    expert = Sam3VideoExpert(weights=str(folder))
    expert.load("cpu")
    frames = walk(cat, 6)
    result = track(expert, frames)
    expected = direct(folder, frames, "cat", 0.0, 0.0)
    assert expected and sorted(result.data["object_ids"]) == sorted(expected)
    assert sum(result.data["frames_present"]) > len(expected)  # tracked beyond the frame each was found on
    for obj, mask in zip(result.data["object_ids"], result.masks):
        assert mask.dtype == bool and mask.shape == (6, 64, 96) and np.array_equal(mask, expected[obj])
    first = result.data["first_frames"]
    assert first == sorted(first) and result.text.startswith(f"tracked {len(expected)} 'cat'")


def test_an_object_that_enters_mid_clip_is_picked_up(tracker, video_dir, cat):
    gray = np.full_like(cat, 128)
    scores = {"cat": max(detector_top_score(video_dir, f) for f in walk(cat, 3)),
              "gray": detector_top_score(video_dir, gray)}
    early, late = sorted(scores, key=scores.get)  # what the random detector scores lower comes first
    assert scores[late] - scores[early] > 0.005
    shots = {"cat": walk(cat, 3), "gray": np.stack([gray] * 3)}
    frames = np.concatenate([shots[early], shots[late]])
    threshold = (scores[early] + scores[late]) / 2
    result = track(tracker, frames, args={"threshold": threshold, "new_threshold": threshold})
    assert result.masks and min(result.data["first_frames"]) == 3
    assert not any(mask[:3].any() for mask in result.masks)  # nothing before it came in
    expected = direct(video_dir, frames, "cat", threshold, threshold)
    assert all(np.array_equal(mask, expected[obj]) for obj, mask in zip(result.data["object_ids"], result.masks))


def test_a_region_on_the_keyframe_keeps_the_object_it_marks(tracker, cat):
    frames = walk(cat, 4)
    every = track(tracker, frames)
    assert len(every.masks) >= 2
    obj, mask = every.data["object_ids"][-1], every.masks[-1]
    keyframe = int(np.argmax(mask.any(axis=(1, 2))))
    one = track(tracker, frames, mask=mask[keyframe], frames=(keyframe, keyframe))
    assert one.data["object_ids"] == [obj] and np.array_equal(one.masks[0], mask)
    best = track(tracker, frames, args={"instances": "one"})
    scores = dict(zip(every.data["object_ids"], every.data["scores"]))
    assert best.data["object_ids"] == [max(scores, key=scores.get)]
    with pytest.raises(BadInputError, match="words"):
        track(tracker, frames, command="track the")


def test_what_the_session_holds_stays_flat_as_the_clip_grows(tracker, cat):
    held = {}
    for bound in (True, False):
        tracker.bound_memory = bound
        try:
            for count in (8, 16):
                result = track(tracker, walk(cat, count))
                held[bound, count] = (result.data["session_bytes"], result.masks)
        finally:
            tracker.bound_memory = True
    assert held[True, 16][0] <= 1.05 * held[True, 8][0]  # the same store for twice the frames
    assert held[False, 16][0] > 1.5 * held[False, 8][0]  # what the library keeps unbounded grows with the clip
    assert held[False, 16][0] > 1.5 * held[True, 16][0]
    bounded, unbounded = held[True, 16][1], held[False, 16][1]
    assert len(bounded) == len(unbounded) and all(np.array_equal(a, b) for a, b in zip(bounded, unbounded))


def test_bfloat16_on_cpu_loads_and_runs(video_dir, cat):
    import torch

    expert = Sam3VideoExpert(weights=str(video_dir))
    expert.load("cpu", dtype="bfloat16")
    assert {p.dtype for p in expert.model.parameters()} == {torch.bfloat16}
    result = track(expert, walk(cat, 3))
    assert result.masks and all(m.shape == (3, 64, 96) and m.dtype == bool for m in result.masks)


def test_track_the_cat_through_the_agent(video_dir, make_agent, cat, tmp_path):
    path = tmp_path / "cat.mp4"
    path.write_bytes(encode_video(walk(cat, 6), 8.0))
    registry = ExpertRegistry.default()
    registry.register(Sam3VideoExpert, weights=str(video_dir))
    assert registry.best_for("track", None, "video", "the cat") == "sam3_video"
    agent = make_agent(registry=registry)
    result = agent.invoke("", videos=[path], invocations=[Invocation(
        module="sam3_video", task="track", command="the cat", args={"threshold": 0.0, "new_threshold": 0.0})])
    assert result.errors == [] and [(i.task, i.module) for i in result.invocations] == [("track", "sam3_video")]
    tracked = next(a for a in result.artifacts if a.kind == "mask_video" and not a.preview)
    assert (tracked.frames, tracked.width, tracked.height) == (6, 96, 64)
    store, _ = agent.context.stores(result.thread)
    media = agent.state(result.thread)["media"]
    decoded, _ = store.load_video(MediaRef(**media["u0"]))  # the frames the expert saw
    expected = direct(video_dir, decoded, "cat", 0.0, 0.0)
    ref = MediaRef(**media[tracked.id])
    assert np.array_equal(store.load_mask_video(ref), np.logical_or.reduce(list(expected.values())))
    assert len(ref.instances) == (len(expected) if len(expected) > 1 else 0)
