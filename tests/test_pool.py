"""The model pool: lazy loads, warm hits, LRU eviction under a budget, thread safety."""

from __future__ import annotations

import threading

import pytest

from vitron_agent.errors import ExpertFailure
from vitron_agent.experts.base import Expert, ExpertCall, ExpertResult, ExpertSpec
from vitron_agent.experts.pool import ModelPool
from vitron_agent.experts.registry import ExpertRegistry


def _sized(name: str, ram: int) -> type[Expert]:
    class Sized(Expert):
        spec = ExpertSpec(name=name, tasks=("segment",), description="holds memory", outputs=("mask",))
        load_count = 0

        def load(self, device="cpu", dtype=None):
            type(self).load_count += 1
            self.blob = bytearray(ram)

        def run(self, call: ExpertCall) -> ExpertResult:
            return ExpertResult()

        def memory_bytes(self):
            return {"ram": len(self.blob), "vram": 0}

        def unload(self):
            self.blob = bytearray()
            super().unload()

    return Sized


def test_second_use_loads_nothing():
    registry = ExpertRegistry()
    registry.register(_sized("a", 10))
    pool = ModelPool(registry)
    with pool.use("a") as first:
        pass
    with pool.use("a") as second:
        pass
    assert first is second and pool.stats.loads == {"a": 1} and pool.stats.hits == {"a": 1}


def test_lru_eviction_respects_budget_and_spares_experts_in_use():
    registry = ExpertRegistry()
    for name in "abc":
        registry.register(_sized(name, 1000))
    pool = ModelPool(registry, ram_budget=2500)
    with pool.use("a"):
        pass
    with pool.use("b"):
        pass
    with pool.use("a"):  # a is now the most recently used
        pass
    with pool.use("c"):
        pass
    assert pool.loaded() == ["a", "c"] and pool.stats.evictions == ["b"]
    assert pool.memory()["ram"] <= 2500
    with pool.use("a"), pool.use("b"):  # a in use: c goes, a stays
        assert "a" in pool.loaded()
    assert pool.memory()["ram"] <= 2500 or len(pool.loaded()) == 2


def test_concurrent_first_use_loads_once():
    registry = ExpertRegistry()
    expert = _sized("slow", 10)
    registry.register(expert)
    pool = ModelPool(registry)
    start = threading.Barrier(8)

    def worker():
        start.wait()
        with pool.use("slow"):
            pass

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert expert.load_count == 1 and pool.stats.loads["slow"] == 1 and pool.stats.hits["slow"] == 7


def test_out_of_memory_while_loading_names_the_expert_and_the_fix():
    class Greedy(Expert):
        spec = ExpertSpec(name="greedy", tasks=("segment",), description="too big", outputs=("mask",))

        def load(self, device="cpu", dtype=None):
            raise RuntimeError("CUDA out of memory. Tried to allocate 80 GiB")

        def run(self, call):
            return ExpertResult()

    registry = ExpertRegistry()
    registry.register(Greedy)
    with pytest.raises(ExpertFailure, match="greedy ran out of memory while loading"):
        with ModelPool(registry).use("greedy"):
            pass


def test_missing_extra_is_named():
    class NeedsSam(Expert):
        spec = ExpertSpec(name="needs_sam", tasks=("segment",), description="x", outputs=("mask",),
                          requires=("segment_anything_not_here",), extra="sam")

        def load(self, device="cpu", dtype=None):
            pass

        def run(self, call):
            return ExpertResult()

    registry = ExpertRegistry()
    registry.register(NeedsSam)
    assert not registry.availability("needs_sam").ok
    with pytest.raises(Exception, match=r'pip install "vitron-agent\[sam\]"'):
        with ModelPool(registry).use("needs_sam"):
            pass
