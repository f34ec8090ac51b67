"""Model pool: a warm ``use`` against a real cold load from disk, and the pool's cost on a warm call against
calling the loaded expert directly; paired, interleaved rounds.

- Cold vs warm: SAM ViT-B (full-size architecture, random weights saved as safetensors, 375 MB) loaded by a
  fresh pool from disk (torch already imported, so only the checkpoint is read and built), vs the same pool's
  next ``use``. A warm use that reloaded, or copied weights, would show here.
- Warm call overhead: ``pool.use("grabcut")`` + run vs the loaded expert's ``run`` called directly, on a real
  photo; the pool's lock, accounting and memory checks are the difference.
Targets (issue 2): warm / cold <= 0.02; pooled / direct warm call about 1.00.

    python benchmarks/bench_pool.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from paired import run_paired  # noqa: E402

from vitron_agent import ExpertRegistry, Invocation, ModelPool  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402

BOX = (172.0, 18.0, 410.0, 300.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    import torch  # noqa: F401  (imported once, as in a serving process: the cold load is the checkpoint's)
    from skimage import data

    from vitron_agent.tools.sam import SAM_CONFIGS, build_sam_model, save_sam

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sam_vit_b"
        save_sam(build_sam_model(SAM_CONFIGS["vit_b"]), SAM_CONFIGS["vit_b"], folder)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        registry = ExpertRegistry.default(entry_points_too=False)
        registry.register("vitron_agent.tools.sam:SamExpert", name="sam_b", weights=str(folder))
        pools: list[ModelPool] = []

        def cold() -> None:
            if pools:  # the last round's pool loaded once, whatever its warm uses did
                assert pools.pop().stats.loads["sam_b"] == 1, "a warm use loaded again"
            pools.append(ModelPool(registry))
            with pools[-1].use("sam_b"):
                pass

        def warm() -> None:
            with pools[-1].use("sam_b"):
                pass

        loads = run_paired({"cold use (load from disk)": cold, "warm use": warm}, args.rounds)
        pools.clear()

        pool = ModelPool(registry)
        image = np.ascontiguousarray(data.coffee())
        call = ExpertCall(invocation=Invocation(id="c1", module="grabcut", task="segment"), images=[image], boxes=[BOX])
        with pool.use("grabcut") as loaded:
            expert = loaded

        def pooled() -> None:
            with pool.use("grabcut") as model:
                model.run(call)

        calls = run_paired({"direct run": lambda: expert.run(call), "pool.use + run": pooled}, args.rounds)
    print(f"SAM ViT-B checkpoint: {size / 1e6:.0f} MB of safetensors; {args.rounds} paired rounds, median [quartiles]")
    print("  " + loads.row("cold use (load from disk)"))
    print("  " + loads.row("warm use", "cold use (load from disk)"))
    print("GrabCut on the coffee photo:")
    print("  " + calls.row("direct run"))
    print("  " + calls.row("pool.use + run", "direct run"))
    ratio, lo, hi = loads.ratio("warm use", "cold use (load from disk)")
    over, olo, ohi = calls.ratio("pool.use + run", "direct run")
    print(f"summary: warm / cold use = {ratio:.5f} [{lo:.5f}..{hi:.5f}] for a {size / 1e6:.0f} MB SAM checkpoint loaded "
          f"from disk (target <= 0.02); a pooled warm GrabCut call = {over:.3f}x the direct run [{olo:.3f}..{ohi:.3f}]")


if __name__ == "__main__":
    main()
