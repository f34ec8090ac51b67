"""Mask propagation through a video by dense optical flow: the embedded, weight-free ``track`` expert.

Start from one frame's mask (the graph segments a box or a named target on that keyframe first),
then carry it frame to frame: dense optical flow (Farneback) from each new frame back to the previous
one tells where every pixel came from, and the previous mask is warped along it. Flow runs on frames scaled to at
most ``max_side`` pixels, so a 60-frame clip takes well under a second.
"""

from __future__ import annotations

import numpy as np

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import OpenCVExpert

__all__ = ["FlowTrackExpert"]


class FlowTrackExpert(OpenCVExpert):
    """Propagates a mask over every frame of a video; needs no weights.

    Options: ``max_side`` (pixels of the frames the flow is computed on, default 256).
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

    def __init__(self, weights: str | None = None, max_side: int = 256, **options: object) -> None:
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
        grey = np.stack([cv2.cvtColor(cv2.resize(f, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
                         for f in frames])
        small = cv2.resize(first.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        masks = np.zeros((count, height, width), bool)
        masks[start] = first
        done = 1
        grid = np.meshgrid(np.arange(size[0], dtype=np.float32), np.arange(size[1], dtype=np.float32))
        for order in (range(start + 1, count), range(start - 1, -1, -1)):
            current = small
            for index in order:
                source = index - 1 if index > start else index + 1
                flow = cv2.calcOpticalFlowFarneback(grey[index], grey[source], None, 0.5, 2, 13, 2, 5, 1.1, 0)
                current = _warp(current, flow, grey[index], grid)
                masks[index] = cv2.resize(current, (width, height), interpolation=cv2.INTER_LINEAR) > 0.5
                done += 1
                call.progress(done / count, f"frame {done}/{count}")
        lost = [int(i) for i in np.nonzero(~masks.reshape(count, -1).any(axis=1))[0]]
        text = f"tracked the object over {count} frames" + (f"; lost on {len(lost)} frame(s)" if lost else "")
        return ExpertResult(masks=[masks], text=text, data={"keyframe": start, "lost_frames": lost[:50]})


def _warp(mask: np.ndarray, flow: np.ndarray, target: np.ndarray, grid: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Carry ``mask`` (float, on the source frame's grid) to ``target`` along ``flow`` (target -> source);
    ``grid``: the pixel coordinates (x, y) of the frames."""
    import cv2

    inside = mask > 0.5
    if inside.any():
        # Flow is unreliable on flat areas and at frame borders: there, follow the object's median motion;
        # where there is texture, follow the local flow, kept near the median so no part is left behind.
        median = np.median(flow[inside], axis=0)
        tolerance = 0.5 + 0.3 * float(np.hypot(*median))
        texture = cv2.GaussianBlur(cv2.magnitude(cv2.Sobel(target, cv2.CV_32F, 1, 0),
                                                 cv2.Sobel(target, cv2.CV_32F, 0, 1)), (0, 0), 2.0)
        trust = np.clip(texture / 60.0, 0.0, 1.0)[..., None]
        flow = median + trust * np.clip(flow - median, -tolerance, tolerance)
    return cv2.remap(mask, grid[0] + flow[..., 0], grid[1] + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)
