"""The task table: what each task acts on, what it makes, and how the graph treats it.

One row per task. Validation, scheduling, storing results and the planners read these facts here
and nowhere else; a new task is one new row (and its name in ``invocation.Task``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .invocation import EDIT_TASKS, TASKS

__all__ = ["TaskSpec", "TASK_TABLE", "task_spec", "OBJECT_EDITS", "GROUNDED_GENERATION_ARGS"]

MediumKind = Literal["image", "video"]
OutputKind = Literal["text", "boxes", "mask", "image", "video"]

OBJECT_EDITS = ("remove", "replace", "recolor", "move")
"""Edits of one object: given a box, the object in it is segmented first so only the object changes."""

GROUNDED_GENERATION_ARGS = ("phrases", "boxes")
"""Args that place phrases in boxes: only an expert that declares it reads them may get them."""


@dataclass(frozen=True)
class TaskSpec:
    """Facts of one task.

    ``input_kind``: the medium it acts on when the plan names none (None: it starts from text).
    ``primary_output``: the output later steps refer to as ``c1`` / ``o3``.
    ``region_output``: what that output is as a region of a later step (``box``, ``mask``) or None.
    ``destructive``: changes the user's pixels (human-in-the-loop asks first).
    ``names_target``: the command names an object (``the cat``), which grounding can locate.
    ``keyframe``: an image expert may run it on one frame of a video (the region's frame, else 0).
    ``routing_args``: args only experts declaring them in ``ExpertSpec.reads_args`` may receive.
    ``acts_on_region``: a region the user drew this turn is what it acts on (or asks about).
    """

    name: str
    input_kind: MediumKind | None
    primary_output: OutputKind
    region_output: Literal["box", "mask"] | None = None
    destructive: bool = False
    names_target: bool = False
    keyframe: bool = False
    routing_args: tuple[str, ...] = ()
    acts_on_region: bool = False

    @property
    def from_text(self) -> bool:
        """Starts from words alone (generation): never needs a region or an input medium."""
        return self.input_kind is None

    @property
    def is_edit(self) -> bool:
        return self.name in EDIT_TASKS


TASK_TABLE: dict[str, TaskSpec] = {row.name: row for row in (
    TaskSpec("answer", "image", "text", keyframe=True, acts_on_region=True),
    TaskSpec("ground", "image", "boxes", region_output="box", names_target=True, keyframe=True),
    TaskSpec("segment", "image", "mask", region_output="mask", names_target=True, keyframe=True, acts_on_region=True),
    TaskSpec("track", "video", "mask", region_output="mask", names_target=True, acts_on_region=True),
    TaskSpec("generate_image", None, "image", routing_args=GROUNDED_GENERATION_ARGS),
    TaskSpec("edit_image", "image", "image", destructive=True, names_target=True, acts_on_region=True),
    TaskSpec("generate_video", None, "video"),
    TaskSpec("animate_image", "image", "video"),
    TaskSpec("edit_video", "video", "video", destructive=True, names_target=True, acts_on_region=True),
)}
assert set(TASK_TABLE) == set(TASKS), "every task of the protocol has one row"


def task_spec(task: str) -> TaskSpec:
    """The row of ``task`` (a name from ``TASKS``)."""
    return TASK_TABLE[task]
