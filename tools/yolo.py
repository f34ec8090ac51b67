"""Ultralytics YOLO: closed-set detection and instance masks on images, multi-object tracking on video.

Two registry entries share one model: ``yolo`` (ground, segment) and ``yolo_track`` (track). They know the 80
COCO classes, so the registry picks them only for targets named by those words ("the dog", "all people");
open-vocabulary phrases ("the red car") go to a grounding model.

Weights: a folder written by ``save_yolo`` (``model.yaml`` + ``model.safetensors``), so loading never unpickles
anything. Ultralytics' own ``.pt`` files are pickles: they load only with ``allow_pickle=True``, and then only
through ultralytics' restricted loader (``torch.load(weights_only=True)``, its own classes), or convert one once
with ``convert_yolo_checkpoint``. Ultralytics runs with ``YOLO_OFFLINE`` set, so it
never tries to download or install anything.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from vitron_agent.config import weights_dir
from vitron_agent.errors import BadInputError, RegionError, UnavailableError
from vitron_agent.experts.base import (
    Availability,
    Detection,
    Expert,
    ExpertCall,
    ExpertResult,
    ExpertSpec,
    resolve_device,
    resolve_dtype,
)

from ._common import box_iou, clip_box, input_image, torch_memory

__all__ = ["COCO_NAMES", "YoloExpert", "YoloTrackExpert", "build_yolo", "save_yolo", "convert_yolo_checkpoint",
           "class_ids_for"]

COCO_NAMES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)
"""The classes of the COCO-trained YOLO checkpoints, in their index order."""

ALIASES: dict[str, str] = {
    "people": "person", "persons": "person", "man": "person", "men": "person", "woman": "person",
    "women": "person", "child": "person", "children": "person", "kid": "person", "boy": "person",
    "girl": "person", "astronaut": "person", "bike": "bicycle", "motorbike": "motorcycle", "plane": "airplane",
    "sofa": "couch", "table": "dining table", "plant": "potted plant", "television": "tv", "phone": "cell phone",
    "cellphone": "cell phone", "mobile phone": "cell phone", "ball": "sports ball", "fridge": "refrigerator",
    "puppy": "dog", "kitten": "cat", "mug": "cup", "doughnut": "donut", "hairdryer": "hair drier",
}
"""Everyday words for COCO classes."""

DEFAULT_WEIGHTS = "yolo11n-seg"


def class_ids_for(phrase: str, names: dict[int, str]) -> list[int]:
    """Ids of the classes a phrase names (whole words, plurals and aliases), e.g. 'all the cars' -> [2]."""
    words = " ".join(re.findall(r"[a-z]+", phrase.lower()))
    wanted = {name for name in names.values() if re.search(rf"\b{re.escape(name)}(?:s|es)?\b", words)}
    wanted |= {name for alias, name in ALIASES.items() if re.search(rf"\b{re.escape(alias)}\b", words)}
    return sorted(index for index, name in names.items() if name in wanted)


def build_yolo(cfg: str | dict[str, Any] = "yolo11n-seg.yaml", names: tuple[str, ...] = COCO_NAMES) -> Any:
    """A randomly initialised ultralytics ``YOLO`` from an architecture: a file shipped with ultralytics, or the
    dict ``save_yolo`` wrote (its ``scale`` kept: ultralytics would guess the scale from a file's name)."""
    _offline()
    from ultralytics import YOLO
    from ultralytics.nn.tasks import guess_model_task

    if isinstance(cfg, str):
        model = YOLO(cfg)
    else:
        task = guess_model_task(cfg)
        if task not in _STOCK:
            raise UnavailableError(f"YOLO {task} models are not supported; use a detection or '-seg' model")
        model = YOLO(_STOCK[task], task=task)  # a wrapper of the right task, then the real network
        args = model.model.args
        model.model = model._smart_load("model")(dict(cfg), verbose=False)
        model.model.args, model.model.task = args, task
    model.model.names = dict(enumerate(names))
    return model


_STOCK = {"detect": "yolo11n.yaml", "segment": "yolo11n-seg.yaml"}


def save_yolo(model: Any, folder: str | Path) -> Path:
    """Write ``model.yaml`` (architecture and class names) and ``model.safetensors``: the safe weights format."""
    import yaml
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    network = getattr(model, "model", model)
    config = {k: v for k, v in dict(network.yaml).items() if k != "yaml_file"}
    config["names"] = {int(k): str(v) for k, v in network.names.items()}
    (folder / "model.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    tensors = {k: v.detach().contiguous() for k, v in network.state_dict().items()}
    save_file(tensors, str(folder / "model.safetensors"))
    return folder


def convert_yolo_checkpoint(checkpoint: str | Path, folder: str | Path) -> Path:
    """Convert an ultralytics ``.pt`` (a pickle, read with ultralytics' restricted loader) into the safetensors
    folder format."""
    return save_yolo(_read_pickled(Path(checkpoint)), folder)


_SAFE_LOAD = threading.Lock()


def _read_pickled(path: Path) -> Any:
    """``YOLO(path)`` for an ultralytics ``.pt``, unpickled with ``torch.load(weights_only=True)`` and an allow-list
    of ultralytics' own classes (its ``ULTRALYTICS_SAFE_LOAD`` mode), so the file cannot run code."""
    _offline()
    from ultralytics import YOLO
    from ultralytics.nn import tasks

    with _SAFE_LOAD:  # the switch is process-wide: set it only around this load
        before, tasks.SAFE_LOAD = tasks.SAFE_LOAD, True
        try:
            return YOLO(str(path))
        except TypeError as exc:  # how ultralytics reports a refused or unreadable checkpoint
            first = str(exc).strip().splitlines()[0].removeprefix("ERROR ❌️").strip()
            raise UnavailableError(f"refused to load {path.name}: {first}") from None
        finally:
            tasks.SAFE_LOAD = before


def _offline() -> None:
    """Set ultralytics offline, and import it without letting it patch ``PIL.Image.open`` and ``torch.save``
    for the whole process (its import replaces both; ours and the user's code must keep the originals)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    if "ultralytics" in sys.modules:
        return
    import torch
    from PIL import Image

    image_open, torch_save = Image.open, torch.save
    try:
        import ultralytics  # noqa: F401
        import ultralytics.utils.patches  # noqa: F401  (the module that patches Image.open)
    finally:
        Image.open, torch.save = image_open, torch_save


class _YoloModel(Expert):
    """Loading and prediction shared by the image and the video YOLO experts.

    Options: ``allow_pickle`` (load ultralytics ``.pt`` files, default False), ``imgsz`` (640), ``conf`` (0.25),
    ``iou`` (0.7, non-maximum suppression).
    """

    abstract = True

    def __init__(self, weights: str | None = None, allow_pickle: bool = False, imgsz: int = 640,
                 conf: float = 0.25, iou: float = 0.7, **options: Any) -> None:
        super().__init__(weights, **options)
        self.allow_pickle, self.imgsz, self.conf, self.iou = allow_pickle, int(imgsz), float(conf), float(iou)
        self.model: Any = None
        self.half = False

    def _path(self) -> Path:
        path = Path(self.weights or DEFAULT_WEIGHTS).expanduser()
        if path.exists() or path.is_absolute():
            return path
        local = weights_dir() / path
        if not local.exists() and not local.suffix and local.with_suffix(".pt").exists():
            return local.with_suffix(".pt")  # an ultralytics download, refused unless pickles are allowed
        return local

    def check_weights(self) -> Availability:
        path = self._path()
        if path.is_dir() and (path / "model.safetensors").exists() and (path / "model.yaml").exists():
            return Availability(True, weights_path=str(path))
        if path.is_file() and path.suffix == ".pt":
            if self.allow_pickle:
                return Availability(True, weights_path=str(path))
            return Availability(False, f"{path.name} is a pickled checkpoint, which {self.spec.name} does not load "
                                       "by default",
                                "Convert it once: python -c \"from vitron_agent.tools.yolo import "
                                f"convert_yolo_checkpoint as c; c('{path}', '{path.with_suffix('')}')\" "
                                "(only for a file you trust), or pass allow_pickle=True", weights_path=str(path))
        return Availability(False, f"YOLO weights not found at {path}",
                            f"Get {DEFAULT_WEIGHTS}.pt from the ultralytics release where a network is available, "
                            f"convert it with vitron_agent.tools.yolo.convert_yolo_checkpoint into {weights_dir()}/"
                            f"{DEFAULT_WEIGHTS}, or pass weights=<folder>", weights_path=str(path))

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        state = self.check_weights()
        if not state.ok:
            raise UnavailableError(f"{state.reason}. {state.fix}")
        _offline()
        path = Path(state.weights_path or "")
        self.model = self._read(path)
        self.device = resolve_device(device)
        self.model.to(self.device)
        # ultralytics runs half precision as float16 on a GPU only; bfloat16 asks for half precision too
        self.half = self.device.startswith("cuda") and resolve_dtype(dtype, self.device) != "float32"
        self.loaded = True

    @staticmethod
    def _read(path: Path) -> Any:
        _offline()
        if path.suffix == ".pt":
            return _read_pickled(path)
        import yaml
        from safetensors.torch import load_file

        config = yaml.safe_load((path / "model.yaml").read_text())
        names = {int(k): str(v) for k, v in config.pop("names", {}).items()}
        model = build_yolo(config, tuple(names[i] for i in sorted(names)) if names else COCO_NAMES)
        missing, unexpected = model.model.load_state_dict(load_file(str(path / "model.safetensors")), strict=False)
        if missing or unexpected:
            raise UnavailableError(f"{path} does not fit its model.yaml: {len(missing)} missing and "
                                   f"{len(unexpected)} unexpected tensors")
        model.model.eval()
        return model

    def unload(self) -> None:
        self.model = None
        super().unload()

    def memory_bytes(self) -> dict[str, int]:
        return torch_memory([self.model.model] if self.model is not None else [], self.device)

    @property
    def names(self) -> dict[int, str]:
        return {int(k): str(v) for k, v in self.model.model.names.items()}

    def classes(self, call: ExpertCall) -> list[int] | None:
        """The classes the command names; None (all classes) when it names none but a region picks the object."""
        ids = class_ids_for(call.command, self.names)
        if ids:
            return ids
        if call.boxes or call.mask is not None or not call.command.strip():
            return None
        raise BadInputError(f"{self.spec.name} knows only its {len(self.names)} classes "
                            f"({', '.join(list(self.names.values())[:12])}, ...); {call.command!r} names none of them")

    def predict(self, images: list[np.ndarray], classes: list[int] | None) -> list[Any]:
        """One ultralytics ``Results`` per RGB image, masks at the image's own size."""
        bgr = [np.ascontiguousarray(image[..., ::-1]) for image in images]
        return self.model.predict(bgr, imgsz=self.imgsz, conf=self.conf, iou=self.iou, classes=classes,
                                  device=self.device, half=self.half, retina_masks=True, verbose=False)


class YoloExpert(_YoloModel):
    """Boxes (ground) or instance masks (segment) of the COCO classes the command names; a box region picks
    the instance that overlaps it most."""

    spec = ExpertSpec(
        name="yolo",
        tasks=("ground", "segment"),
        description=("Finds and segments the 80 COCO classes (people, cars, dogs, cups...) by name: boxes and "
                     "instance masks, fast; a box picks one instance (Ultralytics YOLO)."),
        input_kinds=("image",),
        region_kinds=("box",),
        outputs=("boxes", "mask"),
        vocabulary=COCO_NAMES + tuple(ALIASES),
        weights=DEFAULT_WEIGHTS,
        extra="yolo",
        requires=("torch", "ultralytics"),
        quality=9,
    )

    def run(self, call: ExpertCall) -> ExpertResult:
        image = input_image(call, self.spec.name)
        if call.task == "segment" and self.model.task != "segment":
            raise BadInputError(f"this {self.spec.name} model has no mask head; use a '-seg' checkpoint to segment")
        result = self.predict([image], self.classes(call))[0]
        boxes = result.boxes.xyxy.cpu().numpy().astype(float)
        scores = result.boxes.conf.cpu().numpy().astype(float)
        labels = [self.names[int(c)] for c in result.boxes.cls.cpu().numpy()]
        order = np.argsort(-scores)
        if call.boxes:
            if not len(boxes):
                raise RegionError(f"{self.spec.name} found no {call.command or 'object'!r} in the region")
            order = np.array([best_overlap(boxes, box) for box in call.boxes], dtype=int)
        height, width = image.shape[:2]
        detections = [Detection(clip_box(boxes[i], width, height), labels[i], scores[i]) for i in order]
        if call.task == "ground":
            return ExpertResult(detections=detections, text=f"found {len(detections)}: {_count(labels, order)}")
        if result.masks is None:  # nothing found: there is no mask to give
            raise RegionError(f"{self.spec.name} found no {call.command or 'object'!r} in the image")
        masks = result.masks.data.cpu().numpy() > 0.5
        found = [_fit(masks[i], height, width) for i in order]
        return ExpertResult(masks=found, detections=detections,
                            text=f"segmented {len(found)}: {_count(labels, order)}")


class YoloTrackExpert(_YoloModel):
    """Tracks objects of the named classes through a video (detection on every frame + ByteTrack); a region on
    the keyframe (box or mask) picks one track. Returns the masks of the chosen objects on every frame."""

    spec = ExpertSpec(
        name="yolo_track",
        tasks=("track",),
        description=("Tracks people, cars, animals and the other COCO classes through a video; a box or mask "
                     "on one frame picks which one (Ultralytics YOLO + ByteTrack)."),
        input_kinds=("video",),
        region_kinds=("box", "mask"),
        outputs=("mask",),
        vocabulary=COCO_NAMES + tuple(ALIASES),
        weights=DEFAULT_WEIGHTS,
        extra="yolo",
        requires=("torch", "ultralytics", "lap"),
        quality=9,
    )

    def run(self, call: ExpertCall) -> ExpertResult:
        from ultralytics.trackers.byte_tracker import BYTETracker
        from ultralytics.utils import YAML, IterableSimpleNamespace
        from ultralytics.utils.checks import check_yaml

        if call.video is None:
            raise BadInputError(f"{self.spec.name} needs a video input")
        frames = call.video.frames
        count, height, width = frames.shape[:3]
        keyframe = call.frames[0] if call.frames else 0
        if not 0 <= keyframe < count:
            raise RegionError(f"keyframe {keyframe} is outside the video's {count} frames")
        target = _region_box(call, keyframe)
        classes = self.classes(call)
        tracker = BYTETracker(IterableSimpleNamespace(**YAML.load(check_yaml("bytetrack.yaml"))))
        per_frame: list[dict[int, tuple[np.ndarray, np.ndarray]]] = []  # track id -> (box, mask)
        batch = 8
        for start in range(0, count, batch):
            chunk = list(frames[start:start + batch])
            for offset, result in enumerate(self.predict(chunk, classes)):
                boxes = result.boxes.cpu().numpy()
                tracks = tracker.update(boxes, np.ascontiguousarray(chunk[offset][..., ::-1]))
                masks = result.masks.data.cpu().numpy() > 0.5 if result.masks is not None else None
                current = {}
                for row in tracks:
                    box, track_id, index = row[:4], int(row[4]), int(row[7])
                    mask = _fit(masks[index], height, width) if masks is not None else _box_mask(box, height, width)
                    current[track_id] = (box, mask)
                per_frame.append(current)
            call.progress(min(count, start + batch) / count, f"frame {min(count, start + batch)}/{count}")
        chosen = self._choose(per_frame[keyframe], target)
        if not chosen:
            what = "in the region" if target is not None else f"named {call.command!r}"
            raise RegionError(f"{self.spec.name} found no tracked object {what} on frame {keyframe}")
        masks = np.zeros((count, height, width), bool)
        boxes_by_frame: list[list[list[float]]] = []
        for index, current in enumerate(per_frame):
            found = [current[t] for t in chosen if t in current]
            for _, mask in found:
                masks[index] |= mask
            boxes_by_frame.append([[round(float(v), 1) for v in box] for box, _ in found])
        lost = [i for i in range(count) if not masks[i].any()]
        text = f"tracked {len(chosen)} object(s) over {count} frames" + (
            f"; lost on {len(lost)} frame(s)" if lost else "")
        return ExpertResult(masks=[masks], text=text,
                            data={"track_ids": chosen, "keyframe": keyframe, "boxes": boxes_by_frame[:300],
                                  "lost_frames": lost[:50]})

    @staticmethod
    def _choose(tracks: dict[int, tuple[np.ndarray, np.ndarray]], target: np.ndarray | None) -> list[int]:
        """With a region: the one track that overlaps it most (IoU > 0.1); without: every track."""
        if target is None:
            return sorted(tracks)
        if not tracks:
            return []
        ids = sorted(tracks)
        boxes = np.array([tracks[t][0] for t in ids])
        best = best_overlap(boxes, tuple(target))
        return [ids[best]] if box_iou(boxes[best], np.asarray(target)) > 0.1 else []


def best_overlap(boxes: np.ndarray, box: tuple[float, ...]) -> int:
    """Index of the box with the highest IoU with ``box``."""
    target = np.asarray(box, dtype=float)
    return int(np.argmax([box_iou(b, target) for b in boxes]))


def _region_box(call: ExpertCall, keyframe: int) -> np.ndarray | None:
    """The region on the keyframe as an xyxy box (a mask's bounding box), or None."""
    if call.boxes:
        return np.asarray(call.boxes[0], dtype=float)
    if call.mask is None:
        return None
    mask = call.mask[keyframe] if call.mask.ndim == 3 else call.mask
    ys, xs = np.nonzero(mask)
    if not len(xs):
        raise RegionError(f"the region's mask is empty on frame {keyframe}")
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=float)


def _fit(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A mask at the image's size (retina masks already are; others are resized)."""
    if mask.shape == (height, width):
        return mask
    import cv2

    return cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST).astype(bool)


def _box_mask(box: np.ndarray, height: int, width: int) -> np.ndarray:
    """A filled box, for detection-only checkpoints."""
    mask = np.zeros((height, width), bool)
    x1, y1, x2, y2 = clip_box(box, width, height)
    mask[int(y1):int(np.ceil(y2)), int(x1):int(np.ceil(x2))] = True
    return mask


def _count(labels: list[str], order: np.ndarray) -> str:
    counts: dict[str, int] = {}
    for i in order:
        counts[labels[i]] = counts.get(labels[i], 0) + 1
    return ", ".join(f"{n} {label}" for label, n in counts.items()) or "nothing"

