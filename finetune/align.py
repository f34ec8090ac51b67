"""Stage 1, vision-language alignment: image-caption pairs train the projector; the vision tower and
the LM stay frozen (LLaVA's pre-training stage). Data: COCO captions and/or LLaVA-style caption
conversations (``data/readers.py``).

    python -m vitron_agent.finetune.align --config finetune/configs/align.yaml
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vitron_agent.errors import BadInputError

from .cli import stage_main
from .config import PromptOptions, TrainConfig

if TYPE_CHECKING:
    from .data.examples import Example
    from .trainer import Callback, TrainResult

__all__ = ["AlignConfig", "CONFIG", "examples", "run", "main"]


@dataclass
class AlignConfig(PromptOptions, TrainConfig):
    """``captions``: a COCO captions JSON; ``llava``: a LLaVA-style JSON of caption conversations;
    ``image_root``: where their image paths start (default: each file's folder). ``base_vision`` and
    ``base_text`` (a CLIP vision model and a causal LM, folders or cached hub ids) start a new VITRON
    model instead of ``model``; ``model_options`` are its ``VitronConfig`` fields (``num_signal_tokens``,
    ``expert_heads``...)."""

    captions: str = ""
    llava: str = ""
    image_root: str = ""
    base_vision: str = ""
    base_text: str = ""
    model_options: dict[str, Any] = field(default_factory=dict)
    system: str = "none"
    lr: float = 1e-3
    output_dir: str = "runs/align"


CONFIG = AlignConfig


def examples(config: AlignConfig, k: int) -> list[Example]:
    """Caption requests answered by the caption, and LLaVA conversations, rendered as the planner does."""
    from .data.builders import CAPTION_PROMPTS, caption_dialogue
    from .data.readers import read_coco_captions
    from .stage import conversations, render_examples

    rng = random.Random(config.seed)
    dialogues = []
    if config.captions:
        dialogues += [caption_dialogue(c, rng.choice(CAPTION_PROMPTS))
                      for c in read_coco_captions(config.captions, config.image_root or None)]
    dialogues += conversations(config.llava, config.image_root)
    if not dialogues:
        raise BadInputError("stage 1 needs captions (COCO captions JSON) or llava (LLaVA-style JSON)")
    return render_examples(dialogues, k, config)


def run(config: AlignConfig, callbacks: Sequence[Callback] = ()) -> TrainResult:
    from .objectives import LanguageObjective
    from .stage import load_start, run_stage, seed, train_only

    if config.base_vision or config.base_text:
        from vitron_agent.model.loading import from_base

        seed(config)
        model, processor = from_base(config.base_vision, config.base_text, **config.model_options)
        model.float().train()
    else:
        model, processor = load_start(config)
    train_only(model, ["projector"])
    data = examples(config, processor.num_signal_tokens)
    return run_stage(config, model, processor, LanguageObjective(model), data, callbacks)


def main(argv: Sequence[str] | None = None) -> int:
    return stage_main("align", argv)


if __name__ == "__main__":
    raise SystemExit(main())
