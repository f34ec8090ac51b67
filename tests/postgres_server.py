"""A throwaway PostgreSQL server for the tests: ``initdb`` into a temporary folder, ``pg_ctl start`` on a free
port of 127.0.0.1, one fresh database per test. As root (PostgreSQL refuses to run as root) the server runs
as ``nobody`` through ``runuser``. ``$VITRON_TEST_POSTGRES_URL`` points the tests at an existing server
instead (its user must be allowed to create databases)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .ports import free_port

__all__ = ["find_binaries", "postgres_server", "create_database", "copy_database", "drop_database"]

RUN_AS = "nobody"


def find_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: on PATH, else Debian's ``/usr/lib/postgresql/<v>/bin``."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).parent)):
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def _as_server_user(command: list[str]) -> list[str]:
    """``command`` as the user the server runs as: ourselves, or ``nobody`` when we are root."""
    if os.geteuid() != 0:
        return command
    runner = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if runner is None:
        raise RuntimeError("running as root and no runuser to start PostgreSQL as another user")
    return [runner, "-u", RUN_AS, "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server; yields the URL of its ``postgres`` database (superuser ``postgres``, trust auth on
    127.0.0.1). Raises ``RuntimeError`` saying why when no server can be started."""
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql)")
    root = Path(tempfile.mkdtemp(prefix="vitron-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam(RUN_AS)
        root.chmod(0o755)
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    try:
        subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "postgres",
                                        "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]),
                       check=True, capture_output=True, timeout=120)
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=200"
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                                        "-w", "-t", "60", "start"]),
                       check=True, capture_output=True, timeout=90)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        server_log = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {detail[0]} {' '.join(server_log)}") from None
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, template: str | None = None) -> str:
    """A new database on the server, empty or a copy of the database ``template`` (a URL) names; its URL.
    A copy needs the template unused: connections left by a killed process are ended first."""
    import psycopg

    name = f"vitron_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        if template is None:
            connection.execute(f'CREATE DATABASE "{name}"')
        else:
            source = urlsplit(template).path.lstrip("/")
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                               (source,))
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def copy_database(server_url: str, url: str) -> str:
    """A copy of the database ``url`` names, as it is now; its URL."""
    return create_database(server_url, template=url)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database ``url`` names (made by ``create_database``), closing what still uses it."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
