"""Readers for local data in standard layouts. Paths inside a file are relative to ``root`` (default:
the file's folder). Boxes come back as ``(x1, y1, x2, y2)`` pixels; nothing is pickled or downloaded.

- LLaVA-style conversations (also VITRON's released instruction data): a JSON list of
  ``{"id", "image" | "video", "conversations": [{"from": "human" | "gpt", "value": "..."}], "bbox"?}``;
  ``<image>``/``<video>`` in a value marks where the medium goes (it is attached to the first human
  turn), ``bbox`` ``[x1, y1, x2, y2]`` is a region the user drew on it.
- COCO captions: ``{"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}``.
- Referring boxes (RefCOCO-style, as JSON): a list, or ``{"annotations": [...]}``, of
  ``{"image": "file", "box": [x1, y1, x2, y2]}`` or ``"bbox": [x, y, w, h]`` (COCO's), with
  ``"expressions"`` or ``"sentences"`` (strings or ``{"sent": ...}``).
- Video frame folders: a folder of frame images plus ``boxes.json``:
  ``{"objects": [{"name": "the dog", "boxes": {"0": [x1, y1, x2, y2], "5": [...]}}]}`` (0-based frame
  numbers in file-name order); ``root`` may be one such folder or a folder of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vitron_agent.errors import BadInputError

from .dialogues import Box, SceneObject
from .examples import frame_files

__all__ = ["Conversation", "Caption", "Referring", "VideoTrack", "image_size", "read_llava", "read_coco_captions",
           "read_referring", "read_video_boxes"]


@dataclass(frozen=True)
class Conversation:
    """A LLaVA-style record: its medium (path, ``image``/``video``, or none), ``(role, text)`` turns
    with roles ``user``/``assistant`` and media marks removed, and the user's drawn box if any."""

    id: str
    media: str | None
    kind: str | None
    turns: tuple[tuple[str, str], ...]
    bbox: Box | None = None


@dataclass(frozen=True)
class Caption:
    image: str
    text: str


@dataclass(frozen=True)
class Referring:
    """An object in an image: its box (pixels) and the phrases that refer to it."""

    image: str
    box: Box
    expressions: tuple[str, ...]


@dataclass(frozen=True)
class VideoTrack:
    """A video as a frame folder, its frame size and count, and the annotated objects."""

    folder: str
    width: int
    height: int
    frames: int
    objects: tuple[SceneObject, ...]


def _load(path: str | Path) -> Any:
    file = Path(path)
    if not file.is_file():
        raise BadInputError(f"data file {file} does not exist")
    try:
        return json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{file} is not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _root(path: str | Path, root: str | Path | None) -> Path:
    return Path(root) if root else Path(path).parent


def _box(values: Any, where: str, xywh: bool = False) -> Box:
    if not isinstance(values, (list, tuple)) or len(values) != 4:
        raise BadInputError(f"{where}: a box is 4 numbers, got {values!r}")
    x1, y1, a, b = (float(v) for v in values)
    x2, y2 = (x1 + a, y1 + b) if xywh else (a, b)
    if not (x1 < x2 and y1 < y2):
        raise BadInputError(f"{where}: box {list(values)} is empty or inverted")
    return (x1, y1, x2, y2)


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding the pixels."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size


_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}


def read_llava(path: str | Path, root: str | Path | None = None) -> list[Conversation]:
    base, out = _root(path, root), []
    for n, record in enumerate(_load(path)):
        kind = "image" if record.get("image") else "video" if record.get("video") else None
        media = str(base / record[kind]) if kind else None
        turns = []
        for turn in record.get("conversations", []):
            role = _ROLES.get(str(turn.get("from", "")).lower())
            if role is None:
                raise BadInputError(f"{path} record {n}: turn speaker must be human or gpt, got {turn.get('from')!r}")
            text = str(turn.get("value", "")).replace("<image>", "").replace("<video>", "").strip()
            turns.append((role, text))
        bbox = _box(record["bbox"], f"{path} record {n}") if record.get("bbox") else None
        out.append(Conversation(str(record.get("id", n)), media, kind, tuple(turns), bbox))
    return out


def read_coco_captions(path: str | Path, root: str | Path | None = None) -> list[Caption]:
    data, base = _load(path), _root(path, root)
    files = {img["id"]: img["file_name"] for img in data.get("images", [])}
    out = []
    for ann in data.get("annotations", []):
        if ann.get("image_id") not in files:
            raise BadInputError(f"{path}: caption of image_id {ann.get('image_id')!r}, which 'images' does not list")
        out.append(Caption(str(base / files[ann["image_id"]]), str(ann["caption"]).strip()))
    return out


def read_referring(path: str | Path, root: str | Path | None = None) -> list[Referring]:
    data, base = _load(path), _root(path, root)
    records = data.get("annotations", []) if isinstance(data, dict) else data
    out = []
    for n, rec in enumerate(records):
        where = f"{path} record {n}"
        box = _box(rec["box"], where) if "box" in rec else _box(rec.get("bbox"), where, xywh=True)
        phrases = rec.get("expressions") or rec.get("sentences") or []
        texts = tuple(str(p["sent"] if isinstance(p, dict) else p).strip() for p in phrases)
        if not texts:
            raise BadInputError(f"{where}: no expressions")
        out.append(Referring(str(base / (rec.get("image") or rec.get("file_name"))), box, texts))
    return out


def read_video_boxes(root: str | Path) -> list[VideoTrack]:
    folder = Path(root)
    if (folder / "boxes.json").is_file():
        return [_track(folder)]
    tracks = [_track(sub) for sub in sorted(folder.iterdir()) if (sub / "boxes.json").is_file()]
    if not tracks:
        raise BadInputError(f"{folder} holds no video folder with a boxes.json")
    return tracks


def _track(folder: Path) -> VideoTrack:
    files = frame_files(folder)
    width, height = image_size(files[0])
    objects = []
    for obj in _load(folder / "boxes.json").get("objects", []):
        boxes = []
        for frame, box in sorted(obj.get("boxes", {}).items(), key=lambda kv: int(kv[0])):
            if not 0 <= int(frame) < len(files):
                raise BadInputError(f"{folder}/boxes.json: frame {frame} of {obj.get('name')!r} is outside the "
                                    f"{len(files)} frames")
            boxes.append((int(frame), _box(box, f"{folder}/boxes.json {obj.get('name')!r}")))
        objects.append(SceneObject(str(obj["name"]), None, tuple(boxes)))
    return VideoTrack(str(folder), width, height, len(files), tuple(objects))
