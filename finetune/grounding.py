"""Stage 4, fine-grained spatio-temporal grounding instruction tuning: boxes as text for referring
expressions in images (and the phrase for a drawn box), per-frame boxes and time spans for objects in
videos, and grounding-aware questions; LoRA on the LM, projector and region encoder trained. Boxes are
written in the protocol's region text form.

    python -m vitron_agent.finetune.grounding --config finetune/configs/grounding.yaml
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vitron_agent.errors import BadInputError

from .cli import stage_main
from .config import LoraOptions, PromptOptions, TrainConfig

if TYPE_CHECKING:
    from .data.examples import Example
    from .trainer import Callback, TrainResult

__all__ = ["GroundingConfig", "CONFIG", "examples", "run", "main"]


@dataclass
class GroundingConfig(LoraOptions, PromptOptions, TrainConfig):
    """``referring``: RefCOCO-style boxes; ``videos``: frame folders with ``boxes.json``; ``llava``:
    grounding-aware conversations (their ``bbox`` becomes a drawn region); ``train_parts``: trained
    besides the LoRA adapters."""

    referring: str = ""
    videos: str = ""
    llava: str = ""
    image_root: str = ""
    train_parts: list[str] = field(default_factory=lambda: ["projector", "region_encoder"])
    output_dir: str = "runs/grounding"


CONFIG = GroundingConfig


def examples(config: GroundingConfig, k: int, video_frames: int) -> list[Example]:
    from .data.builders import referring_dialogues, track_dialogues
    from .data.readers import read_referring, read_video_boxes
    from .stage import conversations, render_examples

    rng = random.Random(config.seed)
    dialogues = []
    if config.referring:
        dialogues += referring_dialogues(read_referring(config.referring, config.image_root or None), rng)
    if config.videos:
        dialogues += track_dialogues(read_video_boxes(config.videos), video_frames, rng)
    dialogues += conversations(config.llava, config.image_root)
    if not dialogues:
        raise BadInputError("stage 4 needs referring (RefCOCO-style JSON), videos (frame folders) or llava data")
    return render_examples(dialogues, k, config)


def run(config: GroundingConfig, callbacks: Sequence[Callback] = ()) -> TrainResult:
    from .objectives import LanguageObjective
    from .stage import lora_model, run_stage

    model, processor = lora_model(config, config.train_parts)
    data = examples(config, processor.num_signal_tokens, processor.video_frames)
    return run_stage(config, model, processor, LanguageObjective(model), data, callbacks)


def main(argv: Sequence[str] | None = None) -> int:
    return stage_main("grounding", argv)


if __name__ == "__main__":
    raise SystemExit(main())
