"""Tracking quality against exact truth: the cup, cut along its traced outline, moving over other photos (and
a flat ellipse, which has no corners to track).

Scores (``TrackingClip.score``): the fraction of frames whose mask's bounding box has IoU >= 0.5 with the true
box, and the mean IoU of the masks with the true masks; the clips know both on every frame by construction.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from vitron_agent.experts.base import ExpertCall, VideoClip
from vitron_agent.protocol import Invocation
from vitron_agent.stores import MediaRef
from vitron_agent.stores.media_io import encode_video
from vitron_agent.tools.flow_track import FlowTrackExpert

from .ground_truth import mask_box
from .synthetic_media import TrackingClip, cover, cup_clip, flat_ellipse_clip, iou, pan_clip, shifted


@pytest.fixture(scope="module")
def clips() -> dict[tuple[str, str], TrackingClip]:
    """Clips by (object, background): the textured cup, and a flat ellipse that has no corners inside."""
    return {("cup", "astronaut"): cup_clip("astronaut"), ("cup", "chelsea"): cup_clip("chelsea"),
            ("flat", "rocket"): flat_ellipse_clip("rocket")}


def test_the_clip_moves_the_cup_a_few_hundred_pixels_over_an_untouched_background(clips):
    import cv2

    clip = clips["cup", "astronaut"]
    assert clip.frames.shape == (72, 480, 640, 3) and clip.masks.shape == (72, 480, 640)
    assert all(mask_box(m) == b for m, b in zip(clip.masks, clip.boxes, strict=True))
    centres = np.array([[(x1 + x2) / 2, (y1 + y2) / 2] for x1, y1, x2, y2 in clip.boxes])
    steps = np.diff(centres, axis=0)
    assert 400 < np.linalg.norm(steps, axis=1).sum() < 900  # a few hundred pixels, stopping and turning
    assert steps[:, 0].min() < -3 < 3 < steps[:, 0].max() and steps[:, 1].min() < -3 < 3 < steps[:, 1].max()
    areas = clip.masks.reshape(72, -1).sum(axis=1)
    assert areas.max() / areas.min() > 1.3  # the cup grows, shrinks and turns: not a moved copy
    scene = cover(data.astronaut(), (640, 480))
    away = ~cv2.dilate(clip.masks[40].astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.array_equal(clip.frames[40][away], scene[away])  # only the cup and its feathered edge are drawn
    assert np.abs(clip.frames[40][clip.masks[40]].astype(int) - scene[clip.masks[40]]).mean() > 30


@pytest.mark.parametrize(("thing", "keyframe"), [(("cup", "astronaut"), 0), (("cup", "astronaut"), 36),
                                                (("cup", "chelsea"), 71), (("flat", "rocket"), 0)],
                         ids=["cup-astronaut-first", "cup-astronaut-middle", "cup-chelsea-last", "flat-rocket-first"])
def test_the_expert_follows_the_object_from_its_exact_mask(clips, thing, keyframe):
    clip = clips[thing]
    tracker = FlowTrackExpert()
    tracker.load()
    call = ExpertCall(invocation=Invocation(id="c1", task="track"), video=VideoClip(clip.frames, 12.0),
                      mask=clip.masks[keyframe], frames=(keyframe, keyframe))
    result = tracker.run(call)
    masks = result.masks[0]
    assert masks.shape == clip.masks.shape and np.array_equal(masks[keyframe], clip.masks[keyframe])
    followed, mean_iou = clip.score(masks)
    assert followed >= 0.9 and mean_iou >= 0.8, (followed, mean_iou)
    assert result.data["lost_frames"] == []


def test_track_the_cup_in_a_box_through_the_agent(make_agent, clips, tmp_path):
    clip = clips["cup", "astronaut"]
    path = tmp_path / "cup.mp4"
    path.write_bytes(encode_video(clip.frames, 12.0))
    agent = make_agent()
    keyframe = 36
    box = [float(c) for c in clip.boxes[keyframe]]
    result = agent.invoke(videos=[path], invocations=[Invocation(
        id="c1", module="flow_track", task="track", region={"box": box, "frames": (keyframe, keyframe)})])
    assert [(i.task, i.module) for i in result.invocations] == [("segment", "grabcut"), ("track", "flow_track")]
    assert result.errors == []
    tracked = next(a for a in result.artifacts if a.kind == "mask_video")
    store, _ = agent.context.stores(result.thread)
    masks = store.load_mask_video(MediaRef(**agent.state(result.thread)["media"][tracked.id]))
    followed, mean_iou = clip.score(masks)
    assert followed >= 0.8 and mean_iou >= 0.7, (followed, mean_iou)  # GrabCut's keyframe mask, then tracking


def test_an_object_that_leaves_the_frame_is_lost_not_left_at_the_edge():
    frames, offsets = pan_clip(data.rocket(), frames=30, step=4)  # content moves 4 pixels left per frame
    first = np.zeros(frames.shape[1:3], bool)
    first[150:250, 20:80] = True  # out of the frame from frame 20 on
    tracker = FlowTrackExpert()
    tracker.load()
    result = tracker.run(ExpertCall(invocation=Invocation(id="c1", task="track"), video=VideoClip(frames, 12.0),
                                    mask=first))
    masks = result.masks[0]
    truth = [shifted(first, -x) for x in offsets]
    assert all(iou(masks[t], truth[t]) > 0.8 for t in range(16)), [iou(m, t) for m, t in zip(masks, truth)]
    assert not masks[22:].any() and set(range(22, 30)) <= set(result.data["lost_frames"])
