"""Resumable training state without pickle: tensors in safetensors, everything else in JSON.

A checkpoint folder ``checkpoints/step-000120/`` holds the trainable parameters, the optimiser's
state, the LR scheduler's, each process's RNG states and ``state.json`` (step, epoch, batches read in
that epoch). Frozen weights are not saved: they come from the stage's starting checkpoint.
Folders are written under a temporary name and renamed, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from vitron_agent.errors import BadInputError

__all__ = ["CheckpointState", "save_checkpoint", "load_checkpoint", "latest_checkpoint", "prune_checkpoints"]

CheckpointState = dict[str, Any]
"""``{"step": int, "epoch": int, "batches": int}``: where training stood."""

_PREFIX = "step-"


def _tensor_dict(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Own, contiguous CPU copies: safetensors refuses tensors that share memory (tied weights)."""
    return {k: v.detach().to("cpu").clone().contiguous() for k, v in tensors.items()}


def _optimizer_files(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors, scalars = {}, {}
    for pid, values in state["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{key}"] = value
            else:
                scalars.setdefault(str(pid), {})[key] = value
    meta = {"param_groups": state["param_groups"], "scalars": scalars, "ids": [int(p) for p in state["state"]]}
    return _tensor_dict(tensors), meta


def _optimizer_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {pid: dict(meta["scalars"].get(str(pid), {})) for pid in meta["ids"]}
    for name, value in tensors.items():
        pid, _, key = name.partition(".")
        state[int(pid)][key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def _rng_files() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors.update({f"cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    tensors["numpy"] = torch.from_numpy(np.asarray(keys, dtype=np.int64))
    version, internal, py_gauss = random.getstate()
    meta = {"numpy": [name, int(pos), int(has_gauss), float(gauss)], "python": [version, list(internal), py_gauss]}
    return tensors, meta


def _restore_rng(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["torch"])
    cuda = [tensors[k] for k in sorted((k for k in tensors if k.startswith("cuda.")), key=lambda k: int(k[5:]))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    name, pos, has_gauss, gauss = meta["numpy"]
    np.random.set_state((name, tensors["numpy"].numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, py_gauss = meta["python"]
    random.setstate((version, tuple(internal), py_gauss))


def save_checkpoint(root: str | Path, step: int, trainable: dict[str, torch.Tensor], optimizer: Any, scheduler: Any,
                    state: CheckpointState, rank: int = 0, main: bool = True) -> Path:
    """Write ``root/step-{step}`` (every process writes its RNG; the main one the rest); returns it."""
    root = Path(root)
    final = root / f"{_PREFIX}{step:06d}"
    work = root / f".{_PREFIX}{step:06d}.tmp"
    work.mkdir(parents=True, exist_ok=True)
    rng_tensors, rng_meta = _rng_files()
    save_file(_tensor_dict(rng_tensors), str(work / f"rng-{rank}.safetensors"))
    (work / f"rng-{rank}.json").write_text(json.dumps(rng_meta))
    if main:
        save_file(_tensor_dict(trainable), str(work / "trainable.safetensors"))
        opt_tensors, opt_meta = _optimizer_files(optimizer.state_dict())
        save_file(opt_tensors, str(work / "optimizer.safetensors"))
        (work / "optimizer.json").write_text(json.dumps(opt_meta))
        (work / "scheduler.json").write_text(json.dumps(scheduler.state_dict()))
        (work / "state.json").write_text(json.dumps(state))
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
    return final


def load_checkpoint(folder: str | Path, module: torch.nn.Module, optimizer: Any, scheduler: Any,
                    rank: int = 0) -> CheckpointState:
    """Restore trainable parameters, optimiser, scheduler and this process's RNG; returns the state."""
    folder = Path(folder)
    trainable = load_file(str(folder / "trainable.safetensors"))
    wanted = {n for n, p in module.named_parameters() if p.requires_grad}
    missing, extra = sorted(wanted - set(trainable)), sorted(set(trainable) - wanted)
    if missing or extra:
        raise BadInputError(f"{folder} does not match this run's trainable parameters: {len(missing)} missing "
                            f"({', '.join(missing[:3])}), {len(extra)} unexpected ({', '.join(extra[:3])}); "
                            "was the stage's config (LoRA, heads) changed? Use a new output_dir or resume=false")
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in trainable.items():
            params[name].copy_(value)
    optimizer.load_state_dict(_optimizer_state(load_file(str(folder / "optimizer.safetensors")),
                                               json.loads((folder / "optimizer.json").read_text())))
    scheduler.load_state_dict(json.loads((folder / "scheduler.json").read_text()))
    rng = folder / f"rng-{rank}.safetensors"
    if rng.exists():
        _restore_rng(load_file(str(rng)), json.loads((folder / f"rng-{rank}.json").read_text()))
    return json.loads((folder / "state.json").read_text())


def latest_checkpoint(root: str | Path) -> Path | None:
    folders = sorted(p for p in Path(root).glob(f"{_PREFIX}*") if p.is_dir() and (p / "state.json").exists())
    return folders[-1] if folders else None


def prune_checkpoints(root: str | Path, keep: int, everything: bool = False) -> None:
    """Delete all but the newest ``keep`` checkpoints (``keep`` < 1 keeps all, unless ``everything``)."""
    if keep < 1 and not everything:
        return
    folders = sorted(p for p in Path(root).glob(f"{_PREFIX}*") if p.is_dir())
    for old in folders[: len(folders) - keep] if keep > 0 else folders:
        shutil.rmtree(old, ignore_errors=True)
