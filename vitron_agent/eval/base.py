"""What every benchmark is: options from the command line, samples with stable ids, and three methods.

A benchmark reads its data in the layout its users download (``samples``), scores one sample through a
``Runner`` into one JSON-safe record (``evaluate``), and turns the records of a split into its metrics
(``summarise``). Running, resuming and writing the tables is ``report``'s job, not the benchmark's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import BadInputError

if TYPE_CHECKING:
    from .runner import Runner

__all__ = ["EvalOptions", "Sample", "Benchmark", "DataError"]


class DataError(BadInputError):
    """The data folder is not in the layout the benchmark reads; the message names the file it looked for."""


@dataclass(frozen=True)
class EvalOptions:
    """One ``vitron-agent eval`` run.

    ``data``: the benchmark's root folder, as its users download it.
    ``split``: e.g. ``val`` or ``testA``; empty means the benchmark's ``default_split``.
    ``out``: where ``results.jsonl``, ``summary.json`` and ``summary.md`` go.
    ``limit``: score only the first ``limit`` samples (a quick look).
    ``planner``: a planner spec as ``--planner`` takes it elsewhere (None: the default planner).
    ``expert``: run this one expert directly instead of the agent end to end.
    ``seed``: for generation benchmarks (each sample's outputs are reproducible with it).
    ``feature_model``: local weights of a feature extractor (Inception, CLIP, DINO, I3D) where a metric needs one.
    """

    data: Path
    split: str
    out: Path
    limit: int | None = None
    planner: str | None = None
    expert: str | None = None
    seed: int = 0
    feature_model: Path | None = None


@dataclass(frozen=True)
class Sample:
    """One item to score. ``id`` is stable and unique within benchmark and split: the resume key.

    Benchmarks subclass it with the fields they read (paths, the expression, ground truth)."""

    id: str


class Benchmark(ABC):
    """A benchmark of the paper: subclasses set the class attributes and implement the three methods.

    ``name``: the CLI name (``refcoco``, ``davis17``). ``title``: for the table heading.
    ``paper``: metric -> the value VITRON's paper reports for this benchmark and its default split (a metric
    missing here was not reported). ``paper_by_split`` overrides it for other splits.
    ``metric_notes``: metric -> a short note for the table (units, what higher means).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    default_split: ClassVar[str]
    paper: ClassVar[dict[str, float]] = {}
    paper_by_split: ClassVar[dict[str, dict[str, float]]] = {}
    metric_notes: ClassVar[dict[str, str]] = {}

    def __init__(self, options: EvalOptions) -> None:
        self.options = options
        self.split = options.split or self.default_split

    @abstractmethod
    def samples(self) -> Iterator[Sample]:
        """The split's samples in a fixed order, read from ``options.data`` in the official layout."""

    @abstractmethod
    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        """Run one sample and score it: one JSON-safe record with ``"id"`` (a failure is a scored miss with
        ``"error"``, never an exception)."""

    @abstractmethod
    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        """Metric -> our value over the split's records (in the units the paper uses)."""

    def paper_values(self) -> dict[str, float]:
        """The paper's numbers for this run's split (empty where the paper reports none)."""
        return self.paper_by_split.get(self.split, self.paper if self.split == self.default_split else {})
