"""Examples -> model tensors: each text segment tokenized on its own (the prompt exactly as the
planner tokenizes it at inference), placeholders expanded by the processor, loss on trained segments,
and batches padded on the right with media and regions concatenated in text order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from vitron_agent.errors import BadInputError
from vitron_agent.model.dialogue import DrawnRegion, Prompt
from vitron_agent.model.processor import VitronProcessor, sample_frames

from .data.examples import Example, frame_files, load_frames, load_image

__all__ = ["IGNORE", "Encoded", "ExampleDataset", "Collator", "EpochSampler"]

IGNORE = -100
"""Label of positions that take no loss (prompts, padding)."""


@dataclass
class Encoded:
    """One example's token ids and labels (L,), its signal runs as (start, stop) positions."""

    ids: np.ndarray
    labels: np.ndarray
    runs: list[tuple[int, int]]


class ExampleDataset(Dataset):
    """Examples tokenized up front (lengths known, too-long ones skipped); pixels read per item."""

    def __init__(self, examples: Sequence[Example], processor: VitronProcessor, max_length: int = 4096) -> None:
        self.processor = processor
        self.examples: list[Example] = []
        self.encoded: list[Encoded] = []
        self.skipped = 0
        for example in examples:
            encoded = encode_text(example, processor)
            if len(encoded.ids) > max_length:
                self.skipped += 1
                continue
            self.examples.append(example)
            self.encoded.append(encoded)
        if not self.examples:
            raise BadInputError(f"no training example fits max_length={max_length} ({self.skipped} skipped)")

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        example, encoded = self.examples[i], self.encoded[i]
        item: dict[str, Any] = {"ids": encoded.ids, "labels": encoded.labels, "media": media_tensors(example, self.processor)}
        item["signals"] = [(run, target) for run, target in zip(encoded.runs, example.signals)]
        return item


def encode_text(example: Example, processor: VitronProcessor) -> Encoded:
    """Token ids (placeholders expanded) and labels; checks the signal runs against the targets."""
    tokenizer = processor.tokenizer
    ids, labels = [], []
    media_ids = {processor.image_id, processor.video_id, processor.region_id}
    for text, trained in example.segments:
        part = processor.expand(tokenizer(text, add_special_tokens=False)["input_ids"])
        if trained and media_ids & set(part.tolist()):
            raise BadInputError("a trained segment holds a media or region placeholder; media belong in prompts")
        ids.append(part)
        labels.append(part if trained else np.full_like(part, IGNORE))
    ids_all, labels_all = np.concatenate(ids), np.concatenate(labels)
    runs = _signal_runs(ids_all, labels_all, set(processor.signal_ids))
    if example.signals and len(runs) != len(example.signals):
        raise BadInputError(f"the answer holds {len(runs)} signal run(s) but the example gives "
                            f"{len(example.signals)} signal target(s)")
    if any(stop - start != processor.num_signal_tokens for start, stop in runs):
        raise BadInputError(f"every signal run must hold exactly k={processor.num_signal_tokens} signal tokens")
    return Encoded(ids_all, labels_all, runs)


def _signal_runs(ids: np.ndarray, labels: np.ndarray, signal_ids: set[int]) -> list[tuple[int, int]]:
    """Runs of consecutive signal tokens in the trained part, as (start, stop) positions."""
    runs, start = [], None
    for i, token in enumerate(ids.tolist() + [-1]):
        inside = token in signal_ids and labels[min(i, len(labels) - 1)] != IGNORE
        if inside and start is None:
            start = i
        elif not inside and start is not None:
            runs.append((start, i))
            start = None
    return runs


def media_tensors(example: Example, processor: VitronProcessor) -> dict[str, torch.Tensor]:
    """Pixels and regions of one example, as ``VitronProcessor`` makes them. Only the video frames the
    processor samples are read; regions on video are moved to their frame's index among those."""
    pixels: dict[str, np.ndarray] = {}
    regions = list(example.regions)
    for shown in example.media:
        source = example.pixels.get(shown.id)
        if source is None:
            raise BadInputError(f"example shows {shown.id} but gives no pixels for it")
        if shown.kind == "image":
            pixels[shown.id] = load_image(source)
            continue
        total = len(source) if isinstance(source, (np.ndarray, list, tuple)) else len(frame_files(source))
        keep = [_first_frame(r) for r in regions if r.media == shown.id]
        picks = sample_frames(total, processor.video_frames, keep)
        pixels[shown.id] = load_frames(source, picks)
        regions = [_moved(r, picks) if r.media == shown.id else r for r in regions]
    batch = processor(Prompt("", list(example.media), regions), pixels)
    batch.pop("input_ids")
    batch.pop("attention_mask")
    batch["n_images"] = sum(1 for m in example.media if m.kind == "image")
    batch["n_videos"] = sum(1 for m in example.media if m.kind == "video")
    return batch


def _first_frame(drawn: DrawnRegion) -> int:
    return drawn.region.frames[0] if drawn.region.frames else 0


def _moved(drawn: DrawnRegion, picks: list[int]) -> DrawnRegion:
    index = picks.index(_first_frame(drawn))
    return replace(drawn, region=drawn.region.model_copy(update={"frames": (index, index)}))


class Collator:
    """Items -> one batch. Media and regions are concatenated across examples in text order; region
    frame indices are shifted into the batch's frame list (all images, then all videos' frames).
    ``signals``: expert -> ``positions`` (n, k) into the flattened (B * L) sequence, ``targets``
    (n, tokens, width), ``tasks`` (n,) indices into ``tasks``. ``attention_mask`` only when padded."""

    def __init__(self, pad_id: int, video_frames: int, tasks: Sequence[str] = ()) -> None:
        self.pad_id, self.video_frames, self.tasks = pad_id, video_frames, list(tasks)

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        length = max(len(it["ids"]) for it in items)
        ids = torch.full((len(items), length), self.pad_id, dtype=torch.long)
        labels = torch.full_like(ids, IGNORE)
        mask = torch.zeros_like(ids)
        for b, it in enumerate(items):
            n = len(it["ids"])
            ids[b, :n], labels[b, :n], mask[b, :n] = torch.from_numpy(it["ids"]), torch.from_numpy(it["labels"]), 1
        batch: dict[str, Any] = {"input_ids": ids, "labels": labels, **self._media(items)}
        if not bool(mask.all()):  # without padding the LM takes its faster purely causal path
            batch["attention_mask"] = mask
        signals = self._signals(items, length)
        if signals:
            batch["signals"] = signals
        return batch

    def _media(self, items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        media = [it["media"] for it in items]
        out: dict[str, torch.Tensor] = {}
        for key in ("pixel_values", "video_values", "region_masks", "region_boxes"):
            parts = [m[key] for m in media if key in m]
            if parts:
                out[key] = torch.cat(parts)
        total_images = sum(m["n_images"] for m in media)
        frames, images_before, videos_before = [], 0, 0
        for m in media:
            if "region_frames" in m:
                local = m["region_frames"]
                video_start = total_images + videos_before * self.video_frames
                frames.append(torch.where(local < m["n_images"], local + images_before,
                                          local - m["n_images"] + video_start))
            images_before += m["n_images"]
            videos_before += m["n_videos"]
        if frames:
            out["region_frames"] = torch.cat(frames)
        return out

    def _signals(self, items: list[dict[str, Any]], length: int) -> dict[str, dict[str, torch.Tensor]]:
        grouped: dict[str, dict[str, list[Any]]] = {}
        for b, it in enumerate(items):
            for (start, stop), target in it["signals"]:
                group = grouped.setdefault(target.expert, {"positions": [], "targets": [], "tasks": []})
                group["positions"].append(torch.arange(start, stop) + b * length)
                group["targets"].append(torch.as_tensor(np.asarray(target.value, dtype=np.float32)))
                group["tasks"].append(self.tasks.index(target.task) if target.task in self.tasks else -1)
        return {expert: {"positions": torch.stack(g["positions"]), "targets": torch.stack(g["targets"]),
                         "tasks": torch.tensor(g["tasks"], dtype=torch.long)} for expert, g in grouped.items()}


class EpochSampler(Sampler[int]):
    """A fresh permutation per epoch from ``(seed, epoch)`` alone, so a resumed run sees the same order."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.epoch = size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())

    def __len__(self) -> int:
        return self.size
