"""Mask propagation through a video by tracked points: the embedded, weight-free ``track`` expert.

Start from one frame's mask (the graph segments a box or a named target on that keyframe first), then follow the
object forward from the keyframe to the last frame, then backward to the first. The object's placement is one
affine map from the keyframe to the current frame; each step, from frame ``s`` to its neighbour ``t`` (on frames
scaled to at most ``max_side`` pixels), updates it:

1. corners (Shi-Tomasi) inside the object's mask on ``s``, two pixels in from its edge, so that the windows
   they are tracked with lie mostly on the object;
2. each corner tracked to ``t`` with pyramidal Lucas-Kanade (on a window around the object) and back to ``s``:
   one whose round trip misses by more than ``_ROUND_TRIP`` pixels (it sat on an edge the object slid along, or
   was occluded) is dropped;
3. the step fitted to the survivors with RANSAC: affine (moves, turns, scales, leans) when there are enough
   and the fit is plausible (half of them agree, no flip, no jump in size), else a similarity;
4. an object with too few corners (flat, or small) is shifted to where its pixels match best (masked template
   matching), then re-centred and re-sized halfway towards where its colours say it is: a colour model of
   object against surroundings, learned on the keyframe, re-decides the pixels near the propagated outline;
   one cut by the frame's edge (leaving, or gone) keeps its last step's motion instead;
5. the mask on ``t`` is the keyframe's mask warped by the updated placement onto the full-size grid, so an
   outline is resampled once, never from an earlier resampled copy.

Why points and one transform rather than dense flow carried pixel by pixel: dense flow (Farneback) is smooth
across the object's edge, so background beside a moving object inherits its motion; warped frame after frame,
the mask lagged behind the object and smeared onto textured background. A transform fitted to points on the
object cannot drag background along, and its per-step errors are small (well under a pixel) and do not smear.
The limit: the outline is the keyframe's under an affine map, so a part that moves on its own (a swinging arm)
is not followed separately from the whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import OpenCVExpert

__all__ = ["FlowTrackExpert"]

_ROUND_TRIP = 0.7  # working-frame pixels a tracked point may miss by when tracked back
_AFFINE_POINTS = 12  # fewer survivors than this: fit a similarity, not an affine map
_STEP_SCALE = (0.8, 1.25)  # an affine step that stretches or shrinks more than this between frames is rejected


class FlowTrackExpert(OpenCVExpert):
    """Propagates a mask over every frame of a video; needs no weights.

    Options: ``max_side`` (pixels: points are found and tracked on frames scaled to at most this longest side;
    default 640; larger is slower and drifts less).
    """

    spec = ExpertSpec(
        name="flow_track",
        tasks=("track",),
        description=("Follows an object through a video: from its mask on one frame to a mask on every frame "
                     "(OpenCV optical flow, no weights)."),
        input_kinds=("video",),
        region_kinds=("mask",),
        region_required=True,
        outputs=("mask",),
        requires=("cv2",),
        quality=1,
    )

    def __init__(self, weights: str | None = None, max_side: int = 640, **options: object) -> None:
        super().__init__(weights, **options)
        self.max_side = int(max_side)


    def run(self, call: ExpertCall) -> ExpertResult:
        import cv2

        if call.video is None:
            raise BadInputError("flow_track needs a video input")
        frames = call.video.frames
        count, height, width = frames.shape[:3]
        start = call.frames[0] if call.frames else 0
        if not 0 <= start < count:
            raise RegionError(f"keyframe {start} is outside the video's {count} frames")
        if call.mask is None:
            raise RegionError("flow_track needs the object's mask on one frame; segment it first")
        first = call.mask[start] if call.mask.ndim == 3 else call.mask
        if first.shape != (height, width) or not first.any():
            raise RegionError(f"the starting mask must be a non-empty {width}x{height} mask")
        scale = min(1.0, self.max_side / max(height, width))
        size = (max(8, round(width * scale)), max(8, round(height * scale)))
        key = cv2.resize(first.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        whole = first.astype(np.float32)  # the keyframe mask at full size, warped onto every other frame
        key_box, whole_box = _box(key > 0), _box(first)
        colours = _learn_colours(_working(frames[start], size), key > 0.5)
        masks = np.zeros((count, height, width), bool)
        masks[start] = first
        done = 1
        for order in (range(start + 1, count), range(start - 1, -1, -1)):
            placed = last = np.eye(2, 3)  # keyframe -> current frame; the last step (working pixels)
            previous = key > 0.5  # the object on the frame before (working pixels)
            before = _grey(frames[start], size)  # the frame before, working grey
            for index in order:
                now = _grey(frames[index], size)
                step, from_points = _step_motion(before, now, previous)
                if not from_points and not _inside_frame(previous):
                    step = last  # leaving (or gone) with too few corners to follow: it keeps going as it went
                placed, last = _compose(step, placed), step
                previous = _warp_mask(key, key_box, placed, now.shape)
                if not from_points and _inside_frame(previous):
                    # Too few corners to tell a turn or a change of size: the object's colours re-centre it
                    # (not when the frame's edge cuts it: its centroid and size would be the visible part's).
                    fitted = _refit(_working(frames[index], size), previous, colours)
                    placed = _compose(_recentred(previous, fitted, _RECENTRE), placed)
                    previous = _warp_mask(key, key_box, placed, now.shape)
                before = now
                full = placed.copy()
                full[:, 2] /= scale  # the same map in full-size pixels
                masks[index] = _warp_mask(whole, whole_box, full, (height, width))
                done += 1
                call.progress(done / count, f"frame {done}/{count}")
        lost = [int(i) for i in np.nonzero(~masks.reshape(count, -1).any(axis=1))[0]]
        text = f"tracked the object over {count} frames" + (f"; lost on {len(lost)} frame(s)" if lost else "")
        return ExpertResult(masks=[masks], text=text, data={"keyframe": start, "lost_frames": lost[:50]})


def _step_motion(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, bool]:
    """The object's motion from ``source`` to ``target`` (grey working frames) as a 2x3 affine map of working
    pixels, and whether it comes from tracked corners; ``mask`` (bool) is the object on ``source``. An object with
    too few corners gets the shift at which its pixels match best; an empty mask, no motion."""
    import cv2

    if not mask.any():
        return np.eye(2, 3), False
    points = _object_corners(source, mask)
    if points is not None:
        left, top, right, bottom = _around(mask)  # tracking on a window around the object, not the whole frame
        origin = np.array([left, top], np.float32)
        before, after = source[top:bottom, left:right], target[top:bottom, left:right]
        points = points - origin
        window = {"winSize": (15, 15), "maxLevel": 3,
                  "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)}
        moved, found, _ = cv2.calcOpticalFlowPyrLK(before, after, points, None, **window)
        back, found_back, _ = cv2.calcOpticalFlowPyrLK(after, before, moved, points.copy(),
                                                       flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **window)
        returned = np.linalg.norm((back - points)[:, 0], axis=1) < _ROUND_TRIP
        good = (found[:, 0] == 1) & (found_back[:, 0] == 1) & returned
        old, new = points[good, 0] + origin, moved[good, 0] + origin
        for fit, least in ((cv2.estimateAffine2D, _AFFINE_POINTS), (cv2.estimateAffinePartial2D, 4)):
            if len(old) >= least:
                motion, inliers = fit(old, new, method=cv2.RANSAC, ransacReprojThreshold=1.0)
                if motion is not None and inliers.sum() >= max(least, len(old) / 2) and _plausible(motion):
                    return motion, True
    return _matched_shift(source, target, mask), False


def _object_corners(image: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """(N, 1, 2) float32 working-frame corners (Shi-Tomasi) two pixels inside ``mask`` (not empty), or None when
    there are fewer than ``_AFFINE_POINTS`` (a small or flat object)."""
    import cv2

    x1, y1, x2, y2 = _box(mask)
    inner = cv2.erode(mask[y1:y2, x1:x2].astype(np.uint8), np.ones((5, 5), np.uint8), borderValue=0)
    if not inner.any():
        return None
    corners = cv2.goodFeaturesToTrack(np.ascontiguousarray(image[y1:y2, x1:x2]), 300, 0.01, 3, mask=inner,
                                      blockSize=5)
    if corners is None or len(corners) < _AFFINE_POINTS:
        return None
    return corners + np.array([x1, y1], np.float32)


def _matched_shift(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The shift (as a 2x3 map) that best lays the object's pixels on ``source`` (under ``mask``, not empty)
    onto ``target``: masked template matching (sum of squared differences) within half the object's size around
    where it was. It needs no corners: a flat object still has an outline."""
    import cv2

    x1, y1, x2, y2 = _box(mask)
    left, top, right, bottom = _around(mask)
    scores = cv2.matchTemplate(target[top:bottom, left:right], source[y1:y2, x1:x2], cv2.TM_SQDIFF,
                               mask=mask[y1:y2, x1:x2].astype(np.uint8))
    _, _, (x, y), _ = cv2.minMaxLoc(scores)
    return np.array([[1.0, 0.0, left + x - x1], [0.0, 1.0, top + y - y1]])


def _around(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2): the box of ``mask`` (not empty) grown by half its size (at least 16 pixels) on every
    side and kept inside the frame: where the object can be on the next frame."""
    x1, y1, x2, y2 = _box(mask)
    reach = max(16, (max(x2 - x1, y2 - y1) + 1) // 2)
    return max(x1 - reach, 0), max(y1 - reach, 0), min(x2 + reach, mask.shape[1]), min(y2 + reach, mask.shape[0])


def _inside_frame(mask: np.ndarray) -> bool:
    """Whether ``mask`` is not empty and touches no edge of its frame."""
    return bool(mask.any() and not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()))


def _plausible(step: np.ndarray) -> bool:
    """Whether a 2x3 step between neighbouring frames keeps orientation and scales each axis within
    ``_STEP_SCALE``: anything else is a bad fit, not a motion."""
    singular = np.linalg.svd(step[:, :2], compute_uv=False)
    return bool(np.linalg.det(step[:, :2]) > 0 and _STEP_SCALE[0] <= singular.min()
                and singular.max() <= _STEP_SCALE[1])


def _compose(after: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The 2x3 affine map that applies ``before`` then ``after``."""
    return (np.vstack([after, [0.0, 0.0, 1.0]]) @ np.vstack([before, [0.0, 0.0, 1.0]]))[:2]


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) of a non-empty ``mask``'s nonzero pixels, x2 and y2 exclusive."""
    xs, ys = np.nonzero(mask.any(axis=0))[0], np.nonzero(mask.any(axis=1))[0]
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def _warp_mask(mask: np.ndarray, box: tuple[int, int, int, int], affine: np.ndarray,
               shape: tuple[int, int]) -> np.ndarray:
    """(H, W) = ``shape`` bool: ``mask`` (float32 (h, w), nonzero only inside ``box``) warped by the 2x3
    ``affine``, thresholded at one half; only the pixels the warped box covers are computed."""
    import cv2

    out = np.zeros(shape, bool)
    x1, y1, x2, y2 = box
    corners = np.array([[x1, y1], [x2, y1], [x1, y2], [x2, y2]], np.float64) @ affine[:, :2].T + affine[:, 2]
    left, top = np.maximum(np.floor(corners.min(axis=0)).astype(int) - 1, 0)
    right, bottom = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 2, (out.shape[1], out.shape[0]))
    if left >= right or top >= bottom:
        return out  # the object has left the frame
    shifted = affine.copy()
    shifted[:, 2] -= (left, top)
    out[top:bottom, left:right] = cv2.warpAffine(mask, shifted, (int(right - left), int(bottom - top)),
                                                 flags=cv2.INTER_LINEAR) > 0.5
    return out


_BINS = 16  # colour histogram bins per RGB channel
_RECENTRE = 0.5  # how far each frame's re-fit pulls the keyframe's placement towards its centroid and size
_BAND = 0.06  # how far the re-fit may move the outline, as a fraction of the square root of the object's area


@dataclass(frozen=True)
class _Colours:
    """How the object's colours differ from its surroundings', learned on the keyframe.

    ``inside``, ``around``: (``_BINS`` ** 3,) float32 probabilities of each quantised RGB colour on the object
    and in a ring of background around it; ``band``: working pixels, how far the re-fit may move the outline.
    """

    inside: np.ndarray
    around: np.ndarray
    band: int


def _working(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``frame`` (H, W, 3) uint8 RGB at the working ``size`` (w, h)."""
    import cv2

    if frame.shape[1::-1] == size:
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _grey(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``frame`` (H, W, 3) uint8 RGB as (h, w) uint8 grey at the working ``size`` (w, h)."""
    import cv2

    return cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)


def _colour_index(image: np.ndarray) -> np.ndarray:
    """(h, w) int index of each pixel's quantised RGB colour."""
    q = image.astype(np.int32) * _BINS // 256
    return (q[..., 0] * _BINS + q[..., 1]) * _BINS + q[..., 2]


def _histogram(index: np.ndarray) -> np.ndarray:
    """Smoothed probabilities of the colour indices ``index`` (1-D)."""
    counts = np.bincount(index, minlength=_BINS ** 3).astype(np.float32) + 0.5
    return counts / counts.sum()


def _learn_colours(image: np.ndarray, mask: np.ndarray) -> _Colours:
    """The object's colours (under ``mask``) and its surroundings' on the keyframe ``image`` (working pixels)."""
    import cv2

    band = max(2, round(_BAND * np.sqrt(mask.sum())))
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
    ring = (outside > 2) & (outside <= 3 * band)
    index = _colour_index(image)
    return _Colours(_histogram(index[mask]), _histogram(index[ring]), band)


def _refit(image: np.ndarray, prior: np.ndarray, colours: _Colours) -> np.ndarray:
    """Where the object's colours put it on ``image`` (working RGB): ``prior`` (the propagated mask, bool) with
    pixels within ``colours.band`` of its outline re-decided: the odds that a pixel's colour is the object's
    rather than the background's (the keyframe's surroundings, half and half with this frame's), times the odds
    given by how far inside or outside ``prior`` it lies. Pieces that do not touch the prior's core are dropped;
    ``prior`` itself comes back when colour would remove half of it (a background of the object's colours)."""
    import cv2

    if not prior.any():
        return prior
    band = colours.band
    x1, y1, x2, y2 = _box(prior)
    x1, y1 = max(x1 - 3 * band, 0), max(y1 - 3 * band, 0)
    x2, y2 = min(x2 + 3 * band, prior.shape[1]), min(y2 + 3 * band, prior.shape[0])
    crop = prior[y1:y2, x1:x2]
    inside = cv2.distanceTransform(crop.astype(np.uint8), cv2.DIST_L2, 3)
    outside = cv2.distanceTransform((~crop).astype(np.uint8), cv2.DIST_L2, 3)
    near = (inside <= band) & (outside <= band)
    index = _colour_index(image[y1:y2, x1:x2])
    ring = (outside > band) & (outside <= 3 * band)
    around = 0.5 * colours.around + 0.5 * _histogram(index[ring]) if ring.any() else colours.around
    place = np.clip(0.5 + (inside - outside) / (2 * band), 0.05, 0.95)
    odds = colours.inside[index] / around[index] * place / (1 - place)
    fitted = crop.copy()
    fitted[near] = odds[near] > 1
    fitted = cv2.morphologyEx(fitted.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    core = inside > band
    if core.any():
        count, labels = cv2.connectedComponents(fitted)
        keep = np.zeros(count, bool)
        keep[np.unique(labels[core & (fitted > 0)])] = True
        keep[0] = False
        fitted = keep[labels].astype(np.uint8)
    if fitted.sum() < 0.5 * crop.sum():
        return prior  # colour cannot tell the object here (a background of its colours): keep the propagated mask
    out = np.zeros_like(prior)
    out[y1:y2, x1:x2] = fitted > 0
    return out


def _recentred(prior: np.ndarray, fitted: np.ndarray, gain: float) -> np.ndarray:
    """The similarity (2x3) that moves ``prior``'s centroid and size ``gain`` of the way to ``fitted``'s."""
    py, px = np.argwhere(prior).mean(axis=0)
    fy, fx = np.argwhere(fitted).mean(axis=0)
    zoom = 1 + gain * (np.sqrt(fitted.sum() / prior.sum()) - 1)
    tx, ty = px + gain * (fx - px), py + gain * (fy - py)
    return np.array([[zoom, 0.0, tx - zoom * px], [0.0, zoom, ty - zoom * py]])
