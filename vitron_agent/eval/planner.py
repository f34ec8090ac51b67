"""Planner invocation accuracy on a labelled request file: does the planner call the right experts?

Data: a JSON-lines file (``--data requests.jsonl``, or a folder holding ``requests.jsonl``), one request a
line; media paths are relative to the file::

    {"id": "cup-1", "text": "segment the cup", "images": ["coffee.png"], "region": [172, 18, 410, 300],
     "expected": [{"task": "segment", "command": "the cup"}]}

``videos``, ``frame`` (the video frame the region is on) and ``id`` (default: the line number) are optional.
``expected`` lists the invocations in order (``[]``: a plain answer, no tool); in each, ``task`` is required,
and ``op`` (an edit's op), ``command`` (compared without case, punctuation and leading articles) and ``module``
(the expert chosen) are checked when given. The planner plans through the agent's graph as a dry run
(``VitronAgent.plan``): validated, nothing run; steps the validator inserts are not the planner's and are not
scored. Invocation accuracy: the share of requests whose invocations all match, in order and number; task
accuracy: the share whose sequence of tasks matches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import Benchmark, DataError, Sample
from .runner import Runner

__all__ = ["PlannerRequest", "PlannerAccuracy", "read_requests", "same_invocation"]

_ARTICLES = re.compile(r"^(?:(?:the|a|an|this|that|these|those)\s+)+")


@dataclass(frozen=True)
class PlannerRequest(Sample):
    """One labelled request; media paths are absolute, ``region`` in pixels of the first medium."""

    text: str
    images: tuple[Path, ...] = ()
    videos: tuple[Path, ...] = ()
    region: Any = None
    frame: int | None = None
    expected: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def read_requests(data: Path) -> Iterator[PlannerRequest]:
    path = data / "requests.jsonl" if data.is_dir() else data
    if not path.exists():
        raise DataError(f"{path} is missing; give --data a JSON-lines file of labelled requests")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            expected = tuple(dict(e) for e in row["expected"])
            if not all(isinstance(e.get("task"), str) for e in expected):
                raise KeyError("task")
            yield PlannerRequest(
                id=str(row.get("id", number)), text=str(row["text"]),
                images=tuple(path.parent / p for p in row.get("images", ())),
                videos=tuple(path.parent / p for p in row.get("videos", ())),
                region=row.get("region"), frame=row.get("frame"), expected=expected,
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{path} line {number}: expected an object with text and expected[].task ({exc})") from None


def _phrase(text: str | None) -> str:
    words = " ".join(re.sub(r"[^\w\s]", " ", (text or "").lower()).split())
    return _ARTICLES.sub("", words)


def same_invocation(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    """Whether a planned invocation (JSON dict) matches a labelled one on every field the label gives."""
    if got.get("task") != expected["task"]:
        return False
    if "op" in expected and got.get("args", {}).get("op") != expected["op"]:
        return False
    if "command" in expected and _phrase(got.get("command")) != _phrase(expected["command"]):
        return False
    return "module" not in expected or got.get("module") == expected["module"]


class PlannerAccuracy(Benchmark):
    """Invocation accuracy of the planner (``--planner``) on labelled requests."""

    name, title, default_split = "planner", "Planner invocation accuracy", "all"
    metric_notes = {"invocation accuracy": "% of requests fully right", "task accuracy": "% with the right tasks"}

    def samples(self) -> Iterator[PlannerRequest]:
        return read_requests(Path(self.options.data))

    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        assert isinstance(sample, PlannerRequest)
        if runner.expert:
            raise DataError("the planner benchmark scores the planner; leave out --expert")
        planned = runner.plan(sample.text, images=sample.images, videos=sample.videos, region=sample.region,
                              frame=sample.frame)
        got, expected = planned.invocations, list(sample.expected)
        record: dict[str, Any] = {
            "id": sample.id, "text": sample.text, "planned": got,
            "tasks_right": [g.get("task") for g in got] == [e["task"] for e in expected],
            "right": len(got) == len(expected) and all(same_invocation(e, g) for e, g in zip(expected, got)),
        }
        if planned.error:
            record["error"] = planned.error
        return record

    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        return {"invocation accuracy": 100.0 * sum(r["right"] for r in records) / len(records),
                "task accuracy": 100.0 * sum(r["tasks_right"] for r in records) / len(records)}
