"""A decode cache shared by every thread's media store: decoded stills, least recently used out first.

One budget for the whole process, so memory does not grow with the number of threads a server has seen.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

__all__ = ["DecodeCache"]


class DecodeCache:
    """Arrays by key (a blob's content-addressed name) within ``max_bytes``; thread-safe.

    Arrays are held and handed out read-only, without copies (a 4096² image is 50 MB, so a copy on every
    insert and read costs tens of milliseconds): ``put`` marks the array it is given read-only, and a caller
    that wants to change pixels copies first (writing into a cached array raises ``ValueError``).
    """

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes held now (at most ``max_bytes``)."""
        return self._bytes

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found

    def put(self, key: str, array: np.ndarray) -> None:
        if array.nbytes > self.max_bytes:
            return
        array.setflags(write=False)
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes -= old.nbytes if old is not None else 0
            self._items[key] = array
            self._bytes += array.nbytes
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.nbytes
