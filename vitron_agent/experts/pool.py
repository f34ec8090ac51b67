"""The model pool: loads experts lazily, keeps them warm, evicts least-recently-used under a budget.

One pool serves every thread of an agent. ``with pool.use("grabcut") as expert:`` loads on first
use only; an expert in use is never evicted. One instance runs one call at a time (experts keep
per-call state: SAM its embedded image, a diffusion pipeline its scheduler's timesteps), so two calls to
the same expert take turns while calls to different experts run in parallel. Counters (``stats``) make
"loaded once" provable.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import ExpertFailure, UnavailableError
from .base import Expert
from .registry import ExpertRegistry

__all__ = ["ExpertPool", "ModelPool", "PoolStats", "is_out_of_memory"]

_LOADING = threading.Lock()
"""Held while any expert loads: loaders patch process-wide state (accelerate's ``init_empty_weights``
swaps ``nn.Module.register_parameter`` for every thread), so a model built in parallel with a diffusers
load would get meta tensors. Runs stay parallel; only loads take turns."""


@dataclass
class PoolStats:
    """Counts since the pool was made: ``loads`` and ``hits`` per expert, and evictions."""

    loads: dict[str, int] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    evictions: list[str] = field(default_factory=list)
    load_seconds: dict[str, float] = field(default_factory=dict)


class ExpertPool(Protocol):
    """What the graph needs of a pool: ``use(name)`` yields something with ``run(call) -> ExpertResult``.
    ``ModelPool`` runs experts in this process; ``RayServePool`` on Ray Serve replicas."""

    registry: ExpertRegistry
    stats: PoolStats

    def use(self, name: str) -> AbstractContextManager[Any]: ...

    def loaded(self) -> list[str]: ...

    def memory(self) -> dict[str, int]: ...

    def evict(self, name: str) -> bool: ...

    def clear(self) -> None: ...


@dataclass
class _Slot:
    expert: Expert
    ram: int
    vram: int
    users: int = 0
    """Calls holding or waiting for this instance; a slot with users is never evicted."""
    running: threading.Lock = field(default_factory=threading.Lock)
    """Held while one call runs on the instance."""


class ModelPool:
    """Thread-safe cache of loaded experts.

    ``ram_budget`` / ``vram_budget``: bytes the loaded experts may hold together (``None`` = no
    limit). When a load pushes the total over a budget, idle experts are unloaded oldest-first.
    """

    def __init__(
        self,
        registry: ExpertRegistry,
        *,
        ram_budget: int | None = None,
        vram_budget: int | None = None,
        device: str = "auto",
        dtype: str | None = None,
        cpu_offload: bool = False,
    ) -> None:
        """``device`` and ``dtype``: passed to each expert's ``load`` (``auto``: a torch expert picks CUDA if
        present, and the precision ``resolve_dtype`` gives there). ``cpu_offload``: every expert that can
        offload does (one registered with ``cpu_offload=True`` does so whatever this says)."""
        self.registry = registry
        self.ram_budget = ram_budget
        self.vram_budget = vram_budget
        self.device = device
        self.dtype = dtype
        self.cpu_offload = cpu_offload
        self.stats = PoolStats()
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._lock = threading.RLock()
        self._load_locks: dict[str, threading.Lock] = {}
        self._sizes: dict[str, dict[str, int]] = {}  # what each expert held when it was last loaded

    @contextmanager
    def use(self, name: str) -> Iterator[Expert]:
        """Yield the loaded expert ``name``, loading it on first use; waits while another call runs on it."""
        slot = self._acquire(name)
        try:
            with slot.running:
                yield slot.expert
        finally:
            with self._lock:
                slot.users -= 1
            # experts in use can push the pool over budget; once they are idle, it must come back within it
            self._enforce_budget(keep=name)

    def loaded(self) -> list[str]:
        """Names currently loaded, least recently used first."""
        with self._lock:
            return list(self._slots)

    def memory(self) -> dict[str, int]:
        """Bytes held by loaded experts: ``{"ram": n, "vram": n}``."""
        with self._lock:
            return {
                "ram": sum(s.ram for s in self._slots.values()),
                "vram": sum(s.vram for s in self._slots.values()),
            }

    def evict(self, name: str) -> bool:
        """Unload one idle expert now; False if it is not loaded or in use."""
        with self._lock:
            slot = self._slots.get(name)
            if slot is None or slot.users:
                return False
            del self._slots[name]
            self.stats.evictions.append(name)
        slot.expert.unload()
        _release_memory()
        return True

    def clear(self) -> None:
        """Unload every idle expert."""
        for name in self.loaded():
            self.evict(name)

    def _acquire(self, name: str) -> _Slot:
        with self._lock:
            slot = self._slots.get(name)
            if slot is not None:
                slot.users += 1
                self._slots.move_to_end(name)
                self.stats.hits[name] = self.stats.hits.get(name, 0) + 1
                return slot
            load_lock = self._load_locks.setdefault(name, threading.Lock())
        with load_lock:  # one loader per expert; others wait and then hit
            with self._lock:
                if name in self._slots:
                    return self._acquire(name)
            known = self._sizes.get(name)
            if known is not None:  # reloading: make room first, so the budget holds during the load too
                self._enforce_budget(keep=name, incoming=known)
            slot = self._load(name)
            with self._lock:
                self._sizes[name] = {"ram": slot.ram, "vram": slot.vram}
                slot.users += 1
                self._slots[name] = slot
                self._slots.move_to_end(name)
            self._enforce_budget(keep=name)
            return slot

    def _load(self, name: str) -> _Slot:
        import time

        expert = self.registry.create(name)
        expert.cpu_offload = expert.cpu_offload or self.cpu_offload
        expert.require_modules()
        start = time.perf_counter()
        vram_before = _vram_allocated()
        try:
            with _LOADING:
                expert.load(self.device, self.dtype)
        except UnavailableError:
            raise
        except MemoryError as exc:
            raise ExpertFailure(f"{name} ran out of memory while loading; free memory or lower the pool budget") from exc
        except Exception as exc:
            if is_out_of_memory(exc):
                raise ExpertFailure(
                    f"{name} ran out of memory while loading on {self.device}; "
                    "use a smaller dtype, CPU offload, or a lower pool budget"
                ) from exc
            raise
        expert.loaded = True
        with self._lock:
            self.stats.loads[name] = self.stats.loads.get(name, 0) + 1
            self.stats.load_seconds[name] = self.stats.load_seconds.get(name, 0.0) + time.perf_counter() - start
        held = expert.memory_bytes()
        vram = int(held.get("vram", 0))
        if vram_before is not None:  # what the load really took on the GPU (buffers, caches), not what it declares
            vram = max(vram, _vram_allocated() - vram_before)
        return _Slot(expert, int(held.get("ram", 0)), vram)

    def _enforce_budget(self, keep: str, incoming: dict[str, int] | None = None) -> None:
        """Evict idle experts, least recently used first, until the loaded ones (plus ``incoming``, an expert
        about to load) fit each budget."""
        for kind, budget in (("ram", self.ram_budget), ("vram", self.vram_budget)):
            if budget is None:
                continue
            while self.memory()[kind] + (incoming or {}).get(kind, 0) > budget:
                with self._lock:
                    idle = [n for n, s in self._slots.items() if n != keep and not s.users and getattr(s, kind)]
                if not idle or not self.evict(idle[0]):
                    break


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception is a (CUDA or host) out-of-memory error, whatever library raised it."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return "out of memory" in text or "outofmemory" in text


def _vram_allocated() -> int | None:
    """Bytes torch holds on the current GPU, or None without torch or a GPU (nothing is imported for it)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return int(torch.cuda.memory_allocated())


def _release_memory() -> None:
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    _trim_heap()


def _trim_heap() -> None:
    """Hand freed heap pages back to the OS: glibc keeps them otherwise, and the process would stay as large as
    with every evicted model still loaded."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, for one): nothing to trim this way
        pass
