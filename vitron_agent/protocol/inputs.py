"""Inputs as callers give them, made typed: a region in any of its accepted forms, and one-line descriptions of
what arrived for error messages."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import RegionError
from .invocation import Point, Region

__all__ = ["RegionInput", "read_region", "read_point", "brief", "first_error"]

RegionInput = Any
"""A region as callers give it: ``[x1, y1, x2, y2]``; ``[(x, y), (x, y, False)]`` clicks; an (H, W) mask array or
a mask image path; a ``Region``; or a dict with ``box``, ``points``, ``mask`` or ``ref`` (and ``frame``)."""


def read_region(region: RegionInput, frame: int | None = None) -> tuple[Region | None, Any, int | None]:
    """A region in any accepted form -> (a ``Region`` for a box, points or a ref, else None; a mask source, an
    (H, W) array or the path of a mask image, else None; the video frame a mask is drawn on, else None).

    ``frame``: the video frame the region is drawn on (a ``frames`` span for boxes and points)."""
    given: Any = dict(region) if isinstance(region, dict) else region
    if isinstance(given, dict) and "frame" in given:
        one = given.pop("frame")
        frame = frame if frame is not None else one
    if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int) or frame < 0):
        raise RegionError(f"frame must be a frame number >= 0, got {brief(frame)}")
    try:
        if isinstance(given, dict) and "mask" in given:
            return None, given.pop("mask"), frame
        if isinstance(given, (np.ndarray, str, os.PathLike)):
            return None, given, frame
        frames = {"frames": (frame, frame)} if frame is not None else {}
        if isinstance(given, Region):
            return (given.model_copy(update=frames) if frames else given), None, None
        if isinstance(given, dict):
            return Region(**{**given, **frames}), None, None
        items = list(given)
        if items and all(isinstance(p, (list, tuple, Point)) for p in items):
            points = [p if isinstance(p, Point) else Point(x=p[0], y=p[1], positive=bool(p[2]) if len(p) > 2 else True)
                      for p in items]
            return Region(points=tuple(points), **frames), None, None
        return Region(box=tuple(items), **frames), None, None
    except RegionError:
        raise
    except Exception as exc:
        raise RegionError(f"bad region {brief(region)}: {first_error(exc)}") from None


def read_point(text: str) -> tuple[float, float, bool]:
    """A click as people type it: ``x,y`` or ``x,y,+`` (on the object) or ``x,y,-`` (background), pixels; spaces
    and brackets allowed. -> ``(x, y, positive)``; ``RegionError`` otherwise."""
    parts = [p for p in text.strip().strip("[]()").replace(",", " ").split() if p]
    sign = parts.pop() if len(parts) == 3 else "+"
    try:
        if len(parts) != 2 or sign not in ("+", "-"):
            raise ValueError
        return float(parts[0]), float(parts[1]), sign == "+"
    except ValueError:
        raise RegionError(f"a point must be x,y or x,y,+ or x,y,- in pixels, got {text.strip()!r}") from None


def first_error(exc: Exception) -> str:
    """The first problem pydantic found, with the field it is in (``region.box: ...``)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", exc)).removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    return str(exc)


def brief(value: Any, limit: int = 120) -> str:
    """A bounded one-line quote of what arrived, for error messages."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

