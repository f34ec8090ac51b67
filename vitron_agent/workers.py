"""Threads kept from call to call, for work that runs beside the caller: expert calls under a time limit, the
media store's copy of an upload while the upload is decoded, and a preview drawn while a call's outputs are written.

An expert call runs on a thread other than the graph's so that a turn can go on past the expert time limit (a
thread cannot be stopped). Starting and joining a new thread for every call cost about as much as the rest of a
turn's bookkeeping for a fast expert, so finished threads wait for the next call instead; a thread still busy
past its limit is simply not handed new work until it finishes.
"""

from __future__ import annotations

import contextvars
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Job", "start"]

T = TypeVar("T")

KEEP_IDLE = 4
"""Idle threads kept at most; more end once their call is done (parallel branches may have needed more)."""


class Job(Generic[T]):
    """One call handed to a worker thread: wait for it, then read its result (or its error, raised)."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._work = work
        self._name = name
        self._context = contextvars.copy_context()  # the caller's: LangGraph's stream writer lives there
        self._torch_threads = _torch_threads()  # the caller's, as its context
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def wait(self, timeout: float | None) -> bool:
        """Whether the call finished within ``timeout`` seconds (None: waits for it)."""
        return self._done.wait(timeout)

    def result(self) -> T:
        """The call's return value; its exception is raised here, in the caller's thread."""
        if self._error is not None:
            raise self._error
        return self._value

    def _run(self) -> None:
        """Run the call; ``_finish`` tells the caller (the worker counts itself idle in between)."""
        threading.current_thread().name = self._name
        if self._torch_threads is not None and _torch_threads() != self._torch_threads:
            import torch

            torch.set_num_threads(self._torch_threads)
        try:
            self._value = self._context.run(self._work)
        except BaseException as exc:  # handed to the caller by ``result``
            self._error = exc

    def _finish(self) -> None:
        self._done.set()


def _torch_threads() -> int | None:
    """This thread's torch thread count, when torch is loaded (never imported here). Each thread keeps its own
    (OpenMP's setting is per thread, fixed at a thread's first parallel op), so a kept worker could run an
    expert with another count than its caller's: other sums, other pixels than a direct call on the caller's
    thread gives."""
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


class _Workers:
    """Daemon threads taking jobs from one queue. ``_idle`` counts waiting threads no job has been promised
    to, so every job put finds a thread: an idle one, or one started for it."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Job[Any]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, job: Job[Any]) -> None:
        with self._lock:
            spare = self._idle > 0
            if spare:
                self._idle -= 1
        if not spare:
            threading.Thread(target=self._serve, name="vitron-expert", daemon=True).start()
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job._run()
            finally:
                with self._lock:  # idle before the caller hears back, so its next call finds this thread
                    keep = self._idle < KEEP_IDLE
                    if keep:
                        self._idle += 1
                job._finish()
            # drop the finished call now: held until the next call arrived, its closure and context (the call's
            # arrays, the LangGraph run it came from) were freed inside that next call, on its critical path
            del job
            if not keep:
                return


_workers = _Workers()


def _forget_workers() -> None:
    """A forked child has none of its parent's threads: it starts its own."""
    global _workers
    _workers = _Workers()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def start(work: Callable[[], T], name: str) -> Job[T]:
    """Run ``work()`` on a worker thread, in the caller's context variables; the thread is called ``name``
    while it runs."""
    job = Job(work, name)
    _workers.submit(job)
    return job
