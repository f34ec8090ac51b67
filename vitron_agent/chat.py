"""``vitron-agent chat``: an interactive loop (``/image``, ``/video``, ``/region``, ``/undo``, ``/thread``, ``/quit``).

Experts' progress is shown while they run (a rich progress bar on a terminal, plain lines otherwise), a planner
that streams shows its reply as it writes it (printed as it comes, or a live line on a terminal), and every
output's file path is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = ["run_chat"]

_HELP = ("commands: /image PATH, /video PATH, /region x1,y1,x2,y2, /point x,y[,+|-] (repeatable), /mask PATH, "
         "/frame N (the video frame they are on), /undo (forget the last turn), /thread [ID | new [ID]], /quit; "
         "anything else is sent to the agent")


def run_chat(agent: Any, thread: str | None = None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Read requests line by line; media and regions given by commands go with the next request."""
    from .agent import new_thread_id
    from .errors import BadInputError, VitronError
    from .protocol.inputs import read_point
    from .stores.media_io import probe_file

    images: list[str] = []
    videos: list[str] = []
    region: Any = None
    frame: int | None = None
    print(_HELP, file=stdout)
    for line in stdin:
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        command, _, rest = line.partition(" ")
        if command in ("/image", "/video"):
            kind = command[1:]
            try:  # checked now, so a bad file costs nothing else
                probe_file(Path(rest.strip()), agent.config.limits, expect=kind)
            except BadInputError as exc:
                print(f"error: {exc}", file=stdout)
                continue
            (images if kind == "image" else videos).append(rest.strip())
            print(f"attached {kind} {rest.strip()}", file=stdout)
        elif command == "/region":
            try:
                region = [float(v) for v in rest.split(",")]
            except ValueError:
                print("region must be x1,y1,x2,y2 in pixels", file=stdout)
        elif command == "/point":
            try:
                point = read_point(rest)
            except BadInputError as exc:
                print(f"error: {exc}", file=stdout)
                continue
            region = [*(region if isinstance(region, list) and region and isinstance(region[0], tuple) else []), point]
            print(f"{len(region)} point(s) for the next request", file=stdout)
        elif command == "/mask":
            region = rest.strip()
            print(f"mask {region} for the next request", file=stdout)
        elif command == "/frame":
            if not rest.strip().isdigit():
                print("frame must be a frame number >= 0", file=stdout)
                continue
            frame = int(rest.strip())
            print(f"regions are on frame {frame}", file=stdout)
        elif command == "/thread":
            thread = _switch_thread(agent, rest.strip(), thread, stdout)
            print(f"thread: {thread or 'new'}", file=stdout)
        elif command == "/undo":
            if thread is None:
                print("nothing to undo yet", file=stdout)
                continue
            try:
                left = agent.undo(thread)
            except VitronError as exc:
                print(f"error: {exc}", file=stdout)
                continue
            print(f"undone; the thread has {left} turn(s)", file=stdout)
        elif command.startswith("/"):
            print(_HELP, file=stdout)
        else:
            try:
                thread = thread or new_thread_id()
                streamed = _run_turn(agent, stdout, line, thread=thread, images=images, videos=videos, region=region,
                                     frame=frame if region is not None else None)
                result = agent.result(thread)
                while result.interrupt is not None:
                    result = _answer(agent, thread, result.interrupt, stdin, stdout)
            except (BadInputError, VitronError) as exc:
                print(f"error: {exc}", file=stdout)  # attachments stay for the next try
                continue
            images, videos, region, frame = [], [], None, None
            rest = result.reply[len(streamed):].strip() if streamed and result.reply.startswith(streamed) else result.reply
            if rest or not streamed:
                print(rest, file=stdout)
            for artifact in result.artifacts:
                print(f"  {artifact.id}: {artifact.kind} -> {artifact.path}", file=stdout)
    return 0


def _switch_thread(agent: Any, text: str, current: str | None, stdout: TextIO) -> str | None:
    """``/thread``: show; ``/thread ID``: switch to an existing thread; ``/thread new [ID]``: start one."""
    from .errors import BadInputError

    words = text.split()
    if not words:
        return current
    try:
        if words[0] == "new":
            if len(words) > 1 and agent.has_thread(words[1]):
                print(f"error: thread {words[1]!r} already exists; switch to it with /thread {words[1]}", file=stdout)
                return current
            return words[1] if len(words) > 1 else None
        if not agent.has_thread(words[0]):
            print(f"error: no thread {words[0]!r}; /thread new {words[0]} starts one under this id", file=stdout)
            return current
    except BadInputError as exc:
        print(f"error: {exc}", file=stdout)
        return current
    return words[0]


def _run_turn(agent: Any, stdout: TextIO, text: str, **request: Any) -> str:
    """Run a turn through ``agent.stream``, showing each expert's progress and the planner's reply as they come;
    returns the reply text already printed (of the last planning round; empty on a terminal, where it was a
    live line)."""
    with _Progress(stdout) as progress:
        for mode, event in agent.stream(text, **request):
            if mode == "custom" and isinstance(event, dict):
                progress.update(event)
    return progress.printed if progress.rich is None else ""


def _answer(agent: Any, thread: str, question: Any, stdin: TextIO, stdout: TextIO) -> Any:
    """A turn paused for the user (approve edits or costly steps, or draw a missing region): ask, then resume."""
    kind = question.get("type") if isinstance(question, dict) else None
    if kind == "region":
        print(f"the agent needs a region: {question.get('message', '')}", file=stdout)
        print("region x1,y1,x2,y2 (empty to skip):", file=stdout)
        answer = (stdin.readline() or "").strip()
        try:
            value: Any = {"box": [float(v) for v in answer.split(",")]} if answer else None
        except ValueError:
            value = None
        return agent.resume(thread, value)
    steps = question.get("calls", []) if isinstance(question, dict) else []
    listed = "; ".join(f"{c.get('expert')} {c.get('task')} {c.get('command', '')!r}" for c in steps) or question
    print(f"approve {listed}? [y/N]", file=stdout)
    return agent.resume(thread, (stdin.readline() or "").strip().lower() in ("y", "yes"))


class _Progress:
    """Per-expert progress: a rich bar on a terminal, one line per 25 % otherwise (logs, pipes, tests). The
    planner's streamed reply: a live line on a terminal, else printed as it comes (``printed``: the last
    round's text, its line ended)."""

    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout
        self.rich: Any = None
        self.tasks: dict[str, Any] = {}
        self.shown: dict[str, int] = {}
        self.printed, self.round, self.open_line = "", None, False
        if stdout.isatty():
            try:
                from rich.progress import Progress

                self.rich = Progress(transient=True)
            except ImportError:
                self.rich = None

    def __enter__(self) -> _Progress:
        if self.rich is not None:
            self.rich.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._end_line()
        if self.rich is not None:
            self.rich.stop()

    def _end_line(self) -> None:
        if self.open_line:
            print(file=self.stdout, flush=True)
            self.open_line = False

    def _token(self, event: dict[str, Any]) -> None:
        if event.get("round") != self.round:  # a new planning round writes a new reply
            self._end_line()
            self.round, self.printed = event.get("round"), ""
        self.printed += str(event.get("text", ""))
        if self.rich is not None:
            if "reply" not in self.tasks:
                self.tasks["reply"] = self.rich.add_task("", total=None)
            width = max(self.rich.console.width - 20, 20)
            self.rich.update(self.tasks["reply"], description=" ".join(self.printed.split())[-width:])
            return
        print(event.get("text", ""), end="", file=self.stdout, flush=True)
        self.open_line = True

    def update(self, event: dict[str, Any]) -> None:
        call, kind = str(event.get("call", "")), event.get("type")
        if kind == "token":
            self._token(event)
            return
        self._end_line()
        label = f"{event.get('expert', '?')} {event.get('task', '')}".strip()
        if self.rich is not None:
            if kind == "expert_start":
                self.tasks[call] = self.rich.add_task(label, total=1.0)
            elif kind == "progress" and call in self.tasks:
                self.rich.update(self.tasks[call], completed=float(event.get("fraction", 0.0)),
                                 description=f"{label} {event.get('message', '')}")
            elif kind == "expert_end" and call in self.tasks:
                self.rich.update(self.tasks[call], completed=1.0)
            return
        if kind == "progress":
            quarter = int(float(event.get("fraction", 0.0)) * 4)
            if quarter > self.shown.get(call, 0):
                self.shown[call] = quarter
                print(f"  ... {event.get('expert')}: {event.get('message', '')} ({quarter * 25}%)", file=self.stdout)
