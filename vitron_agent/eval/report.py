"""Running a benchmark to its table: per-sample JSONL that a killed run continues, then the summary files.

``results.jsonl`` gets one line per scored sample, written and flushed as soon as it is scored; a run that
finds the file continues after the samples already there (a line cut short by a kill is dropped and that
sample runs again). ``run.json`` records what the results are of, so a resumed run with other settings is
refused instead of mixing two runs. ``summary.json`` and ``summary.md`` hold our metrics beside the paper's.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import Benchmark, DataError, EvalOptions
from .runner import Runner

__all__ = ["Summary", "run_benchmark", "read_results", "write_summary", "RESULTS", "SUMMARY_JSON", "SUMMARY_MD"]

RESULTS, RUN, SUMMARY_JSON, SUMMARY_MD = "results.jsonl", "run.json", "summary.json", "summary.md"


@dataclass
class Summary:
    """The table of one run: our value and the paper's for each metric, over ``samples`` scored samples
    (``failed`` of them with an error, scored as misses)."""

    benchmark: str
    title: str
    split: str
    mode: str
    samples: int
    failed: int
    ours: dict[str, float] = field(default_factory=dict)
    paper: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        metrics = {m: {"ours": _json_number(v), "paper": self.paper.get(m)} for m, v in self.ours.items()}
        return {"benchmark": self.benchmark, "title": self.title, "split": self.split, "mode": self.mode,
                "samples": self.samples, "failed": self.failed, "metrics": metrics}

    def markdown(self) -> str:
        """The table as Markdown: one row per metric, ours beside the paper's."""
        lines = [f"## {self.title} ({self.split})", "",
                 f"{self.samples} samples, {self.failed} failed (scored as misses); run by {self.mode}.", "",
                 "| metric | ours | VITRON (paper) |", "| --- | ---: | ---: |"]
        for metric, value in self.ours.items():
            paper = self.paper.get(metric)
            note = f" ({self.notes[metric]})" if metric in self.notes else ""
            lines.append(f"| {metric}{note} | {_cell(value)} | {_cell(paper) if paper is not None else '-'} |")
        return "\n".join(lines) + "\n"


def run_benchmark(benchmark: Benchmark, runner: Runner, *, progress: bool = True) -> Summary:
    """Score the split's samples not yet in ``results.jsonl`` (up to ``options.limit`` in all), then write and
    return the summary of those samples."""
    options = benchmark.options
    options.out.mkdir(parents=True, exist_ok=True)
    _check_run(options.out / RUN, _run_facts(benchmark))
    done = read_results(options.out / RESULTS)
    samples = []
    for sample in benchmark.samples():
        if options.limit is not None and len(samples) >= options.limit:
            break
        samples.append(sample)
    if len({s.id for s in samples}) != len(samples):
        raise DataError(f"{benchmark.name} gave two samples with one id; ids must be unique in a split")
    todo = [s for s in samples if s.id not in done]
    bar = _progress(len(samples), len(samples) - len(todo), benchmark.name, enabled=progress)
    with (options.out / RESULTS).open("a", encoding="utf-8") as results:
        for sample in todo:
            record = benchmark.evaluate(sample, runner)
            record["id"] = sample.id
            results.write(json.dumps(record, ensure_ascii=False, allow_nan=False, default=_plain) + "\n")
            results.flush()
            os.fsync(results.fileno())
            done[sample.id] = json.loads(json.dumps(record, default=_plain))
            bar.update(1)
    bar.close()
    records = [done[s.id] for s in samples]
    summary = Summary(
        benchmark=benchmark.name, title=benchmark.title, split=benchmark.split, mode=_mode(options),
        samples=len(records), failed=sum(1 for r in records if r.get("error")),
        ours=benchmark.summarise(records) if records else {}, paper=benchmark.paper_values(),
        notes=dict(benchmark.metric_notes),
    )
    write_summary(summary, options.out)
    return summary


def read_results(path: Path) -> dict[str, dict[str, Any]]:
    """id -> record of a results file; a last line cut short by a kill is removed from the file."""
    if not path.exists():
        return {}
    data = path.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]  # everything up to the last complete line
    if len(whole) != len(data):
        with path.open("r+b") as file:
            file.truncate(len(whole))
    records: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(whole.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} line {number} is not JSON ({exc.msg}); remove that line to resume") from None
        records[str(record["id"])] = record
    return records


def write_summary(summary: Summary, out: Path) -> None:
    """``summary.json`` and ``summary.md`` in ``out``."""
    (out / SUMMARY_JSON).write_text(json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8")
    (out / SUMMARY_MD).write_text(summary.markdown(), encoding="utf-8")


def _run_facts(benchmark: Benchmark) -> dict[str, Any]:
    options = benchmark.options
    return {"benchmark": benchmark.name, "split": benchmark.split, "data": str(Path(options.data).resolve()),
            "expert": options.expert, "planner": options.planner, "seed": options.seed,
            "feature_model": str(Path(options.feature_model).resolve()) if options.feature_model else None}


def _check_run(path: Path, facts: dict[str, Any]) -> None:
    """Write what this run is; refuse to continue results of a different one."""
    if path.exists():
        before = json.loads(path.read_text(encoding="utf-8"))
        changed = [k for k in facts if before.get(k) != facts[k]]
        if changed:
            raise DataError(f"{path.parent} holds results of another run ({', '.join(f'{k}: {before.get(k)!r}' for k in changed)}); "
                            "use another --out, or delete that folder to start again")
        return
    path.write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")


def _mode(options: EvalOptions) -> str:
    if options.expert:
        return f"expert {options.expert}"
    return f"the agent (planner {options.planner or 'lite'})"


def _progress(total: int, already: int, name: str, *, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=already, desc=name, unit="sample", file=sys.stderr,
                disable=not enabled, dynamic_ncols=True)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays in a record become plain JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"a record holds a {type(value).__name__}, which JSON cannot store")


def _json_number(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _cell(value: float | None) -> str:
    if value is None or not math.isfinite(float(value)):
        return "-"
    return f"{float(value):.4g}" if abs(float(value)) < 1 else f"{float(value):.2f}"
