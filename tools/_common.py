"""Small helpers the built-in experts share: their input image and the region they edit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import Expert, ExpertCall, ExpertResult, ExpertSpec, resolve_dtype

__all__ = ["OpenCVExpert", "input_image", "region_mask", "feathered_blend", "work_size", "torch_memory",
           "move_object", "box_iou", "clip_box", "target_words", "torch_dtype", "tracked_masks"]

DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "top": (0, -1), "down": (0, 1), "bottom": (0, 1)}


class OpenCVExpert(Expert):
    """Base of the weight-free OpenCV experts: loading is importing OpenCV (declare ``requires=("cv2",)``)."""

    abstract = True

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        import cv2  # noqa: F401  (the pool checked spec.requires first)

        self.loaded = True


def feathered_blend(new: np.ndarray, old: np.ndarray, mask: np.ndarray, feather: float = 0.004) -> np.ndarray:
    """``new`` inside ``mask`` (H, W bool), ``old`` outside, across an edge blurred by ``feather`` of the shorter side."""
    import cv2

    sigma = max(0.5, feather * min(mask.shape))
    weight = np.maximum(cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma), mask)[..., None]
    return np.clip(weight * new + (1 - weight) * old, 0, 255).astype(np.uint8)


def work_size(height: int, width: int, max_side: int, multiple: int = 8) -> tuple[int, int]:
    """cv2/PIL size (w, h) at most ``max_side`` on the long side, each a multiple of ``multiple``."""
    scale = min(1.0, max_side / max(height, width))
    return (max(multiple, round(width * scale) // multiple * multiple),
            max(multiple, round(height * scale) // multiple * multiple))


def tracked_masks(call: ExpertCall, op: str, shape: tuple[int, int, int], expert: ExpertSpec) -> np.ndarray | None:
    """A video edit's (T, H, W) bool masks for a clip of ``shape``: the call's mask per frame (one (H, W) mask
    stands for every frame), or None to edit whole frames (an op the expert does without a region)."""
    if call.mask is None:
        if op in expert.region_free_ops:
            return None
        raise RegionError(f"{expert.name} needs the object's masks on every frame for {op}; track it first")
    mask = np.asarray(call.mask, dtype=bool)
    if mask.shape == shape[1:]:
        return np.broadcast_to(mask, shape)
    if mask.shape != shape:
        raise RegionError(f"{expert.name}: the masks are {mask.shape} (T, H, W) but the video is {shape}")
    return mask


def torch_dtype(dtype: str | None, device: str) -> Any:
    """The torch dtype to load weights in on ``device`` (resolved): ``AgentConfig.dtype`` as ``resolve_dtype``
    reads it (``auto``: float32 on CPU, bfloat16 or float16 on a GPU)."""
    import torch

    return getattr(torch, resolve_dtype(dtype, device))


def torch_memory(modules: list[Any], device: str) -> dict[str, int]:
    """Bytes held by the parameters of ``modules`` (None entries: not loaded), as VRAM on CUDA, else RAM."""
    size = sum(p.numel() * p.element_size() for m in modules if hasattr(m, "parameters") for p in m.parameters())
    return {"vram": size, "ram": 0} if device.startswith("cuda") else {"ram": size, "vram": 0}


def input_image(call: ExpertCall, expert: str) -> np.ndarray:
    """The first input as (H, W, 3) uint8 RGB, or a ``BadInputError`` saying what arrived."""
    if not call.images:
        raise BadInputError(f"{expert} needs an image input; none was given")
    image = np.asarray(call.images[0])
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise BadInputError(f"{expert} needs an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
    return np.ascontiguousarray(image)


def region_mask(call: ExpertCall, shape: tuple[int, int], expert: str, required: bool = True) -> np.ndarray | None:
    """The region as an (H, W) bool mask in the input's frame: the mask itself, or the union of its boxes.

    ``None`` when there is no region and ``required`` is False.
    """
    height, width = shape
    if call.mask is not None:
        mask = np.asarray(call.mask, dtype=bool)
        if mask.shape != (height, width):
            raise RegionError(f"{expert}: the mask is {mask.shape[::-1]} but the image is {width}x{height}")
    elif call.boxes:
        mask = np.zeros((height, width), bool)
        for x1, y1, x2, y2 in call.boxes:
            mask[max(0, int(y1)):min(height, int(np.ceil(y2))), max(0, int(x1)):min(width, int(np.ceil(x2)))] = True
    elif required:
        raise RegionError(f"{expert} needs a region (a mask or a box) saying what to edit")
    else:
        return None
    if not mask.any():
        raise RegionError(f"{expert}: the region is empty; nothing to edit")
    return mask


def move_object(image: np.ndarray, mask: np.ndarray, call: ExpertCall,
                fill: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> ExpertResult:
    """Cut the masked object out, ``fill`` its hole (any remover: OpenCV or a diffusion inpainter), paste it
    shifted by ``args.direction`` (left, right, up, down) and ``args.distance`` (fraction of the side, 0.2).
    The result's mask is the object where it now is, so a later edit of "it" finds it there."""
    direction = str(call.args.get("direction", "")).lower()
    if direction not in DIRECTIONS:
        raise BadInputError(f"move needs args.direction, one of: {', '.join(DIRECTIONS)}; got {direction!r}")
    distance = float(call.args.get("distance", 0.2))
    if not 0.0 < distance < 1.0:
        raise BadInputError(f"move's args.distance is a fraction of the image side in (0, 1), got {distance}")
    height, width = mask.shape
    dx, dy = DIRECTIONS[direction]
    shift_x, shift_y = round(dx * distance * width), round(dy * distance * height)
    out = fill(image, mask)
    src_ys, src_xs = np.nonzero(mask)
    dst_ys, dst_xs = src_ys + shift_y, src_xs + shift_x
    inside = (dst_ys >= 0) & (dst_ys < height) & (dst_xs >= 0) & (dst_xs < width)
    out[dst_ys[inside], dst_xs[inside]] = image[src_ys[inside], src_xs[inside]]
    moved = np.zeros_like(mask, dtype=bool)
    moved[dst_ys[inside], dst_xs[inside]] = True
    return ExpertResult(images=[out], masks=[moved], text=f"moved the region {direction} by {abs(shift_x or shift_y)} px",
                        data={"shift": [shift_x, shift_y]})


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def clip_box(box: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    """An (x1, y1, x2, y2) box moved inside a ``width`` x ``height`` image."""
    return (float(np.clip(box[0], 0, width)), float(np.clip(box[1], 0, height)),
            float(np.clip(box[2], 0, width)), float(np.clip(box[3], 0, height)))


def target_words(command: str) -> str:
    """The target's words without a leading article or demonstrative: 'the red cup' -> 'red cup'."""
    return re.sub(r"^(?:the|a|an|this|that)\s+", "", command.strip(), flags=re.I)
