"""``vitron-agent chat``: a plain interactive loop (``/image``, ``/video``, ``/region``, ``/thread``, ``/quit``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = ["run_chat"]

_HELP = "commands: /image PATH, /video PATH, /region x1,y1,x2,y2, /thread, /quit; anything else is sent to the agent"


def run_chat(agent: Any, thread: str | None = None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Read requests line by line; media and regions given by commands go with the next request."""
    from .errors import BadInputError, VitronError
    from .stores.media_io import probe_file

    images: list[str] = []
    videos: list[str] = []
    region: list[float] | None = None
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
        elif command == "/thread":
            print(f"thread: {thread}", file=stdout)
        elif command.startswith("/"):
            print(_HELP, file=stdout)
        else:
            try:
                result = agent.invoke(line, images=images, videos=videos, region=region, thread=thread)
            except (BadInputError, VitronError) as exc:
                print(f"error: {exc}", file=stdout)  # attachments stay for the next try
                continue
            thread = result.thread
            images, videos, region = [], [], None
            print(result.reply, file=stdout)
            for artifact in result.artifacts:
                print(f"  {artifact.id}: {artifact.kind} -> {artifact.path}", file=stdout)
    return 0
