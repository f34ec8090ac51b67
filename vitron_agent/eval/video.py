"""Video benchmarks: DAVIS-17 semi-supervised segmentation (J, F, J&F) and HC-STVG grounding (mIoU).

Data layout: the DAVIS 2017 TrainVal release as unzipped::

    DATA/JPEGImages/480p/<sequence>/00000.jpg ...
    DATA/Annotations/480p/<sequence>/00000.png ...   (palette PNGs: 0 background, 1..N object ids, 255 void)
    DATA/ImageSets/2017/val.txt                       (one sequence a line; train.txt for the train split)

Each sequence is one sample. The first frame's masks are the prompt: every object is tracked from its
first-frame mask through the clip (one run per object), and the objects' masks are merged into one label map
per frame (a later object wins a pixel two claim), as DAVIS results are. Scores follow the benchmark's own
definitions: per object and frame, J is the IoU and F the boundary F-measure, with boundaries matched within
``bound_th`` (0.008 of the image diagonal) and void pixels left out; the first and last frames are not scored;
J-Mean and F-Mean average each object's mean over frames, the recalls the share of frames above 0.5, and J&F
is the mean of J-Mean and F-Mean. In percent, as in the paper.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .base import Benchmark, DataError, Sample
from .runner import Runner

__all__ = ["DavisSample", "region_similarity", "boundary_map", "boundary_f", "read_palette_png", "Davis17", "StvgSample",
           "read_hcstvg", "viou", "mask_tube", "HCSTVG"]

VOID = 255
"""Label of void pixels in DAVIS annotations (neither object nor background; not scored)."""


# -- metrics (the benchmark's definitions; no maintained package provides them) ---------------------
def region_similarity(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None) -> float:
    """J: IoU of two (H, W) bool masks outside ``void``; 1.0 when both are empty."""
    keep = ~void if void is not None else np.ones(gt.shape, bool)
    union = np.count_nonzero((pred | gt) & keep)
    return 1.0 if union == 0 else np.count_nonzero(pred & gt & keep) / union


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool boundary of a mask, as DAVIS draws it: a pixel is on the boundary when it differs from its
    right, lower or lower-right neighbour (outside the image counts as background), except that on the last row
    only the right neighbour and on the last column only the lower one are compared, and the corner never is."""
    seg = mask.astype(bool)
    right, down, diagonal = np.zeros_like(seg), np.zeros_like(seg), np.zeros_like(seg)
    right[:, :-1], down[:-1, :], diagonal[:-1, :-1] = seg[:, 1:], seg[1:, :], seg[1:, 1:]
    edge = (seg ^ right) | (seg ^ down) | (seg ^ diagonal)
    edge[-1, :] = seg[-1, :] ^ right[-1, :]
    edge[:, -1] = seg[:, -1] ^ down[:, -1]
    edge[-1, -1] = False
    return edge


def boundary_f(pred: np.ndarray, gt: np.ndarray, void: np.ndarray | None = None, bound_th: float = 0.008) -> float:
    """F: the boundary F-measure of two (H, W) bool masks. Boundary pixels match when the other boundary lies
    within ``bound_th`` pixels (a fraction of the image diagonal when below 1, rounded up), by dilation with a
    disk; void pixels are cleared from both masks first. An empty boundary on one side only scores 0."""
    import cv2
    from skimage.morphology import disk

    radius = bound_th if bound_th >= 1 else math.ceil(bound_th * math.hypot(*gt.shape))
    keep = ~void if void is not None else np.ones(gt.shape, bool)
    pred_edge, gt_edge = boundary_map(pred & keep), boundary_map(gt & keep)
    kernel = disk(int(radius)).astype(np.uint8)
    near_pred = cv2.dilate(pred_edge.astype(np.uint8), kernel).astype(bool)
    near_gt = cv2.dilate(gt_edge.astype(np.uint8), kernel).astype(bool)
    n_pred, n_gt = np.count_nonzero(pred_edge), np.count_nonzero(gt_edge)
    if n_pred == 0 and n_gt == 0:
        return 1.0
    if n_pred == 0 or n_gt == 0:
        return 0.0
    precision = np.count_nonzero(pred_edge & near_gt) / n_pred
    recall = np.count_nonzero(gt_edge & near_pred) / n_gt
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def read_palette_png(path: Path) -> np.ndarray:
    """(H, W) uint8 labels of a DAVIS annotation (the palette indices, not colours)."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode not in ("P", "L"):
            raise DataError(f"{path} is a {image.mode} image; DAVIS annotations are palette PNGs of object ids")
        return np.array(image, dtype=np.uint8)


# -- data ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DavisSample(Sample):
    """One sequence: its frames and annotations, in frame order (``id`` is the sequence name)."""

    frames: tuple[Path, ...]
    annotations: tuple[Path, ...]


def read_davis(data: Path, split: str, resolution: str = "480p") -> Iterator[DavisSample]:
    listing = data / "ImageSets" / "2017" / f"{split}.txt"
    if not listing.exists():
        raise DataError(f"{listing} is missing; unzip DAVIS-2017-trainval-480p into {data}")
    for name in (line.strip() for line in listing.read_text().splitlines()):
        if not name:
            continue
        frames = tuple(sorted((data / "JPEGImages" / resolution / name).glob("*.jpg")))
        annotations = tuple(sorted((data / "Annotations" / resolution / name).glob("*.png")))
        if not frames or len(annotations) != len(frames):
            raise DataError(f"sequence {name}: {len(frames)} frames but {len(annotations)} annotations under {data}")
        yield DavisSample(id=name, frames=frames, annotations=annotations)


def _clip(sample: DavisSample, folder: Path) -> Path:
    """The sequence as one MP4 in ``folder`` (written once; a resumed run reuses it)."""
    from ..stores.media_io import decode_image, encode_video

    path = folder / f"{sample.id}.mp4"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        frames = (decode_image(p.read_bytes(), p.name) for p in sample.frames)
        partial = path.with_suffix(".part")
        partial.write_bytes(encode_video(frames, 24.0))
        partial.replace(path)
    return path


def _frames_of(masks: list[np.ndarray], count: int, height: int, width: int) -> np.ndarray:
    """A run's first mask as (T, H, W) bool at the annotation's size: a still mask is frame 0 only, missing
    frames are empty."""
    out = np.zeros((count, height, width), bool)
    if not masks:
        return out
    mask = masks[0] if masks[0].ndim == 3 else masks[0][None]
    for t in range(min(count, len(mask))):
        frame = mask[t]
        if frame.shape != (height, width):
            import cv2

            frame = cv2.resize(frame.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
        out[t] = frame
    return out


class Davis17(Benchmark):
    """DAVIS 2017 semi-supervised: each object is tracked from its first-frame mask."""

    name, title, default_split = "davis17", "DAVIS-17 semi-supervised video object segmentation", "val"
    paper = {"J&F": 84.2}
    metric_notes = {"J&F": "%", "J-Mean": "%", "F-Mean": "%", "J-Recall": "% of frames with J > 0.5",
                    "F-Recall": "% of frames with F > 0.5"}

    def samples(self) -> Iterator[DavisSample]:
        return read_davis(Path(self.options.data), self.split)

    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        assert isinstance(sample, DavisSample)
        truth = np.stack([read_palette_png(p) for p in sample.annotations])  # (T, H, W) labels
        count, height, width = truth.shape
        clip = _clip(sample, self.options.out / "clips")
        first = truth[0]
        ids = [int(i) for i in np.unique(first) if i not in (0, VOID)]
        labels = np.zeros(truth.shape, np.uint8)
        errors = []
        for obj in ids:
            text = "the object" if runner.expert else "track the object in the mask"
            out = runner.run("track", text, videos=[clip], region={"mask": first == obj}, frame=0)
            if out.error or not out.masks:
                errors.append(f"object {obj}: {out.error or 'no mask was produced'}")
            labels[_frames_of(out.masks, count, height, width)] = obj
        void = truth == VOID
        scored = range(1, count - 1) if count > 2 else range(count)
        objects = {}
        for obj in ids:
            j = [region_similarity(labels[t] == obj, truth[t] == obj, void[t]) for t in scored]
            f = [boundary_f(labels[t] == obj, truth[t] == obj, void[t]) for t in scored]
            objects[str(obj)] = {"J": j, "F": f}
        record: dict[str, Any] = {"id": sample.id, "frames": count, "objects": objects}
        if errors:
            record["error"] = "; ".join(errors)
        return record

    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        per_object = [o for r in records for o in r["objects"].values()]
        if not per_object:
            return {}

        def mean(values: list[float]) -> float:
            return float(np.mean(values)) if values else float("nan")

        j_mean = mean([mean(o["J"]) for o in per_object])
        f_mean = mean([mean(o["F"]) for o in per_object])
        return {
            "J&F": 100 * (j_mean + f_mean) / 2,
            "J-Mean": 100 * j_mean,
            "J-Recall": 100 * mean([mean([v > 0.5 for v in o["J"]]) for o in per_object]),
            "F-Mean": 100 * f_mean,
            "F-Recall": 100 * mean([mean([v > 0.5 for v in o["F"]]) for o in per_object]),
        }


# -- spatio-temporal video grounding (HC-STVG) ------------------------------------------------------
STVG_FILES = ("anno_v2/{split}_v2.json", "annos/hcstvg_v2/{split}.json", "annos/hcstvg_v1/{split}.json",
              "anno/{split}.json")
"""Where the annotation file of a split is looked for under the data folder, in this order."""


@dataclass(frozen=True)
class StvgSample(Sample):
    """One video and its sentence. ``tube``: annotated frame number (0-based, in the annotation's frame count
    ``frame_count``) -> the person's ``(x, y, w, h)`` box."""

    video: Path
    sentence: str
    frame_count: int
    tube: dict[int, tuple[float, float, float, float]]


def read_hcstvg(data: Path, split: str) -> Iterator[StvgSample]:
    """HC-STVG's annotation JSON (video file name -> ``img_num``, ``st_frame`` (1-based), ``bbox`` (one
    ``[x, y, w, h]`` per frame from ``st_frame``), ``English``), videos found by name anywhere under ``data``."""
    found = [data / pattern.format(split=split) for pattern in STVG_FILES]
    path = next((p for p in found if p.exists()), None)
    if path is None:
        raise DataError(f"no HC-STVG annotation for split {split!r} under {data} (looked for "
                        f"{', '.join(str(p.relative_to(data)) for p in found)})")
    annotations = json.loads(path.read_text(encoding="utf-8"))
    videos = {p.name: p for p in sorted(data.rglob("*.mp4"))}
    for name, note in annotations.items():
        if name not in videos:
            raise DataError(f"video {name} of {path.name} is not under {data}")
        first = int(note["st_frame"]) - 1
        tube = {first + i: tuple(float(v) for v in box) for i, box in enumerate(note["bbox"])}
        yield StvgSample(id=Path(name).stem, video=videos[name], sentence=str(note.get("English", "")).strip(),
                         frame_count=int(note["img_num"]), tube=tube)


def viou(pred: dict[int, tuple[float, float, float, float]], truth: dict[int, tuple[float, float, float, float]]) -> float:
    """vIoU of two tubes (frame -> ``(x1, y1, x2, y2)``): the box IoUs summed over the frames both cover, divided
    by the number of frames either covers."""
    union = set(pred) | set(truth)
    if not union:
        return 0.0
    from .segmentation import box_iou

    shared = set(pred) & set(truth)
    return sum(box_iou(pred[t], _xywh(truth[t])) for t in shared) / len(union)


def _xywh(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return box[0], box[1], box[2] - box[0], box[3] - box[1]


def mask_tube(masks: np.ndarray) -> dict[int, tuple[float, float, float, float]]:
    """Frame -> ``(x1, y1, x2, y2)`` box (x2, y2 exclusive) of each non-empty frame of (T, H, W) masks."""
    tube = {}
    for t, mask in enumerate(masks):
        ys, xs = np.nonzero(mask)
        if len(xs):
            tube[t] = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
    return tube


def _regrid(tube: dict[int, tuple[float, float, float, float]], scale: float) -> dict[int, tuple[float, float, float, float]]:
    """A tube on a coarser frame grid: frame t becomes floor(t * scale); the first frame to land on one keeps it."""
    out: dict[int, tuple[float, float, float, float]] = {}
    for t in sorted(tube):
        out.setdefault(math.floor(t * scale + 1e-9), tube[t])
    return out


class HCSTVG(Benchmark):
    """HC-STVG: the agent tracks the person the sentence describes; its mask tube, as boxes, is scored by vIoU.
    The clip's T frames and the annotation's N frames are matched on the coarser grid (frame t of the finer one
    is frame floor(t * coarse / fine) of the coarser)."""

    name, title, default_split = "hcstvg", "HC-STVG spatio-temporal video grounding", "val"
    metric_notes = {"mIoU": "% mean vIoU", "vIoU@0.3": "% of samples", "vIoU@0.5": "% of samples"}

    def samples(self) -> Iterator[StvgSample]:
        return read_hcstvg(Path(self.options.data), self.split)

    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        assert isinstance(sample, StvgSample)
        text = sample.sentence if runner.expert else f"track {sample.sentence}"
        out = runner.run("track", text, videos=[sample.video])
        masks = out.masks[0] if out.masks and out.masks[0].ndim == 3 else np.zeros((0, 1, 1), bool)
        truth = {t: (x, y, x + w, y + h) for t, (x, y, w, h) in sample.tube.items()}
        pred = mask_tube(masks)
        if len(masks) >= sample.frame_count:  # score on the coarser of the two frame grids
            pred = _regrid(pred, sample.frame_count / max(1, len(masks)))
        else:
            truth = _regrid(truth, len(masks) / sample.frame_count)
        record: dict[str, Any] = {"id": sample.id, "sentence": sample.sentence, "viou": viou(pred, truth),
                                  "frames": [min(pred), max(pred)] if pred else None}
        if out.error or not out.masks:
            record["error"] = out.error or "no mask tube was produced"
        return record

    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        values = [r["viou"] for r in records]
        return {"mIoU": 100.0 * float(np.mean(values)), "vIoU@0.3": 100.0 * float(np.mean([v >= 0.3 for v in values])),
                "vIoU@0.5": 100.0 * float(np.mean([v >= 0.5 for v in values]))}
