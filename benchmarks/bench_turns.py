"""Turns: planner calls per turn and the planner's share of a turn; what a turn costs as the thread grows
(checkpoint bytes, state read time, turn time); checkpoint bytes against the image size.

- A scripted six-turn conversation with the default (offline) planner: planner calls and share per turn.
- Thread length: one thread talked to for ``--turns`` turns (the conversation, cycled). Checkpoint bytes each
  turn adds (what the checkpointer stored: checkpoints, metadata, pending writes) at turn 2 and at the last
  turn; the database and its write-ahead log on disk; then paired, interleaved rounds of the same request
  on that long thread and on a fresh two-turn thread (turn time, and reading the thread back). Target
  (issue 18): bytes added at turn 50 <= 1.2x those at turn 2.
- Image size: state holds media ids, never pixels, so a turn's checkpoint must not grow with the image.

    python benchmarks/bench_turns.py [--repeats 3] [--turns 50] [--rounds 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from paired import run_paired  # noqa: E402
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


def _db_bytes(state: Path, thread: str | None = None) -> int:
    """Bytes the checkpointer stored (checkpoints, metadata and pending writes), of one thread or all, not the
    file's free pages."""
    import sqlite3

    where, args = ("WHERE thread_id = ?", (thread,)) if thread else ("", ())
    with sqlite3.connect(state / "checkpoints.sqlite") as db:
        stored = db.execute(f"SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints {where}",
                            args)
        written = db.execute(f"SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes {where}", args)
        return int(stored.fetchone()[0]) + int(written.fetchone()[0])


def _disk_bytes(state: Path) -> int:
    """The database file and its write-ahead log, as they are on disk now."""
    return sum(p.stat().st_size for p in state.glob("checkpoints.sqlite*") if p.is_file())


def thread_length(folder: Path, turns: int, rounds: int) -> dict:
    """Bytes per turn along one long thread, and paired timings of a turn on it vs on a fresh thread."""
    photos = _photos(folder)
    state = folder / "long"
    added: list[int] = []
    with VitronAgent(AgentConfig(state_dir=state)) as agent:
        thread, before = None, 0
        for turn in range(turns):
            image, region, text = CONVERSATION[turn % len(CONVERSATION)]
            result = agent.invoke(text, images=[photos[image]] if image else [], region=region, thread=thread)
            assert not result.errors, (turn, text, result.errors)
            thread = result.thread
            total = _db_bytes(state, thread)
            added.append(total - before)
            before = total
        disk = _disk_bytes(state)
        question = "what colour is it?"
        times: dict[bool, list[float]] = {}

        def timed_on(on: str) -> None:
            start = time.perf_counter()
            result = agent.invoke(question, thread=on)
            times.setdefault(on == thread, []).append(time.perf_counter() - start)
            assert not result.errors, result.errors

        def fresh() -> str:
            first = agent.invoke("segment the object in the box", images=[photos["coffee"]], region=(172, 18, 410, 300))
            timed_on(first.thread)
            return first.thread

        short = fresh()
        reads = run_paired({"read long thread": lambda: agent.state(thread),
                            "read 2-turn thread": lambda: agent.state(short)}, rounds)
        run_paired({"long": lambda: timed_on(thread), "fresh": fresh}, rounds, warmup=1)
    return {"added": added, "disk": disk, "reads": reads, "turn_long": times[True][1:], "turn_fresh": times[False][2:]}


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
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        turns = conversation(folder, args.repeats)
        length = thread_length(folder, args.turns, args.rounds)
        growth = checkpoint_growth(folder)
    print(f"{'turn':<38}{'planner calls':>14}{'planner ms':>12}{'turn ms':>10}{'planner share':>15}")
    for text, calls, planner_ms, turn_ms in turns:
        print(f"{text:<38}{calls:>14}{planner_ms:>12.2f}{turn_ms:>10.1f}{planner_ms / turn_ms:>15.4f}")
    print()
    per_turn = length["added"]
    late = per_turn[-1]
    around = statistics.median(per_turn[-len(CONVERSATION):])
    amortised = statistics.mean(per_turn[1:])
    snapshots = [i + 1 for i, b in enumerate(per_turn) if b > 2 * around]
    print(f"thread length: bytes added by turn 2: {per_turn[1]}; by turn {args.turns}: {late} ({late / per_turn[1]:.2f}x); "
          f"median of the last {len(CONVERSATION)} turns {around / per_turn[1]:.2f}x; mean of turns 2-{args.turns}, "
          f"full snapshots included (at turns {snapshots or 'none'}), {amortised / per_turn[1]:.2f}x; "
          f"{sum(per_turn)} bytes stored in all, {length['disk']} on disk with the write-ahead log")
    reads = length["reads"]
    print("  " + reads.row("read long thread", "read 2-turn thread"))
    print("  " + reads.row("read 2-turn thread"))
    long_ms, fresh_ms = statistics.median(length["turn_long"]) * 1e3, statistics.median(length["turn_fresh"]) * 1e3
    print(f"  the same question as turn {args.turns + 1}+: {long_ms:.1f} ms; as turn 2 of a fresh thread: "
          f"{fresh_ms:.1f} ms ({long_ms / fresh_ms:.2f}x)")
    print()
    print(f"{'image':<12}{'PNG bytes':>12}{'checkpoint bytes/turn':>24}{'checkpoint / image':>20}")
    for side, image_bytes, added in growth:
        print(f"{f'{side}x{side}':<12}{image_bytes:>12}{added:>24}{added / image_bytes:>20.4f}")
    calls = [c for _, c, _, _ in turns]
    share = max(p / t for _, _, p, t in turns)
    spread = max(a for _, _, a in growth) / max(1, min(a for _, _, a in growth))
    read_ratio = reads.ratio("read long thread", "read 2-turn thread")[0]
    print(f"summary: planner calls per turn {min(calls)}-{max(calls)} (mean {np.mean(calls):.2f}); planner at most "
          f"{share:.2%} of a turn; checkpoint bytes per turn near turn {args.turns} = {around / per_turn[1]:.2f}x turn 2's, "
          f"{amortised / per_turn[1]:.2f}x with the periodic full snapshots spread over turns 2-{args.turns} (target <= 1.2); reading a {args.turns}-turn thread {read_ratio:.1f}x a 2-turn one, a turn on it "
          f"{long_ms / fresh_ms:.2f}x; checkpoint bytes per turn vary {spread:.2f}x while the image grows "
          f"{growth[-1][1] / growth[0][1]:.0f}x (state holds ids, not pixels)")


if __name__ == "__main__":
    main()
