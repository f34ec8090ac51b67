"""The training loop every stage runs: accelerate for devices, precision and processes; explicit
gradient accumulation; resumable checkpoints; a CSV loss log (and TensorBoard when installed).

An *objective* is an ``nn.Module`` whose ``forward(**batch)`` returns ``{"loss": ..., metric: ...}``;
wrapping the model, heads and discriminator in one module lets DDP/FSDP/DeepSpeed see one forward.
An objective may define ``set_progress(step, max_steps)`` (schedules such as the gradient-reversal
weight) and ``metric_names`` (the log's columns). A *callback* ``fn(trainer, row)`` runs after each
optimiser step; raising from it stops training (the tests interrupt runs that way).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from vitron_agent.errors import BadInputError

from .batching import EpochSampler
from .checkpoint import latest_checkpoint, load_checkpoint, prune_checkpoints, save_checkpoint
from .config import TrainConfig

__all__ = ["Trainer", "TrainResult", "read_log", "lr_lambda"]

Callback = Callable[["Trainer", dict[str, float]], None]

_SHARDED = ("DEEPSPEED", "FSDP")
"""Distributed modes whose optimiser state is split across processes."""


@dataclass
class TrainResult:
    """Where the run ended: ``steps`` done in all (earlier runs included), ``resumed_from`` (a step or
    None), ``history``: every logged row from ``log.csv`` (step, loss, lr, metrics), ``skipped``:
    examples over ``max_length``."""

    output_dir: Path
    steps: int
    resumed_from: int | None
    history: list[dict[str, float]] = field(default_factory=list)
    skipped: int = 0
    model_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Stage-specific results (stage 5: ``probe``)."""


def lr_lambda(schedule: str, warmup: int, total: int) -> Callable[[int], float]:
    """Linear warm-up over ``warmup`` steps, then ``cosine`` to 0, ``linear`` to 0, or ``constant``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.5 * (1 + math.cos(math.pi * progress)) if schedule == "cosine" else 1.0 - progress

    return factor


def read_log(path: str | Path) -> list[dict[str, float]]:
    """``log.csv`` rows as floats (empty cells, metrics absent from a step, as NaN)."""
    file = Path(path)
    if not file.exists():
        return []
    with file.open(newline="") as handle:
        return [{k: float(v) if v not in ("", None) else math.nan for k, v in row.items()} for row in csv.DictReader(handle)]


class Trainer:
    """Runs ``objective`` over ``dataset`` for ``config.max_steps`` optimiser steps.

    ``param_groups``: optional ``[{"params": [...], "lr": ...}]`` (default: every trainable parameter
    at ``config.lr``). Checkpoints go to ``output_dir/checkpoints``; with ``config.resume`` the newest
    one is loaded first and the log is cut back to its step.
    """

    def __init__(self, config: TrainConfig, objective: torch.nn.Module, dataset: Any, collate: Callable,
                 callbacks: Sequence[Callback] = (), param_groups: list[dict[str, Any]] | None = None) -> None:
        self.config, self.objective, self.dataset, self.collate = config, objective, dataset, collate
        self.callbacks, self.param_groups = list(callbacks), param_groups
        self.output_dir = Path(config.output_dir)
        self.step = 0

    # -- set-up ---------------------------------------------------------------------------------
    def _prepare(self) -> None:
        from accelerate import Accelerator
        from accelerate.state import AcceleratorState
        from accelerate.utils import set_seed

        cfg = self.config
        # accelerate keeps one precision per process; a process may run several stages, each with its own
        # (the distributed set-up, PartialState, is kept)
        AcceleratorState._reset_state()
        self.accelerator = acc = Accelerator(mixed_precision=cfg.mixed_precision, cpu=cfg.cpu)
        set_seed(cfg.seed)
        groups = self.param_groups or [{"params": [p for p in self.objective.parameters() if p.requires_grad]}]
        optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lr_lambda(cfg.schedule, cfg.warmup_steps, cfg.max_steps))
        self.sampler = EpochSampler(len(self.dataset), cfg.seed)
        loader = DataLoader(self.dataset, batch_size=cfg.batch_size, sampler=self.sampler, collate_fn=self.collate,
                            num_workers=cfg.num_workers)
        if cfg.save_every and acc.distributed_type.value in _SHARDED:
            raise BadInputError(f"resumable checkpoints hold whole optimiser states, which {acc.distributed_type.value} "
                                "shards across processes; set save_every: 0 (the final model is still saved)")
        self.model, self.optimizer, self.loader = acc.prepare(self.objective, optimizer, loader)
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.epoch, self.batches = 0, 0
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if acc.is_main_process:
            (self.output_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))

    def _resume(self) -> int | None:
        root = self.output_dir / "checkpoints"
        if not self.config.resume and root.exists() and self.accelerator.is_main_process:
            prune_checkpoints(root, 0, everything=True)  # starting over: old checkpoints must not outrank new ones
        found = latest_checkpoint(root) if self.config.resume else None
        if found is None:
            self._cut_log(0)
            return None
        state = load_checkpoint(found, self.accelerator.unwrap_model(self.model), self.optimizer, self.scheduler,
                                rank=self.accelerator.process_index)
        self.step, self.epoch, self.batches = state["step"], state["epoch"], state["batches"]
        self._cut_log(self.step)
        return self.step

    # -- the loop -------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        from tqdm.auto import tqdm

        self._prepare()
        resumed = self._resume()
        cfg, acc = self.config, self.accelerator
        writer = self._tensorboard()
        bar = tqdm(total=cfg.max_steps, initial=self.step, disable=not (cfg.progress and acc.is_local_main_process),
                   desc=Path(cfg.output_dir).name)
        self.model.train()
        try:
            while self.step < cfg.max_steps:
                for group in self._groups():
                    row = self._optimizer_step(group)
                    self._log(row, writer)
                    bar.update(1)
                    bar.set_postfix(loss=f"{row['loss']:.4f}")
                    if cfg.save_every and self.step % cfg.save_every == 0 and self.step < cfg.max_steps:
                        self.save()
                    for callback in self.callbacks:
                        callback(self, row)
                    if self.step >= cfg.max_steps:
                        break
            self.save()
        finally:
            bar.close()
            if writer is not None:
                writer.close()
        return TrainResult(self.output_dir, self.step, resumed, read_log(self.output_dir / "log.csv"),
                           getattr(self.dataset, "skipped", 0))

    def _groups(self):
        """Micro-batches in groups of ``grad_accum`` (shorter at an epoch's end), continuing where the
        last checkpoint stopped; moves to the next epoch when this one is used up."""
        acc, accum = self.accelerator, self.config.grad_accum
        loader = acc.skip_first_batches(self.loader, self.batches) if self.batches else self.loader
        self.sampler.set_epoch(self.epoch)
        if hasattr(loader, "set_epoch"):  # accelerate's loaders pass the epoch on to the sampler themselves
            loader.set_epoch(self.epoch)
        group = []
        for batch in loader:
            group.append(batch)
            self.batches += 1
            if len(group) == accum:
                yield group
                group = []
        if group:
            yield group
        self.epoch, self.batches = self.epoch + 1, 0

    def _optimizer_step(self, group: list[dict[str, Any]]) -> dict[str, float]:
        acc, model = self.accelerator, self.model
        unwrapped = acc.unwrap_model(model)
        if hasattr(unwrapped, "set_progress"):
            unwrapped.set_progress(self.step, self.config.max_steps)
        totals: dict[str, list[float]] = {}
        for i, batch in enumerate(group):
            last = i == len(group) - 1
            # DeepSpeed steps inside backward at a sync point: only the group's last micro-batch is one
            acc.gradient_state._set_sync_gradients(last)
            with contextlib.nullcontext() if last else acc.no_sync(model):
                out = model(**batch)  # the prepared model runs its forward under the mixed-precision autocast
                acc.backward(out["loss"] / len(group))
            for key, value in out.items():
                totals.setdefault(key, []).append(float(value.detach()) if torch.is_tensor(value) else float(value))
        if self.config.max_grad_norm:
            acc.clip_grad_norm_(self.trainable, self.config.max_grad_norm)
        lr = self.scheduler.get_last_lr()[0]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        row = {"step": float(self.step), "epoch": float(self.epoch), "lr": lr}
        for key, values in totals.items():
            seen = [v for v in values if not math.isnan(v)]
            local = sum(seen) / len(seen) if seen else math.nan
            row[key] = float(acc.reduce(torch.tensor(local, device=acc.device), "mean")) if acc.num_processes > 1 else local
        return row

    # -- state and logs -------------------------------------------------------------------------
    def save(self) -> Path:
        """Write a resumable checkpoint of the current step and prune old ones."""
        acc = self.accelerator
        unwrapped = acc.unwrap_model(self.model)
        trainable = {n: p for n, p in unwrapped.named_parameters() if p.requires_grad}
        state = {"step": self.step, "epoch": self.epoch, "batches": self.batches}
        root = self.output_dir / "checkpoints"
        folder = save_checkpoint(root, self.step, trainable, self.optimizer, self.scheduler, state,
                                 acc.process_index, acc.is_main_process)
        acc.wait_for_everyone()
        if acc.is_main_process:
            prune_checkpoints(root, self.config.keep_checkpoints)
        return folder

    def _columns(self) -> list[str]:
        names = list(getattr(self.accelerator.unwrap_model(self.model), "metric_names", ()))
        return ["step", "epoch", "lr", "loss", *[n for n in names if n != "loss"]]

    def _log(self, row: dict[str, float], writer: Any) -> None:
        if not self.accelerator.is_main_process:
            return
        path = self.output_dir / "log.csv"
        columns = self._columns()
        fresh = not path.exists()
        with path.open("a", newline="") as handle:
            out = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            if fresh:
                out.writeheader()
            out.writerow({k: ("" if math.isnan(row.get(k, math.nan)) else row[k]) for k in columns})
        if writer is not None:
            for key, value in row.items():
                if key != "step" and not math.isnan(value):
                    writer.add_scalar(key, value, self.step)

    def _cut_log(self, step: int) -> None:
        """Keep the log rows up to ``step`` (those after it are redone by this run)."""
        path = self.output_dir / "log.csv"
        if not self.accelerator.is_main_process or not path.exists():
            return
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        if step == 0:
            path.unlink()
            return
        with path.open("w", newline="") as handle:
            out = csv.DictWriter(handle, fieldnames=self._columns(), extrasaction="ignore")
            out.writeheader()
            out.writerows(r for r in rows if float(r["step"]) <= step)

    def _tensorboard(self) -> Any:
        if not (self.config.tensorboard and self.accelerator.is_main_process):
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional: the CSV log is always written
            return None
        return SummaryWriter(str(self.output_dir / "tensorboard"))
