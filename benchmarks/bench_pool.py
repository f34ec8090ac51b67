"""Model pool: the cost of a warm call relative to a cold one (load + call), measured side by side.

Cold: a fresh pool loads the expert (in a fresh process, its library imports count too), then runs it.
Warm: the same pool runs it again. Target (issue 2): warm/cold <= 0.02 for the pool's own work
(``use`` without the expert's run).

    python benchmarks/bench_pool.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from vitron_agent import ExpertRegistry, Invocation, ModelPool  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402


def _call(name: str) -> ExpertCall:
    image = np.zeros((240, 320, 3), np.uint8)
    image[60:180, 100:220] = 200
    task = "ground" if name == "opencv_detect" else "segment"
    inv = Invocation(id="c1", module=name, task=task, command="face", region=None)
    return ExpertCall(invocation=inv, images=[image], boxes=[(90.0, 50.0, 230.0, 190.0)])


def _timed(pool: ModelPool, name: str, call: ExpertCall | None) -> float:
    start = time.perf_counter()
    with pool.use(name) as expert:
        if call is not None:
            expert.run(call)
    return time.perf_counter() - start


def measure(registry: ExpertRegistry, name: str, repeats: int, with_run: bool) -> tuple[float, float]:
    call = _call(name) if with_run else None
    cold, warm = [], []
    for _ in range(repeats):
        pool = ModelPool(registry)
        cold.append(_timed(pool, name, call))
        warm.append(_timed(pool, name, call))
        assert pool.stats.loads[name] == 1 and pool.stats.hits[name] == 1
    return statistics.median(cold), statistics.median(warm)


def fresh_process(name: str, repeats: int) -> tuple[float, float]:
    """Cold and warm ``pool.use`` in new interpreters: the first use pays the library imports too."""
    import subprocess

    cold, warm = [], []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True, check=True)
        first, second = map(float, out.stdout.split())
        cold.append(first)
        warm.append(second)
    return statistics.median(cold), statistics.median(warm)


def _child(name: str) -> None:
    pool = ModelPool(ExpertRegistry.default())
    print(_timed(pool, name, None), _timed(pool, name, None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child)
    registry = ExpertRegistry.default()
    print(f"{'expert':<16}{'measured':<26}{'cold ms':>10}{'warm ms':>10}{'warm/cold':>11}")
    rows = []
    for name in ("opencv_detect", "grabcut"):
        cases = [("use, fresh process", *fresh_process(name, max(3, args.repeats // 4))),
                 ("use, fresh pool", *measure(registry, name, args.repeats, False)),
                 ("use + run, fresh pool", *measure(registry, name, args.repeats, True))]
        for label, cold, warm in cases:
            rows.append((name, label, warm / cold))
            print(f"{name:<16}{label:<26}{cold * 1e3:>10.3f}{warm * 1e3:>10.3f}{warm / cold:>11.4f}")
    pool_only = [r for r in rows if r[1] == "use, fresh process"]
    print("summary: warm/cold of the pool's own work (fresh process) = "
          + ", ".join(f"{n} {r:.4f}" for n, _, r in pool_only)
          + " (target <= 0.02; grabcut's load is only importing OpenCV)")


if __name__ == "__main__":
    main()
