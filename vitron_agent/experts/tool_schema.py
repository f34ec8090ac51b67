"""Tool-call schemas generated from expert specs, shared by chat-model planners and BaseTools, and the one way a
tool call becomes an ``Invocation``.

Each schema declares only what its expert accepts, typed, so a model can call it right from the description
alone: the tasks; the edit ops as an enum (an expert with one op needs none); ``new``, ``color``, ``style``,
``direction``/``distance`` for the ops that read them; ``phrases``/``boxes`` for box-grounded generation; the
region in the forms the expert takes (a box ``[x1, y1, x2, y2]``, ``{"box": ...}``, clicks, an earlier output id
such as ``"o2"``) and, on video, the ``frame`` it is drawn on; other settings in ``args``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema, create_model

from ..protocol.inputs import brief, first_error
from ..protocol.invocation import Invocation, Point, Region
from ..protocol.tasks import task_spec
from .base import ExpertSpec

__all__ = ["args_schema", "describe_expert", "invocation_from_tool", "region_from_tool"]

_OP_FIELDS: dict[str, tuple[str, Any, str]] = {
    "new": ("new", str, "What to paint or add, e.g. 'a red ball' (replace, add)."),
    "color": ("color", str, "The new colour: a name ('red', 'light blue') or #rrggbb (recolor)."),
    "style": ("style", str, "The style, e.g. 'watercolor painting', 'pencil sketch' (restyle)."),
    "direction": ("direction", Literal["left", "right", "up", "down"], "Where to move the object (move)."),
    "distance": ("distance", Annotated[float, Field(gt=0, lt=1)], "How far, as a fraction of the image side "
                 "(move; default 0.2)."),
}
_NEEDS = {"replace": ("new",), "add": ("new",), "recolor": ("color",), "restyle": ("style",),
          "move": ("direction", "distance")}
_COMMAND = {"answer": "The question, in the user's words.", "ground": "The target phrase, e.g. 'the red car'.",
            "segment": "The target phrase, e.g. 'the cup' (optional with a region).",
            "track": "The target phrase, e.g. 'the dog' (optional with a region).",
            "generate_image": "The prompt: subject, style and setting.", "generate_video": "The prompt, with the motion.",
            "animate_image": "How it should move (optional).", "edit_image": "The object to edit, e.g. 'the cup'.",
            "edit_video": "The object to edit, e.g. 'the car'."}


def _region_value(value: Any) -> Any:
    """A tool call's region in any of its forms, as a ``Region`` (or None); a clear ``ValueError`` otherwise."""
    if value is None or isinstance(value, Region):
        return value
    try:
        if isinstance(value, str):
            return Region(ref=value.strip())
        if isinstance(value, dict):
            return Region(**value)
        if isinstance(value, (list, tuple)) and value and all(isinstance(p, (dict, list, tuple)) for p in value):
            return Region(points=tuple(Point(**p) if isinstance(p, dict) else Point(x=p[0], y=p[1]) for p in value))
        if isinstance(value, (list, tuple)):
            if len(value) != 4:
                raise ValueError(f"a box is 4 numbers [x1, y1, x2, y2] in pixels, got {len(value)}")
            return Region(box=tuple(value))
    except ValidationError as exc:
        raise ValueError(first_error(exc)) from None
    raise ValueError("a region is a box [x1, y1, x2, y2], clicks or an earlier output id such as 'o2'; "
                     f"got {brief(value)}")


def _region_json(kinds: tuple[str, ...]) -> dict[str, Any]:
    """The JSON schema a model sees for a region: the forms this expert takes."""
    box = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
           "description": "[x1, y1, x2, y2] in pixels"}
    point = {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"},
                                              "positive": {"type": "boolean"}}, "required": ["x", "y"]}
    forms: list[dict[str, Any]] = [box] if "box" in kinds else []
    forms.append({"type": "string", "description": "an earlier output id, e.g. 'o2'"})
    shapes = {"ref": {"type": "string"}, **({"box": box} if "box" in kinds else {}),
              **({"points": {"type": "array", "items": point}} if "points" in kinds else {})}
    forms.append({"type": "object", "properties": shapes, "additionalProperties": False})
    return {"anyOf": [*forms, {"type": "null"}]}


def describe_expert(spec: ExpertSpec) -> str:
    """One paragraph for a model: what it does, on what, with which region, and edit ops."""
    parts = [spec.description.rstrip(".") + "."]
    parts.append(f"Tasks: {', '.join(spec.tasks)}. Input: {', '.join(spec.input_kinds)}.")
    if spec.region_kinds:
        need = "required" if spec.region_required else "optional"
        parts.append(f"Region ({need}): {_region_forms(spec)}.")
    if spec.edit_ops:
        parts.append(f"Edit ops (op): {', '.join(spec.edit_ops)}.")
    if spec.vocabulary is not None:
        parts.append(f"Only understands: {', '.join(spec.vocabulary)}.")
    return " ".join(parts)


def _region_forms(spec: ExpertSpec) -> str:
    forms = []
    if "box" in spec.region_kinds:
        forms.append("a box [x1, y1, x2, y2] in pixels")
    if "points" in spec.region_kinds:
        forms.append('clicks {"points": [{"x": .., "y": .., "positive": true}]}')
    forms.append("an earlier output id such as 'o2' (a " + ("mask or boxes" if "mask" in spec.region_kinds
                                                            else "boxes") + " output)")
    return ", or ".join(forms)


def args_schema(spec: ExpertSpec) -> type[BaseModel]:
    """A pydantic model of the arguments a tool call to this expert takes (unknown keys are refused)."""
    task_type: Any = Literal[tuple(spec.tasks)]  # type: ignore[valid-type]
    command = " ".join(dict.fromkeys(_COMMAND[t] for t in spec.tasks))
    fields: dict[str, Any] = {
        "task": (task_type, Field(default=spec.tasks[0], description="What to do.")),
        "command": (str, Field(default="", description=command)),
        "inputs": (list[str], Field(default_factory=list, description="Media ids to act on, e.g. ['u0']; empty = the "
                                                                       "latest fitting one.")),
    }
    if spec.edit_ops:
        op_type: Any = Literal[tuple(spec.edit_ops)]  # type: ignore[valid-type]
        single = len(spec.edit_ops) == 1
        fields["op"] = (op_type | None, Field(default=spec.edit_ops[0] if single else None,
                                              description="The edit." + ("" if single else " Required.")))
        for name in dict.fromkeys(n for op in spec.edit_ops for n in _NEEDS.get(op, ())):
            key, kind, text = _OP_FIELDS[name]
            fields[key] = (kind | None, Field(default=None, description=text))
    if "boxes" in spec.reads_args:
        fields["phrases"] = (list[str] | None, Field(default=None, description="What to place, one phrase per box."))
        fields["boxes"] = (list[Annotated[list[float], Field(min_length=4, max_length=4)]] | None,
                           Field(default=None, description="Where: one [x1, y1, x2, y2] per phrase, pixels of the "
                                                           "output image."))
    if spec.region_kinds:
        region_type = Annotated[Any, BeforeValidator(_region_value), WithJsonSchema(_region_json(spec.region_kinds))]
        fields["region"] = (region_type, Field(default=None, description=f"Where: {_region_forms(spec)}."))
        if "video" in spec.input_kinds or any(task_spec(t).keyframe for t in spec.tasks):
            fields["frame"] = (Annotated[int, Field(ge=0)] | None,
                               Field(default=None, description="On a video: the frame the region is drawn on."))
    fields["args"] = (dict[str, Any], Field(default_factory=dict, description="Other settings this expert reads, "
                                                                              "e.g. steps, seed, negative."))
    model = create_model(f"{spec.name.title().replace('_', '')}Args", __config__=ConfigDict(extra="forbid"), **fields)
    return model


def region_from_tool(value: Any, frame: int | None = None) -> Region | None:
    """A tool call's region (a box list, an output id, clicks, or ``{"box"|"points"|"ref": ...}``) as a
    ``Region``, on video ``frame`` when given."""
    region = _region_value(value)
    return region.model_copy(update={"frames": (frame, frame)}) if region is not None and frame is not None else region


def invocation_from_tool(spec: ExpertSpec, args: dict[str, Any], *, invocation_id: str = "",
                         signal: str | None = None) -> Invocation:
    """The invocation a tool call to ``spec``'s expert asks for; raises pydantic's ``ValidationError`` (or
    ``ValueError``) for arguments the schema or the protocol refuses."""
    given = args_schema(spec).model_validate(args)
    extras = dict(given.args)
    for key in ("op", *_OP_FIELDS, "phrases", "boxes"):
        value = getattr(given, key, None)
        if value is not None:
            extras[key] = value
    return Invocation(id=invocation_id, module=spec.name, task=given.task, command=given.command,
                      inputs=list(given.inputs), args=extras, signal=signal,
                      region=region_from_tool(getattr(given, "region", None), getattr(given, "frame", None)))
