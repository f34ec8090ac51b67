"""The command line of the stages: ``python -m vitron_agent.finetune.STAGE --config FILE [--set KEY=VALUE]``
and ``vitron-agent train STAGE --config FILE``; for several GPUs or nodes, put ``accelerate launch``
(with a config from ``finetune/configs/``) in front of the first form."""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from vitron_agent.errors import BadInputError, VitronError

if TYPE_CHECKING:
    from .trainer import TrainResult

__all__ = ["STAGES", "run_train", "summary", "stage_main", "add_train_arguments"]

STAGES = {
    "align": "stage 1: image-caption pairs train the projector (vision tower and LM frozen)",
    "invoke": "stage 2: invocation-oriented instruction tuning with LoRA, no-tool negatives included",
    "decoder_align": "stage 3: signal features through each expert's head, aligned with the expert's encoder",
    "grounding": "stage 4: boxes in images, per-frame boxes and time spans in videos, grounding-aware QA",
    "synergy": "stage 5: task-invariant features against a task discriminator (gradient reversal)",
}


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="the stage's settings, JSON or YAML")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one setting (repeatable), e.g. --set max_steps=10")


def run_train(stage: str, config_path: str, sets: Sequence[str] = ()) -> TrainResult:
    """Load ``stage``'s config from ``config_path`` with ``sets`` applied, and run it."""
    from .config import load_config, parse_overrides

    if stage not in STAGES:
        raise BadInputError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    module = importlib.import_module(f"vitron_agent.finetune.{stage}")
    config = load_config(module.CONFIG, config_path, parse_overrides(module.CONFIG, list(sets)))
    return module.run(config)


def summary(stage: str, result: TrainResult) -> str:
    """One line: steps, the loss at the start and end of this run, where the model went."""
    losses = [r["loss"] for r in result.history if not math.isnan(r.get("loss", math.nan))]
    span = f"loss {losses[0]:.4f} -> {losses[-1]:.4f}" if losses else "no steps logged"
    resumed = f", resumed from step {result.resumed_from}" if result.resumed_from else ""
    return f"{stage}: {result.steps} steps{resumed}, {span}; model saved to {result.model_dir}"


def stage_main(stage: str, argv: Sequence[str] | None = None) -> int:
    """``python -m vitron_agent.finetune.STAGE``: exit 0 done, 2 bad settings or data, 1 failure."""
    parser = argparse.ArgumentParser(prog=f"python -m vitron_agent.finetune.{stage}", description=STAGES[stage])
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        print(summary(stage, run_train(stage, args.config, args.set)))
    except BadInputError as exc:
        print(f"{stage}: {exc}", file=sys.stderr)
        return 2
    except VitronError as exc:
        print(f"{stage}: {exc}", file=sys.stderr)
        return 1
    return 0
