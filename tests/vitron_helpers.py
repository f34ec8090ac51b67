"""Shared by the VITRON model and planner tests: tiny checkpoints and decoding constrained to a text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import LogitsProcessor

from vitron_agent.model.tokens import END
from vitron_agent.planners.vitron import VitronPlanner

from .tiny_models import tiny_sam


class ForceText(LogitsProcessor):
    """Constrains decoding to given token sequences, the n-th for the n-th generation (the last one
    repeats): a random tiny model then writes exactly that text, while everything else (generation,
    hidden states at signal tokens, heads) runs for real."""

    def __init__(self, texts: list[list[int]]) -> None:
        self.texts, self.calls = texts, 0

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        step = input_ids.shape[1]  # generating from embeddings: input_ids holds the new tokens only
        if step == 0:
            self.calls += 1
        ids = self.texts[min(self.calls, len(self.texts)) - 1]
        allowed = ids[min(step, len(ids) - 1)]
        forced = torch.full_like(scores, float("-inf"))
        forced[:, allowed] = scores[:, allowed]
        return forced


def forcing(planner: VitronPlanner, *texts: str) -> VitronPlanner:
    """Make ``planner`` write ``texts[n]`` (then the end token) at its n-th generation, the last text after."""
    tokenize = planner.processor.tokenizer
    planner.constraint = ForceText([tokenize(t + END, add_special_tokens=False)["input_ids"] for t in texts])
    return planner


def noise_image(seed: int, height: int = 48, width: int = 64) -> np.ndarray:
    return (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)


def tiny_sam_dir(folder: Path) -> Path:
    return tiny_sam(folder)
