"""Stage 2, invocation-oriented instruction tuning: generated dialogues whose answers are invocations in
the shared tag form (module, instruction, region, input, args, signal tokens), no-tool negatives among
them, optionally mixed with LLaVA-style conversations; LoRA on the LM, the projector, region encoder
and signal heads trained too. The prompts are rendered exactly as ``VitronPlanner`` renders them, so
the saved ``output_dir/model`` plans with ``VitronPlanner.from_pretrained``.

    python -m vitron_agent.finetune.invoke --config finetune/configs/invoke.yaml
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vitron_agent.errors import BadInputError

from .cli import stage_main
from .config import LoraOptions, PromptOptions, TrainConfig

if TYPE_CHECKING:
    from .data.dialogues import Scene
    from .data.examples import Example
    from .trainer import Callback, TrainResult

__all__ = ["InvokeConfig", "CONFIG", "scenes", "examples", "run", "main"]

_VIDEO_RECIPES = ("track_", "edit_video_")


@dataclass
class InvokeConfig(LoraOptions, PromptOptions, TrainConfig):
    """``dialogues``: how many to generate (every recipe at least once when enough), from
    ``dialogue_seed``; ``recipes``: restrict to these (empty: all). Media and objects come from
    ``referring`` (RefCOCO-style boxes: real objects), ``images`` (a folder; objects invented) and
    ``videos`` (frame folders with ``boxes.json``); without videos the video recipes are left out.
    ``llava``: conversations mixed in; ``signal_modules``: experts whose invocations carry signal tokens
    (they need a head in the model; empty: every expert the model has a head for); ``train_parts``: model parts trained besides the LoRA adapters."""

    dialogues: int = 2000
    dialogue_seed: int = 0
    recipes: list[str] = field(default_factory=list)
    referring: str = ""
    images: str = ""
    videos: str = ""
    llava: str = ""
    image_root: str = ""
    signal_modules: list[str] = field(default_factory=list)
    train_parts: list[str] = field(default_factory=lambda: ["projector", "region_encoder", "signal_heads"])
    output_dir: str = "runs/invoke"


CONFIG = InvokeConfig


def scenes(config: InvokeConfig) -> list[Scene]:
    """Images and videos the dialogues are about."""
    from .data.builders import scenes_from_referring, scenes_from_tracks
    from .data.dialogues import Medium, Scene
    from .data.examples import frame_files
    from .data.readers import image_size, read_referring, read_video_boxes

    found: list[Scene] = []
    if config.referring:
        found += scenes_from_referring(read_referring(config.referring, config.image_root or None))
    if config.images:
        for path in frame_files(config.images):  # any folder of image files
            width, height = image_size(path)
            found.append(Scene(Medium("u0", "image", width, height, path=path)))
    if config.videos:
        found += scenes_from_tracks(read_video_boxes(config.videos))
    if not any(s.medium.kind == "image" for s in found):
        raise BadInputError("stage 2 needs images: set referring (RefCOCO-style JSON) or images (a folder)")
    return found


def examples(config: InvokeConfig, k: int, heads: Sequence[str]) -> list[Example]:
    from .data.generator import generate_dialogues
    from .data.recipes import RECIPES
    from .stage import conversations, render_examples

    signal_modules = config.signal_modules or list(heads)
    missing = [m for m in signal_modules if m not in heads]
    if missing:
        raise BadInputError(f"signal_modules {missing} have no head in this model (heads: {', '.join(heads)})")
    pool = scenes(config)
    names = config.recipes or list(RECIPES)
    if not any(s.medium.kind == "video" for s in pool):
        names = [n for n in names if not n.startswith(_VIDEO_RECIPES)]
    dialogues = generate_dialogues(config.dialogues, config.dialogue_seed, pool, signal_modules, names)
    return render_examples([*dialogues, *conversations(config.llava, config.image_root)], k, config)


def run(config: InvokeConfig, callbacks: Sequence[Callback] = ()) -> TrainResult:
    from .objectives import LanguageObjective
    from .stage import lora_model, run_stage

    model, processor = lora_model(config, config.train_parts)
    data = examples(config, processor.num_signal_tokens, list(model.expert_heads))
    return run_stage(config, model, processor, LanguageObjective(model), data, callbacks)


def main(argv: Sequence[str] | None = None) -> int:
    return stage_main("invoke", argv)


if __name__ == "__main__":
    raise SystemExit(main())
