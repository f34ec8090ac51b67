"""Peak memory under a pool budget while cycling 5 experts, against the same cycle with no budget.

Five real experts loaded through their real loading paths from full-size checkpoints built here with random
weights (SAM ViT-B, YOLO11 x/l/m segmentation, GrabCut): with no budget all of them stay loaded; with a
budget the pool unloads the least recently used before it goes over. Each run is a fresh process, so its
peak resident memory (``ru_maxrss``) is its own.

    python benchmarks/bench_memory.py [--budget-mb 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXPERTS = {  # registry name -> (expert class, checkpoint folder name)
    "sam_b": ("vitron_agent.tools.sam:SamExpert", "sam_vit_b"),
    "yolo_x": ("vitron_agent.tools.yolo:YoloExpert", "yolo11x-seg"),
    "yolo_l": ("vitron_agent.tools.yolo:YoloExpert", "yolo11l-seg"),
    "yolo_m": ("vitron_agent.tools.yolo:YoloExpert", "yolo11m-seg"),
    "grabcut": ("vitron_agent.tools.grabcut:GrabCutExpert", None),
}
BOX = (120.0, 40.0, 380.0, 400.0)


def build_checkpoints(folder: Path) -> None:
    """Full-size architectures with random weights, saved in the formats users load."""
    from vitron_agent.tools.sam import SAM_CONFIGS, build_sam_model, save_sam
    from vitron_agent.tools.yolo import build_yolo, save_yolo

    save_sam(build_sam_model(SAM_CONFIGS["vit_b"]), SAM_CONFIGS["vit_b"], folder / "sam_vit_b")
    for name in ("yolo11x-seg", "yolo11l-seg", "yolo11m-seg"):
        save_yolo(build_yolo(f"{name}.yaml"), folder / name)


def cycle(folder: Path, budget: int | None, rounds: int) -> dict[str, float]:
    """Run every expert in turn, ``rounds`` times; report peak RSS and the pool's own accounting."""
    import numpy as np
    from skimage import data

    from vitron_agent import ExpertRegistry, Invocation, ModelPool
    from vitron_agent.experts.base import ExpertCall

    registry = ExpertRegistry.default(entry_points_too=False)
    for name, (target, checkpoint) in EXPERTS.items():
        options = {"weights": str(folder / checkpoint)} if checkpoint else {}
        if name.startswith("yolo"):
            options.update(imgsz=320, conf=0.0)  # random weights are unsure of everything
        registry.register(target, name=name, **options)
    pool = ModelPool(registry, ram_budget=budget)
    image = np.ascontiguousarray(data.astronaut())
    held, most_loaded, settled = 0, 0, 0
    for _ in range(rounds):
        for name in EXPERTS:
            inv = Invocation(id="c1", module=name, task="segment", command="the person")
            with pool.use(name) as expert:
                expert.run(ExpertCall(invocation=inv, images=[image], boxes=[BOX]))
            loaded = pool.loaded()
            most_loaded = max(most_loaded, len(loaded))
            held = max(held, pool.memory()["ram"])
            settled = max(settled, current_rss())
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_rss_mb": peak_kb / 1024, "settled_rss_mb": settled / 2**20, "pool_held_mb": held / 2**20, "most_loaded": most_loaded,
            "loads": sum(pool.stats.loads.values()), "evictions": len(pool.stats.evictions)}


def current_rss() -> int:
    """Resident bytes now (Linux ``/proc``), between calls: what the loaded models and caches keep."""
    import os

    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-mb", type=float, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder, budget = Path(args.child[0]), float(args.child[1])
        print(json.dumps(cycle(folder, int(budget * 2**20) if budget > 0 else None, args.rounds)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build_checkpoints(folder)
        runs = {}
        for label, budget in (("no budget", 0.0), (f"budget {args.budget_mb:g} MB", args.budget_mb)):
            out = subprocess.run([sys.executable, __file__, "--rounds", str(args.rounds), "--child", str(folder),
                                  str(budget)], capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"the {label} run failed:\n{out.stderr[-3000:]}")
            runs[label] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{'run':<18}{'peak RSS MB':>13}{'RSS between calls MB':>22}{'pool held MB':>14}{'most loaded':>13}"
          f"{'loads':>7}{'evictions':>11}")
    for label, run in runs.items():
        print(f"{label:<18}{run['peak_rss_mb']:>13.0f}{run['settled_rss_mb']:>22.0f}{run['pool_held_mb']:>14.0f}"
              f"{run['most_loaded']:>13}{run['loads']:>7}{run['evictions']:>11}")
    free, capped = runs["no budget"], runs[f"budget {args.budget_mb:g} MB"]
    within = capped["pool_held_mb"] <= args.budget_mb
    print(f"summary: cycling 5 experts {args.rounds}x under a {args.budget_mb:g} MB pool budget: the pool held at "
          f"most {capped['pool_held_mb']:.0f} MB ({'within' if within else 'OVER'} budget; "
          f"{free['pool_held_mb']:.0f} MB without), RSS between calls {capped['settled_rss_mb']:.0f} vs "
          f"{free['settled_rss_mb']:.0f} MB ({capped['settled_rss_mb'] / free['settled_rss_mb']:.2f}x), peak RSS "
          f"{capped['peak_rss_mb']:.0f} vs {free['peak_rss_mb']:.0f} MB (activations, not weights, set the peak); "
          f"cost: {capped['loads'] - free['loads']} extra loads")


if __name__ == "__main__":
    main()
