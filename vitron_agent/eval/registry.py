"""The benchmarks ``vitron-agent eval`` knows, by CLI name."""

from __future__ import annotations

from .base import Benchmark
from .generation import CocoT2I, MagicBrush, MsrVttT2V, Ucf101I2V
from .planner import PlannerAccuracy
from .segmentation import RefCOCOgRec, RefCOCOgSeg, RefCOCOPlusRec, RefCOCOPlusSeg, RefCOCORec, RefCOCOSeg
from .video import HCSTVG, Davis17

__all__ = ["BENCHMARKS"]

BENCHMARKS: dict[str, type[Benchmark]] = {
    cls.name: cls
    for cls in (RefCOCOSeg, RefCOCOPlusSeg, RefCOCOgSeg, RefCOCORec, RefCOCOPlusRec, RefCOCOgRec, Davis17,
                HCSTVG, CocoT2I, MsrVttT2V, Ucf101I2V, MagicBrush, PlannerAccuracy)
}
"""Name -> benchmark class; each class reads its own data layout (see its module's docstring)."""
