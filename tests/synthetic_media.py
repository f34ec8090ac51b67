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


def wander(frames: int, width: int, height: int, seed: int = 0) -> list[tuple[int, int]]:
    """A camera path of ``frames`` integer (x, y) window offsets within [0, width] x [0, height]: two slow
    sinusoids with a drift and small jitter, so the motion changes speed and direction (not a fixed pan)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)
    x = width / 2 + width * 0.45 * np.sin(2 * np.pi * t / 211) + rng.integers(-1, 2, frames)
    y = height / 2 + height * 0.45 * np.sin(2 * np.pi * t / 137 + 1.0) + rng.integers(-1, 2, frames)
    return [(int(a), int(b)) for a, b in zip(np.clip(x, 0, width), np.clip(y, 0, height), strict=True)]


def path_clip(image: np.ndarray, offsets: list[tuple[int, int]], size: tuple[int, int]) -> np.ndarray:
    """(T, h, w, 3) frames: frame ``t`` is the window of ``size`` (w, h) at ``offsets[t]`` = (x, y) of
    ``image``, so content at (u, v) on frame 0 is at (u - x_t + x_0, v - y_t + y_0) on frame t."""
    w, h = size
    if max(x for x, _ in offsets) + w > image.shape[1] or max(y for _, y in offsets) + h > image.shape[0]:
        raise ValueError("the path leaves the image; use a smaller window or path")
    return np.stack([image[y:y + h, x:x + w] for x, y in offsets])


def moved(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``mask`` moved ``dx`` pixels right and ``dy`` down (negative: left, up), zero-filled."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    src = mask[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out


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
