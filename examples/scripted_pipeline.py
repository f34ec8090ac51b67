"""A scripted pipeline over a folder of images, with explicit invocations and no planner:
segment the object in a box -> remove it -> animate the result. Outputs go to one folder per image.

    python examples/scripted_pipeline.py IMAGES_FOLDER OUT_FOLDER --box 172,18,410,300

Each step refers to the previous one by invocation id (``c1``, ``c2``): the removal's region is the
segmentation's mask, the animation's input is the removal's image.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from vitron_agent import AgentConfig, Invocation, VitronAgent
from vitron_agent.errors import VitronError

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def pipeline(box: tuple[float, float, float, float]) -> list[Invocation]:
    """The three steps; ``u0`` is the image attached to the turn."""
    return [
        Invocation(id="c1", task="segment", command="the object", inputs=["u0"], region={"box": box}),
        Invocation(id="c2", task="edit_image", command="the object", inputs=["u0"], region={"ref": "c1"},
                   args={"op": "remove"}),
        Invocation(id="c3", task="animate_image", command="zoom in slowly", inputs=["c2"]),
    ]


def run(images: Path, out: Path, box: tuple[float, float, float, float], state: Path) -> dict[str, dict]:
    """Process every image in ``images``; returns, per image, the files written or the error."""
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict] = {}
    with VitronAgent(AgentConfig(state_dir=state)) as agent:
        for path in sorted(p for p in images.iterdir() if p.suffix.lower() in SUFFIXES):
            try:
                result = agent.invoke(images=[path], invocations=pipeline(box))
            except VitronError as exc:  # a corrupt file, a box outside this image: skip it, keep going
                report[path.name] = {"error": str(exc)}
                continue
            target = out / path.stem
            target.mkdir(exist_ok=True)
            written = []
            for artifact in result.artifacts:
                if not artifact.preview:
                    copy = target / f"{artifact.id}_{artifact.kind}{Path(artifact.path).suffix}"
                    shutil.copyfile(artifact.path, copy)
                    written.append(str(copy))
            report[path.name] = {"steps": [(i.task, i.module) for i in result.invocations], "files": written,
                                 "errors": [e["message"] for e in result.errors]}
            print(f"{path.name}: {', '.join(Path(w).name for w in written) or 'nothing'}")
    (out / "report.json").write_text(json.dumps(report, indent=2))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--box", required=True, help="x1,y1,x2,y2 in pixels")
    args = parser.parse_args()
    box = tuple(float(v) for v in args.box.split(","))
    with tempfile.TemporaryDirectory() as state:
        run(args.images, args.out, box, Path(state))


if __name__ == "__main__":
    main()
