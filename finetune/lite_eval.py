"""Accuracy of LitePlanner and the rule planner, side by side, on hand-written requests.

    python -m vitron_agent.finetune.lite_eval [--file lite_eval.jsonl] [--show-errors]

``lite_eval.jsonl`` (beside this file) holds requests written by hand, not by the training templates:
paraphrases, typos, terse and verbose wording, and some Chinese. Each line: ``text``; the context
(``box``: the user drew a box; ``history``: the words of an earlier segmentation, output ``o1``;
``video``: the medium is a video); and what is expected: ``task`` (``chat``: no invocation), ``op``,
``target`` (null: not checked), ``args`` (``new``, ``color``, ``style``, ``direction``) and ``region``
(``box``, ``output`` or ``none``). Phrases are compared without case, punctuation and leading
determiners ("the cup" == "cup"). A request is fully right when every field is.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

__all__ = ["EVAL_FILE", "FIELDS", "load_rows", "planner_input", "score", "evaluate", "main"]

EVAL_FILE = Path(__file__).resolve().parent / "lite_eval.jsonl"
FIELDS = ("task", "op", "target", "args", "region")
_BOX = (100.0, 80.0, 300.0, 260.0)
_LEADING = re.compile(r"^(?:(?:the|a|an|this|that|these|those|my|all|every|some)\s+)+")


def load_rows(path: str | Path = EVAL_FILE) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _norm(text: str | None) -> str:
    text = re.sub(r"[^\w\s]", " ", (text or "").lower())
    return _LEADING.sub("", " ".join(text.split()))


def planner_input(row: dict[str, Any]):
    """The ``PlannerInput`` of a row: one 640x480 user medium ``u0``, the box, the earlier mask ``o1``."""
    from vitron_agent.planners.base import CallInfo, MediaInfo, PlannerInput
    from vitron_agent.protocol.invocation import Region

    kind = "video" if row["video"] else "image"
    media = [MediaInfo("u0", kind, 640, 480, frames=30 if row["video"] else 1)]
    history = []
    if row["history"]:
        media.append(MediaInfo("o1", "mask_video" if row["video"] else "mask", 640, 480, source="grabcut",
                               parents=("u0",)))
        history = [CallInfo(1, "c1", "track" if row["video"] else "segment", row["history"], "done", "o1", "grabcut")]
    region = Region(box=_BOX) if row["box"] else None
    return PlannerInput(text=row["text"], messages=[], media=media, new_media=[] if row["history"] else ["u0"],
                        region=region, region_media="u0" if region else None, history=history)


def score(row: dict[str, Any], invocations: list) -> dict[str, bool]:
    """Which fields of the first invocation (none: ``chat``) match the row's expectations."""
    inv = invocations[0] if invocations else None
    got_region = "none" if inv is None or inv.region is None else "output" if inv.region.ref else "box"
    got_args = inv.args if inv is not None else {}
    return {
        "task": (inv.task if inv else "chat") == row["task"],
        "op": (inv.op if inv else None) == row["op"],
        "target": row["target"] is None or (inv is not None and _norm(inv.command) == _norm(row["target"])),
        "args": all(_norm(str(got_args.get(k, ""))) == _norm(v) for k, v in row["args"].items()),
        "region": got_region == row["region"],
    }


def evaluate(planner: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per field, per task and fully-right accuracy, English and Chinese apart; latency; the misses."""
    results, seconds = [], []
    for row in rows:
        start = time.perf_counter()
        out = planner.plan(planner_input(row))
        seconds.append(time.perf_counter() - start)
        results.append((row, score(row, out.invocations), out.invocations))
    report: dict[str, Any] = {"p50_ms": 1000 * statistics.median(seconds[1:] or seconds), "misses": []}
    for lang in ("en", "zh"):
        part = [(row, s) for row, s, _ in results if row["lang"] == lang]
        if not part:
            continue
        fields = {f: sum(s[f] for _, s in part) / len(part) for f in FIELDS}
        tasks = sorted({row["task"] for row, _ in part})
        per_task = {t: sum(s["task"] for r, s in part if r["task"] == t) / sum(r["task"] == t for r, _ in part)
                    for t in tasks}
        report[lang] = {"n": len(part), "full": sum(all(s.values()) for _, s in part) / len(part),
                        "fields": fields, "per_task": per_task}
    report["misses"] = [(row["text"], [f for f in FIELDS if not s[f]], [i.model_dump(exclude_none=True) for i in invs])
                        for row, s, invs in results if not all(s.values())]
    return report


def _print(reports: dict[str, dict[str, Any]], show_errors: bool) -> None:
    names = list(reports)
    header = f"{'':28}" + "".join(f"{n:>10}" for n in names)
    for lang, title in (("en", "English"), ("zh", "Chinese")):
        if lang not in reports[names[0]]:
            continue
        print(f"\n{title} ({reports[names[0]][lang]['n']} requests)\n{header}")
        rows = [("fully right", lambda r: r["full"])]
        rows += [(f"field {f}", lambda r, f=f: r["fields"][f]) for f in FIELDS]
        rows += [(f"task {t}", lambda r, t=t: r["per_task"][t]) for t in reports[names[0]][lang]["per_task"]]
        for label, get in rows:
            print(f"{label:28}" + "".join(f"{get(reports[n][lang]):>10.1%}" for n in names))
    print("\np50 latency per request: " + ", ".join(f"{n} {reports[n]['p50_ms']:.1f} ms" for n in names))
    if show_errors:
        for name in names:
            print(f"\n{name} misses:")
            for text, fields, invs in reports[name]["misses"]:
                print(f"  {text!r}: {', '.join(fields)} -> {invs}")


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    from vitron_agent.planners.lite import LitePlanner
    from vitron_agent.planners.rules import RuleBasedPlanner

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=EVAL_FILE, help="the hand-written requests (JSON lines)")
    parser.add_argument("--weights", type=Path, default=None, help="LitePlanner heads folder (default: shipped)")
    parser.add_argument("--show-errors", action="store_true", help="list each planner's misses")
    args = parser.parse_args(argv)
    rows = load_rows(args.file)
    lite = LitePlanner(args.weights)
    start = time.perf_counter()
    lite.load()
    print(f"LitePlanner loaded in {time.perf_counter() - start:.1f}s" + (f" ({lite._missing})" if lite._missing
                                                                         else ""))
    reports = {"lite": evaluate(lite, rows), "rules": evaluate(RuleBasedPlanner(), rows)}
    _print(reports, args.show_errors)
    return reports


if __name__ == "__main__":
    main()
