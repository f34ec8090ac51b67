"""Tool-call argument schemas generated from expert specs, shared by chat-model planners and BaseTools."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from ..protocol.invocation import Region
from .base import ExpertSpec

__all__ = ["args_schema", "describe_expert"]


def describe_expert(spec: ExpertSpec) -> str:
    """One paragraph for a model: what it does, on what, with which region, and edit ops."""
    parts = [spec.description.rstrip(".") + "."]
    parts.append(f"Tasks: {', '.join(spec.tasks)}. Input: {', '.join(spec.input_kinds)}.")
    if spec.region_kinds:
        need = "required" if spec.region_required else "optional"
        parts.append(f"Region ({need}): {', '.join(spec.region_kinds)} in pixels, or a ref to an earlier mask/boxes output.")
    if spec.edit_ops:
        parts.append(f"Edit ops (args.op): {', '.join(spec.edit_ops)}.")
    if spec.vocabulary is not None:
        parts.append(f"Only understands: {', '.join(spec.vocabulary)}.")
    return " ".join(parts)


def args_schema(spec: ExpertSpec) -> type[BaseModel]:
    """A pydantic model of the arguments a tool call to this expert takes."""
    task_type: Any = Literal[tuple(spec.tasks)]  # type: ignore[valid-type]
    fields: dict[str, Any] = {
        "task": (task_type, Field(default=spec.tasks[0], description="What to do.")),
        "command": (str, Field(default="", description="Target phrase, prompt or edit instruction in words.")),
        "inputs": (list[str], Field(default_factory=list, description="Media ids to act on, e.g. ['u0']; empty = latest.")),
        "args": (dict[str, Any], Field(default_factory=dict, description="Extras, e.g. {'op': 'replace', 'new': 'a dog'}.")),
    }
    if spec.region_kinds:
        fields["region"] = (Region | None, Field(default=None, description="Box [x1,y1,x2,y2] px, points, or ref 'o3'."))
    return create_model(f"{spec.name.title().replace('_', '')}Args", **fields)
