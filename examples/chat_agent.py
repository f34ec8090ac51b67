"""A multi-turn chat agent: one thread, images attached once, follow-ups that refer to earlier results.

    python examples/chat_agent.py                  # the scripted conversation below, on a scikit-image photo
    python examples/chat_agent.py --interactive    # type turns; '/image PATH' attaches an image

Runs offline with the embedded experts; with weights on disk the same turns use the full experts.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from vitron_agent import AgentConfig, VitronAgent
from vitron_agent.agent import TurnResult

CONVERSATION = [
    ("segment the object in the box", (172, 18, 410, 300)),
    ("make it blue", None),
    ("now make it look like a pencil sketch", None),
]


def chat(agent: VitronAgent, image: Path, turns: list[tuple[str, tuple[int, ...] | None]]) -> list[TurnResult]:
    """Run ``turns`` on one thread: the image goes with the first turn, later turns build on the results."""
    results: list[TurnResult] = []
    thread = None
    for number, (text, region) in enumerate(turns):
        result = agent.invoke(text, images=[image] if number == 0 else [], region=region, thread=thread)
        thread = result.thread
        results.append(result)
        print(f"you: {text}\nagent: {result.reply}")
        for artifact in result.artifacts:
            print(f"  {artifact.kind} {artifact.id}: {artifact.path}")
        for error in result.errors:
            print(f"  note: {error['message']}")
    return results


def interactive(agent: VitronAgent) -> None:
    thread, images = None, []
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            return
        if line.startswith("/image "):
            images.append(Path(line.split(maxsplit=1)[1]).expanduser())
            continue
        if line in ("/quit", "/exit"):
            return
        result = agent.invoke(line, images=images, thread=thread)
        thread, images = result.thread, []
        print(f"agent> {result.reply}")
        for artifact in result.artifacts:
            print(f"  {artifact.kind} {artifact.id}: {artifact.path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactive", action="store_true")
    parser.add_argument("--state", default=None, help="where threads are kept (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(args.state or Path(scratch) / "state")
        with VitronAgent(AgentConfig(state_dir=state)) as agent:
            if args.interactive:
                interactive(agent)
            else:
                from PIL import Image
                from skimage import data

                photo = Path(scratch) / "coffee.png"
                Image.fromarray(data.coffee()).save(photo)
                chat(agent, photo, CONVERSATION)


if __name__ == "__main__":
    main()
