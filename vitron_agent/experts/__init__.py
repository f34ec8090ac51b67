"""Expert interface, registry and model pool."""

from .base import Availability, Detection, Expert, ExpertCall, ExpertResult, ExpertSpec, VideoClip
from .pool import ModelPool, PoolStats
from .registry import BUILTIN_EXPERTS, ExpertRegistry

__all__ = [
    "Availability",
    "BUILTIN_EXPERTS",
    "Detection",
    "Expert",
    "ExpertCall",
    "ExpertRegistry",
    "ExpertResult",
    "ExpertSpec",
    "ModelPool",
    "PoolStats",
    "VideoClip",
]
