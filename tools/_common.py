"""Small helpers the built-in experts share: their input image and the region they edit."""

from __future__ import annotations

import numpy as np

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import ExpertCall

__all__ = ["input_image", "region_mask"]


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
