"""``Example``: one training sequence as text segments (trained or not), the media its placeholders
stand for, where their pixels are, and the signal targets of its signal-token runs.

Kept free of torch: ``finetune.batching`` turns examples into tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from vitron_agent.errors import MediaError
from vitron_agent.model.dialogue import DrawnRegion, Shown

__all__ = ["SignalTarget", "Example", "PixelSource", "load_image", "frame_files", "load_frames"]

PixelSource = str | Path | np.ndarray | Sequence[str]
"""An image file, a folder of video frames, a list of frame files, or pixels already in memory."""

_FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass
class SignalTarget:
    """What one run of signal tokens should encode, in ``expert``'s space (stages 3 and 5).

    ``text``: the prompt a text encoder embeds; ``box``/``size``: a box in pixels of a medium of that
    (width, height), for SAM's prompt encoder. ``value``: the expert's encoding, (tokens, width)
    float32, filled by ``finetune.targets``. ``task``: the discriminator's label in stage 5.
    """

    expert: str
    task: str
    text: str | None = None
    box: tuple[float, float, float, float] | None = None
    size: tuple[int, int] | None = None
    value: Any = None


@dataclass
class Example:
    """Text segments in order, each ``(text, trained)``; loss is taken on trained segments only.
    ``media``/``regions``: what the placeholders in the text stand for, in text order;
    ``pixels``: media id -> where its pixels are; ``signals``: one target per signal run in the
    trained text, in order (empty outside stages 3 and 5)."""

    segments: list[tuple[str, bool]]
    media: list[Shown] = field(default_factory=list)
    regions: list[DrawnRegion] = field(default_factory=list)
    pixels: dict[str, PixelSource] = field(default_factory=dict)
    signals: list[SignalTarget] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.segments)


def load_image(source: PixelSource) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a file or an array. Files are decoded once while they stay among the
    last 256 read (small data sets are then decoded once per run, not once per step); read-only."""
    if isinstance(source, np.ndarray):
        return source
    return _decoded(str(source))


@lru_cache(maxsize=256)
def _decoded(path: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise MediaError(f"cannot read image {path}: {exc}") from None
    array.setflags(write=False)
    return array


def frame_files(source: str | Path) -> list[str]:
    """A folder's frame images, in name order (``00001.jpg``...)."""
    folder = Path(source)
    files = sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in _FRAME_SUFFIXES) if folder.is_dir() else []
    if not files:
        raise MediaError(f"{folder} holds no frame images ({', '.join(_FRAME_SUFFIXES)})")
    return files


def load_frames(source: PixelSource, picks: Sequence[int] | None = None) -> np.ndarray:
    """(T, H, W, 3) uint8: the frames at ``picks`` (all when None) of a frame folder, frame list or array."""
    if isinstance(source, np.ndarray):
        return source if picks is None else source[list(picks)]
    files = frame_files(source) if isinstance(source, (str, Path)) else list(source)
    chosen = files if picks is None else [files[i] for i in picks]
    return np.stack([load_image(f) for f in chosen])
