"""From pixels to LM-width tokens: the projector, video pooling and the region encoder."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers.activations import ACT2FN

__all__ = ["Projector", "RegionEncoder", "pool_video", "region_weights"]


class Projector(nn.Module):
    """(..., vision_hidden) -> (..., text_hidden): LLaVA-1.5's two-layer MLP."""

    def __init__(self, vision_hidden: int, text_hidden: int, act: str = "gelu") -> None:
        super().__init__()
        self.linear_1 = nn.Linear(vision_hidden, text_hidden)
        self.act = ACT2FN[act]
        self.linear_2 = nn.Linear(text_hidden, text_hidden)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(features)))


def pool_video(patches: torch.Tensor) -> torch.Tensor:
    """(n, T, P, D) per-frame patch features -> (n, P + T, D): each patch averaged over time, then each
    frame averaged over space (Video-ChatGPT's pooling), so a video costs P + T tokens, not T * P."""
    return torch.cat([patches.mean(dim=1), patches.mean(dim=2)], dim=1)


def region_weights(masks: torch.Tensor, grid: int) -> torch.Tensor:
    """(R, S, S) masks in the processed-image frame -> (R, grid * grid) pooling weights that sum to 1.

    Each patch is weighted by the share of its area the mask covers; an empty mask pools uniformly.
    """
    cover = F.adaptive_avg_pool2d(masks.float().unsqueeze(1), grid).flatten(1)
    total = cover.sum(dim=1, keepdim=True)
    uniform = torch.full_like(cover, 1.0 / cover.shape[1])
    return torch.where(total > 0, cover / total.clamp_min(1e-6), uniform)


class RegionEncoder(nn.Module):
    """A region token: vision features pooled under the region's mask (through the shared projector)
    plus an embedding of its box ``(x1, y1, x2, y2)`` in [0, 1] of the medium."""

    def __init__(self, text_hidden: int) -> None:
        super().__init__()
        self.box = nn.Sequential(nn.Linear(4, text_hidden), nn.GELU(), nn.Linear(text_hidden, text_hidden))

    def forward(self, pooled: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """``pooled``: (R, text_hidden) projected features; ``boxes``: (R, 4) -> (R, text_hidden)."""
        return pooled + self.box(boxes.to(pooled.dtype))
