"""Files written once and never changed, safe for several processes on several machines sharing one folder.

A writer puts its bytes in a temp file named for its host, process and thread (``stage``), then links it to the
final name (``publish``): the name appears whole or not at all, and the first writer wins (for content-addressed
names every writer holds the same bytes). On a network file system a name another machine just made can be hidden by the client's cache of
missing names; ``exists_now`` looks again after re-reading the folder.
"""

from __future__ import annotations

import errno
import os
import secrets
import socket
import threading
from pathlib import Path

__all__ = ["write_once", "stage", "publish", "exists_now"]

_HOST = socket.gethostname().replace(os.sep, "_")[:64]


def write_once(target: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``target`` unless it exists; the folder is made on the first write, not when a store opens.
    ``mode``: the file's permissions (default: as the umask gives)."""
    if target.exists():
        return
    temp = stage(target.parent, data)
    if mode is not None:
        os.chmod(temp, mode)
    publish(temp, target)


def stage(folder: Path, data: bytes) -> Path:
    """Write ``data`` to a new temp file in ``folder`` (made if missing): the first half of ``write_once``, for
    bytes whose final name is known only later (an upload's extension, read while the bytes are written)."""
    temp = folder / f".stage.{_HOST}-{os.getpid()}-{threading.get_ident()}-{secrets.token_hex(4)}.tmp"
    try:
        temp.write_bytes(data)
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(data)
    return temp


def publish(temp: Path, target: Path) -> None:
    """Give a ``stage``d file its final name ``target`` (in the same folder), whole; the first writer wins."""
    try:
        os.link(temp, target)  # fails if another writer got there first: theirs stays, whole
    except FileExistsError:
        pass
    except OSError as exc:  # a file system without hard links: a rename is atomic too (last writer wins)
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        os.replace(temp, target)
        return
    temp.unlink()


def exists_now(path: Path) -> bool:
    """Whether ``path`` exists, asking the folder itself when a cached lookup says no (another machine may have
    just written it on a shared folder)."""
    if path.exists():
        return True
    try:
        return path.name in os.listdir(path.parent)
    except OSError:
        return False
