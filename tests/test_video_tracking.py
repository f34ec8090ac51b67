"""Tracking on video: keyframe segmentation by an image expert, then flow propagation over every frame."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from vitron_agent.experts.base import ExpertCall, VideoClip
from vitron_agent.experts.registry import ExpertRegistry
from vitron_agent.protocol import Invocation
from vitron_agent.stores.media_io import encode_video

from .synthetic_media import iou, pan_clip, shifted

ROCKET_IN_FRAME0 = (285, 120, 360, 360)  # the rocket in the pan's first window (480x360 from x=0)


@pytest.fixture(scope="module")
def clip():
    return pan_clip(data.rocket(), frames=40, step=2)


def test_flow_propagation_follows_a_known_pan(clip):
    frames, offsets = clip
    registry = ExpertRegistry.default()
    tracker = registry.create("flow_track")
    tracker.load()
    first = np.zeros(frames.shape[1:3], bool)
    x1, y1, x2, y2 = 300, 135, 342, 355  # a tight mask of the rocket's body on frame 0
    first[y1:y2, x1:x2] = True
    call = ExpertCall(invocation=Invocation(id="c1", task="track"), video=VideoClip(frames, 12.0), mask=first)
    masks = tracker.run(call).masks[0]
    assert masks.shape == (40, 360, 480) and masks.dtype == bool
    ious = [iou(masks[t], shifted(first, -offsets[t])) for t in range(40)]
    assert min(ious) > 0.8 and np.mean(ious) > 0.9, ious


def test_track_the_object_in_the_box_through_the_graph(make_agent, clip, tmp_path):
    frames, offsets = clip
    path = tmp_path / "pan.mp4"
    path.write_bytes(encode_video(frames, 12.0))
    agent = make_agent()
    result = agent.invoke("track the object in the box", videos=[path], region=list(ROCKET_IN_FRAME0))
    assert [(i.task, i.module) for i in result.invocations] == [("segment", "grabcut"), ("track", "flow_track")]
    assert result.errors == []
    tracked = next(a for a in result.artifacts if a.kind == "mask_video")
    preview = next(a for a in result.artifacts if a.preview and a.id.startswith(tracked.id + "."))
    assert (tracked.frames, tracked.width, tracked.height) == (40, 480, 360) and preview.path.endswith(".mp4")
    store, _ = agent.context.stores(result.thread)
    from vitron_agent.stores import MediaRef

    masks = store.load_mask_video(MediaRef(**agent.state(result.thread)["media"][tracked.id]))
    centre = [np.nonzero(m.any(axis=0))[0].mean() for m in masks[[0, 20, 39]]]
    assert centre[0] - centre[1] == pytest.approx(offsets[20], abs=4)  # the mask moves with the pan
    assert centre[0] - centre[2] == pytest.approx(offsets[39], abs=6)


def test_recolor_the_object_in_the_box_across_the_video(make_agent, clip, tmp_path):
    import cv2

    frames, offsets = clip
    path = tmp_path / "pan.mp4"
    path.write_bytes(encode_video(frames, 12.0))
    agent = make_agent()
    result = agent.invoke("make the object in the box red", videos=[path], region=list(ROCKET_IN_FRAME0))
    assert [(i.task, i.module) for i in result.invocations] == [
        ("segment", "grabcut"), ("track", "flow_track"), ("edit_video", "frame_edit")]
    assert result.errors == []
    edited = next(a for a in result.artifacts if a.kind == "video" and not a.preview)
    assert (edited.frames, edited.width, edited.height) == (40, 480, 360)
    store, _ = agent.context.stores(result.thread)
    from vitron_agent.stores import MediaRef

    media = agent.state(result.thread)["media"]
    video, fps = store.load_video(MediaRef(**media[edited.id]))
    masks = store.load_mask_video(MediaRef(**next(m for m in media.values() if m["kind"] == "mask_video")))
    assert fps == pytest.approx(12.0)
    for t in (0, 20, 39):
        hue = cv2.cvtColor(video[t], cv2.COLOR_RGB2HSV)
        inside = masks[t] & (hue[..., 2] > 60)
        red = (hue[..., 0][inside] < 12) | (hue[..., 0][inside] > 168)
        assert red.mean() > 0.6, (t, red.mean())  # the rocket is red on every frame, the sky is not
        assert np.abs(video[t][~masks[t]].astype(int) - frames[t][~masks[t]]).mean() < 6


def test_restyle_a_whole_video_needs_no_region(make_agent, clip, tmp_path):
    frames, _ = clip
    path = tmp_path / "pan.mp4"
    path.write_bytes(encode_video(frames[:8], 12.0))
    agent = make_agent()
    result = agent.invoke("make it look like a pencil sketch", videos=[path])
    assert [(i.task, i.module) for i in result.invocations] == [("edit_video", "frame_edit")]
    assert result.errors == [] and any(a.kind == "video" and a.frames == 8 for a in result.artifacts)


def test_move_shifts_the_object_by_the_same_offset_on_every_frame(clip):
    from vitron_agent.experts.base import ExpertCall, VideoClip
    from vitron_agent.protocol import Invocation
    from vitron_agent.tools.video_edit import FrameEditExpert

    frames, offsets = clip
    frames = frames[:6]
    masks = np.zeros(frames.shape[:3], bool)
    x1, y1, x2, y2 = ROCKET_IN_FRAME0
    for t in range(len(frames)):
        masks[t, y1:y2, x1 - offsets[t]:x2 - offsets[t]] = True
    expert = FrameEditExpert()
    expert.load("cpu")
    inv = Invocation(id="c1", task="edit_video", command="the rocket",
                     args={"op": "move", "direction": "right", "distance": 0.1})
    out = expert.run(ExpertCall(invocation=inv, video=VideoClip(frames, 12.0), mask=masks)).videos[0]
    assert out.frames.shape == frames.shape and out.fps == 12.0
    shift = round(0.1 * frames.shape[2])
    for t in range(len(frames)):
        ys, xs = np.nonzero(masks[t])
        assert np.array_equal(out.frames[t][ys, xs + shift], frames[t][ys, xs])  # the object, moved right
        left = masks[t] & ~np.roll(masks[t], shift, axis=1)  # where it was and is no more
        assert np.abs(out.frames[t][left].astype(int) - frames[t][left]).mean() > 3
