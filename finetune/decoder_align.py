"""Stage 3, embedding-oriented decoder alignment: the signal tokens' features go through each expert's
projection head and are pulled (mean squared distance) onto that expert's own encoding of the target:
the diffusion text encoder's ``prompt_embeds`` of a caption for the generators, SAM's prompt-encoder
embedding of the true box for SAM; the signal-token NLL is kept in the loss (NExT-GPT's recipe).
Trains the signal and expert heads (and LoRA when ``lora_r`` > 0).

    python -m vitron_agent.finetune.decoder_align --config finetune/configs/decoder_align.yaml
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vitron_agent.errors import BadInputError

from .cli import stage_main
from .config import LoraOptions, PromptOptions, TrainConfig

if TYPE_CHECKING:
    from vitron_agent.model.modeling import VitronModel

    from .data.examples import Example
    from .trainer import Callback, TrainResult

__all__ = ["HEAD_TASKS", "DecoderAlignConfig", "CONFIG", "signal_examples", "aligned_model", "run", "main"]

HEAD_TASKS = {"stable_diffusion": "generate_image", "gligen": "generate_image", "text_to_video": "generate_video",
              "sam": "segment"}
"""The task an expert head's signals serve, which the generated requests ask for."""


@dataclass
class DecoderAlignConfig(LoraOptions, PromptOptions, TrainConfig):
    """``encoders``: head name -> ``{"kind": "clip_text", "path": <diffusers pipeline folder>}`` or
    ``{"kind": "sam_prompt", "path": <SAM weights>}``. ``clip_text`` heads are trained on ``captions``
    (COCO captions JSON: generation requests for each caption), ``sam_prompt`` heads on ``referring``
    (RefCOCO-style boxes: "segment <phrase>" with the box left to the signal). ``head_tasks``: head ->
    task, for heads not in ``HEAD_TASKS``. ``nll_weight``: weight of the answer's NLL."""

    captions: str = ""
    referring: str = ""
    image_root: str = ""
    encoders: dict[str, dict[str, str]] = field(default_factory=dict)
    head_tasks: dict[str, str] = field(default_factory=dict)
    nll_weight: float = 1.0
    lora_r: int = 0
    output_dir: str = "runs/decoder_align"


CONFIG = DecoderAlignConfig


def signal_examples(config: DecoderAlignConfig, k: int, heads: dict[str, list[int]]) -> list[Example]:
    """Per caption and text head a generation request, per referring phrase and box head a segmentation
    request; each answer's signal run is paired with the expert's encoding of its target."""
    from .data.builders import scenes_from_referring
    from .data.examples import SignalTarget
    from .data.planner_view import dialogue_examples
    from .data.readers import read_coco_captions, read_referring
    from .data.recipes import Context, generation_dialogue, segment_dialogue
    from .stage import prompt_specs
    from .targets import attach_targets, build_encoder

    tasks = {**HEAD_TASKS, **config.head_tasks}
    unknown = [h for h in config.encoders if h not in heads or h not in tasks]
    if not config.encoders or unknown:
        raise BadInputError(f"encoders must name heads of this model with a known task; heads: {', '.join(heads)}"
                            + (f"; not usable: {unknown}" if unknown else ""))
    encoders = {head: build_encoder(spec) for head, spec in config.encoders.items()}
    ctx = Context(random.Random(config.seed), [], [], tuple(encoders))
    specs = prompt_specs(config)
    out: list[Example] = []

    def add(dialogue: Any, target: SignalTarget) -> None:
        (example,) = dialogue_examples(dialogue, k, specs, config.system)
        example.signals = [target]
        out.append(example)

    text_heads = [h for h, s in config.encoders.items() if s.get("kind") == "clip_text"]
    box_heads = [h for h, s in config.encoders.items() if s.get("kind") == "sam_prompt"]
    if text_heads:
        if not config.captions:
            raise BadInputError(f"{', '.join(text_heads)} align on captions: set captions (COCO captions JSON)")
        for caption in read_coco_captions(config.captions, config.image_root or None):
            for head in text_heads:
                add(generation_dialogue(ctx, tasks[head], caption.text, head),
                    SignalTarget(head, tasks[head], text=caption.text))
    if box_heads:
        if not config.referring:
            raise BadInputError(f"{', '.join(box_heads)} align on boxes: set referring (RefCOCO-style JSON)")
        for scene in scenes_from_referring(read_referring(config.referring, config.image_root or None)):
            for obj in scene.objects:
                for head in box_heads:
                    add(segment_dialogue(ctx, scene, obj, head),
                        SignalTarget(head, tasks[head], box=obj.box, size=scene.medium.size))
    attach_targets([t for ex in out for t in ex.signals], encoders, heads)
    return out


def aligned_model(config: DecoderAlignConfig) -> tuple[VitronModel, Any]:
    """The starting model with the signal and expert heads (and LoRA, if set) trainable."""
    from .stage import lora_model

    return lora_model(config, ["signal_heads", "expert_heads"])


def run(config: DecoderAlignConfig, callbacks: Sequence[Callback] = ()) -> TrainResult:
    from .objectives import AlignmentObjective
    from .stage import run_stage

    model, processor = aligned_model(config)
    data = signal_examples(config, processor.num_signal_tokens, model.config.expert_heads)
    objective = AlignmentObjective(model, list(config.encoders), config.nll_weight)
    return run_stage(config, model, processor, objective, data, callbacks)


def main(argv: Sequence[str] | None = None) -> int:
    return stage_main("decoder_align", argv)


if __name__ == "__main__":
    raise SystemExit(main())
