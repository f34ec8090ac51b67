"""The invocation: one structured request from the planner to one vision expert.

Coordinates in Python and JSON are always pixels of the input medium, top-left origin,
``[x1, y1, x2, y2]`` with ``x1 < x2`` and ``y1 < y2``. The LLM text form (``text_form``)
normalises them to [0, 1]; conversion happens only there.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "TASKS",
    "EDIT_OPS",
    "MODULE_LETTERS",
    "AUTO_MODULE",
    "Task",
    "EditOp",
    "Point",
    "Region",
    "Invocation",
    "is_invocation_id",
    "is_media_id",
]

Task = Literal[
    "answer",
    "ground",
    "segment",
    "track",
    "generate_image",
    "edit_image",
    "generate_video",
    "animate_image",
    "edit_video",
]
EditOp = Literal["remove", "replace", "add", "recolor", "restyle", "move"]

TASKS: tuple[str, ...] = Task.__args__  # type: ignore[attr-defined]
EDIT_OPS: tuple[str, ...] = EditOp.__args__  # type: ignore[attr-defined]
EDIT_TASKS = ("edit_image", "edit_video")

AUTO_MODULE = "auto"
"""Module name meaning: the registry picks the best installed expert for the task."""

MODULE_LETTERS: dict[str, str] = {
    "A": "generate_image",
    "B": "segment",
    "C": "edit_image",
    "D": "generate_video",
    "E": "track",
    "F": "edit_video",
    "G": "animate_image",
}
"""VITRON's module letters, each naming a task family; the expert is chosen by the registry."""

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_MEDIA_ID = re.compile(r"^[uo]\d+(\.\d+)?$")
_INVOCATION_ID = re.compile(r"^c\d+$")


def is_media_id(text: str) -> bool:
    """``u0`` (user medium), ``o3`` or ``o3.1`` (expert outputs)."""
    return bool(_MEDIA_ID.match(text))


def is_invocation_id(text: str) -> bool:
    """``c1``, ``c2``...: refers to the primary output of that invocation in this turn."""
    return bool(_INVOCATION_ID.match(text))


def _brief(value: Any, limit: int = 60) -> str:
    """A bounded one-line quote of a value that arrived, for validation messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {_brief(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        raise ValueError(f"{what} must be a pixel coordinate, got a number too large for one") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {_brief(value)}")
    return number


class Point(BaseModel):
    """A click: pixel ``(x, y)``; ``positive`` False marks background."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    x: float
    y: float
    positive: bool = True

    @field_validator("x", "y", mode="before")
    @classmethod
    def _check_number(cls, v: Any) -> float:
        return _finite(v, "point coordinate")


class Region(BaseModel):
    """Where an expert should act: exactly one of a box, points, or a reference.

    ``box``: ``[x1, y1, x2, y2]`` pixels of the input medium.
    ``points``: clicks in pixels.
    ``ref``: an earlier artifact (``o3``: a mask or boxes) or an invocation of this turn (``c1``).
    ``frames``: on video, the inclusive frame span ``(start, end)`` the box or points refer to;
    a single annotated frame is ``(f, f)``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    box: tuple[float, float, float, float] | None = None
    points: tuple[Point, ...] | None = None
    ref: str | None = None
    frames: tuple[int, int] | None = None

    @field_validator("box", mode="before")
    @classmethod
    def _check_box(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, (list, tuple)) or len(v) != 4:
            raise ValueError(f"box must be 4 numbers [x1, y1, x2, y2], got {_brief(v)}")
        x1, y1, x2, y2 = (_finite(c, "box coordinate") for c in v)
        if not (x1 < x2 and y1 < y2):
            raise ValueError(f"box {_brief(list(v))} is inverted or empty; need x1 < x2 and y1 < y2")
        return (x1, y1, x2, y2)

    @field_validator("frames", mode="before")
    @classmethod
    def _check_frames(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, (list, tuple)) or len(v) != 2:
            raise ValueError(f"frames must be [start, end], got {_brief(v)}")
        start, end = v
        for f in (start, end):
            if isinstance(f, bool) or not isinstance(f, int) or f < 0:
                raise ValueError(f"frame numbers must be integers >= 0, got {_brief(v)}")
        if start > end:
            raise ValueError(f"frame span {_brief(list(v))} is inverted; need start <= end")
        return (start, end)

    @field_validator("ref")
    @classmethod
    def _check_ref(cls, v: str | None) -> str | None:
        if v is not None and not (is_media_id(v) or is_invocation_id(v)):
            raise ValueError(f"region ref must be an output id like 'o3' or an invocation id like 'c1', got {_brief(v)}")
        return v

    @model_validator(mode="after")
    def _exactly_one(self) -> Region:
        given = [name for name in ("box", "points", "ref") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a region needs exactly one of box, points or ref; got {given or 'none'}")
        if self.points is not None and not self.points:
            raise ValueError("a points region needs at least one point")
        return self

    @property
    def kind(self) -> str:
        """``box``, ``points`` or ``ref``."""
        return "box" if self.box is not None else "points" if self.points is not None else "ref"


class Invocation(BaseModel):
    """One call of one expert.

    ``module``: a registry name (``grabcut``), ``auto`` (the registry picks), or a VITRON letter A-G.
    ``command``: what the expert needs in words: the target phrase, the prompt, the edit instruction.
    ``inputs``: media ids (``u0``, ``o3``) or invocation ids (``c1``) it acts on; empty = latest fitting medium.
    ``depends_on``: invocation ids that must finish first (refs in region/inputs add to it implicitly).
    ``signal``: id of signal embeddings in the signal store.
    ``args``: task extras, e.g. ``{"op": "replace", "new": "a dog"}`` for edits.
    """

    model_config = ConfigDict(extra="forbid")
    id: str = ""
    module: str = AUTO_MODULE
    task: Task
    command: str = ""
    region: Region | None = None
    inputs: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    signal: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if v and not is_invocation_id(v):
            raise ValueError(f"invocation id must look like 'c1', got {_brief(v)}")
        return v

    @field_validator("module")
    @classmethod
    def _check_module(cls, v: str) -> str:
        v = v.strip()
        if v.upper() in MODULE_LETTERS and len(v) == 1:
            return v.upper()
        if not _ID.match(v):
            raise ValueError(f"module must be an expert name such as 'grabcut', 'auto' or a letter A-G, got {_brief(v)}")
        return v.lower()

    @field_validator("command")
    @classmethod
    def _strip_command(cls, v: str) -> str:
        return v.strip()

    @field_validator("inputs", "depends_on")
    @classmethod
    def _check_refs(cls, v: list[str]) -> list[str]:
        for item in v:
            if not (is_media_id(item) or is_invocation_id(item)):
                raise ValueError(f"{_brief(item)} is not a media id ('u0', 'o3') or invocation id ('c1')")
        return v

    @field_validator("signal")
    @classmethod
    def _check_signal(cls, v: str | None) -> str | None:
        if v is not None and not _ID.match(v):
            raise ValueError(f"signal must be a signal-store id, got {_brief(v)}")
        return v

    @field_validator("args")
    @classmethod
    def _check_args(cls, v: dict[str, Any]) -> dict[str, Any]:
        _check_json_safe(v, "args")
        return v

    @model_validator(mode="after")
    def _check_edit(self) -> Invocation:
        op = self.args.get("op")
        if self.task in EDIT_TASKS:
            if op is not None and op not in EDIT_OPS:
                raise ValueError(f"edit op {_brief(op)} is unknown; use one of {', '.join(EDIT_OPS)}")
        return self

    @property
    def op(self) -> str | None:
        """The edit op for edit tasks (``remove``...), else None."""
        op = self.args.get("op")
        return op if isinstance(op, str) else None

    @property
    def references(self) -> list[str]:
        """Invocation ids this one needs to run after: explicit and implied by refs."""
        refs = list(self.depends_on)
        refs += [i for i in self.inputs if is_invocation_id(i)]
        if self.region is not None and self.region.ref and is_invocation_id(self.region.ref):
            refs.append(self.region.ref)
        return list(dict.fromkeys(refs))

    @property
    def label(self) -> str:
        """``edit_image.remove`` style task label used in messages."""
        return f"{self.task}.{self.op}" if self.op else self.task


def _check_json_safe(value: Any, where: str, depth: int = 0) -> None:
    """Args must survive any checkpointer: JSON scalars, lists and string-keyed dicts only."""
    if depth > 8:
        raise ValueError(f"{where} nests too deeply")
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} holds a non-finite number")
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_json_safe(item, where, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} keys must be strings")
            _check_json_safe(item, where, depth + 1)
        return
    raise ValueError(f"{where} holds a {type(value).__name__}; only JSON values are allowed")
