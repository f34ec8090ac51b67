"""A video turn against the experts' own work, and propagation against per-frame segmentation, on a clip with
known ground truth.

The clip: a real photo (scikit-image's coffee, enlarged) filmed by a camera that wanders along a known path
(speed and direction change), 640x480, encoded as H.264. The cup is boxed on frame 0; its true mask on frame t
is the frame-0 mask moved by the camera's path, so tracking is scored against truth, not against another
method.

- ``direct``: what a script does: decode the clip, GrabCut on frame 0's box, ``flow_track`` through the clip,
  save the masks (packed bits, compressed);
- ``turn``: ``agent.invoke(videos=[clip], invocations=[track with the box])``, the same experts through the
  graph (decoding, the inserted keyframe segmentation, storage, the preview video).
Per-frame GrabCut (each frame with its true box, on every 24th frame) is timed and scored on the same truth.
Targets (issue 18): turn / direct <= 1.3 per frame on a 480-frame clip; tracking IoU against truth reported.

    python benchmarks/bench_video.py [--frames 480] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402
from paired import run_paired, spread  # noqa: E402
from PIL import Image  # noqa: E402
from synthetic_media import iou, moved, path_clip, wander  # noqa: E402

from vitron_agent import AgentConfig, Invocation, VitronAgent  # noqa: E402
from vitron_agent.experts.base import ExpertCall, VideoClip  # noqa: E402
from vitron_agent.stores.media import MediaLimits  # noqa: E402
from vitron_agent.stores.media_io import decode_video, encode_video  # noqa: E402

SIZE = (640, 480)
CUP = (275.0, 29.0, 656.0, 480.0)
"""The cup in the enlarged photo (1.6x the 600x400 coffee), hand-drawn around its rim, body and handle."""


def make_clip(folder: Path, frames: int) -> tuple[Path, list[tuple[int, int]], tuple[float, float, float, float]]:
    from skimage import data

    photo = np.asarray(Image.fromarray(data.coffee()).resize((960, 640), Image.Resampling.BICUBIC))
    offsets = wander(frames, photo.shape[1] - SIZE[0], photo.shape[0] - SIZE[1])
    clip = path_clip(photo, offsets, SIZE)
    path = folder / "wander.mp4"
    path.write_bytes(encode_video(clip, 24.0))
    x0, y0 = offsets[0]
    box = (max(0.0, CUP[0] - x0), max(0.0, CUP[1] - y0), min(SIZE[0] - 1.0, CUP[2] - x0), min(SIZE[1] - 1.0, CUP[3] - y0))
    return path, offsets, box


def truth(first: np.ndarray, offsets: list[tuple[int, int]]) -> list[np.ndarray]:
    x0, y0 = offsets[0]
    return [moved(first, x0 - x, y0 - y) for x, y in offsets]


def direct(agent: VitronAgent, path: Path, box: tuple, out: Path) -> np.ndarray:
    frames, fps = decode_video(path.read_bytes(), path.name, MediaLimits())
    with agent.pool.use("grabcut") as grabcut:
        first = grabcut.run(ExpertCall(invocation=Invocation(id="c1", task="segment"), images=[frames[0]],
                                       boxes=[box])).masks[0]
    with agent.pool.use("flow_track") as tracker:
        masks = tracker.run(ExpertCall(invocation=Invocation(id="c2", task="track"), video=VideoClip(frames, fps),
                                       mask=first)).masks[0]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, bits=np.packbits(masks, axis=-1), shape=np.array(masks.shape))
    out.write_bytes(buffer.getvalue())
    return np.asarray(masks, dtype=bool)


def turn(agent: VitronAgent, path: Path, box: tuple) -> Path:
    """The turn, up to its result: the path of the mask file it wrote (read back for scoring after the timing,
    as the direct run's masks are scored from memory)."""
    result = agent.invoke("", videos=[path], invocations=[Invocation(module="flow_track", task="track",
                                                                      region={"box": box})])
    assert not result.errors, result.errors
    return Path(next(a for a in result.artifacts if a.kind == "mask_video").path)


def read_masks(path: Path) -> np.ndarray:
    with np.load(path) as stored:
        t, h, w = (int(v) for v in stored["shape"])
        return np.unpackbits(stored["bits"], axis=-1, count=w).astype(bool).reshape(t, h, w)


def per_frame_grabcut(agent: VitronAgent, path: Path, offsets: list, box: tuple, every: int) -> tuple[float, list]:
    import time

    frames, _ = decode_video(path.read_bytes(), path.name, MediaLimits())
    x0, y0 = offsets[0]
    masks, start = [], time.perf_counter()
    with agent.pool.use("grabcut") as grabcut:
        for t in range(0, len(frames), every):
            dx, dy = x0 - offsets[t][0], y0 - offsets[t][1]
            moved_box = (max(0.0, box[0] + dx), max(0.0, box[1] + dy), min(SIZE[0] - 1.0, box[2] + dx),
                         min(SIZE[1] - 1.0, box[3] + dy))
            masks.append(grabcut.run(ExpertCall(invocation=Invocation(id="c1", task="segment"), images=[frames[t]],
                                                boxes=[moved_box])).masks[0])
    return (time.perf_counter() - start) / len(masks), masks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=480)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, offsets, box = make_clip(folder, args.frames)
        with VitronAgent(AgentConfig(state_dir=folder / "state")) as agent:
            got: dict[str, np.ndarray] = {}
            written: list[Path] = []
            paired = run_paired({"direct": lambda: got.__setitem__("direct", direct(agent, path, box, folder / "m.npz")),
                                 "turn": lambda: written.append(turn(agent, path, box))},
                                args.rounds, warmup=0)
            got["turn"] = read_masks(written[-1])
            grabcut_s, grabcut_masks = per_frame_grabcut(agent, path, offsets, box, every=24)
    n = args.frames
    first = got["direct"][0]
    real = truth(first, offsets)
    scores = {name: [iou(a, b) for a, b in zip(masks, real, strict=True)] for name, masks in got.items()}
    scores["per-frame GrabCut"] = [iou(m, real[t]) for m, t in zip(grabcut_masks, range(0, n, 24), strict=True)]
    ratio, lo, hi = paired.ratio("turn", "direct")
    print(f"clip: {n} frames of {SIZE[0]}x{SIZE[1]} H.264, wandering camera; {args.rounds} paired rounds; "
          "median [quartiles]")
    for name in ("direct", "turn"):
        mid, q1, q3 = spread(paired.seconds[name])
        print(f"  {name:<8}{mid:>8.2f} s  [{q1:.2f}..{q3:.2f}]  {mid / n * 1e3:7.2f} ms/frame")
    print(f"  turn / direct per frame: {ratio:.3f} [{lo:.3f}..{hi:.3f}]")
    print(f"  per-frame GrabCut: {grabcut_s * 1e3:.1f} ms/frame ({grabcut_s * n / paired.median('direct'):.1f}x the "
          "direct propagation's time per clip)")
    print("IoU against the true masks (frame-0 mask moved along the camera path):")
    for name, values in scores.items():
        print(f"  {name:<20} mean {np.mean(values):.3f}  min {np.min(values):.3f}  last {values[-1]:.3f}")
    print(f"summary: video turn / direct = {ratio:.3f} per frame [{lo:.2f}..{hi:.2f}] on {n} frames (target <= 1.3); "
          f"tracking IoU vs truth: turn mean {np.mean(scores['turn']):.3f} min {np.min(scores['turn']):.3f}, "
          f"per-frame GrabCut mean {np.mean(scores['per-frame GrabCut']):.3f} at "
          f"{grabcut_s * n / paired.median('direct'):.1f}x the time")


if __name__ == "__main__":
    main()
