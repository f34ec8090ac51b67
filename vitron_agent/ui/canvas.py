"""The region panel: uploads checked before a turn, and a box drawn by two clicks on an image or a video frame.

No Gradio here. Attachments and canvas sources are small JSON-safe dicts, kept in the browser session:
``attachment``: ``{"path", "name", "kind", "width", "height", "frames"}`` (an uploaded file that passed
validation); ``source``: ``{"path", "kind", "frames", "label"}`` (what the canvas shows: the first pending
image, else the first pending video, else the thread's latest medium, as the agent picks a region's target).
Boxes are ``[x1, y1, x2, y2]`` pixels of that medium, integers, x1 < x2 and y1 < y2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInputError, RegionError
from ..stores.media_io import MediaLimits, decode_image, decode_video, probe_file

__all__ = ["check_upload", "canvas_source", "render_canvas", "click", "parse_box", "format_box", "region_for"]

_BOX_COLOR = (255, 64, 64)


def check_upload(path: str | Path, limits: MediaLimits) -> dict[str, Any]:
    """Validate an uploaded file (content decides image or video); raise ``MediaError`` with a reason."""
    path = Path(path)
    probed = probe_file(path, limits, name=path.name)
    return {"path": str(path), "name": path.name, "kind": probed.kind, "width": probed.width,
            "height": probed.height, "frames": probed.frames}


def canvas_source(pending: list[dict[str, Any]], latest: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """What to draw on: the medium the agent will put a region on (first new image, else first new video,
    else ``latest``, the thread's newest image or video as a source dict)."""
    for kind in ("image", "video"):
        for item in pending:
            if item["kind"] == kind:
                return {"path": item["path"], "kind": kind, "frames": item["frames"], "label": item["name"]}
    return latest


def render_canvas(source: dict[str, Any] | None, frame: int = 0, box: list[int] | None = None,
                  anchor: list[int] | None = None) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB of the source (frame ``frame`` of a video) with ``box`` drawn and the first
    click ``anchor`` marked, both in pixels of the source; None when there is nothing to show."""
    import cv2

    if source is None:
        return None
    data = Path(source["path"]).read_bytes()
    if source["kind"] == "video":
        frame = max(0, min(int(frame), int(source["frames"]) - 1))
        frames, _ = decode_video(data, source["label"], MediaLimits(), max_frames=frame + 1)
        image = frames[-1].copy()
    else:
        image = decode_image(data, source["label"]).copy()  # drawn on: a private, writable copy
    width = max(2, round(max(image.shape[:2]) / 250))
    if box is not None:
        x1, y1, x2, y2 = (int(round(c)) for c in box)
        cv2.rectangle(image, (x1, y1), (x2, y2), _BOX_COLOR, width)
    if anchor is not None:
        cv2.drawMarker(image, (int(anchor[0]), int(anchor[1])), _BOX_COLOR, cv2.MARKER_CROSS, 8 * width, width)
    return image


def click(anchor: list[int] | None, x: int, y: int) -> tuple[list[int] | None, list[int] | None]:
    """One click on the canvas: the first sets the anchor, the second closes the box.

    Returns ``(anchor, box)``: ``([x, y], None)`` after a first click, ``(None, [x1, y1, x2, y2])`` after a
    second one (corners in any order), and ``([x, y], None)`` again if the second click made no area.
    """
    if anchor is None:
        return [int(x), int(y)], None
    x1, x2 = sorted((int(anchor[0]), int(x)))
    y1, y2 = sorted((int(anchor[1]), int(y)))
    if x1 == x2 or y1 == y2:
        return [int(x), int(y)], None
    return None, [x1, y1, x2, y2]


def parse_box(text: str | None) -> list[float] | None:
    """``"x1,y1,x2,y2"`` (pixels; spaces or brackets allowed) to a box; empty text is no box."""
    text = (text or "").strip().strip("[]()")
    if not text:
        return None
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        box = [float(p) for p in parts]
    except ValueError:
        raise RegionError(f"region must be 4 numbers x1,y1,x2,y2 in pixels, got {text!r}") from None
    if len(box) != 4:
        raise RegionError(f"region must be 4 numbers x1,y1,x2,y2 in pixels, got {len(box)} number(s)")
    if not (box[0] < box[2] and box[1] < box[3]):
        raise RegionError(f"region {text!r} is inverted or empty; need x1 < x2 and y1 < y2")
    return box


def format_box(box: list[float] | None) -> str:
    return "" if box is None else ",".join(f"{c:g}" for c in box)


def region_for(box: list[float] | None, source: dict[str, Any] | None, frame: int) -> Any:
    """The turn's ``region`` argument: the box, with the annotated frame ``(f, f)`` on a video."""
    if box is None:
        return None
    if source is not None and source["kind"] == "video":
        if not 0 <= int(frame) < int(source["frames"]):
            raise BadInputError(f"frame {frame} is outside the video ({source['frames']} frames)")
        return {"box": box, "frames": [int(frame), int(frame)]}
    return box
