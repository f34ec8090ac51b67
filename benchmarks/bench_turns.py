"""Turns: planner calls per turn, planner latency against the whole turn, and checkpoint bytes per turn
against the image size, on a scripted multi-turn conversation with the default (offline) planner.

State holds media ids, never pixels, so a turn's checkpoint should not grow with the image: the
``checkpoint / image`` column must fall as the image grows.

    python benchmarks/bench_turns.py [--repeats 3]
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

from vitron_agent import AgentConfig, VitronAgent  # noqa: E402
from vitron_agent.planners.base import PlannerInput, PlannerOutput  # noqa: E402
from vitron_agent.planners.lite import LitePlanner  # noqa: E402

CONVERSATION = [  # (image, region, text): one thread, the way a user would talk
    ("coffee", (172, 18, 410, 300), "segment the object in the box"),
    (None, None, "make it red"),
    (None, None, "now remove it"),
    ("astronaut", None, "find the faces"),
    (None, None, "make it look like a pencil sketch"),
    (None, None, "animate it, zooming in slowly"),
]


class CountingPlanner:
    """The default planner, with its calls counted and timed (the measurement, not a stand-in)."""

    def __init__(self) -> None:
        self.inner = LitePlanner()
        self.name, self.can_revise = self.inner.name, self.inner.can_revise
        self.calls, self.seconds = 0, 0.0

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        start = time.perf_counter()
        try:
            return self.inner.plan(inp)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - start


def _photos(folder: Path) -> dict[str, Path]:
    from skimage import data

    paths = {}
    for name in ("coffee", "astronaut"):
        paths[name] = folder / f"{name}.png"
        Image.fromarray(getattr(data, name)()).save(paths[name])
    return paths


def conversation(folder: Path, repeats: int) -> list[tuple[str, int, float, float]]:
    """(text, planner calls, planner ms, turn ms) per turn, medians over ``repeats`` fresh threads."""
    photos = _photos(folder)
    planner = CountingPlanner()
    rows: dict[str, list[tuple[int, float, float]]] = {text: [] for _, _, text in CONVERSATION}
    with VitronAgent(AgentConfig(state_dir=folder / "state"), planner=planner) as agent:
        for _ in range(repeats):
            thread = None
            for image, region, text in CONVERSATION:
                calls, seconds = planner.calls, planner.seconds
                start = time.perf_counter()
                result = agent.invoke(text, images=[photos[image]] if image else [], region=region, thread=thread)
                elapsed = time.perf_counter() - start
                assert not result.errors, (text, result.errors)
                thread = result.thread
                rows[text].append((planner.calls - calls, (planner.seconds - seconds) * 1e3, elapsed * 1e3))
    return [(text, int(statistics.median(c for c, _, _ in runs)), statistics.median(p for _, p, _ in runs),
             statistics.median(t for _, _, t in runs)) for text, runs in rows.items()]


def _db_bytes(state: Path) -> int:
    """Bytes the checkpointer stored (checkpoints, metadata and pending writes), not the file's free pages."""
    import sqlite3

    with sqlite3.connect(state / "checkpoints.sqlite") as db:
        stored = db.execute("SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints")
        written = db.execute("SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes")
        return int(stored.fetchone()[0]) + int(written.fetchone()[0])


def checkpoint_growth(folder: Path) -> list[tuple[int, int, int]]:
    """(side, image PNG bytes, checkpoint bytes added by one segmentation turn) per image size."""
    from skimage import data

    base = data.astronaut()
    rows = []
    for side in (256, 512, 1024, 2048):
        path = folder / f"astronaut{side}.png"
        Image.fromarray(base).resize((side, side), Image.BICUBIC).save(path)
        state = folder / f"state{side}"
        with VitronAgent(AgentConfig(state_dir=state)) as agent:
            box = [round(side * 0.3), round(side * 0.1), round(side * 0.6), round(side * 0.5)]
            first = agent.invoke("segment the object in the box", images=[path], region=box)  # warm the thread
            before = _db_bytes(state)
            result = agent.invoke("segment the object in the box", images=[path], region=box, thread=first.thread)
            assert not result.errors, result.errors
            rows.append((side, path.stat().st_size, _db_bytes(state) - before))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        turns = conversation(folder, args.repeats)
        growth = checkpoint_growth(folder)
    print(f"{'turn':<38}{'planner calls':>14}{'planner ms':>12}{'turn ms':>10}{'planner share':>15}")
    for text, calls, planner_ms, turn_ms in turns:
        print(f"{text:<38}{calls:>14}{planner_ms:>12.2f}{turn_ms:>10.1f}{planner_ms / turn_ms:>15.4f}")
    print()
    print(f"{'image':<12}{'PNG bytes':>12}{'checkpoint bytes/turn':>24}{'checkpoint / image':>20}")
    for side, image_bytes, added in growth:
        print(f"{f'{side}x{side}':<12}{image_bytes:>12}{added:>24}{added / image_bytes:>20.4f}")
    calls = [c for _, c, _, _ in turns]
    share = max(p / t for _, _, p, t in turns)
    spread = max(a for _, _, a in growth) / max(1, min(a for _, _, a in growth))
    print(f"summary: planner calls per turn {min(calls)}-{max(calls)} (mean {np.mean(calls):.2f}); planner at most "
          f"{share:.2%} of a turn; checkpoint bytes per turn vary {spread:.2f}x while the image grows "
          f"{growth[-1][1] / growth[0][1]:.0f}x (state holds ids, not pixels)")


if __name__ == "__main__":
    main()
