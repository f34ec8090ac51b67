"""Runtime machinery passed as LangGraph's ``context``: never checkpointed, shared by threads."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..config import AgentConfig
from ..experts.pool import ModelPool
from ..experts.registry import ExpertRegistry
from ..planners.base import Planner
from ..stores.media import MediaStore
from ..stores.signals import SignalStore

__all__ = ["AgentContext", "thread_dir"]

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
    pool: ModelPool
    planner: Planner
    config: AgentConfig
    _stores: dict[str, tuple[MediaStore, SignalStore]] = field(default_factory=dict, repr=False)
    _thread_locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def thread_lock(self, thread_id: str) -> threading.Lock:
        """One lock per thread, for writers outside the graph (tools of host agents) that update its state."""
        with self._lock:
            return self._thread_locks.setdefault(thread_id, threading.Lock())

    def stores(self, thread_id: str) -> tuple[MediaStore, SignalStore]:
        """The media and signal stores of one thread (created on first use)."""
        with self._lock:
            if thread_id not in self._stores:
                root = thread_dir(self.config.state_dir, thread_id)
                self._stores[thread_id] = (
                    MediaStore(root / "media", self.config.limits, preview_format=self.config.preview_format,
                               allowed_roots=self.config.media_roots),
                    SignalStore(root / "signals"),
                )
            return self._stores[thread_id]
