"""Pixels for a chat model that can see: the conversation's media as LangChain image content blocks.

A seeing planner gets, within a budget: the images the user attached (the drawn region outlined in red), frames
sampled from videos (each with its frame number), and, once tools have run, what they made (mask overlays,
boxes drawn, edited and generated images), so it can answer about the pixels and check its own results. Newest
first: this turn's results, then this turn's media, then earlier ones. The text notes (``[u0: image 600x400]``)
stay, so a model sees which block is which medium.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from ..protocol.invocation import Region
from .base import MediaInfo, PlannerInput

__all__ = ["SightBudget", "with_pixels", "image_block"]


@dataclass(frozen=True)
class SightBudget:
    """How many pixels one planning call sends.

    ``max_side``: long edge, in pixels, of each image sent; ``max_images``: images per call, video frames and tool
    results included; ``frames_per_video``: frames sampled from each video; ``quality``: JPEG quality."""

    max_side: int = 768
    max_images: int = 8
    frames_per_video: int = 4
    quality: int = 85


def image_block(array: np.ndarray, budget: SightBudget) -> dict[str, Any]:
    """An (H, W, 3) uint8 RGB image as a standard ``image`` content block: JPEG, long edge at most ``max_side``."""
    import cv2

    from ..stores.media_io import encode_jpeg

    height, width = array.shape[:2]
    scale = min(1.0, budget.max_side / max(height, width))
    if scale < 1.0:
        array = cv2.resize(array, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA)
    data = base64.b64encode(encode_jpeg(np.ascontiguousarray(array), quality=budget.quality)).decode()
    return {"type": "image", "base64": data, "mime_type": "image/jpeg"}


def with_pixels(messages: list[BaseMessage], inp: PlannerInput, budget: SightBudget) -> list[BaseMessage]:
    """``messages`` with image blocks added: human messages carry their media (region outlined); the results of
    this turn's tool calls follow the last tool message as a user message of images. Within ``budget``."""
    if inp.pixels is None:
        return messages
    media = {m.id: m for m in [*inp.media, *inp.previews]}
    humans = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage) and m.additional_kwargs.get("media")]
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    results = [ref for m in messages[last_human + 1:] if isinstance(m, ToolMessage)
               for ref in (m.artifact or []) if _shown_result(media.get(ref))]
    left = budget.max_images
    shown_results, left = _take(results[::-1], media, budget, left)
    chosen: dict[int, list[str]] = {}
    for index in reversed(humans):  # the newest attachments first
        picked, left = _take(messages[index].additional_kwargs["media"], media, budget, left)
        chosen[index] = picked
    out: list[BaseMessage] = []
    for index, message in enumerate(messages):
        if chosen.get(index):
            message = HumanMessage(content=[{"type": "text", "text": message.text},
                                            *_blocks(chosen[index], message, media, inp, budget)],
                                   id=message.id, additional_kwargs=message.additional_kwargs)
        out.append(message)
    if shown_results:
        blocks = [{"type": "text", "text": "What the tools made, as images (check them before you answer):"}]
        blocks += _blocks(shown_results[::-1], None, media, inp, budget)
        at = max(i for i, m in enumerate(out) if isinstance(m, ToolMessage)) + 1
        out.insert(at, HumanMessage(content=blocks))
    return out


def _shown_result(info: MediaInfo | None) -> bool:
    """Tool results worth showing: previews (overlays, boxes drawn), images and videos; masks and boxes are shown
    by their previews."""
    return info is not None and info.kind in ("image", "video")


def _take(ids: list[str], media: dict[str, MediaInfo], budget: SightBudget, left: int) -> tuple[list[str], int]:
    """The media among ``ids`` that fit in ``left`` images, in order, and what is left."""
    taken = []
    for media_id in ids:
        info = media.get(media_id)
        if info is None or info.kind not in ("image", "video"):
            continue
        cost = min(budget.frames_per_video, info.frames) if info.kind == "video" else 1
        if cost > left:
            break
        taken.append(media_id)
        left -= cost
    return taken, left


def _blocks(ids: list[str], message: HumanMessage | None, media: dict[str, MediaInfo], inp: PlannerInput,
            budget: SightBudget) -> list[dict[str, Any]]:
    """Content blocks for ``ids``: a caption and the image (region outlined on the medium it was drawn on), or a
    video's sampled frames each with its number."""
    from ..visualize import outline_region

    region, region_on = _drawn(message, inp)
    blocks: list[dict[str, Any]] = []
    for media_id in ids:
        info = media[media_id]
        pixels = inp.pixels(media_id)
        if info.kind == "video":
            picks = np.unique(np.linspace(0, len(pixels) - 1, min(budget.frames_per_video, len(pixels))).round())
            blocks.append({"type": "text", "text": f"{info.describe()}, frames {', '.join(str(int(f)) for f in picks)}:"})
            for frame in picks.astype(int):
                image = pixels[frame]
                if region is not None and media_id == region_on:
                    image = _outlined(image, region, inp, int(frame), outline_region)
                blocks += [{"type": "text", "text": f"{media_id} frame {frame}"}, image_block(image, budget)]
            continue
        image = pixels
        note = info.describe()
        if region is not None and media_id == region_on:
            image = _outlined(image, region, inp, 0, outline_region)
            note += " (the region the user drew is outlined in red)"
        blocks += [{"type": "text", "text": note + ":"}, image_block(image, budget)]
    return blocks


def _drawn(message: HumanMessage | None, inp: PlannerInput) -> tuple[Region | None, str | None]:
    """The region drawn with ``message`` and the medium it is on."""
    if message is None:
        return None, None
    drawn = message.additional_kwargs.get("region")
    return (Region(**drawn) if drawn else None), message.additional_kwargs.get("region_media")


def _outlined(image: np.ndarray, region: Region, inp: PlannerInput, frame: int, outline: Any) -> np.ndarray:
    """``image`` with ``region`` outlined; a mask region (an earlier result or the user's mask) is loaded."""
    if region.frames is not None and not region.frames[0] <= frame <= region.frames[1]:
        return image
    mask = None
    if region.ref is not None and inp.pixels is not None:
        try:
            loaded = inp.pixels(region.ref)
        except Exception:  # a ref to boxes or to a call of this turn: nothing to outline
            loaded = None
        if loaded is not None and loaded.shape[-3:-1] == image.shape[:2]:
            mask = (loaded[frame] if loaded.ndim == 4 else loaded)[..., 0] > 127
    return outline(image, [region.box] if region.box is not None else [], region.points or (), mask)
