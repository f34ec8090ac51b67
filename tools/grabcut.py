"""GrabCut segmentation: the embedded, weight-free ``segment`` expert (OpenCV's ``cv2.grabCut``).

One mask per prompt: each box is segmented on its own; all clicks together form one prompt; a
mask hint is one prompt. Clicks given beside boxes or a mask hint refine those prompts. Large
images are segmented on a copy whose longest side is ``max_side`` and the masks are scaled back.
Each prompt runs on a crop around it (outside the crop is background anyway), which keeps a
call on a 600x400 photo under a second; a crop larger than ``crop_side`` is segmented downscaled.

A box is read as drawn around the whole object, so the object reaches each of its sides (the tightness
prior of box-prompted segmentation). GrabCut alone breaks that when part of the object has the colour of
what lies outside the box: on the README's coffee photo, the cup's red body matches the saucer, and the
mask keeps only the white rim and the coffee. So when the mask stops short of a side by more than a fifth of
the box's longer side (far more than the slack of a hand-drawn box), a thin definite-foreground strip is laid
from the mask's edge to that side and GrabCut runs again: the strip teaches the foreground model the missing
part's colour and the smoothness term fills it in. A box where GrabCut finds nothing at all (every colour in
it also lies outside) is tried again with a cross through its middle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vitron_agent.errors import RegionError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import OpenCVExpert, input_image

__all__ = ["GrabCutExpert"]

# cv2.GC_BGD, GC_FGD, GC_PR_BGD, GC_PR_FGD; repeated here so that importing this file needs no cv2.
_BGD, _FGD, _PR_BGD, _PR_FGD = 0, 1, 2, 3


@dataclass
class _Prompt:
    """One GrabCut problem on the working image: ``init`` (h, w) uint8 GC_* labels, ``keep_clicks``
    (x, y) working-frame pixels whose connected component is kept (empty: keep everything), ``box``
    the working-frame (x1, y1, x2, y2) the object fills, for box prompts."""

    init: np.ndarray
    keep_clicks: list[tuple[int, int]]
    box: tuple[int, int, int, int] | None = None


class GrabCutExpert(OpenCVExpert):
    """Box-, click- or mask-prompted foreground segmentation with GrabCut; needs no weights.

    Options: ``iterations`` (GrabCut rounds, default 5), ``max_side`` (pixels; larger images are
    segmented on a downscaled copy, default 1024), ``seed`` (GrabCut's k-means start draws from
    OpenCV's per-thread RNG, which each prompt reseeds with it, so equal calls give equal masks),
    ``tight_box`` (default true: a box is drawn around the whole object, so a mask that stops far short
    of a side is grown to it; false: plain GrabCut, for boxes drawn loosely), ``crop_side`` (pixels: each
    prompt's crop is segmented at most this size on its longer side, default 400).
    """

    spec = ExpertSpec(
        name="grabcut",
        requires=("cv2",),
        tasks=("segment",),
        description=(
            "Segments the object inside a box, under clicks, or inside a rough mask by colour "
            "(OpenCV GrabCut, no weights). Needs a region; returns one mask per box or prompt."
        ),
        input_kinds=("image",),
        region_kinds=("box", "points", "mask"),
        region_required=True,
        outputs=("mask",),
        quality=1,
    )

    def __init__(
        self, weights: str | None = None, iterations: int = 5, max_side: int = 1024, seed: int = 0,
        tight_box: bool = True, crop_side: int = 400, **options: object
    ) -> None:
        super().__init__(weights, **options)
        self.iterations = int(iterations)
        self.max_side = int(max_side)
        self.seed = int(seed)
        self.tight_box = bool(tight_box)
        self.crop_side = int(crop_side)


    def run(self, call: ExpertCall) -> ExpertResult:
        """Segment every prompt of ``call``; masks are (H, W) bool in the input image's frame."""
        import cv2

        image = input_image(call, "grabcut")
        height, width = image.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        work = image
        if scale < 1.0:
            work = cv2.resize(image, _scaled_size(width, height, scale), interpolation=cv2.INTER_AREA)
        prompts = _prompts(call, (height, width), work.shape[:2], scale)
        masks = []
        for index, prompt in enumerate(prompts):
            call.progress(index / len(prompts), f"grabcut: segmenting region {index + 1} of {len(prompts)}")
            small = self._segment(work, prompt)
            masks.append(_to_full(small, (height, width)))
        call.progress(1.0, "grabcut: done")
        areas = [int(m.sum()) for m in masks]
        covered = np.logical_or.reduce(masks).mean() if masks else 0.0
        text = f"segmented {len(masks)} region(s), {100 * covered:.1f}% of the image"
        if any(a == 0 for a in areas):
            text += f"; {sum(a == 0 for a in areas)} region(s) came out empty (try another box, or clicks on the object)"
        return ExpertResult(text=text, masks=masks, data={"areas": areas, "scale": float(scale)})


    def _segment(self, image: np.ndarray, prompt: _Prompt) -> np.ndarray:
        """Run GrabCut on a crop around the prompt; returns the (h, w) bool mask of the working image. With
        ``tight_box``, a box whose mask stops far short of a side is segmented again with strips to those sides."""
        mask = self._grabcut(image, prompt.init)
        mask = _keep_clicked(mask, prompt.keep_clicks) if prompt.keep_clicks else _drop_specks(mask)
        if self.tight_box and prompt.box is not None:
            strips = _strips_to_sides(mask, prompt.box) if mask.any() else _cross(prompt.box, mask.shape)
            if strips is not None:
                init = prompt.init.copy()
                init[strips & (init != _BGD)] = _FGD
                mask = _drop_specks(self._grabcut(image, init))
        return mask

    def _grabcut(self, image: np.ndarray, init: np.ndarray) -> np.ndarray:
        """GrabCut on a crop around the non-background labels of ``init``, at most ``crop_side`` pixels on its
        longer side (GrabCut's time grows with the pixels; the mask is scaled back with smooth edges); the (h, w)
        bool foreground."""
        import cv2

        x1, y1, x2, y2 = _crop_around(init != _BGD)
        labels = init[y1:y2, x1:x2]
        pixels = image[y1:y2, x1:x2]
        scale = min(1.0, self.crop_side / max(labels.shape))
        if scale < 1.0:
            size = _scaled_size(labels.shape[1], labels.shape[0], scale)
            labels = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)
            pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        labels = labels.copy()
        if not np.isin(labels, (_BGD, _PR_BGD)).any():  # the prompt covers the whole image: no background sample
            labels[[0, -1], :] = _PR_BGD
            labels[:, [0, -1]] = _PR_BGD
        if np.isin(labels, (_FGD, _PR_FGD)).any():
            bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
            cv2.setRNGSeed(self.seed)
            cv2.grabCut(np.ascontiguousarray(pixels), labels, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)
        mask = np.zeros(init.shape, bool)
        mask[y1:y2, x1:x2] = _to_full((labels == _FGD) | (labels == _PR_FGD), (y2 - y1, x2 - x1))
        return mask & (init != _BGD)  # scaling back must not spill past the box or other definite background

def _scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """cv2 ``dsize`` (w, h) of an image scaled by ``scale``, at least 1 pixel per side."""
    return max(1, round(width * scale)), max(1, round(height * scale))


def _prompts(call: ExpertCall, full: tuple[int, int], work: tuple[int, int], scale: float) -> list[_Prompt]:
    """GrabCut problems on the working image (``work`` = (h, w)) from the call's region."""
    clicks = [(round(p.x * scale), round(p.y * scale), p.positive) for p in call.points]
    keep = [(x, y) for x, y, positive in clicks if positive]
    if call.boxes:
        inits = [_box_init(box, full, work, scale) for box in call.boxes]
        boxes = [_working_box(init) for init in inits]
    elif call.mask is not None:
        inits = [_mask_init(call.mask, full, work)]
    elif call.points:
        if not keep:
            raise RegionError("grabcut needs at least one positive click on the object; all clicks were negative")
        inits = [np.full(work, _PR_BGD, np.uint8)]
    else:
        raise RegionError(
            "grabcut needs a region: a box [x1, y1, x2, y2] in pixels, clicks on the object, or a mask; none was given"
        )
    for init in inits:
        _stamp_clicks(init, clicks)
    if call.boxes:
        return [_Prompt(init, [], box) for init, box in zip(inits, boxes, strict=True)]
    return [_Prompt(init, keep if call.mask is None else []) for init in inits]


def _working_box(init: np.ndarray) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2), exclusive ends, of the probable-foreground rectangle of a fresh box ``init``."""
    ys, xs = np.nonzero(init == _PR_FGD)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _box_init(box: Sequence[float], full: tuple[int, int], work: tuple[int, int], scale: float) -> np.ndarray:
    """(h, w) GC labels: probable foreground inside the clipped box, background outside."""
    height, width = full
    x1, y1, x2, y2 = (float(c) for c in box)
    cx1, cy1 = max(0.0, x1), max(0.0, y1)
    cx2, cy2 = min(float(width), x2), min(float(height), y2)
    if cx2 - cx1 < 2 or cy2 - cy1 < 2:
        raise RegionError(
            f"Box [{x1:g}, {y1:g}, {x2:g}, {y2:g}] covers less than 2 pixels on a side of the "
            f"{width}x{height} image after clipping; coordinates are pixels, x1<x2, y1<y2."
        )
    init = np.full(work, _BGD, np.uint8)
    wx1, wy1 = int(np.floor(cx1 * scale)), int(np.floor(cy1 * scale))
    wx2, wy2 = max(wx1 + 1, int(np.ceil(cx2 * scale))), max(wy1 + 1, int(np.ceil(cy2 * scale)))
    init[wy1:wy2, wx1:wx2] = _PR_FGD
    return init


def _mask_init(hint: np.ndarray, full: tuple[int, int], work: tuple[int, int]) -> np.ndarray:
    """(h, w) GC labels from an (H, W) bool hint: probable foreground inside, probable background
    in a band around it (so the mask can grow a little), background beyond."""
    import cv2

    hint = np.asarray(hint, dtype=bool)
    if hint.shape != full:
        raise RegionError(f"the mask hint is {hint.shape[1]}x{hint.shape[0]} but the image is {full[1]}x{full[0]}")
    if not hint.any():
        raise RegionError("the mask hint is empty; mark the object or give a box instead")
    small = cv2.resize(hint.astype(np.uint8), (work[1], work[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
    if not small.any():  # a hint thinner than one working pixel
        ys, xs = np.nonzero(hint)
        small[min(work[0] - 1, ys[0] * work[0] // full[0]), min(work[1] - 1, xs[0] * work[1] // full[1])] = True
    ys, xs = np.nonzero(small)
    band = max(2, round(0.05 * max(np.ptp(ys) + 1, np.ptp(xs) + 1)))
    grown = cv2.dilate(small.astype(np.uint8), np.ones((2 * band + 1, 2 * band + 1), np.uint8)).astype(bool)
    init = np.full(work, _BGD, np.uint8)
    init[grown] = _PR_BGD
    init[small] = _PR_FGD
    return init


def _stamp_clicks(init: np.ndarray, clicks: list[tuple[int, int, bool]]) -> None:
    """Draw clicks into ``init`` in place: positive clicks get a definite-foreground dot inside a
    probable-foreground disk (12% of the shorter side), negative clicks a definite-background disk."""
    import cv2

    side = min(init.shape)
    dot, area = max(2, round(0.01 * side)), max(4, round(0.12 * side))
    for x, y, positive in clicks:
        if positive:
            disk = np.zeros_like(init)
            cv2.circle(disk, (x, y), area, 1, -1)
            init[(disk == 1) & (init != _FGD) & (init != _BGD)] = _PR_FGD
    for x, y, positive in clicks:
        cv2.circle(init, (x, y), dot if positive else 2 * dot, _FGD if positive else _BGD, -1)


def _cross(box: tuple[int, int, int, int], shape: tuple[int, int]) -> np.ndarray:
    """3-pixel strips through the middle of ``box`` from side to side: where an object that fills its box
    must be, for a box whose first GrabCut found nothing (its colours all appear outside it too)."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    cross = np.zeros(shape, bool)
    cross[max(0, cy - 1):cy + 2, x1:x2] = True
    cross[y1:y2, max(0, cx - 1):cx + 2] = True
    return cross


def _strips_to_sides(mask: np.ndarray, box: tuple[int, int, int, int], shortfall: float = 0.2) -> np.ndarray | None:
    """3-pixel strips from ``mask``'s edge to each side of ``box`` it stops short of by more than ``shortfall``
    of the box's longer side, laid where the mask's outermost pixels are; None when it reaches every side."""
    x1, y1, x2, y2 = box
    ys, xs = np.nonzero(mask)
    slack = shortfall * max(x2 - x1, y2 - y1)
    strips = np.zeros(mask.shape, bool)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    if top - y1 > slack:
        x = int(np.median(xs[ys <= top + 3]))
        strips[y1:top + 3, max(0, x - 1):x + 2] = True
    if y2 - 1 - bottom > slack:
        x = int(np.median(xs[ys >= bottom - 3]))
        strips[max(0, bottom - 2):y2, max(0, x - 1):x + 2] = True
    if left - x1 > slack:
        y = int(np.median(ys[xs <= left + 3]))
        strips[max(0, y - 1):y + 2, x1:left + 3] = True
    if x2 - 1 - right > slack:
        y = int(np.median(ys[xs >= right - 3]))
        strips[max(0, y - 1):y + 2, max(0, right - 2):x2] = True
    return strips if strips.any() else None


def _crop_around(active: np.ndarray) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) of the ``active`` pixels grown by their size on each side (8 px at least): background
    colours sampled that far out tell the object from its immediate surround better than a thin ring does."""
    height, width = active.shape
    ys, xs = np.nonzero(active)
    if ys.size == 0:
        return 0, 0, width, height
    mx, my = max(8, int(np.ptp(xs)) + 1), max(8, int(np.ptp(ys)) + 1)
    x1, y1 = max(0, int(xs.min()) - mx), max(0, int(ys.min()) - my)
    return x1, y1, min(width, int(xs.max()) + 1 + mx), min(height, int(ys.max()) + 1 + my)


def _keep_clicked(mask: np.ndarray, clicks: list[tuple[int, int]]) -> np.ndarray:
    """Only the connected parts of ``mask`` that contain a positive click (all of it if none does)."""
    import cv2

    if not mask.any():
        return mask
    _, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    height, width = mask.shape
    hit = {labels[min(max(y, 0), height - 1), min(max(x, 0), width - 1)] for x, y in clicks} - {0}
    return np.isin(labels, list(hit)) if hit else mask


def _drop_specks(mask: np.ndarray, fraction: float = 0.25) -> np.ndarray:
    """``mask`` without connected parts smaller than ``fraction`` of its largest part: a prompt outlines one
    object, which an occluder may split into a few large parts, while stray bits of look-alike colour are small."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = np.flatnonzero(areas >= fraction * areas.max()) + 1
    return np.isin(labels, big)


def _to_full(mask: np.ndarray, full: tuple[int, int]) -> np.ndarray:
    """Scale a working-frame bool mask to (H, W) bool with smooth edges."""
    import cv2

    if mask.shape == full:
        return mask
    soft = cv2.resize(mask.astype(np.uint8) * 255, (full[1], full[0]), interpolation=cv2.INTER_LINEAR)
    return soft >= 128

