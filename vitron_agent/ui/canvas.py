"""The region panel: uploads checked before a turn, and a region drawn on an image or a video frame: a box by two
clicks, or points clicked one by one (on the object, or on the background).

No Gradio here. Attachments and canvas sources are small JSON-safe dicts, kept in the browser session:
``attachment``: ``{"path", "name", "kind", "width", "height", "frames"}`` (an uploaded file that passed
validation); ``source``: ``{"path", "kind", "frames", "label"}`` (what the canvas shows: the first pending
image, else the first pending video, else the thread's latest medium, as the agent picks a region's target).
Boxes are ``[x1, y1, x2, y2]`` pixels of that medium, integers, x1 < x2 and y1 < y2; points are
``[x, y, positive]``. The region text box holds either ``x1,y1,x2,y2`` or points ``x,y,+; x,y,-``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInputError, RegionError
from ..protocol.inputs import read_point
from ..stores.media_io import MediaLimits, decode_image, decode_video, probe_file

__all__ = ["check_upload", "canvas_source", "render_canvas", "click", "parse_region", "format_box", "format_points",
           "add_point", "region_for"]

_BOX_COLOR = (255, 64, 64)
_POINT_COLORS = {True: (64, 220, 64), False: (255, 64, 64)}


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
                  anchor: list[int] | None = None, points: list[list[Any]] | None = None) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB of the source (frame ``frame`` of a video) with ``box`` drawn, the first click
    ``anchor`` marked and ``points`` shown (green +: on the object, red x: background), all in pixels of the
    source; None when there is nothing to show."""
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
    for x, y, positive in points or ():
        marker = cv2.MARKER_CROSS if positive else cv2.MARKER_TILTED_CROSS
        cv2.drawMarker(image, (int(round(x)), int(round(y))), _POINT_COLORS[bool(positive)], marker, 8 * width, width)
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


def parse_region(text: str | None) -> dict[str, Any] | None:
    """The region text: ``x1,y1,x2,y2`` (pixels; spaces or brackets allowed) -> ``{"box": [...]}``; points
    ``x,y,+; x,y,-`` (``+`` on the object, the default; ``-`` background) -> ``{"points": [[x, y, True], ...]}``;
    empty text -> None."""
    groups = [g.strip() for g in (text or "").split(";") if g.strip()]
    if not groups:
        return None
    parts = [p for p in groups[0].strip("[]()").replace(",", " ").split() if p]
    if len(groups) > 1 or len(parts) in (2, 3):
        return {"points": [list(read_point(group)) for group in groups]}
    try:
        box = [float(p) for p in parts]
    except ValueError:
        raise RegionError(f"region must be 4 numbers x1,y1,x2,y2 in pixels (or points x,y,+; x,y,-), "
                          f"got {text!r}") from None
    if len(box) != 4:
        raise RegionError(f"region must be 4 numbers x1,y1,x2,y2 in pixels, got {len(box)} number(s)")
    if not (box[0] < box[2] and box[1] < box[3]):
        raise RegionError(f"region {text!r} is inverted or empty; need x1 < x2 and y1 < y2")
    return {"box": box}


def format_box(box: list[float] | None) -> str:
    return "" if box is None else ",".join(f"{c:g}" for c in box)


def format_points(points: list[list[Any]]) -> str:
    return "; ".join(f"{x:g},{y:g},{'+' if positive else '-'}" for x, y, positive in points)


def add_point(text: str | None, x: float, y: float, positive: bool) -> str:
    """The region text with one more point (a box in it is replaced: a region is a box or points)."""
    try:
        current = parse_region(text)
    except BadInputError:
        current = None
    points = current["points"] if current and "points" in current else []
    return format_points([*points, [float(x), float(y), bool(positive)]])


def region_for(region: dict[str, Any] | None, source: dict[str, Any] | None, frame: int) -> Any:
    """The turn's ``region`` argument from ``parse_region``'s value: a box or points (``{"x", "y", "positive"}``),
    with the annotated frame ``(f, f)`` on a video."""
    if region is None:
        return None
    if "points" in region:
        shaped: dict[str, Any] = {"points": [{"x": x, "y": y, "positive": p} for x, y, p in region["points"]]}
    else:
        shaped = {"box": region["box"]}
    if source is not None and source["kind"] == "video":
        if not 0 <= int(frame) < int(source["frames"]):
            raise BadInputError(f"frame {frame} is outside the video ({source['frames']} frames)")
        return {**shaped, "frames": [int(frame), int(frame)]}
    return shaped["box"] if "box" in shaped else shaped
