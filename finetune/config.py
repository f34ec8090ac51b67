"""Training settings as dataclasses, read from JSON or YAML, so a run is one file plus its overrides.

Every stage's config extends ``TrainConfig`` (the loop: steps, batch, optimiser, precision,
checkpoints, logging); the mixins add what several stages share (LoRA, how prompts are rendered).
Unknown keys are errors, not silently ignored: a typo in a config must not train the wrong thing.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vitron_agent.errors import BadInputError

__all__ = ["TrainConfig", "LoraOptions", "PromptOptions", "load_config", "config_from_dict", "parse_overrides"]

C = TypeVar("C", bound="TrainConfig")


@dataclass
class TrainConfig:
    """The training loop's settings, shared by every stage.

    ``model``: the VITRON checkpoint folder to start from (``save_vitron``'s layout).
    ``output_dir``: gets ``checkpoints/step-N/`` (resumable state), ``log.csv``, ``tensorboard/``
    (when installed) and ``model/``, the final checkpoint (LoRA merged) that the next stage or
    ``VitronPlanner.from_pretrained`` loads.
    ``max_steps``: optimiser steps (each ``batch_size * grad_accum`` examples per process); the LR
    schedule spans them. ``save_every``: optimiser steps between checkpoints (0: only the last).
    ``resume``: continue from the newest checkpoint in ``output_dir`` when there is one.
    ``mixed_precision``: ``no``, ``fp16`` or ``bf16`` (accelerate's autocast; ``accelerate launch``
    flags override it). ``max_length``: longer examples are skipped, never cut (cutting media
    placeholders would break the model's inputs).
    """

    model: str = ""
    output_dir: str = "runs/stage"
    seed: int = 0
    max_steps: int = 1000
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 0
    schedule: str = "cosine"
    max_grad_norm: float = 1.0
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    save_every: int = 0
    keep_checkpoints: int = 2
    resume: bool = True
    max_length: int = 4096
    num_workers: int = 0
    progress: bool = True
    tensorboard: bool = True
    cpu: bool = False

    def __post_init__(self) -> None:
        if self.schedule not in ("cosine", "linear", "constant"):
            raise BadInputError(f"schedule must be cosine, linear or constant, got {self.schedule!r}")
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise BadInputError(f"mixed_precision must be no, fp16 or bf16, got {self.mixed_precision!r}")
        for name in ("max_steps", "batch_size", "grad_accum"):
            if getattr(self, name) < 1:
                raise BadInputError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass
class LoraOptions:
    """LoRA on the language model (``lora_r`` 0: the LM stays frozen). Adapters are merged into the
    saved ``model/`` checkpoint, so it loads without peft."""

    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class PromptOptions:
    """How training dialogues are rendered. ``system``: ``planner`` renders the system turn exactly as
    ``VitronPlanner`` does at inference (system prompt, media list, expert catalogue, grammar),
    ``short`` a one-line system turn, ``none`` no system turn. ``experts``: the catalogue shown with
    ``planner`` (expert names; empty: every built-in expert, as the default agent shows them)."""

    system: str = "planner"
    experts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.system not in ("planner", "short", "none"):
            raise BadInputError(f"system must be planner, short or none, got {self.system!r}")
        super().__post_init__()  # type: ignore[misc]  # the TrainConfig it is mixed into


def config_from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """``cls(**data)`` with unknown keys named (and the known ones listed)."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise BadInputError(f"{cls.__name__} has no setting {', '.join(map(repr, unknown))}; "
                            f"known: {', '.join(sorted(known))}")
    return cls(**data)


def load_config(cls: type[C], path: str | Path | None, overrides: dict[str, Any] | None = None) -> C:
    """Read ``path`` (``.json``, ``.yaml``/``.yml``) into ``cls``, then apply ``overrides``."""
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise BadInputError(f"config file {file} does not exist")
        text = file.read_text()
        if file.suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise BadInputError(f"{file} is YAML, which needs pyyaml (pip install pyyaml); or write JSON") from None
            data = yaml.safe_load(text) or {}
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadInputError(f"{file} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise BadInputError(f"{file} must hold a mapping of settings, got a {type(data).__name__}")
    return config_from_dict(cls, {**data, **(overrides or {})})


def parse_overrides(cls: type[TrainConfig], items: list[str]) -> dict[str, Any]:
    """``["max_steps=10", "lr=1e-3"]`` -> typed values (JSON for lists and dicts, else by field type)."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in hints:
            raise BadInputError(f"--set expects KEY=VALUE with a known key, got {item!r}")
        kind = hints[key]
        if kind is bool:
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise BadInputError(f"{key} must be true or false, got {raw!r}")
            out[key] = raw.lower() in ("true", "1", "yes")
        elif kind in (int, float, str):
            try:
                out[key] = kind(raw)
            except ValueError:
                raise BadInputError(f"{key} must be a {kind.__name__}, got {raw!r}") from None
        else:
            try:
                out[key] = json.loads(raw)
            except json.JSONDecodeError:
                raise BadInputError(f"{key} takes JSON (a list or mapping), got {raw!r}") from None
    return out
