"""Orchestration overhead: a full graph turn vs a direct call of the same expert, measured side by side.

The direct call does the same useful work a script would: decode the image file, run the warm expert,
write the mask as PNG. The graph turn adds ingest validation, planning, validation, scheduling, the
SQLite checkpoints, the preview overlay and the messages. Target (issue 2): ratio <= 1.05.

    python benchmarks/bench_overhead.py [--turns 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from vitron_agent import AgentConfig, ExpertRegistry, Invocation, VitronAgent  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.stores.media_io import encode_png  # noqa: E402

BOX = (172.0, 18.0, 410.0, 300.0)


def _photo(folder: Path) -> Path:
    try:
        from skimage import data

        array = data.coffee()
    except ImportError:  # any real-sized image will do
        array = (np.random.default_rng(0).random((400, 600, 3)) * 255).astype(np.uint8)
    path = folder / "coffee.png"
    Image.fromarray(array).save(path)
    return path


def direct_call(agent: VitronAgent, expert_name: str, photo: Path, out: Path) -> float:
    start = time.perf_counter()
    image = np.asarray(Image.open(photo).convert("RGB"))
    inv = Invocation(id="c1", module=expert_name, task="segment", region={"box": BOX})
    with agent.pool.use(expert_name) as expert:
        result = expert.run(ExpertCall(invocation=inv, images=[image], boxes=[BOX]))
    out.write_bytes(encode_png(np.logical_or.reduce(result.masks)))
    return time.perf_counter() - start


def graph_turn(agent: VitronAgent, expert_name: str, photo: Path) -> float:
    start = time.perf_counter()
    result = agent.invoke("", images=[photo], invocations=[
        Invocation(module=expert_name, task="segment", region={"box": BOX})])
    elapsed = time.perf_counter() - start
    assert not result.errors and result.artifacts, result.errors
    return elapsed


def measure(agent: VitronAgent, expert_name: str, photo: Path, turns: int, folder: Path) -> tuple[float, float]:
    direct_call(agent, expert_name, photo, folder / "warm.png")  # load the expert once
    graph_turn(agent, expert_name, photo)
    direct, graph = [], []
    for i in range(turns):  # interleaved, so drift in machine load hits both alike
        direct.append(direct_call(agent, expert_name, photo, folder / f"d{i}.png"))
        graph.append(graph_turn(agent, expert_name, photo))
    return statistics.median(direct), statistics.median(graph)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from synthetic_experts import SlowBoxMaskExpert

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo = _photo(folder)
        registry = ExpertRegistry.default()
        registry.register(SlowBoxMaskExpert)
        with VitronAgent(AgentConfig(state_dir=folder / "state"), registry=registry) as agent:
            rows = [(name, *measure(agent, name, photo, args.turns, folder)) for name in ("slow_box_mask", "grabcut")]
    print(f"{'expert':<16}{'direct ms':>12}{'graph turn ms':>16}{'ratio':>9}")
    for name, direct, graph in rows:
        print(f"{name:<16}{direct * 1e3:>12.1f}{graph * 1e3:>16.1f}{graph / direct:>9.3f}")
    worst = max(graph / direct for _, direct, graph in rows)
    print(f"summary: graph turn / direct expert call = {', '.join(f'{n} {g / d:.3f}' for n, d, g in rows)} "
          f"(target <= 1.05; worst {worst:.3f}; median of {args.turns} interleaved turns, 600x400 photo)")


if __name__ == "__main__":
    main()
