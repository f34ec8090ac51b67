"""Crash and resume: a process killed with SIGKILL inside an expert, and the same thread reopened.

``crash_worker`` runs turn 1 (a mask and signal embeddings) and then hangs in the expert of turn 2;
the test kills it mid-expert. Reopening the state directory, nothing of turn 1 is lost (messages,
artifact files, signal); the interrupted turn can be resumed to completion, or left for a new turn,
which closes it with an error so the history stays well-formed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from langchain_core.messages import AIMessage, ToolMessage
from PIL import Image

from vitron_agent import AgentConfig, VitronAgent
from vitron_agent.stores import MediaRef, SignalStore

from ..conftest import fresh_checkpointer, save_png
from ..postgres_server import copy_database, drop_database
from . import crash_worker
from .conftest import small_photo

REPO = Path(__file__).resolve().parents[2]
THREAD = "crashed"


@pytest.fixture(scope="module")
def killed_checkpointer(checkpointer_backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The crashed worker's checkpointer: SQLite in its state folder, or a PostgreSQL database of its own."""
    yield from fresh_checkpointer(checkpointer_backend, request)


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory, killed_checkpointer: str | None) -> tuple[Path, dict, Path]:
    """A state directory (and checkpointer) as a SIGKILL mid-expert left it, the worker's report, and the folder
    of inputs."""
    root = tmp_path_factory.mktemp("crash")
    first = save_png(small_photo(0), root / "first.png")
    second = save_png(small_photo(9), root / "second.png")
    ready, report = root / "ready", root / "report.json"
    env = {**os.environ, "VITRON_TEST_READY": str(ready), "PYTHONPATH": str(REPO),
           "VITRON_CHECKPOINTER": killed_checkpointer or "sqlite"}
    command = [sys.executable, "-m", "tests.reliability.crash_worker", str(root / "state"), THREAD, str(first),
               str(second), str(report)]
    worker = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not ready.exists():
            if worker.poll() is not None:
                pytest.fail(f"the worker exited early ({worker.returncode}): {worker.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the worker never reached the slow expert")
            time.sleep(0.05)
        _wait_for_checkpointed_call(AgentConfig(state_dir=root / "state", checkpointer=killed_checkpointer), deadline)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    assert worker.returncode == -signal.SIGKILL
    return root / "state", json.loads(report.read_text()), root


def _wait_for_checkpointed_call(config: AgentConfig, deadline: float) -> None:
    """Until the checkpoint shows turn 2's call queued (checkpoints are written asynchronously): the kill then
    lands while the expert runs and the turn's plan is saved, the case a resume must finish."""
    with VitronAgent(config, registry=crash_worker.registry()) as watcher:
        while watcher.state(THREAD).get("calls", {}).get("2.0.c1", {}).get("status") != "queued":
            if time.monotonic() > deadline:
                pytest.fail("turn 2's call never reached the checkpoint")
            time.sleep(0.05)


@pytest.fixture
def reopened(killed, killed_checkpointer, tmp_path, request):
    """A new agent (as in a new process) on a copy of the killed worker's state directory and checkpointer."""
    state_dir, report, inputs = killed
    copy = shutil.copytree(state_dir, tmp_path / "state")
    server = request.getfixturevalue("postgres_server_url") if killed_checkpointer is not None else None
    checkpointer = copy_database(server, killed_checkpointer) if server is not None else None
    with VitronAgent(AgentConfig(state_dir=copy, checkpointer=checkpointer), registry=crash_worker.registry()) as agent:
        yield agent, report, inputs
    if server is not None:
        drop_database(server, checkpointer)


def _mask(path: str) -> np.ndarray:
    return np.asarray(Image.open(path)) > 127


def _box_mask(box: tuple[int, int, int, int], shape=(48, 64)) -> np.ndarray:
    x1, y1, x2, y2 = box
    mask = np.zeros(shape, bool)
    mask[y1:y2, x1:x2] = True
    return mask


def _turn_one_is_intact(agent: VitronAgent, report: dict) -> None:
    """Every message, artifact file and the signal turn 1 made, exactly as the worker reported them."""
    assert report["errors"] == []
    state = agent.state(THREAD)
    messages = [[m.type, m.content] for m in state["messages"]]
    assert messages[: len(report["messages"])] == report["messages"]
    for media_id, ref in report["media"].items():
        assert state["media"][media_id] == ref
    store, signals = agent.context.stores(THREAD)
    for media_id, artifact in report["artifacts"].items():
        path = store.path(MediaRef(**state["media"][media_id]))  # the same file, loadable, byte for byte
        assert path.name == Path(artifact["path"]).name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == artifact["sha256"]
    mask_id = next(i for i, a in report["artifacts"].items() if a["kind"] == "mask")
    assert np.array_equal(store.load_mask(MediaRef(**state["media"][mask_id])), _box_mask(crash_worker.FIRST_BOX))
    first_call = state["calls"]["1.0.c1"]
    assert first_call["status"] == "done" and first_call["invocation"]["signal"] == report["signal"]
    assert np.array_equal(signals.get(report["signal"]), crash_worker.FEATURES)
    assert np.array_equal(SignalStore(signals.root).get(report["signal"]), crash_worker.FEATURES)


def _well_formed(agent: VitronAgent) -> None:
    """Every tool call in the history has its answer, and no call is left pending."""
    state = agent.state(THREAD)
    asked = [c["id"] for m in state["messages"] if isinstance(m, AIMessage) for c in m.tool_calls]
    answered = [m.tool_call_id for m in state["messages"] if isinstance(m, ToolMessage)]
    assert sorted(asked) == sorted(answered)
    assert all(r["status"] in ("done", "failed", "skipped") for r in state["calls"].values())


def test_killed_mid_expert_loses_nothing_and_the_turn_resumes(reopened):
    agent, report, _ = reopened
    _turn_one_is_intact(agent, report)
    snapshot = agent.graph.get_state(agent._run_config(THREAD))
    assert snapshot.tasks, "the killed turn should be unfinished in the checkpoint"
    resumed = agent.resume(THREAD)
    assert resumed.errors == [], resumed.errors
    assert [i.module for i in resumed.invocations] == ["slow_mask"]
    mask = next(a for a in resumed.artifacts if a.kind == "mask" and not a.preview)
    assert np.array_equal(_mask(mask.path), _box_mask(crash_worker.SECOND_BOX))
    state = agent.state(THREAD)
    assert state["turn"] == 2 and [m.type for m in state["messages"]].count("human") == 2
    assert state["calls"]["2.0.c1"]["status"] == "done"
    _turn_one_is_intact(agent, report)
    _well_formed(agent)
    after = agent.invoke("and the first box again", thread=THREAD, invocations=[
        {"module": "box_mask", "task": "segment", "region": {"box": list(crash_worker.FIRST_BOX)}, "inputs": ["u0"]}])
    assert after.errors == [] and agent.state(THREAD)["turn"] == 3


def test_a_new_turn_after_the_kill_closes_the_interrupted_one(reopened):
    agent, report, inputs = reopened
    segment = {"module": "box_mask", "task": "segment", "region": {"box": list(crash_worker.SECOND_BOX)}}
    retry = agent.invoke("now this one", images=[inputs / "second.png"], thread=THREAD, invocations=[segment])
    assert retry.errors == [], retry.errors
    mask = next(a for a in retry.artifacts if a.kind == "mask" and not a.preview)
    assert np.array_equal(_mask(mask.path), _box_mask(crash_worker.SECOND_BOX))
    _turn_one_is_intact(agent, report)
    _well_formed(agent)
    state = agent.state(THREAD)
    interrupted = state["calls"]["2.0.c1"]  # closed with an error that says what happened, not left pending
    assert interrupted["status"] == "failed" and interrupted["error"]["category"] == "interrupted"
    assert "ask again" in interrupted["error"]["message"]
    assert state["calls"]["3.0.c1"]["status"] == "done"
    assert agent.resume(THREAD).errors == []  # nothing left to resume: the finished turn stays as it is
    assert agent.state(THREAD)["turn"] == state["turn"]
