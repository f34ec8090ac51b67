"""Stores that keep pixels and tensors out of graph state."""

from .media import MediaKind, MediaRef, MediaStore
from .media_io import MediaLimits
from .signals import SignalStore

__all__ = ["MediaKind", "MediaLimits", "MediaRef", "MediaStore", "SignalStore"]
