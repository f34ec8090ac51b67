"""Worker threads for expert calls under a time limit: results, errors and context come back; threads are reused;
a call past its limit blocks nobody."""

from __future__ import annotations

import contextvars
import os
import threading
import time
import weakref

import pytest

from vitron_agent import workers

_REQUEST = contextvars.ContextVar("request", default="none")


def test_a_job_returns_its_value_in_the_callers_context():
    _REQUEST.set("turn 7")
    job = workers.start(lambda: (_REQUEST.get(), threading.current_thread().name), "vitron-expert-echo")
    assert job.wait(10)
    assert job.result() == ("turn 7", "vitron-expert-echo")


def test_a_jobs_exception_is_raised_in_the_caller():
    def crash() -> None:
        raise ValueError("expert crashed")

    job = workers.start(crash, "vitron-expert-crash")
    assert job.wait(10)
    with pytest.raises(ValueError, match="expert crashed"):
        job.result()


def test_threads_are_kept_for_the_next_calls():
    local = threading.local()

    def work() -> bool:
        fresh = not getattr(local, "used", False)  # a thread-local outlives a call only on a thread that is reused
        local.used = True
        return fresh

    fresh = 0
    for _ in range(20):
        job = workers.start(work, "vitron-expert-count")
        assert job.wait(10)
        fresh += job.result()
    # one call at a time: the threads kept idle (earlier tests may have left some) and one more serve them all
    assert fresh <= workers.KEEP_IDLE + 1


def test_a_call_past_its_limit_does_not_hold_up_the_next_one():
    release = threading.Event()
    stuck = workers.start(lambda: release.wait(30), "vitron-expert-stuck")
    assert not stuck.wait(0.05)  # the caller goes on
    quick = workers.start(lambda: "done", "vitron-expert-quick")
    assert quick.wait(10) and quick.result() == "done"
    assert not stuck.wait(0)  # still running in the background, on its own thread
    release.set()
    assert stuck.wait(10) and stuck.result() is True


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_its_own_threads():
    assert workers.start(lambda: 1, "vitron-expert-parent").wait(10)  # the parent has a kept thread
    pid = os.fork()
    if pid == 0:  # the child: the parent's thread does not exist here
        job = workers.start(lambda: 42, "vitron-expert-child")
        os._exit(0 if job.wait(10) and job.result() == 42 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_a_finished_call_is_let_go_before_the_next_one_arrives():
    class Inputs:  # stands for the arrays and the LangGraph run a call's closure holds
        pass

    inputs = Inputs()
    gone = weakref.ref(inputs)
    job = workers.start(lambda held=inputs: held is not None, "vitron-expert-release")
    assert job.wait(10) and job.result() is True
    del job, inputs
    deadline = time.monotonic() + 5
    while gone() is not None and time.monotonic() < deadline:  # the worker drops it just after answering
        time.sleep(0.01)
    assert gone() is None  # held by an idle worker, it used to be freed inside the next call, on its clock


def test_a_job_runs_torch_with_its_callers_thread_count():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    release = threading.Event()

    def first_use() -> int:
        release.wait(10)
        return torch.get_num_threads()  # torch's first op on this thread fixes its count (OpenMP's is per thread)

    try:
        torch.set_num_threads(2)
        primed = [workers.start(first_use, "vitron-expert-prime") for _ in range(workers.KEEP_IDLE + 1)]
        release.set()
        assert all(job.wait(10) and job.result() == 2 for job in primed)  # every kept thread now counts 2
        torch.set_num_threads(1)  # as a caller does (tests do, for tiny models)
        job = workers.start(torch.get_num_threads, "vitron-expert-count")
        assert job.wait(10) and job.result() == 1  # else an expert's sums differ from a direct call's
    finally:
        torch.set_num_threads(before)
