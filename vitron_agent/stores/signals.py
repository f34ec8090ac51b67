"""The signal store: planner signal embeddings as safetensors files, referenced by id from state.

Tensors never enter graph state; a checkpoint holds the id, and a resumed thread reads the file.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInputError
from .files import exists_now, write_once

__all__ = ["SignalStore"]

_ID = re.compile(r"^s[0-9a-f]{16}$")
_DTYPES = (np.float16, np.float32)


class SignalStore:
    """Content-addressed float16/float32 arrays under ``root``.

    ``put`` accepts numpy arrays or torch tensors (moved to CPU); ``get`` returns numpy float32.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.abspath(root))  # made on the first ``put``

    def put(self, features: Any, *, space: str | None = None, **parts: Any) -> str:
        """Store one signal (``features``, e.g. (k, d)) and optional named parts; return its id.

        ``space``: the conditioning space ``features`` were projected into (an ``ExpertSpec.embedding_space``
        such as ``clip-text 77x768``); the validator sends the signal only to an expert of that space.
        Named parts keep e.g. the task-specific and task-invariant halves apart.
        """
        from safetensors.numpy import save

        tensors = {"features": _to_numpy(features)}
        tensors.update({name: _to_numpy(value) for name, value in parts.items()})
        blob = save(tensors, metadata={"space": space} if space else None)
        signal_id = "s" + hashlib.sha256(blob).hexdigest()[:16]
        write_once(self.root / f"{signal_id}.safetensors", blob)
        return signal_id

    def get(self, signal_id: str, part: str = "features") -> np.ndarray:
        """The stored array as float32; ``BadInputError`` if the id is unknown."""
        return self.get_all(signal_id)[part].astype(np.float32)

    def get_all(self, signal_id: str) -> dict[str, np.ndarray]:
        from safetensors.numpy import load

        if not _ID.match(signal_id):
            raise BadInputError(f"{signal_id!r} is not a signal id (expected 's' + 16 hex digits)")
        target = self.root / f"{signal_id}.safetensors"
        if not exists_now(target):
            raise BadInputError(f"signal {signal_id} is not in the signal store at {self.root}")
        return load(target.read_bytes())

    def space(self, signal_id: str) -> str | None:
        """The conditioning space the signal was stored with, or None when its producer did not say."""
        from safetensors import safe_open

        self.get_all(signal_id)  # checks the id and that it exists
        with safe_open(str(self.root / f"{signal_id}.safetensors"), framework="numpy") as stored:
            return (stored.metadata() or {}).get("space")

    def __contains__(self, signal_id: object) -> bool:
        return isinstance(signal_id, str) and bool(_ID.match(signal_id)) and exists_now(self.root / f"{signal_id}.safetensors")


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().float().cpu().numpy()
    array = np.asarray(value)
    if array.dtype not in _DTYPES:
        if not np.issubdtype(array.dtype, np.floating):
            raise BadInputError(f"signal embeddings must be float16 or float32, got {array.dtype}")
        array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise BadInputError("signal embeddings contain NaN or infinity")
    return np.ascontiguousarray(array)
