"""Accuracy of LitePlanner and the rule planner, side by side, on hand-written requests.

    python -m vitron_agent.finetune.lite_eval [--file lite_test.jsonl] [--show-errors]

Two files of requests written by hand, not by the training templates (paraphrases, typos, terse and
verbose wording, Chinese), beside this file:
- ``lite_eval.jsonl``, the development set: its misses were looked at while the templates grew;
- ``lite_test.jsonl``: written without seeing the templates or the development set; its misses after the
  first training were looked at too, so it is a second development set;
- ``lite_blind.jsonl``, the test set: written without seeing the templates or the other sets, and not
  looked at until the templates and weights were final. Its figures are the ones to quote.
 Each line: ``text``; the context
(``box``: the user drew a box; ``history``: the words of an earlier segmentation, output ``o1``;
``video``: the medium is a video); and what is expected: ``task`` (``chat``: no invocation), ``op``,
``target`` (null: not checked), ``args`` (``new``, ``color``, ``style``, ``direction``) and ``region``
(``box``, ``output`` or ``none``). Phrases are compared without case, punctuation and leading
determiners ("the cup" == "cup"); an animation's prompt may go on with the motion asked for ("make the flag
wave": "the flag wave" names "the flag"). A request is fully right when every field is.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

__all__ = ["EVAL_FILE", "TEST_FILE", "BLIND_FILE", "FIELDS", "load_rows", "normalise", "same_arg", "planner_input", "score", "evaluate", "main"]

EVAL_FILE = Path(__file__).resolve().parent / "lite_eval.jsonl"
TEST_FILE = Path(__file__).resolve().parent / "lite_test.jsonl"
BLIND_FILE = Path(__file__).resolve().parent / "lite_blind.jsonl"
FIELDS = ("task", "op", "target", "args", "region")
_BOX = (100.0, 80.0, 300.0, 260.0)
_LEADING = re.compile(r"^(?:(?:the|a|an|this|that|these|those|my|all|every|some)\s+"
                      r"|(?:这|那|一)(?:只|个|辆|张|把|棵|条|台|本|块|位|些|朵|幅|束|杯|段|片|座|头|匹|件|顶|盏|根|株|盆|碗|双|副|支|架|艘|颗|间)?"
                      r"|(?:图|图片|照片|画面|视频)(?:中|里|上)的)+")
"""Leading determiners, English and Chinese (demonstratives, "one" and their measure words, "in the picture")."""


def load_rows(path: str | Path = EVAL_FILE) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def normalise(text: str | None) -> str:
    """A phrase as the sets compare it: lower case, no punctuation, single spaces, no leading determiner."""
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


_STYLE_WORD = re.compile(r"(?:\s+(?:style|look|vibe|aesthetic|effect|filter)|的?(?:风格|风|效果))$")


def same_arg(name: str, expected: Any, got: Any) -> bool:
    """Directions are a closed set, compared as the move expert reads them ("左" == "left"); a style with or
    without the word that says it is one ("油画风格" == "油画", "a vintage film look" == "vintage film"; the sets'
    writers label it both ways); the rest as text. A missing arg (None) reads as empty."""
    got = "" if got is None else got
    if name == "direction":
        from vitron_agent.planners.lite import direction_word

        return direction_word(str(expected)) == direction_word(str(got))
    if name == "style":
        return _STYLE_WORD.sub("", normalise(str(got))) == _STYLE_WORD.sub("", normalise(str(expected)))
    return normalise(str(got)) == normalise(str(expected))


_ILLUSTRATION_OF = re.compile(r"^(?:an?\s+)?illustration\s+of\s+")


def _same_target(row: dict[str, Any], command: str) -> bool:
    """The phrase, compared without case, punctuation and leading determiners. An animation's command is its
    prompt, which keeps the motion asked for: "make the flag wave" -> "the flag wave" names "the flag". A generation
    prompt may keep a leading "an illustration of" (these sets drop it as the medium; the planner keeps it as style)."""
    got, want = normalise(command), normalise(row["target"])
    if row["task"] == "animate_image" and want:
        return got == want or got.startswith(want + " ") or (bool(_CJK_CHAR.search(want)) and got.startswith(want))
    if row["task"] in ("generate_image", "generate_video"):  # "an illustration of" is kept as the picture's style
        return normalise(_ILLUSTRATION_OF.sub("", got)) == normalise(_ILLUSTRATION_OF.sub("", want))
    return got == want


_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")


def score(row: dict[str, Any], invocations: list) -> dict[str, bool]:
    """Which fields of the first invocation (none: ``chat``) match the row's expectations."""
    inv = invocations[0] if invocations else None
    got_region = "none" if inv is None or inv.region is None else "output" if inv.region.ref else "box"
    got_args = inv.args if inv is not None else {}
    return {
        "task": (inv.task if inv else "chat") == row["task"],
        "op": (inv.op if inv else None) == row["op"],
        "target": row["target"] is None or (inv is not None and _same_target(row, inv.command)),
        "args": all(same_arg(k, v, got_args.get(k)) for k, v in row["args"].items()),
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


def main(argv: list[str] | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    from vitron_agent.planners.lite import LitePlanner
    from vitron_agent.planners.rules import RuleBasedPlanner

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, action="append", help="hand-written requests (JSON lines); "
                        "repeatable (default: all three sets)")
    parser.add_argument("--weights", type=Path, default=None, help="LitePlanner heads folder (default: shipped)")
    parser.add_argument("--show-errors", action="store_true", help="list each planner's misses")
    args = parser.parse_args(argv)
    lite = LitePlanner(args.weights)
    start = time.perf_counter()
    lite.load()
    print(f"LitePlanner loaded in {time.perf_counter() - start:.2f}s" + (f" ({lite._missing})" if lite._missing
                                                                          else ""))
    reports = {}
    for path in args.file or [EVAL_FILE, TEST_FILE, BLIND_FILE]:
        rows = load_rows(path)
        print(f"\n== {path.name} ==")
        reports[path.name] = {"lite": evaluate(lite, rows), "rules": evaluate(RuleBasedPlanner(), rows)}
        _print(reports[path.name], args.show_errors)
    return reports


if __name__ == "__main__":
    main()
