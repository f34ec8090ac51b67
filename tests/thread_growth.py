"""Checkpoint growth along one thread, whatever the checkpointer: the same check for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vitron_agent.protocol import Invocation


def assert_bytes_per_turn_stay_flat(agent, image: Path, turns: int, thread_bytes: Callable[[str], int]) -> str:
    """Run ``turns`` segment turns on one thread and check that the last adds no more checkpoint bytes
    (``thread_bytes(thread)``: what the checkpointer holds for it) than the second, and that the whole thread
    reads back from those deltas; returns the thread."""
    segment = [Invocation(module="box_mask", task="segment", region={"box": [50, 30, 70, 40]}, inputs=["u0"])]
    thread, added, before = None, [], 0
    for turn in range(1, turns + 1):
        result = agent.invoke(f"turn {turn}", images=[image] if turn == 1 else [], thread=thread,
                              invocations=segment)
        assert result.errors == [], result.errors
        thread = result.thread
        total = thread_bytes(thread)
        added.append(total - before)
        before = total
    # each turn writes what it made, not the whole thread again (which grows with every turn)
    assert added[-1] <= 1.1 * added[1], added
    state = agent.state(thread)
    assert state["turn"] == turns and [m.type for m in state["messages"]].count("human") == turns
    assert len(state["calls"]) == turns and all(c["status"] == "done" for c in state["calls"].values())
    return thread
