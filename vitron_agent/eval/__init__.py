"""Benchmarks that reproduce VITRON's tables: ``vitron-agent eval BENCH --data DIR``.

    from vitron_agent.eval import EvalOptions, run_eval
    summary = run_eval("refcoco", EvalOptions(data=Path("data/refer"), split="val", out=Path("runs/refcoco")))

Each run writes ``results.jsonl`` (one scored sample a line; a killed run continues after them),
``summary.json`` and ``summary.md`` (our metrics beside the paper's) into ``options.out``.
"""

from __future__ import annotations

from .base import Benchmark, DataError, EvalOptions, Sample
from .registry import BENCHMARKS
from .report import Summary, run_benchmark
from .runner import Runner, RunOutput

__all__ = ["BENCHMARKS", "Benchmark", "DataError", "EvalOptions", "Sample", "Summary", "Runner", "RunOutput",
           "run_eval"]


def run_eval(name: str, options: EvalOptions, *, runner: Runner | None = None, progress: bool = True) -> Summary:
    """Run benchmark ``name`` with ``options`` (through ``runner``, else one built from ``options.planner`` and
    ``options.expert``) and return its summary; the files land in ``options.out``."""
    if name not in BENCHMARKS:
        raise DataError(f"unknown benchmark {name!r}; known: {', '.join(sorted(BENCHMARKS))}")
    benchmark = BENCHMARKS[name](options)
    if runner is not None:
        return run_benchmark(benchmark, runner, progress=progress)
    with Runner(planner=options.planner, expert=options.expert) as own:
        return run_benchmark(benchmark, own, progress=progress)
