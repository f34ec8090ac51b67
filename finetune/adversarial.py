"""Cross-task synergy (stage 5): a task discriminator reads the task-invariant features through a
gradient-reversal layer (DANN), so while it learns to tell the task, the signal heads learn to hide it
from ``v_s``; the experts' losses keep using ``[v_p; v_s]``. The paper's discriminator is a small
transformer with a softmax head; so is this one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vitron_agent.model.modeling import VitronModel

from .objectives import AlignmentObjective

__all__ = ["reverse_gradient", "TaskDiscriminator", "SynergyObjective", "reversal_weight"]


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, features: torch.Tensor, weight: float) -> torch.Tensor:
        ctx.weight = weight
        return features.view_as(features)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.weight * grad, None


def reverse_gradient(features: torch.Tensor, weight: float) -> torch.Tensor:
    """Identity forward; backward multiplies the gradient by ``-weight``."""
    return _Reverse.apply(features, weight)


def reversal_weight(step: int, max_steps: int, warmup: int, peak: float) -> float:
    """0 during the discriminator's warm-up, then DANN's ramp ``peak * (2 / (1 + exp(-10 p)) - 1)``."""
    if step < warmup:
        return 0.0
    progress = (step - warmup) / max(1, max_steps - warmup)
    return peak * (2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0)


class TaskDiscriminator(nn.Module):
    """(n, k, signal_dim) task-invariant features -> (n, tasks) logits: one transformer layer over the
    k signal tokens, mean-pooled, then a linear softmax head."""

    def __init__(self, signal_dim: int, tasks: int, width: int = 64, heads: int = 4, layers: int = 1) -> None:
        super().__init__()
        self.read = nn.Linear(signal_dim, width)
        layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(width, tasks)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.read(features.float())).mean(dim=1))


class SynergyObjective(AlignmentObjective):
    """``loss`` = task loss (NLL and expert distances) + ``adversarial_weight`` * discriminator CE,
    the CE's gradient into ``v_s`` reversed. Logs the discriminator's accuracy and ``chance`` (the
    majority task's share), to see the invariant features stop giving the task away."""

    def __init__(self, model: VitronModel, experts: Sequence[str], tasks: Sequence[str], chance: float,
                 nll_weight: float = 1.0, adversarial_weight: float = 1.0, reversal_peak: float = 1.0,
                 warmup: int = 0, discriminator_width: int = 64) -> None:
        super().__init__(model, experts, nll_weight)
        self.tasks, self.chance = list(tasks), chance
        self.adversarial_weight, self.reversal_peak, self.warmup = adversarial_weight, reversal_peak, warmup
        self.discriminator = TaskDiscriminator(model.config.signal_dim, len(self.tasks), discriminator_width)
        self.reversal = 0.0
        self.metric_names = (*self.metric_names, "adversarial", "accuracy", "chance", "reversal")

    def set_progress(self, step: int, max_steps: int) -> None:
        self.reversal = reversal_weight(step, max_steps, self.warmup, self.reversal_peak)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor | None = None,
                signals: dict[str, dict[str, torch.Tensor]] | None = None, **media: torch.Tensor
                ) -> dict[str, torch.Tensor]:
        nll, found = self.signal_pass(input_ids, attention_mask, labels, signals or {}, media)
        loss, metrics = self.task_loss(nll, found)
        if found.invariant:
            invariant, tasks = torch.cat(found.invariant), torch.cat(found.tasks)
            logits = self.discriminator(reverse_gradient(invariant, self.reversal))
            adversarial = F.cross_entropy(logits, tasks)
            loss = loss + self.adversarial_weight * adversarial
            metrics["adversarial"] = adversarial.detach()
            metrics["accuracy"] = (logits.argmax(-1) == tasks).float().mean()
        metrics["chance"] = torch.tensor(self.chance)
        metrics["reversal"] = torch.tensor(self.reversal)
        return {"loss": loss, **metrics}


@torch.no_grad()
def collect_signals(model: VitronModel, batches: Any, tasks: Sequence[str]) -> dict[str, torch.Tensor]:
    """Every signal run's ``specific`` and ``invariant`` features, (n, k, signal_dim), and ``task`` (n,),
    from collated batches (the model in eval mode, no gradients)."""
    was_training = model.training
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {"specific": [], "invariant": [], "task": []}
    for batch in batches:
        media = {k: v for k, v in batch.items() if k not in ("input_ids", "attention_mask", "labels", "signals")}
        out = model(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask"),
                    output_hidden_states=True, **media)
        states = out.hidden_states[-1].flatten(0, 1)
        for group in batch.get("signals", {}).values():
            specific, invariant = model.signal_features(states[group["positions"]])
            parts["specific"].append(specific.float())
            parts["invariant"].append(invariant.float())
            parts["task"].append(group["tasks"])
    model.train(was_training)
    return {k: torch.cat(v) for k, v in parts.items()}


def probe_accuracy(features: torch.Tensor, tasks: torch.Tensor, seed: int = 0) -> float:
    """How much of the task a fresh probe reads from ``features`` (n, k, dim): each task's centroid of
    token-averaged features from half of its runs, and the other half scored by their nearest centroid
    (a probe with nothing to overfit, so a few hundred runs suffice). Near the majority share means the
    features no longer give the task away."""
    generator = torch.Generator().manual_seed(seed)
    train = torch.zeros(len(tasks), dtype=torch.bool)
    for task in tasks.unique():
        rows = (tasks == task).nonzero().flatten()
        rows = rows[torch.randperm(len(rows), generator=generator)]
        train[rows[: (len(rows) + 1) // 2]] = True
    x = features.detach().float().mean(dim=1)  # the features' own geometry: no per-dimension rescaling
    labels = tasks.unique()
    centroids = torch.stack([x[train & (tasks == t)].mean(0) for t in labels])
    predicted = labels[torch.cdist(x[~train], centroids).argmin(-1)]
    return float((predicted == tasks[~train]).float().mean())
