"""What every stage does around its own data and objective: load the starting checkpoint, choose what
trains, run the trainer, save the final model (LoRA merged) for the next stage and the planner.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vitron_agent.errors import BadInputError

from .config import LoraOptions, PromptOptions, TrainConfig

if TYPE_CHECKING:
    import torch

    from vitron_agent.model.modeling import VitronModel
    from vitron_agent.model.processor import VitronProcessor

    from .data.examples import Example
    from .trainer import Callback, TrainResult

__all__ = ["PARTS", "seed", "load_start", "train_only", "unfreeze", "apply_lora", "prompt_specs", "render_examples",
           "conversations", "lora_model", "run_stage", "save_final"]


def seed(config: TrainConfig) -> None:
    """Seed every RNG before anything random is built (LoRA adapters, the discriminator), so a run does
    not depend on what ran before it in the process."""
    from accelerate.utils import set_seed

    set_seed(config.seed)


def load_start(config: TrainConfig) -> tuple[VitronModel, VitronProcessor]:
    """The stage's starting checkpoint, in float32 and train mode; RNGs seeded."""
    from vitron_agent.model.loading import load_vitron

    seed(config)
    if not config.model:
        raise BadInputError("set model: the VITRON checkpoint folder this stage starts from (the previous stage's "
                            "output_dir/model, or build_tiny_vitron's folder for a smoke run)")
    model, processor = load_vitron(config.model)
    return model.float().train(), processor


PARTS = ("vision_tower", "projector", "region_encoder", "language_model", "signal_heads", "expert_heads",
         "embeddings")
"""The VITRON model's parts a stage can train; ``embeddings`` are the LM's token embeddings and output
layer (the rows of the added media, region and signal tokens start untrained)."""


def unfreeze(model: VitronModel, parts: Iterable[str]) -> None:
    """Make the named parts trainable (``projector``, ``signal_heads``...)."""
    for part in parts:
        if part not in PARTS:
            raise BadInputError(f"unknown model part {part!r}; parts: {', '.join(PARTS)}")
        if part == "embeddings":
            for layer in (model.get_input_embeddings(), model.get_output_embeddings()):
                if layer is not None:
                    layer.requires_grad_(True)
        else:
            getattr(model, part).requires_grad_(True)


def train_only(model: VitronModel, parts: Iterable[str]) -> None:
    """Freeze everything, then unfreeze the named parts."""
    model.requires_grad_(False)
    unfreeze(model, parts)


def apply_lora(model: VitronModel, options: LoraOptions) -> bool:
    """LoRA adapters on the LM when ``lora_r`` > 0 (the LM's own weights stay frozen); True if added."""
    if options.lora_r <= 0:
        return False
    from vitron_agent.model.lora import add_lora

    add_lora(model, r=options.lora_r, alpha=options.lora_alpha, dropout=options.lora_dropout,
             targets=options.lora_targets)
    return True


def prompt_specs(options: PromptOptions) -> dict[str, Any]:
    """The expert catalogue the system turn shows (only rendered with ``system="planner"``)."""
    from .data.planner_view import catalogue

    return catalogue(options.experts) if options.system == "planner" else {}


def render_examples(dialogues: Iterable[Any], k: int, options: PromptOptions) -> list[Example]:
    """Every request of every dialogue as a training example, prompts rendered as ``options`` say."""
    from .data.planner_view import dialogue_examples

    specs = prompt_specs(options)
    return [ex for d in dialogues for ex in dialogue_examples(d, k, specs, options.system)]


def conversations(path: str, root: str) -> list[Any]:
    """LLaVA-style conversations as dialogues (none when ``path`` is empty)."""
    from .data.builders import conversation_dialogue
    from .data.readers import read_llava

    return [conversation_dialogue(c) for c in read_llava(path, root or None)] if path else []


def lora_model(config: TrainConfig, parts: Iterable[str]) -> tuple[VitronModel, VitronProcessor]:
    """The starting model with LoRA adapters (when ``lora_r`` > 0) and ``parts`` trainable, all else frozen."""
    model, processor = load_start(config)
    train_only(model, [])
    apply_lora(model, config)  # type: ignore[arg-type]  # the stage configs mix in LoraOptions
    unfreeze(model, parts)
    return model, processor


def run_stage(config: TrainConfig, model: VitronModel, processor: VitronProcessor, objective: torch.nn.Module,
              examples: Sequence[Example], callbacks: Sequence[Callback] = (), tasks: Sequence[str] = (),
              param_groups: list[dict[str, Any]] | None = None) -> TrainResult:
    """Train ``objective`` on ``examples`` and save ``output_dir/model``."""
    from .batching import Collator, ExampleDataset
    from .trainer import Trainer

    if not any(p.requires_grad for p in objective.parameters()):
        raise BadInputError("this stage's settings leave nothing to train")
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    dataset = ExampleDataset(examples, processor, config.max_length)
    collate = Collator(processor.tokenizer.pad_token_id, processor.video_frames, tasks)
    trainer = Trainer(config, objective, dataset, collate, callbacks, param_groups)
    result = trainer.fit()
    result.model_dir = save_final(trainer, processor)
    return result


def save_final(trainer: Any, processor: VitronProcessor) -> Path:
    """Merge LoRA into the LM and write ``output_dir/model`` (a plain VITRON checkpoint) on the main
    process. DDP and DeepSpeed ZeRO-2 keep whole parameters on every process; under FSDP they are
    gathered first (``summon_full_params``; untested here, there is no GPU)."""
    import contextlib
    import copy

    from vitron_agent.model.loading import save_vitron
    from vitron_agent.model.lora import merge_lora

    acc = trainer.accelerator
    folder = Path(trainer.config.output_dir) / "model"
    acc.wait_for_everyone()
    gather: Any = contextlib.nullcontext()
    if acc.distributed_type.value == "FSDP":
        from torch.distributed.fsdp import FullyShardedDataParallel

        gather = FullyShardedDataParallel.summon_full_params(trainer.model, writeback=False, rank0_only=True)
    with gather:
        if acc.is_main_process:
            model = acc.unwrap_model(trainer.model).model
            if acc.distributed_type.value == "FSDP":
                model = copy.deepcopy(model)
            if model.is_activation_checkpointing:
                model.gradient_checkpointing_disable()
            save_vitron(merge_lora(model), processor, folder)
    acc.wait_for_everyone()
    return folder
