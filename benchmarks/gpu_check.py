"""GPU check: our experts against the bare library calls, on full-size architectures with random weights.

For SAM 2.1 (images and video), Stable Diffusion 1.5, FLUX.1 [schnell] and Wan 2.1 T2V 1.3B, the script builds
the release's architecture with random weights (nothing is downloaded), saves it in the layout the expert loads
(``save_pretrained`` folders, safetensors, in fp16 or bf16), and runs one call two ways on the same inputs and
seed: ours (the expert from a ``ModelPool`` built from ``AgentConfig``, as an agent runs it) and bare (the
library's ``from_pretrained`` and call, as its model card shows). After a warm-up, one call of each measures
peak memory and gives the outputs compared; then paired, interleaved rounds (``paired.py``), CUDA synchronised
after each call. Targets: ours / bare <= 1.05; outputs equal. Text encoders keep their width but only a few
of their layers (their one encoding per call is not what is compared); tokenizers are the tests' character-level
ones, built in code. Configurations and calls: ``gpu_models.py``.

    python benchmarks/gpu_check.py                       # CUDA; about 6 minutes on one H100, builds included
    python benchmarks/gpu_check.py --quick --only sd,wan
    python benchmarks/gpu_check.py --device cpu --tiny   # the same code on tiny models on the CPU (the test's run)

Without a CUDA device (and without ``--device cpu``) it prints "skipped: no CUDA device" and exits 0. Writes a
table, a ``summary:`` line and ``gpu_check.json`` in ``$OUT`` when set, else in ``--out``. Exit status 1 when
an output differs beyond tolerance or a model failed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gpu_models import MODELS, Case, Model, Sizes, full_sizes, quick_sizes, tiny_sizes
from paired import run_paired, spread

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
    os.environ.setdefault(_name, "1")  # nothing is downloaded; no progress bars in the log

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.05
"""Ours / bare time per call, median of the paired rounds."""


@dataclass
class Agreement:
    """Ours against bare: ``equal`` bit for bit; ``close`` within half-precision tolerance (uint8 pixels: mean
    difference <= 0.5 and at most 0.1 % of values off by more than 8; masks: at most 0.1 % of pixels differ);
    ``varies``: the output is not constant and ``finite`` (a NaN-filled pair would agree vacuously)."""

    equal: bool
    close: bool
    max_abs_diff: float
    mismatch: float  # share of values that differ (masks) or differ by more than 8 (pixels)
    varies: bool
    finite: bool


def as_uint8(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] floats as the experts convert them."""
    return np.clip(np.rint(np.nan_to_num(pixels) * 255), 0, 255).astype(np.uint8)


def agree(ours: np.ndarray, raw: np.ndarray) -> Agreement:
    finite = bool(np.isfinite(raw).all()) if raw.dtype.kind == "f" else True
    bare = as_uint8(raw) if raw.dtype.kind == "f" else np.asarray(raw)
    if ours.shape != bare.shape:
        return Agreement(False, False, float("inf"), 1.0, False, finite)
    diff = np.abs(ours.astype(np.int16) - bare.astype(np.int16))
    off = float((diff > (0 if bare.dtype == bool else 8)).mean())
    close = off <= 1e-3 and (bare.dtype == bool or float(diff.mean()) <= 0.5)
    return Agreement(bool(np.array_equal(ours, bare)), close, float(diff.max()), off, bool(bare.min() != bare.max()),
                     finite)


class Device:
    """The torch device, with synchronisation and peak-memory readings where it is CUDA."""

    def __init__(self, name: str) -> None:
        import torch

        self.name, self.cuda, self.torch = name, name.startswith("cuda"), torch

    def sync(self) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()

    def free(self) -> None:
        gc.collect()
        if self.cuda:
            self.torch.cuda.empty_cache()

    def measure(self, fn: Callable[[], Any]) -> tuple[Any, float, int | None]:
        """fn's result, its seconds, and its peak bytes above what was allocated before it (CUDA; else None)."""
        self.sync()
        if self.cuda:
            self.torch.cuda.reset_peak_memory_stats()
            before = self.torch.cuda.memory_allocated()
        start = time.perf_counter()
        result = fn()
        self.sync()
        seconds = time.perf_counter() - start
        peak = self.torch.cuda.max_memory_allocated() - before if self.cuda else None
        return result, seconds, peak


def run_case(case: Case, folder: Path, dtype: str, device: Device, sizes: Sizes) -> dict[str, Any]:
    """Ours from a pool built as an agent builds it; then the comparison, after which everything is unloaded."""
    from vitron_agent.config import AgentConfig
    from vitron_agent.experts.pool import ModelPool
    from vitron_agent.experts.registry import ExpertRegistry

    registry = ExpertRegistry()
    registry.register(case.expert, name=case.name, weights=str(folder))
    config = AgentConfig(device=device.name, dtype=dtype)
    pool = ModelPool(registry, ram_budget=config.ram_budget, vram_budget=config.vram_budget, device=config.device,
                     dtype=config.dtype, cpu_offload=config.cpu_offload)
    try:
        return compare(case, pool, folder, dtype, device, sizes)
    finally:
        gc.unfreeze()
        pool.clear()


def compare(case: Case, pool: Any, folder: Path, dtype: str, device: Device, sizes: Sizes) -> dict[str, Any]:
    """Load both ways, warm up, one measured call each (peak memory, outputs), then paired rounds."""
    from vitron_agent.experts.base import resolve_dtype

    def load_ours() -> Any:
        with pool.use(case.name) as expert:
            return expert

    expert, load_ours_s, _ = device.measure(load_ours)
    torch_dtype = getattr(device.torch, resolve_dtype(dtype, device.name))
    loaded, load_bare_s, _ = device.measure(lambda: case.bare_load(str(folder), torch_dtype, device.name))

    def ours(index: int) -> np.ndarray:
        with pool.use(case.name) as pooled:
            return case.output(pooled.run(case.call(index)))

    def bare(index: int) -> np.ndarray:
        return case.bare(loaded, case.call(index))

    ours(0), bare(0)  # warm-up: lazy initialisation, kernel selection
    ours_out, ours_s, ours_peak = device.measure(lambda: ours(1))
    bare_out, bare_s, bare_peak = device.measure(lambda: bare(1))
    rounds = max(3, min(sizes.rounds, int(sizes.seconds / (ours_s + bare_s))))
    gc.freeze()  # what is loaded stays: the collection before each timed call then costs ~0, not ~0.5 s
    counter = {"ours": 2, "bare": 2}  # round r's inputs: index r + 2 for both

    def variant(name: str, fn: Callable[[int], np.ndarray]) -> Callable[[], None]:
        def go() -> None:
            fn(counter[name])
            counter[name] += 1
            device.sync()

        return go

    timed = run_paired({"ours": variant("ours", ours), "bare": variant("bare", bare)}, rounds, warmup=0)
    ratio = timed.ratio("ours", "bare")
    return {
        "name": case.name, "dtype": dtype, "rounds": rounds,
        "weights_bytes": {"ours": sum(expert.memory_bytes().values()), "bare": weight_bytes(loaded)},
        "load_s": {"ours": load_ours_s, "bare": load_bare_s},
        "seconds": {name: dict(zip(("median", "q1", "q3"), spread(timed.seconds[name]), strict=True))
                    for name in ("ours", "bare")},
        "ratio": dict(zip(("median", "q1", "q3"), ratio, strict=True)), "within_target": ratio[0] <= TARGET,
        "peak_bytes": {"ours": ours_peak, "bare": bare_peak},
        "agreement": asdict(agree(ours_out, bare_out)),
    }


def weight_bytes(loaded: Any) -> int:
    """Bytes of parameters in a bare load: a pipeline's components, or a (model, processor) pair."""
    parts = loaded.components.values() if hasattr(loaded, "components") else loaded
    return sum(p.numel() * p.element_size() for part in parts if hasattr(part, "parameters") for p in part.parameters())


def check_model(model: Model, sizes: Sizes, device: Device, dtype: str, work: Path) -> list[dict[str, Any]]:
    """Build ``model`` into ``work`` and run its cases; a failure is recorded, not raised."""
    from vitron_agent.experts.base import resolve_dtype

    folder = work / model.name
    torch_dtype = getattr(device.torch, resolve_dtype(dtype, device.name))
    results: list[dict[str, Any]] = []
    try:
        device.torch.manual_seed(0)
        _, build_s, _ = device.measure(lambda: model.build(folder, sizes, device.name, torch_dtype))
        device.free()
        print(f"{model.name}: built in {build_s:.1f} s "
              f"({sum(p.stat().st_size for p in folder.rglob('*.safetensors')) / 2**30:.2f} GiB)", flush=True)
        for case in model.cases(sizes):
            try:
                results.append({**run_case(case, folder, dtype, device, sizes), "build_s": build_s})
            except Exception as exc:  # noqa: BLE001  (recorded in the table and the JSON)
                results.append({"name": case.name, "dtype": dtype, "error": f"{type(exc).__name__}: {exc}"[:500]})
            device.free()
            print(row(results[-1]), flush=True)
    except Exception as exc:  # noqa: BLE001
        results.append({"name": model.name, "dtype": dtype, "error": f"build: {type(exc).__name__}: {exc}"[:500]})
        print(row(results[-1]), flush=True)
    finally:
        device.free()
    return results


def row(result: dict[str, Any]) -> str:
    """One table line: times, ratio [quartiles], peak memory of each call, outputs."""
    name = f"{result['name']:<11}{result['dtype']:<9}"
    if "error" in result or "skipped" in result:
        return name + (f"ERROR {result['error']}" if "error" in result else f"skipped: {result['skipped']}")
    mid, low, high = (result["ratio"][k] for k in ("median", "q1", "q3"))
    mib = {k: "-" if v is None else f"{v / 2**20:.0f}" for k, v in result["peak_bytes"].items()}
    agreement = result["agreement"]
    outputs = "equal" if agreement["equal"] else "close" if agreement["close"] else "DIFFER"
    outputs += "" if agreement["varies"] and agreement["finite"] else " (constant or NaN output)"
    ms = {k: result["seconds"][k]["median"] * 1e3 for k in ("ours", "bare")}
    verdict = "ok" if mid <= TARGET else "OVER"
    return (f"{name}{ms['ours']:>10.1f}{ms['bare']:>10.1f}   {mid:.3f} [{low:.3f}..{high:.3f}] {verdict:<5}"
            f"{mib['ours']:>8}{mib['bare']:>8}  {outputs} ({result['rounds']} rounds)")


def summary(results: list[dict[str, Any]], device: str, sizes: str) -> str:
    ran = [r for r in results if "ratio" in r]
    ratios = ", ".join(f"{r['name']} {r['ratio']['median']:.3f}" for r in ran)
    equal = sum(r["agreement"]["equal"] for r in ran)
    close = sum(r["agreement"]["close"] for r in ran)
    over = [r["name"] for r in ran if not r["within_target"]]
    missing = [r["name"] for r in results if "ratio" not in r]
    return (f"summary: gpu_check {sizes} on {device}: ours/bare {ratios or 'none'} (target <= {TARGET}"
            f"{'; over: ' + ', '.join(over) if over else ''}); outputs equal {equal}/{len(ran)}, within tolerance "
            f"{close}/{len(ran)}" + (f"; not run: {', '.join(missing)}" if missing else ""))


def run_models(models: list[Model], sizes: Sizes, device: Device, dtype: str | None, budget: float,
               save: Callable[[list[dict[str, Any]]], None]) -> list[dict[str, Any]]:
    """Check each model in turn within ``budget`` seconds: one whose estimate does not fit in what is left is
    skipped (and says how to run it alone). ``dtype``: for all models, else each its own (float32 on the CPU).
    ``save`` gets the results after each model, so a run stopped from outside still leaves what it measured."""
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as work:
        for model in models:
            chosen = dtype or (model.dtype if device.cuda else "float32")
            left = budget - (time.perf_counter() - started)
            if sizes.estimate.get(model.name, 0.0) > left:
                need = sizes.estimate[model.name]
                results.append({"name": model.name, "dtype": chosen, "skipped": f"about {need:.0f} s needed, "
                                f"{max(left, 0):.0f} s of the budget left; run it with --only {model.name}"})
                print(row(results[-1]), flush=True)
                continue
            results.extend(check_model(model, sizes, device, chosen, Path(work)))
            shutil.rmtree(Path(work) / model.name, ignore_errors=True)  # full-size weights: tens of GB of disk
            save(results)
    return results


def quiet_libraries() -> None:
    """Errors only, no progress bars: the log is the table."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for logging in (diffusers_logging, transformers_logging):
        logging.set_verbosity_error()
        logging.disable_progress_bar()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default; skipped without one) or cpu")
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny models (for --device cpu)")
    parser.add_argument("--quick", action="store_true", help="smaller models and calls")
    parser.add_argument("--only", default=",".join(MODELS), help=f"comma-separated subset of {','.join(MODELS)}")
    parser.add_argument("--dtype", choices=("float16", "bfloat16", "float32"),
                        help="for every model (default: each model's own on CUDA, float32 on the CPU)")
    parser.add_argument("--budget", type=float, default=400.0, help="seconds; a model whose estimate does not fit "
                                                                   "in what is left is skipped")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "gpu-check",
                        help="folder for gpu_check.json when $OUT is unset")
    args = parser.parse_args()
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(MODELS))
    if unknown:
        parser.error(f"--only names {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    return args


def main() -> int:
    args = parse_args()
    try:
        import torch
    except ImportError:
        print("skipped: torch is not installed")
        return 0
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("skipped: no CUDA device (run with --device cpu --tiny to exercise the script on the CPU)")
        return 0
    started = time.perf_counter()
    import vitron_agent.tools  # noqa: F401  (the installed package, before the checkout joins the path)

    sys.path.insert(0, str(ROOT))  # the tests' tokenizer helpers
    quiet_libraries()
    if args.tiny:
        torch.set_num_threads(1)  # tiny models: threads cost more than they give, on a shared CPU
    sizes = tiny_sizes() if args.tiny else quick_sizes() if args.quick else full_sizes()
    device = Device(args.device)
    name = (f"{torch.cuda.get_device_name()} ({torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB)"
            if device.cuda else "cpu")
    versions = {module: __import__(module).__version__ for module in ("torch", "transformers", "diffusers")}
    print(f"gpu_check: {sizes.name} sizes on {name}; " + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)
    print(f"{'case':<11}{'dtype':<9}{'ours ms':>10}{'bare ms':>10}   ours/bare [quartiles]         "
          f"peak MiB ours / bare  outputs", flush=True)
    out = Path(os.environ["OUT"]) if os.environ.get("OUT") else args.out
    out.mkdir(parents=True, exist_ok=True)

    def save(results: list[dict[str, Any]], line: str | None = None) -> None:
        report = {"device": name, "sizes": sizes.name, "versions": versions, "target": TARGET, "results": results,
                  "elapsed_s": time.perf_counter() - started, "summary": line}
        (out / "gpu_check.json").write_text(json.dumps(report, indent=1))

    budget = args.budget - (time.perf_counter() - started)
    results = run_models([MODELS[key] for key in args.only], sizes, device, args.dtype, budget, save)
    line = summary(results, name, sizes.name)
    print(line, flush=True)
    save(results, line)
    failed = any("error" in r or ("agreement" in r and not r["agreement"]["close"]) for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
