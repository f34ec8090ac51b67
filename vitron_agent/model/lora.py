"""LoRA on the VITRON model's language model (peft), for fine-tuning on small GPUs.

``add_lora`` freezes the LM and injects adapters into its attention projections; the projector,
region encoder and heads stay trainable (they are new and small). ``merge_lora`` folds the adapters
back in, so ``save_pretrained`` writes a plain checkpoint that loads without peft.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import UnavailableError

if TYPE_CHECKING:
    from .modeling import VitronModel

__all__ = ["add_lora", "merge_lora", "LORA_TARGETS"]

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
"""Attention projections of Llama/Qwen2/Mistral-style LMs."""


def add_lora(model: VitronModel, r: int = 8, alpha: int = 16, dropout: float = 0.05,
             targets: Sequence[str] = LORA_TARGETS, train_vision: bool = False) -> VitronModel:
    """Wrap ``model.language_model`` with LoRA adapters (in place); returns ``model``."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise UnavailableError('LoRA needs peft. Install it with: pip install "vitron-agent[model]"') from None
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(targets), bias="none")
    model.language_model = get_peft_model(model.language_model, config)
    model.vision_tower.requires_grad_(train_vision)
    return model


def merge_lora(model: VitronModel) -> VitronModel:
    """Fold the adapters into the LM's weights and drop peft's wrapper (in place); returns ``model``."""
    if hasattr(model.language_model, "merge_and_unload"):
        model.language_model = model.language_model.merge_and_unload()
    return model
