"""Pan-and-zoom animation of a still (the Ken Burns effect): the embedded ``animate_image`` expert.

It makes a real video from the image without weights: a smooth camera move chosen by words in the
command ("zoom in", "zoom out", "pan left", "pan right"; default a slow zoom in).
"""

from __future__ import annotations

import re

import numpy as np

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec, VideoClip

from ._common import OpenCVExpert, input_image

__all__ = ["PanZoomExpert"]


class PanZoomExpert(OpenCVExpert):
    """Animates a still with a camera move. ``args``: ``seconds`` (default 2), ``fps`` (default 24),
    ``zoom`` (final zoom factor, default 1.3). Frames are at most ``max_side`` pixels (default 720)."""

    spec = ExpertSpec(
        name="pan_zoom",
        tasks=("animate_image",),
        description="Animates a still image with a smooth zoom or pan (no weights); say 'zoom out' or 'pan left'.",
        input_kinds=("image",),
        outputs=("video",),
        requires=("cv2",),
        quality=1,
    )

    def __init__(self, weights: str | None = None, max_side: int = 720, **options: object) -> None:
        super().__init__(weights, **options)
        self.max_side = int(max_side)


    def run(self, call: ExpertCall) -> ExpertResult:
        import cv2

        image = input_image(call, self.spec.name)
        seconds, fps, zoom = (float(call.args.get(k, d)) for k, d in (("seconds", 2.0), ("fps", 24.0), ("zoom", 1.3)))
        if not (0 < seconds <= 30 and 1 <= fps <= 60 and 1.0 < zoom <= 4.0):
            raise BadInputError(f"pan_zoom needs 0 < seconds <= 30, 1 <= fps <= 60, 1 < zoom <= 4; "
                                f"got seconds={seconds}, fps={fps}, zoom={zoom}")
        height, width = image.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        size = (max(2, round(width * scale)), max(2, round(height * scale)))
        words = call.command.lower()
        count = max(2, round(seconds * fps))
        frames = np.empty((count, size[1], size[0], 3), np.uint8)
        for index in range(count):
            t = 0.5 - 0.5 * np.cos(np.pi * index / (count - 1))  # ease in and out, 0 -> 1
            frames[index] = cv2.warpAffine(image, self._camera(t, zoom, words, width, height, scale), size,
                                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            call.progress((index + 1) / count, f"frame {index + 1}/{count}")
        return ExpertResult(videos=[VideoClip(frames, fps)], text=f"animated the image: {count} frames at {fps:g} fps")

    @staticmethod
    def _camera(t: float, zoom: float, words: str, width: int, height: int, scale: float) -> np.ndarray:
        """2x3 affine map from the source image to an output frame at time ``t`` in [0, 1]."""
        panning = re.search(r"\bpan\b.*\b(left|right)\b", words)
        if panning:
            factor = zoom
            travel = (width - width / factor) / 2 * (2 * t - 1) * (1 if panning.group(1) == "right" else -1)
            cx, cy = width / 2 + travel, height / 2
        else:
            factor = 1 + (zoom - 1) * ((1 - t) if re.search(r"\bzoom(ing)? out\b", words) else t)
            cx, cy = width / 2, height / 2
        s = factor * scale
        return np.float32([[s, 0, width * scale / 2 - s * cx], [0, s, height * scale / 2 - s * cy]])
