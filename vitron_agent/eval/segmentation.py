"""RefCOCO, RefCOCO+ and RefCOCOg: referring segmentation (cIoU, gIoU) and comprehension (Acc@0.5).

Data layout: the official release of the ``refer`` toolkit, as its users unzip it, beside COCO train2014::

    DATA/refcoco/refs(unc).p   DATA/refcoco/instances.json      (refcoco+: refs(unc).p, refcocog: refs(umd).p)
    DATA/images/mscoco/images/train2014/COCO_train2014_000000xxxxxx.jpg   (or DATA/train2014/, DATA/images/train2014/)

``refs(*.p)`` is a pickle: it is read with an unpickler that builds only lists, dicts, strings and numbers and
refuses any other object, so a tampered file cannot run code. Each sentence of a referring expression is one
sample (``ref<ref_id>-sent<sent_id>``), as the papers that report cIoU count them. Ground-truth masks are
the COCO polygons (or RLE) of the referred annotation, decoded by pycocotools.

Metrics: cIoU = sum of intersections / sum of unions over the split; gIoU = mean of per-sample IoU;
Acc@0.5 = share of predicted boxes with IoU >= 0.5 against the referred box. In percent, as in the paper.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .base import Benchmark, DataError, Sample
from .runner import Runner

__all__ = [
    "RefSample", "load_refs", "read_refer", "find_images", "gt_mask", "mask_counts", "box_iou", "encode_mask",
    "decode_mask", "RefSegBenchmark", "RefCOCOSeg", "RefCOCOPlusSeg", "RefCOCOgSeg", "RECBenchmark", "RefCOCORec",
    "RefCOCOPlusRec", "RefCOCOgRec",
]

IMAGE_FOLDERS = ("images/mscoco/images/train2014", "images/train2014", "train2014", "coco/train2014",
                 "mscoco/train2014")
"""Where under the data folder (or its parent) the COCO train2014 images are looked for, in this order."""


@dataclass(frozen=True)
class RefSample(Sample):
    """One referring sentence. ``segmentation``: the referred object's COCO polygons or RLE; ``box``: its
    ``(x, y, w, h)`` pixels box; ``width``/``height``: the image's size from ``instances.json``."""

    image: Path
    sentence: str
    ref_id: int
    segmentation: Any
    box: tuple[float, float, float, float]
    width: int
    height: int


class _PlainUnpickler(pickle.Unpickler):
    """Builds lists, dicts, tuples, strings and numbers only; any class or function in the stream is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise DataError(f"the refs file asks for {module}.{name}; a refs file holds only lists, dicts, strings and "
                        "numbers, so it was not loaded (it may have been tampered with)")


def load_refs(path: Path) -> list[dict[str, Any]]:
    """The list of refs in a ``refs(unc).p`` / ``refs(umd).p`` file, read without running code from it."""
    with open(path, "rb") as file:
        refs = _PlainUnpickler(file, encoding="latin1").load()
    if not isinstance(refs, list) or not all(isinstance(r, dict) for r in refs):
        raise DataError(f"{path} does not hold a list of refs (dicts)")
    return refs


def find_images(data: Path) -> Path:
    """The folder of COCO train2014 images, under ``data`` or beside it."""
    for root in (data, data.parent):
        for folder in IMAGE_FOLDERS:
            if (root / folder).is_dir():
                return root / folder
    raise DataError(f"no COCO train2014 image folder under {data} ({', '.join(IMAGE_FOLDERS)}); link or unzip "
                    "train2014 there")


def read_refer(data: Path, dataset: str, split_by: str, split: str) -> Iterator[RefSample]:
    """The samples of one split, in the order of the refs file, then of each ref's sentences."""
    folder = data / dataset if (data / dataset).is_dir() else data
    refs_file, instances_file = folder / f"refs({split_by}).p", folder / "instances.json"
    for needed in (refs_file, instances_file):
        if not needed.exists():
            raise DataError(f"{needed} is missing; unzip the {dataset} release of the refer toolkit into {data}")
    instances = json.loads(instances_file.read_text(encoding="utf-8"))
    images = {img["id"]: img for img in instances["images"]}
    annotations = {ann["id"]: ann for ann in instances["annotations"]}
    image_dir = find_images(data)
    refs = [r for r in load_refs(refs_file) if r.get("split") == split]
    if not refs:
        raise DataError(f"{refs_file} has no ref in split {split!r}")
    for ref in refs:
        image, ann = images[ref["image_id"]], annotations[ref["ann_id"]]
        for sentence in ref["sentences"]:
            yield RefSample(
                id=f"ref{ref['ref_id']}-sent{sentence['sent_id']}", image=image_dir / image["file_name"],
                sentence=str(sentence.get("sent") or sentence.get("raw", "")).strip(), ref_id=int(ref["ref_id"]),
                segmentation=ann["segmentation"], box=tuple(float(v) for v in ann["bbox"]),
                width=int(image["width"]), height=int(image["height"]),
            )


# -- metrics -------------------------------------------------------------------------------------
def gt_mask(segmentation: Any, height: int, width: int) -> np.ndarray:
    """(H, W) bool mask of a COCO segmentation (polygons, or RLE compressed or not), decoded by pycocotools."""
    from pycocotools import mask as coco_mask

    if isinstance(segmentation, list):
        rle = coco_mask.merge(coco_mask.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get("counts"), list):
        rle = coco_mask.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    return _decode(rle)


def _decode(rle: Any) -> np.ndarray:
    """pycocotools' decode as (H, W) bool, without its numpy 2 deprecation notice on every call."""
    import warnings

    from pycocotools import mask as coco_mask

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
        return coco_mask.decode(rle).astype(bool)


def mask_counts(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int]:
    """(intersection, union) pixel counts of two (H, W) bool masks of one size."""
    if pred.shape != gt.shape:
        raise ValueError(f"prediction is {pred.shape} but the ground truth is {gt.shape}")
    return int(np.count_nonzero(pred & gt)), int(np.count_nonzero(pred | gt))


def box_iou(pred: tuple[float, float, float, float], gt_xywh: tuple[float, float, float, float]) -> float:
    """IoU of a predicted ``(x1, y1, x2, y2)`` box and a COCO ``(x, y, w, h)`` box (pycocotools, continuous)."""
    from pycocotools import mask as coco_mask

    x1, y1, x2, y2 = pred
    return float(coco_mask.iou([[x1, y1, x2 - x1, y2 - y1]], [list(gt_xywh)], [0])[0][0])


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """A (H, W) bool mask as COCO RLE with the counts as text (JSON-safe, compact)."""
    from pycocotools import mask as coco_mask

    rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode_mask(rle: dict[str, Any]) -> np.ndarray:
    """The inverse of ``encode_mask``."""
    return _decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")})


def _resized(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A predicted mask at the image's size (nearest neighbour) when an expert returned another size."""
    if mask.shape == (height, width):
        return mask
    import cv2

    return cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST).astype(bool)


def _percent(value: float) -> float:
    return 100.0 * value


# -- benchmarks ----------------------------------------------------------------------------------
class _RefBase(Benchmark):
    dataset: ClassVar[str]
    split_by: ClassVar[str]
    default_split = "val"

    def samples(self) -> Iterator[RefSample]:
        return read_refer(Path(self.options.data), self.dataset, self.split_by, self.split)


class RefSegBenchmark(_RefBase):
    """Referring segmentation: the agent is asked to segment the sentence's object; its first mask is scored."""

    metric_notes = {"cIoU": "%, sum I / sum U", "gIoU": "%, mean IoU"}

    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        assert isinstance(sample, RefSample)
        text = sample.sentence if runner.expert else f"segment {sample.sentence}"
        out = runner.run("segment", text, images=[sample.image])
        gt = gt_mask(sample.segmentation, sample.height, sample.width)
        pred = _resized(out.masks[0], sample.height, sample.width) if out.masks else np.zeros_like(gt)
        pred = pred.any(axis=0) if pred.ndim == 3 else pred
        inter, union = mask_counts(pred, gt)
        record: dict[str, Any] = {"id": sample.id, "sentence": sample.sentence, "intersection": inter,
                                  "union": union, "iou": inter / union if union else 0.0, "pred": encode_mask(pred)}
        if out.error or not out.masks:
            record["error"] = out.error or "no mask was produced"
        return record

    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        union = sum(r["union"] for r in records)
        return {"cIoU": _percent(sum(r["intersection"] for r in records) / union if union else 0.0),
                "gIoU": _percent(sum(r["iou"] for r in records) / len(records))}


class RECBenchmark(_RefBase):
    """Referring expression comprehension: the agent is asked to locate the object; its first box is scored."""

    metric_notes = {"Acc@0.5": "% of boxes with IoU >= 0.5"}

    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        assert isinstance(sample, RefSample)
        text = sample.sentence if runner.expert else f"locate {sample.sentence}"
        out = runner.run("ground", text, images=[sample.image])
        iou = box_iou(out.boxes[0], sample.box) if out.boxes else 0.0
        record: dict[str, Any] = {"id": sample.id, "sentence": sample.sentence, "iou": iou,
                                  "box": list(out.boxes[0]) if out.boxes else None}
        if out.error or not out.boxes:
            record["error"] = out.error or "no box was produced"
        return record

    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        return {"Acc@0.5": _percent(sum(r["iou"] >= 0.5 for r in records) / len(records)),
                "mIoU": _percent(sum(r["iou"] for r in records) / len(records))}


class RefCOCOSeg(RefSegBenchmark):
    name, title, dataset, split_by = "refcoco", "RefCOCO referring segmentation", "refcoco", "unc"
    paper = {"cIoU": 75.5}
    paper_by_split = {"val": {"cIoU": 75.5}, "testA": {"cIoU": 79.5}, "testB": {"cIoU": 72.2}}


class RefCOCOPlusSeg(RefSegBenchmark):
    name, title, dataset, split_by = "refcoco+", "RefCOCO+ referring segmentation", "refcoco+", "unc"


class RefCOCOgSeg(RefSegBenchmark):
    name, title, dataset, split_by = "refcocog", "RefCOCOg referring segmentation", "refcocog", "umd"


class RefCOCORec(RECBenchmark):
    name, title, dataset, split_by = "refcoco-rec", "RefCOCO referring expression comprehension", "refcoco", "unc"


class RefCOCOPlusRec(RECBenchmark):
    name, title, dataset, split_by = ("refcoco+-rec", "RefCOCO+ referring expression comprehension", "refcoco+",
                                      "unc")


class RefCOCOgRec(RECBenchmark):
    name, title, dataset, split_by = ("refcocog-rec", "RefCOCOg referring expression comprehension", "refcocog",
                                      "umd")
