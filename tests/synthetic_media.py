"""Video clips made from real photos, with known motion, for tracking tests and the video benchmark."""

from __future__ import annotations

import numpy as np


def pan_clip(image: np.ndarray, frames: int = 60, step: int = 2, size: tuple[int, int] = (480, 360)) -> tuple[np.ndarray, list[int]]:
    """A camera pan across ``image``: (T, h, w, 3) uint8 frames and each frame's window x offset.

    Window ``size`` is (w, h); frame ``t`` shows ``image[0:h, x_t:x_t + w]`` with ``x_t = t * step``,
    so content moves ``step`` pixels left per frame.
    """
    w, h = size
    offsets = [t * step for t in range(frames)]
    if offsets[-1] + w > image.shape[1] or h > image.shape[0]:
        raise ValueError("the pan leaves the image; use fewer frames, a smaller step or window")
    return np.stack([image[:h, x:x + w] for x in offsets]), offsets


def shifted(mask: np.ndarray, dx: int) -> np.ndarray:
    """``mask`` moved ``dx`` pixels right (negative: left), zero-filled."""
    out = np.zeros_like(mask)
    if dx >= 0:
        out[:, dx:] = mask[:, : mask.shape[1] - dx]
    else:
        out[:, :dx] = mask[:, -dx:]
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
