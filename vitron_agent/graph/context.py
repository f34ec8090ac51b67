"""Runtime machinery passed as LangGraph's ``context``: never checkpointed, shared by threads."""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import AgentConfig
from ..errors import BadInputError
from ..experts.pool import ExpertPool
from ..experts.registry import ExpertRegistry
from ..planners.base import Planner
from ..stores.cache import DecodeCache
from ..stores.media import MediaStore
from ..stores.signals import SignalStore

__all__ = ["AgentContext", "thread_dir", "context_of"]

_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def thread_dir(state_dir: Path, thread_id: str) -> Path:
    """Per-thread folder; unusual thread ids are hashed so they cannot escape ``state_dir``."""
    name = thread_id if _SAFE.match(thread_id) and thread_id not in (".", "..") else (
        "h-" + hashlib.sha256(thread_id.encode()).hexdigest()[:24]
    )
    return state_dir / "threads" / name


@dataclass
class AgentContext:
    """Registry, pool, planner and stores: what nodes need but state must not hold."""

    registry: ExpertRegistry
    pool: ExpertPool
    planner: Planner
    config: AgentConfig
    decode_cache: DecodeCache = field(default_factory=DecodeCache, repr=False)
    """Decoded stills of every thread's media store, within one byte budget."""
    max_open_threads: int = 32
    """Threads whose stores stay open; older ones are reopened (cheaply, from disk) when used again."""
    _stores: OrderedDict[str, tuple[MediaStore, SignalStore]] = field(default_factory=OrderedDict, repr=False)
    _thread_locks: weakref.WeakValueDictionary[str, Any] = field(default_factory=weakref.WeakValueDictionary,
                                                                 repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def thread_lock(self, thread_id: str) -> Any:
        """One re-entrant lock per thread, for turns started outside the graph (tools of host agents); kept
        only while someone holds it."""
        with self._lock:
            lock = self._thread_locks.get(thread_id)
            if lock is None:
                lock = _ThreadLock()
                self._thread_locks[thread_id] = lock
            return lock

    def stores(self, thread_id: str) -> tuple[MediaStore, SignalStore]:
        """The media and signal stores of one thread (opened on first use; the least recently used are
        closed past ``max_open_threads``, so memory does not grow with the threads served)."""
        with self._lock:
            if thread_id in self._stores:
                self._stores.move_to_end(thread_id)
                return self._stores[thread_id]
            root = thread_dir(self.config.state_dir, thread_id)
            opened = (MediaStore(root / "media", self.config.limits, cache=self.decode_cache,
                                 preview_format=self.config.preview_format, allowed_roots=self.config.media_roots,
                                 preview_size=self.config.preview_size,
                                 preview_video_size=self.config.preview_video_size, previews=self.config.previews),
                      SignalStore(root / "signals"))
            self._stores[thread_id] = opened
            while len(self._stores) > self.max_open_threads:
                self._stores.popitem(last=False)
            return opened

    def open_threads(self) -> list[str]:
        """Threads whose stores are open now, least recently used first."""
        with self._lock:
            return list(self._stores)


class _ThreadLock:
    """A re-entrant lock that a weak dictionary can hold (``threading.RLock`` objects take no weak references)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> _ThreadLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()


def context_of(runtime: Any, bound: AgentContext | None = None) -> AgentContext:
    """The run's ``AgentContext``: the one passed as ``context=``, else the one the graph was built with; a clear
    error when there is neither (the graph cannot run without its experts and planner)."""
    context = getattr(runtime, "context", None)
    if isinstance(context, AgentContext):
        return context
    if bound is not None:
        return bound
    got = "no context" if context is None else f"a {type(context).__name__}"
    raise BadInputError(f"the VITRON graph got {got}; run it with context=agent.context (an AgentContext: registry, "
                        "pool, planner, config), or add agent.as_subgraph() to your graph, which brings its own")
