"""Video editing without per-video training: an image edit applied on every frame inside the tracked masks.

The graph tracks the object first (keyframe segmentation, then mask propagation), so each frame gets its
own mask; recolour and restyle are deterministic per-pixel filters, so the edit stays consistent from
frame to frame. Removal inpaints each frame's hole from its surroundings; a move shifts each frame's object
by the same offset and fills where it was. The frame rate is the source's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import Expert, ExpertCall, ExpertResult, ExpertSpec, VideoClip

__all__ = ["FrameEditExpert"]

_IMAGE_EXPERTS = {"recolor": "opencv_recolor", "restyle": "opencv_restyle", "remove": "opencv_inpaint",
                  "move": "opencv_inpaint"}


class FrameEditExpert(Expert):
    """Recolours, restyles, removes or moves an object across a video, frame by frame (no weights)."""

    spec = ExpertSpec(
        name="frame_edit",
        tasks=("edit_video",),
        edit_ops=("recolor", "restyle", "remove", "move"),
        description=("Edits a video frame by frame inside the tracked object's masks: recolour, restyle (or the "
                     "whole video), remove it, or move it (direction) (OpenCV, no weights)."),
        input_kinds=("video",),
        region_kinds=("mask",),
        region_required=True,
        region_free_ops=("restyle",),
        outputs=("video",),
        requires=("cv2",),
        quality=1,
    )

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        from vitron_agent.experts.registry import ExpertRegistry

        registry = ExpertRegistry.default(entry_points_too=False)
        self.editors: dict[str, Expert] = {}
        created: dict[str, Expert] = {}
        for op, name in _IMAGE_EXPERTS.items():
            if name not in created:
                created[name] = registry.create(name)
                created[name].load(device, dtype)
            self.editors[op] = created[name]
        self.loaded = True

    def run(self, call: ExpertCall) -> ExpertResult:
        if call.video is None:
            raise BadInputError("frame_edit needs a video input")
        op = call.invocation.op or ""
        if op not in self.editors:
            raise BadInputError(f"frame_edit does {', '.join(self.editors)}, not {op!r}")
        frames = call.video.frames
        masks = self._masks(call, op, frames.shape[:3])
        image_inv = call.invocation.model_copy(update={"task": "edit_image"})
        edited = np.empty_like(frames)
        for index, frame in enumerate(frames):
            mask = None if masks is None else masks[index]
            if mask is not None and not mask.any():
                edited[index] = frame  # the object is not in this frame
            else:
                one = ExpertCall(invocation=image_inv, images=[frame], mask=mask)
                edited[index] = self.editors[op].run(one).images[0]
            call.progress((index + 1) / len(frames), f"frame {index + 1}/{len(frames)}")
        return ExpertResult(videos=[VideoClip(edited, call.video.fps)],
                            text=f"{op}: edited {len(frames)} frames at {call.video.fps:g} fps")

    @staticmethod
    def _masks(call: ExpertCall, op: str, shape: tuple[int, int, int]) -> Any:
        """(T, H, W) masks, or None to edit whole frames (restyle without a region)."""
        if call.mask is None:
            if op == "restyle":
                return None
            raise RegionError(f"frame_edit needs the object's masks on every frame for {op}; track it first")
        if call.mask.ndim == 2:
            return np.broadcast_to(call.mask, shape)
        if call.mask.shape != shape:
            raise RegionError(f"the masks are {call.mask.shape} but the video is {shape}")
        return call.mask
