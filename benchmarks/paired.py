"""Paired, interleaved timing shared by the benchmarks.

Each round runs every variant once, in an order that rotates from round to round, so drift in machine load
hits all variants alike; a ratio is taken within each round (paired) and the ratios are summarised by their
median and interquartile range. A target is met only when the median is within it, and the upper quartile
says how sure that is.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Paired", "run_paired", "spread"]


@dataclass
class Paired:
    """Seconds per variant, one list entry per round."""

    seconds: dict[str, list[float]]

    def median(self, name: str) -> float:
        return statistics.median(self.seconds[name])

    def ratios(self, name: str, base: str) -> list[float]:
        return [a / b for a, b in zip(self.seconds[name], self.seconds[base], strict=True)]

    def ratio(self, name: str, base: str) -> tuple[float, float, float]:
        """(median, lower quartile, upper quartile) of the per-round ratio name / base."""
        return spread(self.ratios(name, base))

    def row(self, name: str, base: str | None = None) -> str:
        mid, low, high = spread(self.seconds[name])
        text = f"{name:<38}{mid * 1e3:>10.1f} ms  [{low * 1e3:.1f}..{high * 1e3:.1f}]"
        if base and base != name:
            r, r_lo, r_hi = self.ratio(name, base)
            form = ".3f" if r >= 0.01 else ".2e"
            text += f"   / {base}: {r:{form}} [{r_lo:{form}}..{r_hi:{form}}]"
        return text


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, lower quartile, upper quartile); with fewer than four values the quartiles are min and max."""
    ordered = sorted(values)
    if len(ordered) < 4:
        return statistics.median(ordered), ordered[0], ordered[-1]
    q1, _, q3 = statistics.quantiles(ordered, n=4)
    return statistics.median(ordered), q1, q3


def run_paired(variants: dict[str, Callable[[], object]], rounds: int, *, warmup: int = 1) -> Paired:
    """Time each variant ``rounds`` times, interleaved with a rotating order; garbage is collected between
    calls so one variant's garbage is not charged to the next."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            gc.collect()
            start = time.perf_counter()
            variants[name]()
            seconds[name].append(time.perf_counter() - start)
    return Paired(seconds)
