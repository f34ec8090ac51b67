"""DAVIS-17: J and the benchmark's boundary F against hand counts and an independent implementation, and an
end-to-end run on clips made from real photos moved along known paths (table, resume)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from vitron_agent.eval import EvalOptions, Runner, RunOutput, run_eval
from vitron_agent.eval.video import Davis17, boundary_f, boundary_map, read_palette_png, region_similarity

from .synthetic_media import cup_clip

STILL = (20, 16, 60, 46)
"""A still patch of the background labelled as object 2 (x1, y1, x2, y2): the cup never reaches it."""


# -- hand counts ---------------------------------------------------------------------------------
def test_region_similarity_counts_pixels_and_leaves_void_out():
    pred, gt, void = (np.zeros((5, 5), bool) for _ in range(3))
    pred[0:2, 0:3] = True  # 6 pixels
    gt[1:4, 1:4] = True    # 9 pixels, 2 shared
    assert region_similarity(pred, gt) == pytest.approx(2 / 13)
    void[0, :] = True      # drops 3 predicted pixels, none shared
    assert region_similarity(pred, gt, void) == pytest.approx(2 / 10)
    assert region_similarity(np.zeros((3, 3), bool), np.zeros((3, 3), bool)) == 1.0


def test_boundary_map_of_a_square_marks_the_davis_pixels():
    square = np.zeros((6, 6), bool)
    square[1:4, 1:4] = True
    # a pixel differing from its right, lower or lower-right neighbour: outside above/left, inside right/below
    expected = {(1, 3), (2, 3), (3, 1), (3, 2), (3, 3), (0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (2, 0), (3, 0)}
    assert set(zip(*np.nonzero(boundary_map(square)), strict=True)) == expected


def test_boundary_f_hand_cases():
    gt = np.zeros((12, 12), bool)
    gt[1:4, 1:4] = True
    assert boundary_f(gt, gt, bound_th=1) == 1.0
    assert boundary_f(np.roll(gt, 1, axis=1), gt, bound_th=1) == 1.0   # every edge pixel 1 px from its match
    assert boundary_f(np.roll(gt, 6, axis=0), gt, bound_th=1) == 0.0   # nothing within 1 px
    assert boundary_f(np.zeros_like(gt), gt) == 0.0
    assert boundary_f(np.zeros_like(gt), np.zeros_like(gt)) == 1.0


def test_the_default_threshold_is_0_008_of_the_diagonal_rounded_up():
    gt = np.zeros((480, 854), bool)  # diagonal 979.8 px: 7.84, so 8 px
    gt[100:200, 100:200] = True
    assert math.ceil(0.008 * math.hypot(480, 854)) == 8
    assert boundary_f(np.roll(gt, 8, axis=1), gt) == 1.0
    assert boundary_f(np.roll(gt, 9, axis=1), gt) < 1.0


def _reference_f(pred: np.ndarray, gt: np.ndarray, void: np.ndarray, radius: float) -> float:
    """Boundary F written another way: neighbour loops for the boundary, Euclidean distance for matching."""
    from scipy.ndimage import distance_transform_edt

    def edge(mask: np.ndarray) -> np.ndarray:
        h, w = mask.shape
        padded = np.zeros((h + 1, w + 1), bool)
        padded[:h, :w] = mask
        out = np.zeros_like(mask)
        for y in range(h):
            for x in range(w):
                if y == h - 1 and x == w - 1:
                    continue
                pairs = [(y, x + 1)] if y == h - 1 else [(y + 1, x)] if x == w - 1 else \
                    [(y, x + 1), (y + 1, x), (y + 1, x + 1)]
                out[y, x] = any(padded[p] != padded[y, x] for p in pairs)
        return out

    ys, xs = np.nonzero(pred | gt)
    if len(ys):  # loop over the objects' surroundings only: beyond a margin every pixel is background
        margin = int(radius) + 3
        y0, x0 = max(0, ys.min() - margin), max(0, xs.min() - margin)
        window = np.s_[y0:ys.max() + margin, x0:xs.max() + margin]
        pred, gt, void = pred[window], gt[window], void[window]
    a, b = edge(pred & ~void), edge(gt & ~void)
    if not a.any() or not b.any():
        return float(not a.any() and not b.any())
    near_b = distance_transform_edt(~b) <= radius
    near_a = distance_transform_edt(~a) <= radius
    precision, recall = (a & near_b).sum() / a.sum(), (b & near_a).sum() / b.sum()
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


# -- the DAVIS layout ----------------------------------------------------------------------------
def _write_sequence(root: Path, name: str, frames: np.ndarray, labels: np.ndarray) -> None:
    from PIL import Image

    images, notes = root / "JPEGImages" / "480p" / name, root / "Annotations" / "480p" / name
    images.mkdir(parents=True)
    notes.mkdir(parents=True)
    palette = [0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (3 * 252) + [224, 224, 192]
    for t, (frame, label) in enumerate(zip(frames, labels, strict=True)):
        Image.fromarray(frame).save(images / f"{t:05d}.jpg", quality=95)
        png = Image.fromarray(label, mode="P")
        png.putpalette(palette)
        png.save(notes / f"{t:05d}.png")


@pytest.fixture(scope="module")
def davis_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sequences: the espresso cup moving over the astronaut photo (object 1) beside a still patch
    (object 2), with a void corner; and the cup over the cat photo alone."""
    root = tmp_path_factory.mktemp("davis")
    for name, background, frames in (("cup-astronaut", "astronaut", 16), ("cup-chelsea", "chelsea", 12)):
        clip = cup_clip(background, frames=frames, size=(320, 240), scale=0.3)
        labels = clip.masks.astype(np.uint8)
        if name == "cup-astronaut":
            x1, y1, x2, y2 = STILL
            labels[:, y1:y2, x1:x2] = 2
            labels[:, 200:, 280:] = 255
        _write_sequence(root, name, clip.frames, labels)
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("cup-astronaut\ncup-chelsea\n")
    return root


def test_palette_annotations_read_as_object_ids(davis_root):
    labels = read_palette_png(davis_root / "Annotations/480p/cup-astronaut/00000.png")
    assert set(np.unique(labels)) == {0, 1, 2, 255}
    assert (labels[16:46, 20:60] == 2).all()


def test_davis_end_to_end_gives_the_table_and_resumes_to_it(davis_root, tmp_path, make_agent):
    out = tmp_path / "davis"
    quick = run_eval("davis17", EvalOptions(data=davis_root, split="", out=out, limit=1), progress=False)
    assert quick.samples == 1
    summary = run_eval("davis17", EvalOptions(data=davis_root, split="", out=out), progress=False)
    assert (summary.samples, summary.failed) == (2, 0)

    # the same tracking through the agent, scored with the reference implementations above
    from PIL import Image

    from vitron_agent.graph.calls import read_media

    agent = make_agent()
    per_object = []
    for name in ("cup-astronaut", "cup-chelsea"):
        truth = np.stack([np.array(Image.open(p)) for p in sorted((davis_root / "Annotations/480p" / name).glob("*.png"))])
        labels = np.zeros_like(truth)
        ids = [i for i in (1, 2) if (truth[0] == i).any()]
        for obj in ids:
            result = agent.invoke("track the object in the mask", videos=[out / "clips" / f"{name}.mp4"],
                                  region={"mask": truth[0] == obj}, frame=0)
            media = read_media(agent.state(result.thread))
            tracked = [a for a in result.artifacts if a.kind == "mask_video" and not a.preview][0]
            store, _ = agent.context.stores(result.thread)
            labels[store.load_mask_video(media[tracked.id])] = obj
        void = truth == 255
        radius = math.ceil(0.008 * math.hypot(*truth.shape[1:]))
        for obj in ids:
            j = []
            for t in range(1, len(truth) - 1):
                pred, gt = labels[t] == obj, truth[t] == obj
                union = ((pred | gt) & ~void[t]).sum()
                j.append((pred & gt & ~void[t]).sum() / union if union else 1.0)
            f = [_reference_f(labels[t] == obj, truth[t] == obj, void[t], radius) for t in range(1, len(truth) - 1)]
            per_object.append((np.mean(j), np.mean(f)))
    j_mean = np.mean([j for j, _ in per_object])
    f_mean = np.mean([f for _, f in per_object])
    assert summary.ours["J-Mean"] == pytest.approx(100 * j_mean)
    assert summary.ours["F-Mean"] == pytest.approx(100 * f_mean)
    assert summary.ours["J&F"] == pytest.approx(50 * (j_mean + f_mean))
    assert j_mean > 0.5  # the embedded tracker follows the cup and the still patch

    table = json.loads((out / "summary.json").read_text())
    assert table["metrics"]["J&F"]["paper"] == 84.2
    again = run_eval("davis17", EvalOptions(data=davis_root, split="", out=out), progress=False)
    assert again.ours == summary.ours
    assert len((out / "results.jsonl").read_text().splitlines()) == 2


def test_summary_averages_objects_then_frames(tmp_path):
    records = [{"objects": {"1": {"J": [1.0, 0.4], "F": [0.6, 0.6]}, "2": {"J": [0.0, 0.0], "F": [1.0, 0.0]}}},
               {"objects": {"1": {"J": [0.9, 0.9], "F": [0.2, 0.8]}}}]
    ours = Davis17(EvalOptions(data=tmp_path, split="", out=tmp_path)).summarise(records)
    j, f = (0.7 + 0.0 + 0.9) / 3, (0.6 + 0.5 + 0.5) / 3
    assert ours["J-Mean"] == pytest.approx(100 * j) and ours["F-Mean"] == pytest.approx(100 * f)
    assert ours["J&F"] == pytest.approx(50 * (j + f))
    assert ours["J-Recall"] == pytest.approx(100 * (0.5 + 0 + 1) / 3)
    assert ours["F-Recall"] == pytest.approx(100 * (1 + 0.5 + 0.5) / 3)


# -- HC-STVG -------------------------------------------------------------------------------------
def test_viou_sums_ious_over_shared_frames_and_divides_by_all_frames():
    from vitron_agent.eval.video import viou

    truth = {t: (0.0, 0.0, 10.0, 10.0) for t in range(2, 6)}
    pred = {4: (5.0, 0.0, 15.0, 10.0), 5: (0.0, 0.0, 10.0, 10.0), 6: (0.0, 0.0, 1.0, 1.0), 7: (0.0, 0.0, 1.0, 1.0)}
    assert viou(pred, truth) == pytest.approx((50 / 150 + 1) / 6)  # frames 2..7 in all, 4 and 5 shared
    assert viou({}, truth) == 0.0


class _KnownTube(Runner):
    """Answers every request with the same mask tube: what is scored here is the benchmark, not a tracker."""

    def __init__(self, masks: np.ndarray) -> None:
        super().__init__()
        self.masks = masks
        self.requests: list[str] = []

    def run(self, task, text, **kwargs) -> RunOutput:
        self.requests.append(f"{task}: {text}")
        return RunOutput(masks=[self.masks])


def test_hcstvg_reads_its_annotations_and_scores_the_tube(tmp_path):
    from vitron_agent.stores.media_io import encode_video

    clip = cup_clip("astronaut", frames=12, size=(320, 240), scale=0.3)
    (tmp_path / "data" / "video" / "part1").mkdir(parents=True)
    (tmp_path / "data" / "video" / "part1" / "a.mp4").write_bytes(encode_video(clip.frames, 12.0))
    (tmp_path / "data" / "video" / "part1" / "b.mp4").write_bytes(encode_video(clip.frames, 12.0))

    def xywh(t: int) -> list[int]:
        x1, y1, x2, y2 = clip.boxes[t]
        return [x1, y1, x2 - x1, y2 - y1]

    notes = {
        # the cup on frames 3..8 (st_frame is 1-based) of a 12-frame annotation
        "a.mp4": {"img_num": 12, "st_frame": 4, "bbox": [xywh(t) for t in range(3, 9)], "English": "the cup"},
        # annotated at twice the clip's rate: frames 6..17 of 24 are clip frames 3..8
        "b.mp4": {"img_num": 24, "st_frame": 7, "bbox": [xywh(t // 2) for t in range(6, 18)], "English": "the cup"},
    }
    (tmp_path / "data" / "anno_v2").mkdir()
    (tmp_path / "data" / "anno_v2" / "val_v2.json").write_text(json.dumps(notes))
    runner = _KnownTube(clip.masks)
    summary = run_eval("hcstvg", EvalOptions(data=tmp_path / "data", split="", out=tmp_path / "out"), runner=runner,
                       progress=False)
    # the tube is the truth on all 12 frames; the annotation covers 6 of them: vIoU = 6 x 1.0 / 12 for both
    assert summary.ours == {"mIoU": pytest.approx(50.0), "vIoU@0.3": 100.0, "vIoU@0.5": 100.0}
    assert runner.requests == ["track: track the cup", "track: track the cup"]
