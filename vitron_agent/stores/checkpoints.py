"""Where threads are kept: ``open_checkpointer`` opens the checkpointer an ``AgentConfig`` names (SQLite under
the state folder by default, or PostgreSQL), and ``DURABILITY`` is how every turn writes it.

SQLite: LangGraph's ``SqliteSaver`` on a WAL-mode database. ``synchronous=NORMAL`` in WAL mode syncs the log
at checkpoints of the WAL, not at every commit: a process crash (the common failure: a kill, an out-of-memory
abort) loses nothing committed, and only a power loss or OS crash can lose the last few commits. A turn
commits about ten times, so this saves one disk sync each (about 23 ms a turn on this project's CI machines).

PostgreSQL (``postgresql://user@host:port/db``, the ``postgres`` extra): LangGraph's ``PostgresSaver`` on a
psycopg connection pool, for servers and for several processes sharing threads across machines. Its tables
are created on first use (``setup()``, idempotent, under an advisory lock so processes starting together do
not race); the pool is closed with the agent.

``DURABILITY = "async"``: each super-step's checkpoint is written on a background thread while the next step
runs (LangGraph waits for it before the run ends), so a turn cut short by a crash resumes from its last step
(``VitronAgent.resume``) without making every step wait for its write.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UnavailableError

if TYPE_CHECKING:
    from ..config import AgentConfig

__all__ = ["DURABILITY", "POSTGRES_SCHEMES", "is_sqlite", "open_checkpointer", "open_sqlite_checkpointer",
           "open_postgres_checkpointer", "close_checkpointer", "describe_checkpointer"]

DURABILITY = "async"

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
"""URL prefixes that name a PostgreSQL checkpointer (libpq's connection URIs)."""

POOL_SIZE = 4
"""Connections one agent keeps at most. ``PostgresSaver`` runs one statement batch at a time (it holds a lock),
so a few cover its background writes; the pool's value is reconnecting after a dropped connection."""

CONNECT_TIMEOUT_S = 10
"""Seconds opening waits for the server before it says it cannot be reached."""

SETUP_WAIT_S = 120.0
"""How long opening waits while another process creates or migrates the tables."""

_SETUP_LOCK = 0x766974726F6E  # pg_advisory_lock key ("vitron"): one process runs the migrations at a time


def is_sqlite(url: str | None) -> bool:
    """Whether ``AgentConfig.checkpointer`` names the default, SQLite in the state folder (None or ``sqlite``)."""
    return url is None or url == "sqlite"


def open_checkpointer(config: AgentConfig) -> Any:
    """The checkpointer ``config.checkpointer`` names: SQLite at ``<state_dir>/checkpoints.sqlite`` when it is
    None or ``sqlite``, else a PostgreSQL URL. Every entry point (agent, CLI, web UI, served graph) opens
    threads through here."""
    if is_sqlite(config.checkpointer):
        return open_sqlite_checkpointer(config.state_dir / "checkpoints.sqlite")
    return open_postgres_checkpointer(config.checkpointer)


def open_sqlite_checkpointer(path: str | Path) -> Any:
    """A ``SqliteSaver`` on ``path`` (created if missing), in WAL mode with ``synchronous=NORMAL``."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    connection = sqlite3.connect(Path(path), check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(connection)


def open_postgres_checkpointer(url: str) -> Any:
    """A ``PostgresSaver`` on a connection pool to ``url``, its tables set up. Connections use autocommit,
    dict rows and no server-side prepared statements (safe behind PgBouncer), as the saver expects.

    The set-up runs on one plain connection first, so a wrong URL or a server that is down fails at once with
    the server's own reason, not after the pool's retries."""
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool
    except ImportError:
        raise UnavailableError('PostgreSQL checkpoints need langgraph-checkpoint-postgres and psycopg; install them '
                               'with: pip install "vitron-agent[postgres]"') from None
    options = {"autocommit": True, "row_factory": dict_row, "prepare_threshold": 0}
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, **options) as connection:
            _take_setup_lock(connection)  # released when the connection closes
            PostgresSaver(connection).setup()
    except psycopg.OperationalError as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        raise UnavailableError(f"cannot open the PostgreSQL checkpointer at {describe_checkpointer(url)}: {reason}; "
                               "check that the server runs and the URL (user, password, host, port, database) "
                               "is right") from None
    pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, kwargs=options, name="vitron-checkpoints", open=True)
    return PostgresSaver(pool)


def _take_setup_lock(connection: Any) -> None:
    """Wait for the set-up lock by polling: a process blocked in ``pg_advisory_lock`` sits in an open transaction,
    which the migrations' ``CREATE INDEX CONCURRENTLY`` waits for while the lock's holder runs it (a deadlock)."""
    deadline = time.monotonic() + SETUP_WAIT_S
    while not connection.execute("SELECT pg_try_advisory_lock(%s) AS taken", (_SETUP_LOCK,)).fetchone()["taken"]:
        if time.monotonic() > deadline:
            raise UnavailableError(f"another process has been setting up the PostgreSQL checkpointer's tables for "
                                   f"over {SETUP_WAIT_S:g} s; check the server's activity (pg_stat_activity) and "
                                   "try again")
        time.sleep(0.05)


def close_checkpointer(checkpointer: Any) -> None:
    """Close what the checkpointer holds open: a SQLite connection or a PostgreSQL pool (both have ``close``)."""
    connection = getattr(checkpointer, "conn", None)
    if connection is not None:
        connection.close()


def describe_checkpointer(url: str | None) -> str:
    """The checkpointer for messages: the URL without its password, or ``sqlite``."""
    if is_sqlite(url):
        return "sqlite"
    scheme, _, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in credentials else ''}@{location}"
