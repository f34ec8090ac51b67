"""The embedded editing experts on real photos: remove, move, recolor, restyle, and pan-and-zoom animation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import ExpertCall
from vitron_agent.experts.registry import ExpertRegistry
from vitron_agent.protocol import Invocation

# The rocket's body on scikit-image's rocket photo (640x427), read off a 50 px grid: a white
# column against a dark blue sky.
ROCKET = (303, 140, 340, 395)


@pytest.fixture(scope="module")
def experts():
    registry = ExpertRegistry.default()
    made = {}
    for name in ("opencv_inpaint", "opencv_recolor", "opencv_restyle", "pan_zoom"):
        made[name] = registry.create(name)
        made[name].load()
    return made


def _call(task: str, image: np.ndarray, mask: np.ndarray | None = None, command: str = "", **args) -> ExpertCall:
    inv = Invocation(id="c1", task=task, command=command, args=args)
    return ExpertCall(invocation=inv, images=[image], mask=mask)


def _box_mask(shape, box) -> np.ndarray:
    mask = np.zeros(shape[:2], bool)
    x1, y1, x2, y2 = box
    mask[y1:y2, x1:x2] = True
    return mask


def test_remove_fills_the_object_with_its_surroundings(experts):
    image = data.rocket()
    mask = _box_mask(image.shape, ROCKET)
    out = experts["opencv_inpaint"].run(_call("edit_image", image, mask, op="remove")).images[0]
    ring = cv2.dilate(mask.astype(np.uint8), np.ones((31, 31), np.uint8)).astype(bool) & ~mask
    sky = image[ring].mean(axis=0)
    before = np.abs(image[mask].mean(axis=0) - sky).mean()
    after = np.abs(out[mask].mean(axis=0) - sky).mean()
    assert before > 25 and after < 8, (before, after)
    far = ~cv2.dilate(mask.astype(np.uint8), np.ones((61, 61), np.uint8)).astype(bool)
    assert np.array_equal(out[far], image[far])


def test_move_pastes_the_object_shifted(experts):
    image = data.rocket()
    mask = _box_mask(image.shape, ROCKET)
    result = experts["opencv_inpaint"].run(_call("edit_image", image, mask, op="move", direction="left"))
    out = result.images[0]
    shift = round(0.2 * image.shape[1])
    x1, y1, x2, y2 = ROCKET
    assert np.array_equal(out[y1:y2, x1 - shift:x2 - shift], image[y1:y2, x1:x2])
    assert np.abs(out[y1:y2, x1 + 5:x2 - 5].astype(int) - image[y1:y2, x1 + 5:x2 - 5]).mean() > 30
    with pytest.raises(BadInputError, match="direction"):
        experts["opencv_inpaint"].run(_call("edit_image", image, mask, op="move", direction="sideways"))


def test_recolor_changes_hue_keeps_texture_and_leaves_the_rest(experts):
    image = data.astronaut()
    mask = _box_mask(image.shape, (40, 300, 130, 420))  # the orange suit's left sleeve
    out = experts["opencv_recolor"].run(_call("edit_image", image, mask, op="recolor", color="blue")).images[0]
    hue = cv2.cvtColor(out, cv2.COLOR_RGB2HSV)[..., 0][mask]
    assert np.median(hue) == pytest.approx(cv2.cvtColor(np.uint8([[[30, 80, 220]]]), cv2.COLOR_RGB2HSV)[0, 0, 0], abs=8)
    light_before = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0][mask].astype(float)
    light_after = cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[..., 0][mask].astype(float)
    assert np.corrcoef(light_before, light_after)[0, 1] > 0.9  # shading and texture survive
    far = ~cv2.dilate(mask.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)
    assert np.array_equal(out[far], image[far])
    with pytest.raises(BadInputError, match="args.color"):
        experts["opencv_recolor"].run(_call("edit_image", image, mask, op="recolor", color="plaid"))


def test_restyle_filters_the_image_or_only_a_region(experts):
    image = data.chelsea()
    sketch = experts["opencv_restyle"].run(_call("edit_image", image, None, op="restyle", style="a pencil sketch"))
    grey = sketch.images[0]
    assert grey.shape == image.shape and np.array_equal(grey[..., 0], grey[..., 1])
    mask = _box_mask(image.shape, (100, 50, 300, 250))
    painted = experts["opencv_restyle"].run(_call("edit_image", image, mask, op="restyle", style="watercolor")).images[0]
    assert np.array_equal(painted[~mask], image[~mask]) and np.abs(painted[mask].astype(int) - image[mask]).mean() > 3
    with pytest.raises(BadInputError, match="restyle knows these styles"):
        experts["opencv_restyle"].run(_call("edit_image", image, None, op="restyle", style="baroque"))


def test_pan_zoom_makes_a_video_that_starts_on_the_still(experts):
    image = data.astronaut()
    result = experts["pan_zoom"].run(_call("animate_image", image, None, command="zoom in", seconds=1, fps=12))
    clip = result.videos[0]
    assert clip.frames.shape == (12, 512, 512, 3) and clip.fps == 12
    assert np.abs(clip.frames[0].astype(int) - image).mean() < 1.0
    centre = cv2.resize(image[59:453, 59:453], (512, 512), interpolation=cv2.INTER_LINEAR)  # zoom 1.3
    assert np.abs(clip.frames[-1].astype(int) - centre).mean() < 6.0
    panned = experts["pan_zoom"].run(_call("animate_image", image, None, command="pan left", seconds=0.5, fps=8))
    first, last = panned.videos[0].frames[[0, -1]]
    assert np.abs(first.astype(int) - last).mean() > 10


def test_remove_the_object_in_the_box_segments_first_then_inpaints(make_agent, photos, tmp_path):
    from .conftest import save_png

    path = save_png(data.rocket(), tmp_path / "rocket.png")
    agent = make_agent()
    result = agent.invoke("remove the object in the box", images=[path], region=[285, 120, 360, 410])
    assert [(i.task, i.module) for i in result.invocations] == [("segment", "grabcut"), ("edit_image", "opencv_inpaint")]
    edited = next(a for a in result.artifacts if a.kind == "image" and not a.preview)
    assert edited.id == "o2" and result.errors == []
    animated = agent.invoke("animate it", thread=result.thread)
    assert animated.errors == [], animated.errors
    video = next(a for a in animated.artifacts if a.kind == "video")
    assert video.frames == 48 and video.path.endswith(".mp4")


def test_an_empty_region_is_refused(experts):
    image = data.rocket()
    with pytest.raises(RegionError):
        experts["opencv_inpaint"].run(_call("edit_image", image, np.zeros(image.shape[:2], bool), op="remove"))
