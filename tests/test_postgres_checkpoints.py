"""Threads kept in PostgreSQL: the CLI across processes, the served graph and the web UI from their settings,
set-up by processes starting together, checkpoint bytes per turn, and errors that name what to fix.

The thread behaviours themselves (multi-turn references, crash and resume, human in the loop, concurrency)
are the SQLite tests run on both backends (``checkpointer_url`` in conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitron_agent import AgentConfig, BadInputError, UnavailableError, VitronAgent

from .postgres_server import create_database, drop_database
from .thread_growth import assert_bytes_per_turn_stay_flat

COFFEE_CUP = (175, 18, 408, 295)  # by eye, as in test_cli


@pytest.fixture
def database(postgres_server_url: str) -> Iterator[str]:
    """The URL of a fresh, empty database (no checkpoint tables yet)."""
    url = create_database(postgres_server_url)
    yield url
    drop_database(postgres_server_url, url)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("vitron-agent")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "vitron_agent.cli"]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300, env=environment)


def test_the_cli_continues_a_thread_kept_in_postgres_across_processes(database, photos, tmp_path):
    state = str(tmp_path / "state")
    first = _cli("run", "--checkpointer", database, "--state-dir", state, "--image", str(photos["coffee"]),
                 "--region", ",".join(map(str, COFFEE_CUP)), "--json", "segment the object in the box")
    assert first.returncode == 0, first.stderr
    thread = json.loads(first.stdout)["thread"]
    # a second process, given the database by the environment, finds the thread and goes on with it
    second = _cli("run", "--state-dir", state, "--thread", thread, "--region", "10,10,100,100", "--json",
                  "segment the object in the box", env={"VITRON_CHECKPOINTER": database})
    assert second.returncode == 0, second.stderr
    mask = next(a for a in json.loads(second.stdout)["artifacts"] if a["kind"] == "mask")
    assert mask["id"].startswith("o2") and Path(mask["path"]).is_file()
    # the thread is in the database, not in the state folder: SQLite there does not know it
    assert not (tmp_path / "state" / "checkpoints.sqlite").exists()
    local = _cli("run", "--checkpointer", "sqlite", "--state-dir", state, "--thread", thread, "again")
    assert local.returncode == 2 and f"no thread {thread!r} in {state}" in local.stderr
    with VitronAgent(AgentConfig(state_dir=state, checkpointer=database)) as agent:
        values = agent.state(thread)
        assert values["turn"] == 2 and [m.type for m in values["messages"]].count("human") == 2
        assert [c["status"] for c in values["calls"].values()] == ["done", "done"]
        latest = np.asarray(Image.open(agent.result(thread).artifacts[0].path))
        assert latest.shape == (400, 600)  # turn 2's mask, on the image attached in turn 1


def test_the_served_graph_and_the_web_ui_keep_threads_where_their_settings_say(database, tmp_path, monkeypatch,
                                                                                spot_image):
    from langgraph.checkpoint.postgres import PostgresSaver

    from vitron_agent.cli import build_parser
    from vitron_agent.serve import agent_from_env

    monkeypatch.setenv("VITRON_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("VITRON_CHECKPOINTER", database)
    monkeypatch.setenv("VITRON_PLANNER", "rules")
    monkeypatch.setenv("VITRON_MEDIA_ROOTS", str(spot_image.parent))
    with agent_from_env() as served:
        assert isinstance(served.checkpointer, PostgresSaver)
        result = served.invoke("segment the object in the box", images=[spot_image], region=[50, 30, 70, 40])
        assert result.errors == []
    monkeypatch.delenv("VITRON_CHECKPOINTER")
    args = build_parser().parse_args(["ui", "--checkpointer", database])
    assert args.checkpointer == database
    pytest.importorskip("gradio")
    from vitron_agent.ui import web_config

    with VitronAgent(web_config(tmp_path / "state", checkpointer=args.checkpointer)) as web:
        assert web.has_thread(result.thread) and web.state(result.thread)["turn"] == 1
    with VitronAgent(web_config(tmp_path / "state")) as default:  # SQLite stays the default
        assert not default.has_thread(result.thread)


def test_processes_starting_together_set_the_database_up_once(database):
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg import connect

    from vitron_agent.stores.checkpoints import close_checkpointer, open_postgres_checkpointer

    opened, failures = [], []

    def open_one() -> None:
        try:
            opened.append(open_postgres_checkpointer(database))
        except BaseException as exc:  # reported below
            failures.append(exc)

    workers = [threading.Thread(target=open_one) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    for saver in opened:
        close_checkpointer(saver)
    assert failures == [] and len(opened) == 6
    with connect(database) as connection:
        versions = [row[0] for row in connection.execute("SELECT v FROM checkpoint_migrations ORDER BY v")]
    assert versions == list(range(len(PostgresSaver.MIGRATIONS)))  # each migration once, none skipped


def _thread_bytes(url: str, thread: str) -> int:
    """Bytes the thread holds in the saver's tables: checkpoints, channel values and pending writes."""
    from psycopg import connect

    with connect(url) as connection:
        total = 0
        for query in ("SELECT coalesce(sum(length(checkpoint::text) + length(metadata::text)), 0) FROM checkpoints "
                      "WHERE thread_id = %s",
                      "SELECT coalesce(sum(length(blob)), 0) FROM checkpoint_blobs WHERE thread_id = %s",
                      "SELECT coalesce(sum(length(blob)), 0) FROM checkpoint_writes WHERE thread_id = %s"):
            total += connection.execute(query, (thread,)).fetchone()[0]
    return total


def test_delta_channels_keep_bytes_per_turn_flat_in_postgres(database, synthetic_registry, spot_image, tmp_path):
    with VitronAgent(AgentConfig(state_dir=tmp_path / "state", checkpointer=database),
                     registry=synthetic_registry) as agent:
        assert_bytes_per_turn_stay_flat(agent, spot_image, 16, lambda thread: _thread_bytes(database, thread))


def test_a_wrong_checkpointer_says_what_to_fix_and_never_shows_the_password(tmp_path):
    with pytest.raises(BadInputError, match="must be 'sqlite' or a postgresql:// URL") as refused:
        AgentConfig(state_dir=tmp_path, checkpointer="mysql://ann:hunter2@db.example/threads")
    assert "hunter2" not in str(refused.value) and "ann" in str(refused.value)
    with pytest.raises(UnavailableError, match="cannot open the PostgreSQL checkpointer") as down:
        VitronAgent(AgentConfig(state_dir=tmp_path, checkpointer="postgresql://ann:hunter2@127.0.0.1:1/threads"))
    assert "hunter2" not in str(down.value) and "127.0.0.1:1/threads" in str(down.value)
    done = _cli("run", "--state-dir", str(tmp_path), "--checkpointer", "postgresql://ann:hunter2@127.0.0.1:1/x", "hi")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "hunter2" not in done.stderr
