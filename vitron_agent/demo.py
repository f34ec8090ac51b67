"""``vitron-agent demo``: the offline showcase on real photos that scikit-image ships.

Writes each turn's outputs (mask overlays, box drawings as PNG) and ``summary.json`` to a folder.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["run_demo", "DEMO_TURNS", "demo_photo"]

DEMO_TURNS: tuple[dict[str, Any], ...] = (
    {"photo": "astronaut", "text": "find the faces"},
    {"photo": "coffee", "text": "segment the object in the box", "region": [172, 18, 410, 300]},
    {"photo": "rocket", "text": "segment the rocket in the box", "region": [285, 120, 360, 410]},
    {"photo": None, "text": "now remove it", "same_thread_as": 2},
)
"""Each turn: a scikit-image photo (or none, to continue the previous thread), text and region."""


def demo_photo(name: str, folder: Path) -> Path:
    """Save scikit-image's ``name`` photo as a PNG in ``folder`` and return its path."""
    try:
        from skimage import data
    except ImportError:
        from .errors import UnavailableError

        raise UnavailableError('the demo photos come from scikit-image; install it with: pip install "vitron-agent[demo]"') from None
    from PIL import Image

    path = folder / f"{name}.png"
    Image.fromarray(getattr(data, name)()).save(path)
    return path


def run_demo(out: str | Path, state_dir: str | Path | None = None) -> int:
    """Run the demo turns offline; returns the CLI exit code."""
    from .agent import VitronAgent
    from .config import AgentConfig

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    state = Path(state_dir) if state_dir else out / "state"
    summary: list[dict[str, Any]] = []
    threads: list[str | None] = []
    config = AgentConfig(state_dir=state, preview_format="png")  # lossless overlays to look at
    with tempfile.TemporaryDirectory() as scratch, VitronAgent(config) as agent:
        for number, turn in enumerate(DEMO_TURNS):
            images = [demo_photo(turn["photo"], Path(scratch))] if turn["photo"] else []
            thread = threads[turn["same_thread_as"]] if "same_thread_as" in turn else None
            result = agent.invoke(turn["text"], images=images, region=turn.get("region"), thread=thread)
            threads.append(result.thread)
            saved = []
            for artifact in result.artifacts:
                label = "preview" if artifact.preview else artifact.kind
                target = out / f"turn{number}_{artifact.id}_{label}{Path(artifact.path).suffix}"
                shutil.copyfile(artifact.path, target)
                saved.append(str(target))
            summary.append({"turn": number, "photo": turn["photo"], **result.to_json(), "saved": saved})
            print(f"[{number}] {turn['text']!r}: {result.reply.splitlines()[0] if result.reply else ''}")
            for line in saved:
                print(f"     wrote {line}")
            for error in result.errors:
                print(f"     note: {error['message']}")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"demo outputs are in {out}")
    return 0
