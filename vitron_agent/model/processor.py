"""``VitronProcessor``: a rendered ``Prompt`` and the media's pixels -> the model's input tensors, and
generated ids -> text with each run of signal tokens marked for the parser."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import BadInputError
from .config import VitronConfig
from .dialogue import DrawnRegion, Prompt
from .tokens import END, IMAGE, REGION, VIDEO, signal_mark, signal_tokens

__all__ = ["VitronProcessor", "sample_frames", "SignalRun", "CLIP_MEAN", "CLIP_STD"]

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_CONFIG = "processor_config.json"


def sample_frames(total: int, count: int, keep: Sequence[int] = ()) -> list[int]:
    """``count`` frame indices spread evenly over ``total`` frames (the middle of each equal span),
    sorted; each index in ``keep`` replaces the nearest pick, so a frame a region is drawn on is seen.
    Short videos repeat frames: the model always reads exactly ``count``."""
    if total < 1:
        raise BadInputError("a video needs at least one frame")
    picks = [min(total - 1, int((i + 0.5) * total / count)) for i in range(count)]
    for frame in keep:
        if not 0 <= frame < total:
            raise BadInputError(f"frame {frame} is outside the video's {total} frames (0-based)")
        if frame not in picks:
            nearest = min(range(count), key=lambda i: (abs(picks[i] - frame), i))
            picks[nearest] = frame
    return sorted(picks)


@dataclass(frozen=True)
class SignalRun:
    """One run of signal tokens in generated ids: positions ``start`` to ``stop`` (exclusive)."""

    start: int
    stop: int


class VitronProcessor:
    """Tokenizer plus pixel preprocessing: images resized to ``image_size`` squared and normalised, videos
    sampled to ``video_frames`` frames, regions drawn as masks in the resized frame."""

    def __init__(self, tokenizer: Any, config: VitronConfig | None = None, *, image_size: int | None = None,
                 image_tokens: int | None = None, video_frames: int | None = None, num_signal_tokens: int | None = None,
                 image_mean: Sequence[float] | None = None, image_std: Sequence[float] | None = None) -> None:
        self.tokenizer = tokenizer
        self.image_size = int(image_size or config.vision_config.image_size)
        self.image_tokens = int(image_tokens or config.image_tokens)
        self.video_frames = int(video_frames or config.video_frames)
        self.num_signal_tokens = int(num_signal_tokens or config.num_signal_tokens)
        self.image_mean = np.asarray(image_mean or CLIP_MEAN, np.float32)
        self.image_std = np.asarray(image_std or CLIP_STD, np.float32)
        ids = tokenizer.convert_tokens_to_ids
        self.image_id, self.video_id, self.region_id, self.end_id = ids(IMAGE), ids(VIDEO), ids(REGION), ids(END)
        self.signal_ids = [ids(t) for t in signal_tokens(self.num_signal_tokens)]
        self._signal_set = frozenset(self.signal_ids)
        unknown = [t for t, i in zip((IMAGE, VIDEO, REGION, END), (self.image_id, self.video_id, self.region_id,
                                                                   self.end_id)) if i == tokenizer.unk_token_id]
        if unknown:
            raise BadInputError(f"the tokenizer lacks the special tokens {', '.join(unknown)}; "
                                "build it with assemble()")

    # -- saving ---------------------------------------------------------------------------------
    def save_pretrained(self, path: str | Path) -> None:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save_pretrained(folder)
        settings = {"image_size": self.image_size, "image_tokens": self.image_tokens, "video_frames": self.video_frames,
                    "num_signal_tokens": self.num_signal_tokens, "image_mean": self.image_mean.tolist(),
                    "image_std": self.image_std.tolist()}
        (folder / _CONFIG).write_text(json.dumps(settings, indent=2))

    @classmethod
    def from_pretrained(cls, path: str | Path, local_files_only: bool = True) -> VitronProcessor:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_files_only)
        folder = Path(path)
        if not (folder / _CONFIG).exists():
            from huggingface_hub import hf_hub_download

            folder = Path(hf_hub_download(str(path), _CONFIG, local_files_only=local_files_only)).parent
        return cls(tokenizer, **json.loads((folder / _CONFIG).read_text()))

    # -- encoding -------------------------------------------------------------------------------
    def __call__(self, prompt: Prompt, pixels: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """Model inputs for one prompt (batch of 1). ``pixels``: media id -> (H, W, 3) uint8 RGB image or
        (T, H, W, 3) video, for every medium the prompt shows."""
        images, videos, first_frame = [], [], {}
        n_images = sum(1 for m in prompt.media if m.kind == "image")
        for shown in prompt.media:
            array = _pixels(pixels, shown.id, shown.kind)
            if shown.kind == "image":
                first_frame[shown.id] = (len(images), None)
                images.append(self.preprocess(array))
            else:
                keep = [_frame(r) for r in prompt.regions if r.media == shown.id]
                picks = sample_frames(len(array), self.video_frames, keep)
                first_frame[shown.id] = (n_images + len(videos) * self.video_frames, picks)
                videos.append(np.stack([self.preprocess(array[i]) for i in picks]))
        batch: dict[str, torch.Tensor] = {}
        if images:
            batch["pixel_values"] = torch.from_numpy(np.stack(images))
        if videos:
            batch["video_values"] = torch.from_numpy(np.stack(videos))
        if prompt.regions:
            masks, boxes, frames = zip(*(self._region(r, first_frame) for r in prompt.regions))
            batch["region_masks"] = torch.from_numpy(np.stack(masks))
            batch["region_boxes"] = torch.tensor(boxes, dtype=torch.float32)
            batch["region_frames"] = torch.tensor(frames, dtype=torch.long)
        ids = self.expand(self.tokenizer(prompt.text, add_special_tokens=False)["input_ids"])
        batch["input_ids"] = torch.from_numpy(ids)[None]
        batch["attention_mask"] = torch.ones_like(batch["input_ids"])
        return batch

    def expand(self, ids: Sequence[int]) -> np.ndarray:
        """(L,) int64: each media placeholder id repeated as many times as the medium gives feature tokens."""
        array = np.asarray(ids, dtype=np.int64)
        counts = np.ones_like(array)
        counts[array == self.image_id] = self.image_tokens
        counts[array == self.video_id] = self.image_tokens + self.video_frames
        return np.repeat(array, counts)

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (3, S, S) float32, resized (no crop: pixel frames scale linearly) and normalised."""
        from PIL import Image

        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise BadInputError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
        side = self.image_size
        resized = Image.fromarray(image).resize((side, side), Image.BICUBIC, reducing_gap=3.0)  # box-reduce first
        resized = np.asarray(resized, np.float32) / 255.0
        return ((resized - self.image_mean) / self.image_std).transpose(2, 0, 1).copy()

    def _region(self, drawn: DrawnRegion, first_frame: Mapping[str, tuple[int, list[int] | None]]
                ) -> tuple[np.ndarray, list[float], int]:
        """(S, S) float mask, box in [0, 1] of the medium, and the global frame index it is drawn on."""
        if drawn.media not in first_frame:
            raise BadInputError(f"a region is drawn on {drawn.media}, which the prompt does not show")
        start, picks = first_frame[drawn.media]
        frame = start if picks is None else start + picks.index(_frame(drawn))
        width, height = drawn.size
        side = self.image_size
        mask = np.zeros((side, side), np.float32)
        region = drawn.region
        if region.box is not None:
            x1, y1, x2, y2 = region.box
            box = [x1 / width, y1 / height, x2 / width, y2 / height]
            c1, r1 = int(box[0] * side), int(box[1] * side)
            mask[r1 : max(r1 + 1, int(np.ceil(box[3] * side))), c1 : max(c1 + 1, int(np.ceil(box[2] * side)))] = 1.0
        elif region.points:
            yy, xx = np.mgrid[0:side, 0:side]
            radius = max(1.0, side / 16)
            for p in (p for p in region.points if p.positive):
                mask[(xx - p.x / width * side) ** 2 + (yy - p.y / height * side) ** 2 <= radius**2] = 1.0
            xs, ys = [p.x / width for p in region.points], [p.y / height for p in region.points]
            box = [min(xs), min(ys), max(xs), max(ys)]
        else:
            raise BadInputError("a region token needs a box or points; refer to earlier outputs in text")
        return mask, [float(min(1.0, max(0.0, v))) for v in box], frame

    # -- decoding -------------------------------------------------------------------------------
    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def decode_marked(self, ids: Sequence[int]) -> tuple[str, list[SignalRun]]:
        """Generated ids -> text with the n-th run of signal tokens written as ``sp{n}`` (the parser
        reads ``<SP>sp1</SP>`` as that invocation's signal), and the runs' positions."""
        runs: list[SignalRun] = []
        parts: list[str] = []
        start = 0
        ids = list(ids)
        i = 0
        while i < len(ids):
            if ids[i] in self._signal_set:
                stop = i
                while stop < len(ids) and ids[stop] in self._signal_set:
                    stop += 1
                parts.append(self.decode(ids[start:i]))
                runs.append(SignalRun(i, stop))
                parts.append(signal_mark(len(runs)))
                start = i = stop
            else:
                i += 1
        parts.append(self.decode(ids[start:]))
        return "".join(parts), runs


def _frame(drawn: DrawnRegion) -> int:
    """The video frame a region is drawn on: the first of its span, else frame 0 (as experts read it)."""
    return drawn.region.frames[0] if drawn.region.frames else 0


def _pixels(pixels: Mapping[str, np.ndarray], media_id: str, kind: str) -> np.ndarray:
    if media_id not in pixels:
        raise BadInputError(f"no pixels for {media_id}; the prompt shows it")
    array = np.asarray(pixels[media_id])
    if kind == "video" and array.ndim == 3:
        array = array[None]
    if array.ndim != (4 if kind == "video" else 3):
        raise BadInputError(f"{media_id} is a {kind}, but its pixels have shape {array.shape}")
    return array
