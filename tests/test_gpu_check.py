"""benchmarks/gpu_check.py on the CPU with tiny models (the code path a CUDA machine runs at full size), and its skip
without a GPU. No timing is asserted: only that each ratio is a measured number."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
CASES = {"sam2", "sam2_video", "sd", "wan", "flux"}


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if key != "OUT"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600,
                          env={**environ, **env})


@pytest.mark.slow
def test_tiny_run_on_cpu_compares_every_expert_with_its_bare_library_call(tmp_path):
    done = _run("--device", "cpu", "--tiny", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    results = {result["name"]: result for result in report["results"]}
    assert set(results) == CASES and report["device"] == "cpu" and report["sizes"] == "tiny"
    for name, result in results.items():
        assert "error" not in result, result
        agreement = result["agreement"]
        # the same seeded weights, inputs and seed on the CPU in float32: bit for bit, and not vacuously
        assert agreement["equal"] and agreement["max_abs_diff"] == 0.0, (name, agreement)
        assert agreement["varies"] and agreement["finite"], (name, agreement)
        assert result["dtype"] == "float32" and result["rounds"] >= 3
        ratio = result["ratio"]
        assert all(math.isfinite(ratio[key]) and ratio[key] > 0 for key in ("median", "q1", "q3")), ratio
        assert ratio["q1"] <= ratio["median"] <= ratio["q3"]
        assert result["seconds"]["ours"]["median"] > 0 and result["seconds"]["bare"]["median"] > 0
        assert result["weights_bytes"]["ours"] == result["weights_bytes"]["bare"] > 0  # the same model, loaded twice
        assert result["peak_bytes"] == {"ours": None, "bare": None}  # measured on CUDA only
    summary = [line for line in done.stdout.splitlines() if line.startswith("summary:")]
    assert summary == [report["summary"]] and "outputs equal 5/5" in summary[0]


def test_without_cuda_it_says_so_and_exits_zero(tmp_path):
    done = _run("--out", str(tmp_path), CUDA_VISIBLE_DEVICES="")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("skipped: no CUDA device")
    assert not (tmp_path / "gpu_check.json").exists()


def test_unknown_models_are_refused():
    done = _run("--only", "sam2,sora", CUDA_VISIBLE_DEVICES="")
    assert done.returncode == 2 and "sora" in done.stderr
