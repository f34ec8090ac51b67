"""Score a planner on requests written apart from its templates: single requests and multi-turn dialogues.

    python -m vitron_agent.finetune.blind_eval [--requests FILE] [--dialogues FILE] [--planner lite] [--show-errors]

The default files are ``blind/requests.jsonl`` and ``blind/dialogues.jsonl`` beside this file (the latest test
set, written by someone who had seen neither the templates nor any other set; read once, after the planner was
final). ``--dev`` scores the development sets in the same format instead (each with its ``_dialogues`` file
beside it), all tuned against by now: ``lite_unseen*.jsonl``; ``lite_unseen_spent`` is the first test set, read
once as one and a development set since (``finetune/README.md`` has each set's story).

A request row: ``id``, ``lang``, ``media`` (the attached media in order, ids ``u0``, ``u1``...), ``text``,
``box`` (a box the user drew on the last attached medium, or null), ``family`` and ``expect``: the
invocations expected, in order, each with ``task``, ``target`` (the phrase, or null: not checked; a call with no words of its own whose
region is an earlier call's output acts on that call's object),
``input`` (``u0``, ``u1``, ``prev`` = the output of the previous expected call, or of the previous turn;
``t1``, ``t2``... = the output of that turn of a dialogue; null for tasks that start from text; on a call
whose region is that earlier output, a region that refers to it satisfies the input too), ``region`` (``none``, ``text`` = a box written in the text, ``output`` = the
previous call's output, ``box`` = the drawn box), ``box`` and ``frame`` (for ``text``) and ``args`` (``op``,
``prompt``, ``style``, ``new``, ``color``, ``direction``). A dialogue row has ``turns`` of ``{text, box,
expect}``; earlier turns are taken as done as expected (their outputs ``o1``, ``o2``... in order).

The planner is read as ``vitron-agent plan`` reads it (``planner_from_spec``), from a ``PlannerInput`` alone,
so which experts are installed does not count. A request is fully right when the invocations match the
expectations in count and order on every field given. Phrases are compared as ``lite_eval`` compares them;
prompts after normalising case, punctuation and articles, and also right when every content word of the
expected prompt is in the planned one. Boxes written as fractions (all four within 0..1) are scaled by the
medium's size (every medium here is 640x480, 48 frames for a video).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vitron_agent.finetune.lite_eval import load_rows, normalise, same_arg

__all__ = ["REQUESTS_FILE", "DIALOGUES_FILE", "DEV_SETS", "FIELDS", "Expected", "Scored",
           "score_turn", "evaluate", "main"]

HERE = Path(__file__).resolve().parent
REQUESTS_FILE = HERE / "blind" / "requests.jsonl"
DIALOGUES_FILE = HERE / "blind" / "dialogues.jsonl"
DEV_SETS = tuple((HERE / f"{name}.jsonl", HERE / f"{name}_dialogues.jsonl")
                 for name in ("lite_unseen", "lite_unseen_check", "lite_unseen_final", "lite_unseen_spent",
                              "lite_unseen_more", "lite_unseen_probe", "lite_unseen_probe2", "lite_unseen_probe3",
                              "lite_unseen_probe4", "lite_unseen_probe5", "lite_unseen_probe6",
                              "lite_unseen_probe7", "lite_unseen_probe8", "lite_unseen_probe9",
                              "lite_unseen_probe10", "lite_unseen_probe11", "lite_unseen_probe12",
                              "lite_unseen_probe13", "lite_unseen_probe14", "lite_unseen_probe15",
                              "lite_unseen_probe16", "lite_unseen_probe17", "lite_unseen_probe18",
                              "lite_unseen_probe19", "lite_unseen_probe20", "lite_unseen_probe21",
                              "lite_unseen_probe22", "lite_unseen_probe23", "lite_unseen_probe24",
                              "lite_unseen_probe25", "lite_unseen_probe26", "lite_unseen_probe27",
                              "lite_unseen_probe28", "lite_unseen_probe29", "lite_unseen_probe30",
                              "lite_unseen_probe31", "lite_unseen_probe32", "lite_unseen_probe33",
                              "lite_unseen_probe34", "lite_unseen_probe35", "lite_unseen_probe36",
                              "lite_unseen_probe37", "lite_unseen_probe38", "lite_unseen_probe39",
                              "lite_unseen_probe40", "lite_unseen_probe41", "lite_unseen_probe42",
                              "lite_unseen_probe43", "lite_unseen_probe44", "lite_unseen_probe45"))
"""The development sets: (requests, dialogues) files."""
WIDTH, HEIGHT, FRAMES = 640, 480, 48
FIELDS = ("count", "task", "target", "args", "region", "input")
_FROM_TEXT = ("generate_image", "generate_video")
_PROMPTED = ("generate_image", "generate_video", "animate_image")
_OUTPUT_KIND = {"segment": "mask", "ground": "boxes", "track": "mask_video", "edit_image": "image",
                "generate_image": "image", "edit_video": "video", "generate_video": "video", "animate_image": "video"}
_ARTICLES = re.compile(r"\b(?:the|a|an)\b")
_STOP = frozenset("the a an of in on at to with and is are this that it its".split())


@dataclass(frozen=True)
class Expected:
    """One expected invocation, as a row writes it."""

    task: str
    target: str | None
    input: str | None
    region: str
    box: tuple[float, ...] | None
    frame: int | None
    args: dict[str, Any]

    @classmethod
    def read(cls, row: dict[str, Any]) -> Expected:
        box = row.get("box")
        return cls(row["task"], row.get("target"), row.get("input"), row.get("region") or "none",
                   tuple(float(v) for v in box) if box else None, row.get("frame"), dict(row.get("args") or {}))


@dataclass
class Scored:
    """One request (or dialogue turn): which fields were right, and what was planned."""

    row: dict[str, Any]
    fields: dict[str, bool]
    planned: list[Any] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def right(self) -> bool:
        return all(self.fields.values())


def _prompt_text(text: str) -> str:
    return " ".join(_ARTICLES.sub(" ", re.sub(r"[^\w\s]", " ", text.lower())).split())


def same_prompt(expected: str, got: str) -> bool:
    """Equal after normalising, or every content word of the expected prompt is in the planned one."""
    a, b = _prompt_text(expected), _prompt_text(got)
    if a == b:
        return True
    if re.search(r"[\u3400-\u9fff]", a):
        return bool(a) and a.replace(" ", "") in b.replace(" ", "")
    words = set(b.split())
    content = [w for w in a.split() if w not in _STOP]
    return bool(content) and all(w in words for w in content)


def _scaled(box: tuple[float, ...]) -> tuple[float, ...]:
    if all(0.0 <= v <= 1.0 for v in box):
        return (box[0] * WIDTH, box[1] * HEIGHT, box[2] * WIDTH, box[3] * HEIGHT)
    return box


@dataclass
class _Thread:
    """The media and done calls of a conversation so far, as the graph would hold them (with the earlier
    requests as the thread's human messages)."""

    media: list[Any]
    history: list[Any] = field(default_factory=list)
    last_output: str | None = None
    outputs: int = 0
    turn_outputs: dict[int, str | None] = field(default_factory=dict)
    """Turn number -> that turn's (last) output id: what an expected input ``t1``, ``t2``... names."""

    @classmethod
    def start(cls, kinds: list[str]) -> _Thread:
        from vitron_agent.planners.base import MediaInfo

        return cls([MediaInfo(f"u{i}", kind, WIDTH, HEIGHT, frames=FRAMES if kind == "video" else 1)
                    for i, kind in enumerate(kinds)])

    def done(self, turn: int, expect: list[Expected], inputs: list[str | None]) -> None:
        """Record a turn as done as expected: each call's output gets the next ``oN`` id."""
        from vitron_agent.planners.base import CallInfo, MediaInfo

        for i, (exp, given) in enumerate(zip(expect, inputs, strict=True)):
            if exp.task == "answer":
                self.history.append(CallInfo(turn, f"c{i + 1}", exp.task, exp.target or "", "done", None, "expert"))
                continue
            self.outputs += 1
            out = f"o{self.outputs}"
            parents = (given,) if given else ()
            self.media.append(MediaInfo(out, _OUTPUT_KIND[exp.task], WIDTH, HEIGHT,
                                        frames=FRAMES if "video" in _OUTPUT_KIND[exp.task] else 1,
                                        source="expert", parents=parents))
            words = exp.target or str(exp.args.get("prompt") or exp.args.get("new") or "")
            self.history.append(CallInfo(turn, f"c{i + 1}", exp.task, words, "done", out, "expert", exp.args.get("op")))
            self.last_output = out
        self.turn_outputs[turn] = self.last_output


def _planner_input(thread: _Thread, text: str, box: list[float] | None, new: list[str], said: list[str]):
    from langchain_core.messages import HumanMessage

    from vitron_agent.planners.base import PlannerInput
    from vitron_agent.protocol.invocation import Region

    region = Region(box=tuple(float(v) for v in box)) if box else None
    users = [m.id for m in thread.media if m.source == "user"]
    on = new[-1] if new else (users[-1] if users else None)  # drawn on the last attached medium, as the format says
    return PlannerInput(text=text, messages=[HumanMessage(t) for t in [*said, text]], media=list(thread.media), new_media=list(new), region=region,
                        region_media=on if region is not None else None, history=list(thread.history))


def _default_input(inv: Any, planned: list[Any], thread: _Thread, new: list[str]) -> str | None:
    """The medium an invocation without inputs acts on, as the graph's validator picks it (simplified)."""
    from vitron_agent.protocol.tasks import task_spec

    region = inv.region
    if region is not None and region.ref:
        earlier = next((p for p in planned if p.id == region.ref), None)
        if earlier is not None:
            return _input_of(earlier, planned, thread, new)
        ref = next((m for m in thread.media if m.id == region.ref), None)
        if ref is not None and ref.parents:
            return ref.parents[0]
    spec = task_spec(inv.task)
    if spec.input_kind is None:
        return None
    kinds = [spec.input_kind, *(["video"] if spec.keyframe else [])]
    by_id = {m.id: m for m in thread.media}
    for kind in kinds:
        found = next((m for m in reversed(new) if by_id[m].kind == kind), None)
        if found is not None:
            return found
    for kind in kinds:
        found = next((m.id for m in reversed(thread.media) if m.kind == kind), None)
        if found is not None:
            return found
    return None


def _input_of(inv: Any, planned: list[Any], thread: _Thread, new: list[str]) -> str | None:
    return inv.inputs[0] if inv.inputs else _default_input(inv, planned, thread, new)


def _expected_input(exp: Expected, position: int, thread: _Thread) -> str | None:
    """The id the expected input names: ``prev`` is ``c<position>`` (the call before) or the last turn's output;
    ``t1``, ``t2``... the output of that turn of the dialogue."""
    if exp.input == "prev":
        return f"c{position}" if position > 0 else thread.last_output
    if exp.input and re.fullmatch(r"t\d+", exp.input):
        return thread.turn_outputs.get(int(exp.input[1:]))
    return exp.input


def score_turn(row: dict[str, Any], planned: list[Any], thread: _Thread, drawn: list[float] | None,
               new: list[str]) -> dict[str, bool]:
    expect = [Expected.read(e) for e in row["expect"]]
    fields = {f: True for f in FIELDS}
    fields["count"] = len(planned) == len(expect)
    for position, exp in enumerate(expect):
        got = planned[position] if position < len(planned) else None
        if got is None:
            for f in FIELDS[1:]:
                fields[f] = False
            continue
        fields["task"] &= got.task == exp.task
        if exp.target is not None:
            fields["target"] &= normalise(got.command or _region_target(got, planned, thread) if exp.target
                                          else got.command) == normalise(exp.target)
        for name, value in exp.args.items():
            if value is None:
                continue
            if name == "prompt":
                words = got.args.get("prompt") or got.command if exp.task in _PROMPTED else got.args.get("prompt", "")
                fields["args"] &= same_prompt(str(value), str(words or ""))
            else:
                fields["args"] &= same_arg(name, value, got.args.get(name))
        fields["region"] &= _same_region(exp, got.region, drawn)
        if exp.task not in _FROM_TEXT and exp.input is not None:
            wanted = _expected_input(exp, position, thread)
            via_region = exp.region == "output" and got.region is not None and got.region.ref == wanted
            fields["input"] &= via_region or _input_of(got, planned, thread, new) == wanted
    return fields


def _region_target(inv: Any, planned: list[Any], thread: _Thread) -> str:
    """What an invocation with no words of its own acts on when its region is an earlier call's output ("segment
    the sofa, then recolor it": the recolour's region is the sofa's mask): that call's object."""
    ref = inv.region.ref if inv.region is not None else None
    if not ref:
        return ""
    earlier = next((p for p in planned if p.id == ref), None)
    if earlier is not None:
        return earlier.command or ""
    return next((c.command for c in thread.history if c.output == ref), "")


def _same_region(exp: Expected, region: Any, drawn: list[float] | None) -> bool:
    if exp.region == "none":
        return region is None
    if region is None:
        return False
    if exp.region == "output":
        return region.ref is not None
    if exp.region == "box":
        return region.box is not None and drawn is not None and tuple(region.box) == tuple(float(v) for v in drawn)
    if region.box is None or exp.box is None:
        return False
    want = _scaled(exp.box)
    frame = region.frames[0] if region.frames is not None else None
    return all(abs(a - b) < 0.01 for a, b in zip(region.box, want, strict=True)) and frame == exp.frame


def evaluate(planner: Any, requests: list[dict[str, Any]], dialogues: list[dict[str, Any]]) -> dict[str, Any]:
    """Every request and every dialogue turn scored; the figures the report prints."""
    singles: list[Scored] = []
    for row in requests:
        thread = _Thread.start(row["media"])
        new = [m.id for m in thread.media]
        start = time.perf_counter()
        out = planner.plan(_planner_input(thread, row["text"], row.get("box"), new, []))
        seconds = time.perf_counter() - start
        singles.append(Scored(row, score_turn(row, out.invocations, thread, row.get("box"), new), out.invocations,
                              seconds))
    turns: list[Scored] = []
    for dialogue in dialogues:
        thread = _Thread.start(dialogue["media"])
        for number, turn in enumerate(dialogue["turns"], start=1):
            new = [m.id for m in thread.media if m.source == "user"] if number == 1 else []
            said = [t["text"] for t in dialogue["turns"][:number - 1]]
            out = planner.plan(_planner_input(thread, turn["text"], turn.get("box"), new, said))
            row = {**turn, "id": f"{dialogue['id']}#{number}", "lang": dialogue["lang"]}
            turns.append(Scored(row, score_turn(row, out.invocations, thread, turn.get("box"), new), out.invocations))
            expect = [Expected.read(e) for e in turn["expect"]]
            thread.done(number, expect, [_expected_input(e, i, thread) for i, e in enumerate(expect)])
    return {"requests": singles, "turns": turns}


def _share(items: list[Scored], test: Any = None) -> str:
    if not items:
        return "-"
    right = sum(1 for s in items if (test(s) if test else s.right))
    return f"{right}/{len(items)} = {right / len(items):.1%}"


def report(result: dict[str, Any], show_errors: bool = False) -> dict[str, str]:
    singles, turns = result["requests"], result["turns"]
    figures = {
        "English fully right": _share([s for s in singles if s.row["lang"] == "en"]),
        "Chinese fully right": _share([s for s in singles if s.row["lang"] == "zh"]),
        "written boxes": _share([s for s in singles if s.row.get("family") == "written_box"]),
        "compound": _share([s for s in singles if s.row.get("family") == "compound"]),
        "multi-turn turns": _share(turns),
        "multi-turn turns (en)": _share([s for s in turns if s.row["lang"] == "en"]),
        "multi-turn turns (zh)": _share([s for s in turns if s.row["lang"] == "zh"]),
    }
    families: dict[str, list[Scored]] = defaultdict(list)
    for s in singles:
        families[s.row.get("family", "-")].append(s)
    for name in sorted(families):
        figures[f"family {name}"] = _share(families[name])
    for f in FIELDS:
        figures[f"field {f}"] = _share(singles, lambda s, f=f: s.fields[f])
    if singles:
        figures["p50 ms per request"] = f"{1000 * statistics.median(s.seconds for s in singles[1:] or singles):.1f}"
    for key, value in figures.items():
        print(f"{key:32} {value}")
    if show_errors:
        for s in [*singles, *turns]:
            if not s.right:
                wrong = [f for f, ok in s.fields.items() if not ok]
                got = [i.model_dump(exclude_none=True, exclude_defaults=True) for i in s.planned]
                print(f"\n{s.row['id']} {s.row.get('family', '')} {s.row['text']!r}: {', '.join(wrong)}\n"
                      f"  expected {s.row['expect']}\n  planned  {got}")
    return figures


def main(argv: list[str] | None = None) -> dict[str, str]:
    from vitron_agent.planners.spec import planner_from_spec

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=Path, default=REQUESTS_FILE)
    parser.add_argument("--dialogues", type=Path, default=DIALOGUES_FILE)
    parser.add_argument("--dev", action="store_true", help="score the development sets together instead")
    parser.add_argument("--planner", default="lite", help="planner spec as for `vitron-agent plan` (default: lite)")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    sets = DEV_SETS if args.dev else ((args.requests, args.dialogues),)
    requests = [row for path, _ in sets for row in load_rows(path)]
    dialogues = [row for _, path in sets if path.exists() for row in load_rows(path)]
    return report(evaluate(planner_from_spec(args.planner), requests, dialogues), args.show_errors)


if __name__ == "__main__":
    main()
