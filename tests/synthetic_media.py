"""Video clips made from real photos, with known motion, for tracking tests and the video benchmark."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class TrackingClip:
    """A clip with the exact truth of one moving object: ``frames`` (T, h, w, 3) uint8 RGB, ``masks`` (T, h, w) bool
    (the object's pixels on each frame) and ``boxes`` (x1, y1, x2, y2) per frame, x2 and y2 exclusive, pixels."""

    frames: np.ndarray
    masks: np.ndarray
    boxes: list[tuple[int, int, int, int]]

    def score(self, masks: np.ndarray) -> tuple[float, float]:
        """(fraction of frames whose mask's bounding box has IoU >= 0.5 with the true box, mean IoU of the masks
        with the true masks) for predicted ``masks`` (T, h, w) bool; an empty mask scores 0 on its frame."""
        from vitron_agent.tools._common import box_iou

        from .ground_truth import mask_box

        hits = [m.any() and box_iou(mask_box(m), box) >= 0.5 for m, box in zip(masks, self.boxes, strict=True)]
        return float(np.mean(hits)), float(np.mean([iou(m, t) for m, t in zip(masks, self.masks, strict=True)]))


CUP_PATH = [(190, 170), (380, 200), (440, 320), (260, 340), (320, 250)]
"""Waypoints (x, y) of the object's centre on a 640x480 frame for ``cutout_clip``: about 600 pixels in all."""


def eased_path(waypoints: list[tuple[int, int]], frames: int) -> list[tuple[float, float]]:
    """``frames`` (x, y) positions along ``waypoints``: each leg takes the same time and eases in and out
    (smoothstep), so the object stops at each corner, speeds up, slows down and turns: speed and direction change."""
    legs = len(waypoints) - 1
    out = []
    for t in range(frames):
        u = t / (frames - 1) * legs
        leg = min(int(u), legs - 1)
        s = u - leg
        s = s * s * (3 - 2 * s)
        (ax, ay), (bx, by) = waypoints[leg], waypoints[leg + 1]
        out.append((ax + (bx - ax) * s, ay + (by - ay) * s))
    return out


def cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to cover ``size`` (w, h) and cropped at its centre to exactly that size."""
    import cv2

    w, h = size
    scale = max(w / image.shape[1], h / image.shape[0])
    big = cv2.resize(image, (max(w, round(image.shape[1] * scale)), max(h, round(image.shape[0] * scale))),
                     interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    y, x = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return np.ascontiguousarray(big[y:y + h, x:x + w])


def cup_clip(background: str = "astronaut", frames: int = 72, size: tuple[int, int] = (640, 480),
             scale: float = 0.6, turn: bool = True) -> TrackingClip:
    """The espresso cup of ``skimage.data.coffee()``, cut along its hand-traced outline (``COFFEE_CUP``) at
    ``scale`` times its size in the photo, moved over ``background`` by ``cutout_clip``. Textured: rim, coffee,
    handle."""
    import cv2
    from skimage import data

    from .ground_truth import COFFEE_CUP

    coffee = data.coffee()
    outline = np.array(COFFEE_CUP, np.float64)
    x1, y1 = outline.min(axis=0).astype(int)
    x2, y2 = outline.max(axis=0).astype(int) + 1
    cw, ch = round((x2 - x1) * scale), round((y2 - y1) * scale)
    cup = cv2.resize(coffee[y1:y2, x1:x2], (cw, ch), interpolation=cv2.INTER_AREA)
    return cutout_clip(cup, (outline - (x1, y1)) * (cw / (x2 - x1), ch / (y2 - y1)), background, frames, size, turn)


def flat_ellipse_clip(background: str = "astronaut", frames: int = 72, size: tuple[int, int] = (640, 480),
                      colour: tuple[int, int, int] = (40, 120, 200), turn: bool = True) -> TrackingClip:
    """A flat ``colour`` (RGB) ellipse of 100x70 pixels, moved over ``background`` by ``cutout_clip``: an object
    with no texture inside, only its outline against the photo."""
    angles = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    outline = np.stack([50 + 50 * np.cos(angles), 35 + 35 * np.sin(angles)], axis=1)
    return cutout_clip(np.full((70, 100, 3), colour, np.uint8), outline, background, frames, size, turn)


def cutout_clip(cutout: np.ndarray, outline: np.ndarray, background: str = "astronaut", frames: int = 72,
                size: tuple[int, int] = (640, 480), turn: bool = True) -> TrackingClip:
    """An object moved over a still photo, with its exact mask and box on every frame.

    ``cutout``: (h, w, 3) uint8 RGB image of the object; ``outline``: (N, 2) float (x, y) vertices of its edge in
    ``cutout``'s pixels. ``background``: a photo's name in ``skimage.data``, scaled to cover ``size`` (w, h).
    The object's centre follows ``CUP_PATH`` (eased legs, scaled with the frame size); with ``turn`` it also tilts
    (up to 10 degrees either way), grows and shrinks (0.88x to 1.12x) and narrows (to 0.85x its width, as if
    turning away), so its outline is not a moved copy of the first frame's. The edge is antialiased and feathered
    over about a pixel, then alpha-blended, so there is no hard halo; the truth mask is where that alpha is at
    least one half. Deterministic.
    """
    import cv2
    from skimage import data

    from .ground_truth import mask_box

    ch, cw = cutout.shape[:2]
    colours = cutout.astype(np.float32)
    scene = cover(getattr(data, background)(), size)
    w, h = size
    path = eased_path([(x * w / 640, y * h / 480) for x, y in CUP_PATH], frames)
    video = np.empty((frames, h, w, 3), np.uint8)
    masks = np.zeros((frames, h, w), bool)
    supersample = 4
    for t, (x, y) in enumerate(path):
        phase = 2 * np.pi * t / frames
        angle, zoom, narrow = (10 * np.sin(1.5 * phase), 1 + 0.12 * np.sin(phase + 0.5),
                               1 - 0.075 * (1 - np.cos(phase))) if turn else (0.0, 1.0, 1.0)
        pose = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, zoom) @ np.diag([narrow, 1.0, 1.0])
        pose[:, 2] += (x - cw / 2, y - ch / 2) + pose[:, :2] @ (cw / 2 * (1 - narrow), 0)
        corners = outline @ pose[:, :2].T + pose[:, 2]
        left, top = np.floor(corners.min(axis=0)).astype(int) - 3
        right, bottom = np.ceil(corners.max(axis=0)).astype(int) + 3
        if left < 0 or top < 0 or right > w or bottom > h:
            raise ValueError("the object leaves the frame; use a smaller object or a larger size")
        coverage = np.zeros(((bottom - top) * supersample, (right - left) * supersample), np.uint8)
        corners = np.round((corners - (left, top)) * supersample * 16).astype(np.int32)
        cv2.fillPoly(coverage, [corners], 255, cv2.LINE_AA, shift=4)
        alpha = cv2.resize(coverage.astype(np.float32) / 255, (right - left, bottom - top),
                           interpolation=cv2.INTER_AREA)
        alpha = cv2.GaussianBlur(alpha, (0, 0), 0.7)[..., None]
        pose[:, 2] -= (left, top)
        moved = cv2.warpAffine(colours, pose, (right - left, bottom - top), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        video[t] = scene
        window = scene[top:bottom, left:right]
        video[t, top:bottom, left:right] = np.clip(alpha * moved + (1 - alpha) * window + 0.5, 0, 255)
        masks[t, top:bottom, left:right] = alpha[..., 0] >= 0.5
    return TrackingClip(video, masks, [mask_box(m) for m in masks])
