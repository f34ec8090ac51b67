"""Import time: ``import vitron_agent`` and building an agent, each in a fresh interpreter, against the
interpreter's own start-up, measured side by side (interleaved) in one run.

Heavy libraries (torch, diffusers, ultralytics, segment-anything, OpenCV) are imported by the expert that
needs them, so importing the package and listing experts must stay cheap.

    python benchmarks/bench_import.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

CASES = {
    "python -c pass": "pass",
    "import vitron_agent": "import vitron_agent",
    "build an agent, list experts": (
        "from vitron_agent import AgentConfig, VitronAgent\n"
        "agent = VitronAgent(AgentConfig(state_dir={state!r}))\n"
        "[agent.registry.availability(n) for n in agent.registry.names()]"
    ),
    "import torch (for scale)": "import torch",
}


def _run(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    with tempfile.TemporaryDirectory() as state:
        for _ in range(args.repeats):  # interleaved, so drift in machine load hits every case alike
            for name, code in CASES.items():
                times[name].append(_run(code.format(state=state)))
    median = {name: statistics.median(values) for name, values in times.items()}
    base = median["python -c pass"]
    print(f"{'case':<32}{'median ms':>11}{'beyond start-up ms':>20}{'x start-up':>12}")
    for name, seconds in median.items():
        print(f"{name:<32}{seconds * 1e3:>11.1f}{(seconds - base) * 1e3:>20.1f}{seconds / base:>12.2f}")
    own = median["import vitron_agent"] - base
    agent = median["build an agent, list experts"] - base
    torch = median["import torch (for scale)"] - base
    print(f"summary: import vitron_agent costs {own * 1e3:.0f} ms beyond start-up, an agent with its expert list "
          f"{agent * 1e3:.0f} ms; importing torch alone costs {torch * 1e3:.0f} ms ({torch / max(agent, 1e-9):.1f}x the agent)")


if __name__ == "__main__":
    main()
