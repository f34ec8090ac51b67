"""Concurrency: 8 threads x 20 turns on one agent, one pool and one SQLite checkpointer.

Each conversation starts from its own version of a real photo and chains edits on its latest output,
so every artifact can be predicted from that conversation's input alone: any cross-talk between
threads' media or state shows as a wrong pixel. Every fourth turn segments the cup with the embedded
GrabCut expert, in a box only that conversation uses, and must give the mask GrabCut gives alone. The edit experts declare 40 MB each against a 100 MB pool
budget; between rounds (every thread idle) the pool must be back within budget. Threads are joined
with a timeout, so a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from vitron_agent import AgentConfig, VitronAgent
from vitron_agent.experts.base import Expert, ExpertCall, ExpertResult, ExpertSpec
from vitron_agent.experts.pool import ModelPool
from vitron_agent.experts.registry import ExpertRegistry
from vitron_agent.graph.context import thread_dir
from vitron_agent.stores import MediaRef

from ..conftest import save_png

THREADS, TURNS = 8, 20
MB = 2**20
EXPERT_RAM, BUDGET = 40 * MB, 100 * MB
SHIFTS = {"shift_a": 17, "shift_b": 53, "shift_c": 101, "shift_d": 131, "shift_e": 197}
"""Edit experts: each adds its own constant to every channel (mod 256); five of them, two fit the budget."""


class _ShiftExpert(Expert):
    """``(image + shift) mod 256``: an exact, checkable edit; declares ``EXPERT_RAM`` while loaded."""

    abstract = True
    shift = 0

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        self.loaded = True

    def run(self, call: ExpertCall) -> ExpertResult:
        time.sleep(0.005)  # long enough for calls of other threads to overlap
        image = call.images[0]
        return ExpertResult(images=[((image.astype(np.int16) + self.shift) % 256).astype(np.uint8)],
                            text=f"shifted by {self.shift}")

    def memory_bytes(self) -> dict[str, int]:
        return {"ram": EXPERT_RAM, "vram": 0}


def _shift_expert(name: str, shift: int) -> type[Expert]:
    spec = ExpertSpec(name=name, tasks=("edit_image",), edit_ops=("restyle",), description=f"Adds {shift}.",
                      outputs=("image",))
    return type(name.title().replace("_", ""), (_ShiftExpert,), {"spec": spec, "shift": shift})


def _photo(thread: int) -> np.ndarray:
    """This conversation's own image: the real coffee photo at 120x80, rolled ``thread`` pixels right."""
    from skimage import data

    coffee = np.asarray(Image.fromarray(data.coffee()).resize((120, 80), Image.LANCZOS))
    return np.ascontiguousarray(np.roll(coffee, thread, axis=1))


def _box(thread: int) -> list[int]:
    """The box around the cup in this conversation's image (it moves with the roll)."""
    return [34 + thread, 4, 82 + thread, 60]


def _grabcut_reference(thread: int) -> np.ndarray:
    """The mask GrabCut gives this conversation's image and box, computed alone, outside any graph."""
    from vitron_agent.experts.base import ExpertCall
    from vitron_agent.protocol import Invocation
    from vitron_agent.tools.grabcut import GrabCutExpert

    expert = GrabCutExpert()
    expert.load()
    call = ExpertCall(invocation=Invocation(task="segment", region={"box": _box(thread)}), images=[_photo(thread)],
                      boxes=[tuple(_box(thread))])
    return expert.run(call).masks[0]


def _conversation(agent: VitronAgent, index: int, photo: Path, reference: np.ndarray, rounds: threading.Barrier,
                  failures: list[BaseException]) -> None:
    thread = f"t{index}"
    original = np.asarray(Image.open(photo).convert("RGB"))
    expected, latest = original, "u0"
    try:
        for turn in range(TURNS):
            images = [photo] if turn == 0 else []
            if turn % 4 == 3:
                call = {"module": "grabcut", "task": "segment", "region": {"box": _box(index)}, "inputs": ["u0"]}
                result = agent.invoke("segment my box", thread=thread, images=images, invocations=[call])
                assert result.errors == [], result.errors
                mask = np.asarray(Image.open(next(a.path for a in result.artifacts if a.kind == "mask"))) > 127
                assert mask.sum() > 500 and np.array_equal(mask, reference), f"{thread} turn {turn}"
            else:
                name = sorted(SHIFTS)[(index + turn) % len(SHIFTS)]
                call = {"module": name, "task": "edit_image", "args": {"op": "restyle"}, "inputs": [latest]}
                result = agent.invoke("shift it", thread=thread, images=images, invocations=[call])
                assert result.errors == [], result.errors
                artifact = next(a for a in result.artifacts if a.kind == "image" and not a.preview)
                expected = ((expected.astype(np.int16) + SHIFTS[name]) % 256).astype(np.uint8)
                assert np.array_equal(np.asarray(Image.open(artifact.path)), expected), f"{thread} turn {turn}"
                assert Path(artifact.path).is_relative_to(thread_dir(agent.config.state_dir, thread).resolve())
                latest = artifact.id
            rounds.wait()
    except BaseException as exc:  # reported by the main thread
        failures.append(exc)
        rounds.abort()


def test_eight_threads_twenty_turns_one_agent_one_pool(tmp_path, checkpointer_url):
    registry = ExpertRegistry.default(entry_points_too=False)
    for name, shift in SHIFTS.items():
        registry.register(_shift_expert(name, shift))
    config = AgentConfig(state_dir=tmp_path / "state", ram_budget=BUDGET, checkpointer=checkpointer_url)
    photos = [save_png(_photo(i), tmp_path / f"photo{i}.png") for i in range(THREADS)]
    assert len({p.read_bytes() for p in photos}) == THREADS  # every conversation starts from its own image
    references = [_grabcut_reference(i) for i in range(THREADS)]
    assert not any(np.array_equal(references[0], r) for r in references[1:])  # and gets its own mask
    over_budget: list[tuple[int, int, list[str]]] = []

    with VitronAgent(config, registry=registry) as agent:
        def between_rounds() -> None:  # every thread is idle here: the pool must be within its budget
            held = agent.pool.memory()["ram"]
            if held > BUDGET:
                over_budget.append((len(over_budget), held // MB, agent.pool.loaded()))

        rounds = threading.Barrier(THREADS, action=between_rounds, timeout=120)
        failures: list[BaseException] = []
        workers = [threading.Thread(target=_conversation, args=(agent, i, photos[i], references[i], rounds, failures), daemon=True)
                   for i in range(THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=180)
        assert not any(w.is_alive() for w in workers), "deadlock: a conversation did not finish in time"
        if failures:
            raise failures[0]
        assert over_budget == [], f"pool over its {BUDGET // MB} MB budget while idle: {over_budget[:3]}"
        stats = agent.pool.stats
        assert sum(stats.loads.get(n, 0) for n in SHIFTS) > len(SHIFTS)  # the budget made it evict and reload
        assert stats.loads.get("grabcut") == 1  # loaded once, shared by all threads

        for index in range(THREADS):
            state = agent.state(f"t{index}")
            assert state["turn"] == TURNS
            assert [m.type for m in state["messages"]].count("human") == TURNS
            assert len(state["calls"]) == TURNS and all(r["status"] == "done" for r in state["calls"].values())
            assert [k for k in state["media"] if k.startswith("u")] == ["u0"]
            store, _ = agent.context.stores(f"t{index}")
            assert store.root == (thread_dir(config.state_dir, f"t{index}") / "media").resolve()
            original = np.asarray(Image.open(photos[index]).convert("RGB"))
            assert np.array_equal(store.load_image(MediaRef(**state["media"]["u0"])), original)



def test_an_idle_pool_is_back_within_budget_after_calls_overlapped():
    """Three experts in use at once may exceed a two-expert budget; once they are idle, the pool must not."""
    registry = ExpertRegistry()
    for name in ("shift_a", "shift_b", "shift_c"):
        registry.register(_shift_expert(name, SHIFTS[name]))
    pool = ModelPool(registry, ram_budget=BUDGET)
    with pool.use("shift_a"), pool.use("shift_b"), pool.use("shift_c"):
        assert pool.memory()["ram"] == 3 * EXPERT_RAM  # in use: none can be evicted
    assert pool.memory()["ram"] <= BUDGET and len(pool.loaded()) == 2 and len(pool.stats.evictions) == 1
    kept = pool.loaded()
    with pool.use(kept[0]), pool.use(kept[1]):  # hits load nothing, evict nothing
        pass
    assert pool.loaded() == kept and len(pool.stats.evictions) == 1 and sum(pool.stats.loads.values()) == 3


def test_stores_take_the_same_bytes_from_many_threads_at_once(tmp_path):
    """Parallel calls of one turn may produce identical outputs: storing them at once must not fail."""
    from vitron_agent.stores import MediaStore, SignalStore

    store, signals = MediaStore(tmp_path / "media"), SignalStore(tmp_path / "signals")
    masks = [np.arange(120 * 160).reshape(120, 160) % (n + 2) == 0 for n in range(40)]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def write() -> None:  # every thread stores the same 40 masks and signals, in the same order
        start.wait()
        try:
            for n, mask in enumerate(masks):
                store.put_mask(mask, f"o{n}", source="test")
                signals.put(np.full((4, 64), n, np.float32))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=write) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert len(list((tmp_path / "media" / "blobs").iterdir())) == 40  # content-addressed, no temp files left
    assert len(list((tmp_path / "signals").iterdir())) == 40
