"""Runs every benchmark in turn and prints each one's table, then all the one-line summaries together.

    python benchmarks/run_all.py [--only overhead,video]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["overhead", "pool", "video", "embedded", "turns", "planner", "import", "memory", "scaleout"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated names: " + ", ".join(BENCHMARKS))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else BENCHMARKS
    summaries, failed = [], []
    for name in names:
        script = HERE / f"bench_{name}.py"
        if not script.exists():
            failed.append(f"{name}: no {script.name}")
            continue
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        print(out.stdout, end="", flush=True)
        if out.returncode:
            failed.append(f"{name}: exit {out.returncode}: {out.stderr.strip().splitlines()[-1:] or ''}")
            continue
        lines = [line for line in out.stdout.splitlines() if line.startswith("summary:")]
        summaries += [f"{name} ({time.perf_counter() - start:.0f} s): {line[len('summary: '):]}" for line in lines]
    print("\n== summaries")
    print("\n".join(summaries))
    if failed:
        print("\n== failed\n" + "\n".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
