"""The signal heads: hidden states at the signal tokens -> task-specific and task-invariant features ->
each expert's conditioning space.

The split follows the paper's cross-task synergy (``v = [v_p; v_s]``): fine-tuning trains a
discriminator to fail at telling the task from ``v_s`` (task-invariant) while the experts' losses
use both halves.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SignalHeads", "ExpertHead"]


class SignalHeads(nn.Module):
    """(..., k, hidden) LM states -> (specific, invariant), each (..., k, signal_dim)."""

    def __init__(self, hidden: int, signal_dim: int) -> None:
        super().__init__()
        self.specific = nn.Sequential(nn.Linear(hidden, signal_dim), nn.GELU(), nn.Linear(signal_dim, signal_dim))
        self.invariant = nn.Sequential(nn.Linear(hidden, signal_dim), nn.GELU(), nn.Linear(signal_dim, signal_dim))

    def forward(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.specific(states), self.invariant(states)


class ExpertHead(nn.Module):
    """(..., k, 2 * signal_dim) features -> (..., tokens, width) in one expert's conditioning space.

    ``tokens`` learned queries attend to the k signal features (NExT-GPT's output projector, in
    small), so any k maps onto any token count: 77 for CLIP text embeddings, k for SAM's sparse prompts.
    """

    def __init__(self, features: int, tokens: int, width: int, inner: int, heads: int) -> None:
        super().__init__()
        self.read = nn.Linear(features, inner)
        self.queries = nn.Parameter(torch.zeros(tokens, inner))
        self.attend = nn.MultiheadAttention(inner, heads, batch_first=True)
        self.norm = nn.LayerNorm(inner)
        self.write = nn.Linear(inner, width)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        lead = features.shape[:-2]
        keys = self.read(features.reshape(-1, *features.shape[-2:]))
        queries = self.queries.unsqueeze(0).expand(keys.shape[0], -1, -1)
        attended, _ = self.attend(queries, keys, keys, need_weights=False)
        out = self.write(self.norm(attended + queries))
        return out.reshape(*lead, *out.shape[-2:])
