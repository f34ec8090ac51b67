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

    ``get`` and ``put`` copy, so a caller that writes into its array never changes the cached one.
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
            return found.copy()

    def put(self, key: str, array: np.ndarray) -> None:
        if array.nbytes > self.max_bytes:
            return
        copy = array.copy()
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes -= old.nbytes if old is not None else 0
            self._items[key] = copy
            self._bytes += copy.nbytes
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.nbytes
