"""Start-up: what ``from vitron_agent import VitronAgent`` and building an agent cost, each in a fresh
interpreter, against the floor of the frameworks it is built on (LangGraph, LangChain core, the SQLite
checkpointer), in paired, interleaved rounds.

Heavy libraries (torch, transformers, diffusers, ultralytics, OpenCV) are imported by the expert that needs
them, so building an agent and listing its experts must import none of them: the run fails if one is.

    python benchmarks/bench_import.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import run_paired  # noqa: E402

HEAVY = ("torch", "transformers", "diffusers", "ultralytics", "cv2", "av", "skimage")
CASES = {
    "python -c pass": "pass",
    "framework floor": "import langgraph.graph, langchain_core.messages, langgraph.checkpoint.sqlite, pydantic, numpy",
    "from vitron_agent import VitronAgent": "from vitron_agent import VitronAgent",
    "build an agent, list experts": (
        "import sys\n"
        "from vitron_agent import AgentConfig, VitronAgent\n"
        "agent = VitronAgent(AgentConfig(state_dir={state!r}))\n"
        "[agent.registry.availability(n) for n in agent.registry.names()]\n"
        "print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    ),
    "import torch (for scale)": "import torch",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    heavy_seen: set[str] = set()
    with tempfile.TemporaryDirectory() as state:
        def case(code: str):
            def run() -> None:
                out = subprocess.run([sys.executable, "-c", code.format(state=state, heavy=HEAVY)], check=True,
                                     capture_output=True, text=True)
                heavy_seen.update(out.stdout.split())
            return run

        paired = run_paired({name: case(code) for name, code in CASES.items()}, args.rounds)
    for name in CASES:
        print(paired.row(name, "framework floor" if name != "python -c pass" else None))
    build, lo, hi = paired.ratio("build an agent, list experts", "framework floor")
    own, olo, ohi = paired.ratio("from vitron_agent import VitronAgent", "framework floor")
    print(f"heavy libraries imported by building an agent: {', '.join(sorted(heavy_seen)) or 'none'}")
    print(f"summary: from vitron_agent import VitronAgent = {own:.2f}x the framework floor [{olo:.2f}..{ohi:.2f}], "
          f"an agent with its expert list {build:.2f}x [{lo:.2f}..{hi:.2f}]; heavy libraries imported: "
          f"{', '.join(sorted(heavy_seen)) or 'none'}")
    if heavy_seen:
        sys.exit(f"building an agent imported {', '.join(sorted(heavy_seen))}")


if __name__ == "__main__":
    main()
