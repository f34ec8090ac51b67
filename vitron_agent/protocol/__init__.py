"""The invocation protocol: the pydantic types and their LLM text form."""

from .invocation import (
    AUTO_MODULE,
    EDIT_OPS,
    MODULE_LETTERS,
    TASKS,
    EditOp,
    Invocation,
    Point,
    Region,
    Task,
    is_invocation_id,
    is_media_id,
)
from .text_form import (
    ParsedPlan,
    Sizes,
    box_from_text,
    box_to_text,
    parse,
    region_from_text,
    region_to_text,
    render,
    render_invocation,
)

__all__ = [
    "AUTO_MODULE",
    "EDIT_OPS",
    "MODULE_LETTERS",
    "TASKS",
    "EditOp",
    "Invocation",
    "Point",
    "Region",
    "Task",
    "is_invocation_id",
    "is_media_id",
    "ParsedPlan",
    "Sizes",
    "box_from_text",
    "box_to_text",
    "parse",
    "region_from_text",
    "region_to_text",
    "render",
    "render_invocation",
]
