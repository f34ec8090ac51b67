"""What each stage minimises, as modules the trainer (and accelerate's wrappers) call with a batch.

- ``LanguageObjective``: next-token NLL on the trained segments (stages 1, 2, 4).
- ``AlignmentObjective``: NLL plus, per expert, the mean squared distance between the signal
  features projected by that expert's head and the expert's own encoding of the target (stage 3,
  NExT-GPT's decoding-side alignment; the heads read ``[specific; invariant]``).
- ``adversarial.SynergyObjective`` adds the task discriminator (stage 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from vitron_agent.model.modeling import VitronModel

__all__ = ["MEDIA_KEYS", "LanguageObjective", "AlignmentObjective", "SignalFeatures"]

MEDIA_KEYS = ("pixel_values", "video_values", "region_masks", "region_boxes", "region_frames")


class LanguageObjective(nn.Module):
    """``loss`` = the LM's mean NLL over labelled tokens."""

    metric_names: tuple[str, ...] = ("nll",)

    def __init__(self, model: VitronModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor | None = None,
                signals: Any = None, **media: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels,
                         **{k: v for k, v in media.items() if k in MEDIA_KEYS})
        return {"loss": out.loss, "nll": out.loss.detach()}


class SignalFeatures:
    """The signal runs of one batch: per expert, the two feature parts and the projection."""

    def __init__(self) -> None:
        self.invariant: list[torch.Tensor] = []
        self.tasks: list[torch.Tensor] = []
        self.distances: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}


class AlignmentObjective(nn.Module):
    """``loss`` = ``nll_weight`` * NLL + run-weighted mean over experts of MSE(head(signal), target).

    A target with fewer tokens than the head's output (SAM's two box-corner tokens against ``k``
    signal tokens) is compared with the head's first tokens.
    """

    def __init__(self, model: VitronModel, experts: Sequence[str], nll_weight: float = 1.0) -> None:
        super().__init__()
        self.model, self.experts, self.nll_weight = model, list(experts), nll_weight
        self.metric_names = ("nll", "distance", "task_loss", *[f"distance/{e}" for e in self.experts])

    def signal_pass(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, labels: torch.Tensor,
                    signals: dict[str, dict[str, torch.Tensor]], media: dict[str, torch.Tensor]
                    ) -> tuple[torch.Tensor, SignalFeatures]:
        """The NLL and, per expert, the distance of its projected signals to its targets."""
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels, output_hidden_states=True,
                         **{k: v for k, v in media.items() if k in MEDIA_KEYS})
        states = out.hidden_states[-1].flatten(0, 1)
        found = SignalFeatures()
        for expert, group in (signals or {}).items():
            specific, invariant = self.model.signal_features(states[group["positions"]])
            projected = self.model.project(expert, specific, invariant).float()
            target = group["targets"].float()
            found.distances[expert] = (projected[:, : target.shape[1]] - target).pow(2).mean()
            found.counts[expert] = len(target)
            found.invariant.append(invariant)
            found.tasks.append(group["tasks"])
        return out.loss, found

    def task_loss(self, nll: torch.Tensor, found: SignalFeatures) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        total = sum(found.counts.values())
        distance = (sum(d * found.counts[e] for e, d in found.distances.items()) / total if total
                    else torch.zeros((), device=nll.device))
        loss = self.nll_weight * nll + distance
        nan = torch.tensor(float("nan"))
        metrics = {"nll": nll.detach(), "distance": distance.detach(), "task_loss": loss.detach()}
        metrics.update({f"distance/{e}": found.distances[e].detach() if e in found.distances else nan
                        for e in self.experts})
        return loss, metrics

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor | None = None,
                signals: dict[str, dict[str, torch.Tensor]] | None = None, **media: torch.Tensor
                ) -> dict[str, torch.Tensor]:
        nll, found = self.signal_pass(input_ids, attention_mask, labels, signals or {}, media)
        loss, metrics = self.task_loss(nll, found)
        return {"loss": loss, **metrics}
