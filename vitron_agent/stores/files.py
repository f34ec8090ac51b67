"""Content-addressed files: written once, atomically, with their folder made on first write."""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["write_once"]


def write_once(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` unless it exists (its name is its content's digest, so it holds the same
    bytes); a temp file per writer, then an atomic rename, so threads storing the same bytes at once are safe."""
    if target.exists():
        return
    temp = target.with_name(f"{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        temp.write_bytes(data)
    except FileNotFoundError:  # the folder is made on the first write, not when a store is opened
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(data)
    os.replace(temp, target)
