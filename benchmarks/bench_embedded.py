"""The embedded, weight-free experts against ground truth: what a user gets out of the box.

- GrabCut on boxes drawn on real photos: the README's coffee example (box 172,18,410,300) scored against the cup's
  hand-traced outline (rim, red body, handle), and three more objects boxed by hand on other scikit-image photos
  (the drawn box a few pixels loose, the true box read off an enlarged crop). Figure: IoU of the mask's bounding
  box with the object's true box (target >= 0.85), and, for the cup, mask IoU with the traced outline. Plain
  GrabCut (``tight_box=False``) runs beside it as the baseline, so a regression of the box-side prior shows.
- Optical-flow tracking of the cup cut along its outline and moved over another photo along a known path (72
  frames; every frame has an exact mask and box by construction). Figure: the fraction of frames whose mask box
  has IoU >= 0.5 with the true box (target >= 0.90), from the exact keyframe mask (the expert alone) and the way a
  user runs it (``agent.invoke`` with a box on the keyframe: GrabCut, then the tracker, through the graph).

Quality, not speed: each figure is computed once (the experts are deterministic); the time per call is printed as
the median of paired, interleaved rounds for reference.

    python benchmarks/bench_embedded.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402
from paired import run_paired  # noqa: E402

from tests.ground_truth import COFFEE_CUP, COFFEE_CUP_DRAWN, DRAWN_BOXES, mask_box, polygon_mask  # noqa: E402
from tests.synthetic_media import iou  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools._common import box_iou  # noqa: E402
from vitron_agent.tools.grabcut import GrabCutExpert  # noqa: E402

GRABCUT_TARGET = 0.85
TRACK_TARGET = 0.90


def segment(expert: GrabCutExpert, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    call = ExpertCall(invocation=Invocation(id="c1", task="segment"), images=[image], boxes=[box])
    return expert.run(call).masks[0]


def grabcut_figures(rounds: int) -> tuple[float, list[str]]:
    """The cup's box IoU with the default expert, and the printed rows."""
    from skimage import data

    experts = {"grabcut": GrabCutExpert(), "plain GrabCut": GrabCutExpert(tight_box=False)}
    for expert in experts.values():
        expert.load()
    coffee = data.coffee()
    cup = polygon_mask(COFFEE_CUP, (coffee.shape[1], coffee.shape[0]))
    cases = {"the cup (README)": ("coffee", COFFEE_CUP_DRAWN, mask_box(cup))} | DRAWN_BOXES
    rows, cup_score = [f"{'object':<22}{'grabcut box IoU':>17}{'plain':>8}{'mask IoU':>10}{'ms/call':>9}"], 0.0
    for name, (photo, drawn, truth) in cases.items():
        image = getattr(data, photo)()
        masks = {label: segment(expert, image, drawn) for label, expert in experts.items()}
        scores = {label: box_iou(mask_box(m), truth) if m.any() else 0.0 for label, m in masks.items()}
        timing = run_paired({label: (lambda e=e, i=image, b=drawn: segment(e, i, b)) for label, e in experts.items()},
                            rounds)
        outline = f"{iou(masks['grabcut'], cup):>10.3f}" if photo == "coffee" else f"{'':>10}"
        if photo == "coffee":
            cup_score = scores["grabcut"]
            outline += f"  (plain {iou(masks['plain GrabCut'], cup):.3f})"
        rows.append(f"{name:<22}{scores['grabcut']:>17.3f}{scores['plain GrabCut']:>8.3f}{outline}"
                    f"{timing.median('grabcut') * 1e3:>9.0f}")
        rows[-1] += "" if scores["grabcut"] >= GRABCUT_TARGET else "   below target"
    return cup_score, rows


def tracking_figures(folder: Path) -> tuple[float, float, list[str]]:
    """Fractions of frames at box IoU >= 0.5: the expert from the exact mask, and a user's turn with a box."""
    from tests.synthetic_media import cup_clip
    from vitron_agent import AgentConfig, VitronAgent
    from vitron_agent.experts.base import VideoClip
    from vitron_agent.stores.media_io import encode_video
    from vitron_agent.tools.flow_track import FlowTrackExpert

    clip = cup_clip()
    tracker = FlowTrackExpert()
    tracker.load()
    alone = tracker.run(ExpertCall(invocation=Invocation(id="c1", task="track"), video=VideoClip(clip.frames, 24.0),
                                   mask=clip.masks[0])).masks[0]
    path = folder / "cup.mp4"
    path.write_bytes(encode_video(clip.frames, 24.0))
    with VitronAgent(AgentConfig(state_dir=folder / "state")) as agent:
        result = agent.invoke("", videos=[path], invocations=[Invocation(module="flow_track", task="track",
                                                                          region={"box": list(clip.boxes[0])})])
        if result.errors:
            raise SystemExit(f"the tracking turn failed: {result.errors}")
        ref = next(a for a in result.artifacts if a.kind == "mask_video")
        with np.load(ref.path) as stored:
            t, h, w = (int(v) for v in stored["shape"])
            turn = np.unpackbits(stored["bits"], axis=-1, count=w).astype(bool).reshape(t, h, w)
    rows = [f"{'tracking (72 frames)':<34}{'frames at box IoU>=0.5':>24}{'mean mask IoU':>15}"]
    fractions = []
    for name, masks in (("flow_track from the exact mask", alone), ("agent turn with a box", turn)):
        boxes = [box_iou(mask_box(m), truth) if m.any() else 0.0 for m, truth in zip(masks, clip.boxes, strict=True)]
        fractions.append(float(np.mean(np.array(boxes) >= 0.5)))
        ious = [iou(m, truth) for m, truth in zip(masks, clip.masks, strict=True)]
        rows.append(f"{name:<34}{fractions[-1]:>24.3f}{np.mean(ious):>15.3f}")
    return fractions[0], fractions[1], rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cup, rows = grabcut_figures(args.rounds)
    print("\n".join(rows))
    with tempfile.TemporaryDirectory() as tmp:
        alone, turn, rows = tracking_figures(Path(tmp))
    print("\n".join(rows))
    print(f"summary: GrabCut on the README's cup box: box IoU {cup:.3f} (target >= {GRABCUT_TARGET}); "
          f"flow tracking: {alone:.0%} of frames at box IoU >= 0.5 from the exact mask, {turn:.0%} in a turn "
          f"from a box (target >= {TRACK_TARGET:.0%})")


if __name__ == "__main__":
    main()
