"""RefCOCO-style referring segmentation and comprehension: the refer layout read safely, every metric against
counts done by hand, and end-to-end runs through the agent with its embedded experts (table, resume, CLI)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from vitron_agent.eval import EvalOptions, run_eval
from vitron_agent.eval.base import DataError
from vitron_agent.eval.segmentation import (
    RefCOCORec,
    RefCOCOSeg,
    box_iou,
    decode_mask,
    encode_mask,
    gt_mask,
    load_refs,
    mask_counts,
)

FACE = (180, 60, 270, 170)
"""The astronaut's face as a rectangle (x1, y1, x2, y2 pixel corners): pixels x 180..269, y 60..169."""
CAT_HEAD = (120, 30, 420, 260)


def _rect(box: tuple[int, int, int, int]) -> list[list[float]]:
    x1, y1, x2, y2 = box
    return [[x1, y1, x2, y1, x2, y2, x1, y2]]


@pytest.fixture(scope="module")
def refer_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The refer toolkit's layout: refcoco/refs(unc).p + instances.json, COCO train2014 images (real photos)."""
    import cv2
    from skimage import data

    root = tmp_path_factory.mktemp("refer")
    images = root / "images" / "mscoco" / "images" / "train2014"
    images.mkdir(parents=True)
    names = {1: ("astronaut", "COCO_train2014_000000000001.jpg"), 2: ("chelsea", "COCO_train2014_000000000002.jpg")}
    entries = []
    for image_id, (photo, file_name) in names.items():
        pixels = getattr(data, photo)()
        cv2.imwrite(str(images / file_name), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
        entries.append({"id": image_id, "file_name": file_name, "width": pixels.shape[1], "height": pixels.shape[0]})
    annotations = [
        {"id": 11, "image_id": 1, "category_id": 1, "segmentation": _rect(FACE), "bbox": [180, 60, 90, 110]},
        {"id": 21, "image_id": 2, "category_id": 17, "segmentation": _rect(CAT_HEAD), "bbox": [120, 30, 300, 230]},
    ]
    (root / "refcoco").mkdir()
    (root / "refcoco" / "instances.json").write_text(json.dumps(
        {"images": entries, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}))
    refs = [
        {"ref_id": 5, "ann_id": 11, "image_id": 1, "split": "val", "category_id": 1,
         "sentences": [{"sent_id": 50, "sent": "the face", "raw": "The face."}]},
        {"ref_id": 6, "ann_id": 21, "image_id": 2, "split": "val", "category_id": 17,
         "sentences": [{"sent_id": 60, "sent": "the face", "raw": "the face"},
                       {"sent_id": 61, "sent": "the cat", "raw": "the cat"}]},
        {"ref_id": 7, "ann_id": 11, "image_id": 1, "split": "testA", "category_id": 1,
         "sentences": [{"sent_id": 70, "sent": "woman", "raw": "woman"}]},
    ]
    with open(root / "refcoco" / "refs(unc).p", "wb") as file:
        pickle.dump(refs, file, protocol=2)
    return root


# -- reading -------------------------------------------------------------------------------------
def test_the_split_is_read_sentence_by_sentence(refer_root, tmp_path):
    bench = RefCOCOSeg(EvalOptions(data=refer_root, split="", out=tmp_path))
    samples = list(bench.samples())
    assert [s.id for s in samples] == ["ref5-sent50", "ref6-sent60", "ref6-sent61"]
    assert samples[0].image.name == "COCO_train2014_000000000001.jpg" and samples[0].image.exists()
    assert (samples[0].width, samples[0].height, samples[0].box) == (512, 512, (180.0, 60.0, 90.0, 110.0))
    testa = RefCOCOSeg(EvalOptions(data=refer_root, split="testA", out=tmp_path))
    assert [s.sentence for s in testa.samples()] == ["woman"]
    assert testa.paper_values() == {"cIoU": 79.5}


def test_a_refs_file_that_asks_for_any_class_is_refused(tmp_path):
    from collections import OrderedDict

    evil = tmp_path / "refs(unc).p"
    evil.write_bytes(pickle.dumps([OrderedDict(ref_id=1)], protocol=2))
    with pytest.raises(DataError, match="collections.OrderedDict"):
        load_refs(evil)
    plain = tmp_path / "plain.p"
    plain.write_bytes(pickle.dumps([{"ref_id": 1, "sentences": [{"sent": "x"}]}], protocol=2))
    assert load_refs(plain) == [{"ref_id": 1, "sentences": [{"sent": "x"}]}]


def test_a_missing_release_says_which_file(tmp_path):
    bench = RefCOCOSeg(EvalOptions(data=tmp_path, split="", out=tmp_path / "out"))
    with pytest.raises(DataError, match=r"refs\(unc\)\.p is missing"):
        list(bench.samples())


# -- metrics against hand counts -----------------------------------------------------------------
def test_polygon_ground_truth_covers_the_pixels_inside_its_corners():
    mask = gt_mask(_rect((2, 3, 6, 5)), 8, 10)  # x 2..5, y 3..4
    expected = np.zeros((8, 10), bool)
    expected[3:5, 2:6] = True
    assert (mask == expected).all()


def test_intersection_union_and_rle_round_trip():
    pred = np.zeros((4, 5), bool)
    gt = np.zeros((4, 5), bool)
    pred[0:2, 0:3] = True  # 6 pixels
    gt[1:3, 1:4] = True    # 6 pixels; shared: (1,1), (1,2) -> 2
    assert mask_counts(pred, gt) == (2, 10)
    assert (decode_mask(json.loads(json.dumps(encode_mask(pred)))) == pred).all()


def test_box_iou_of_a_corner_box_and_a_coco_box():
    assert box_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == pytest.approx(1.0)
    assert box_iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0


def test_ciou_sums_before_dividing_and_giou_averages(tmp_path):
    records = [{"intersection": 10, "union": 20, "iou": 0.5}, {"intersection": 0, "union": 60, "iou": 0.0},
               {"intersection": 30, "union": 30, "iou": 1.0}]
    options = EvalOptions(data=tmp_path, split="", out=tmp_path)
    ours = RefCOCOSeg(options).summarise(records)
    assert ours == {"cIoU": pytest.approx(100 * 40 / 110), "gIoU": pytest.approx(100 * 1.5 / 3)}
    rec = RefCOCORec(options).summarise([{"iou": 0.5}, {"iou": 0.49}, {"iou": 0.9}, {"iou": 0.0}])
    assert rec == {"Acc@0.5": 50.0, "mIoU": pytest.approx(100 * 1.89 / 4)}


# -- end to end ----------------------------------------------------------------------------------
def _agent_mask(agent, image: Path, text: str) -> np.ndarray | None:
    """The mask the agent makes for one request, read from its output file (no eval code involved)."""
    from PIL import Image

    result = agent.invoke(text, images=[image])
    masks = [a for a in result.artifacts if a.kind == "mask" and not a.preview]
    return np.array(Image.open(masks[0].path).convert("L")) > 127 if masks else None


def test_refcoco_end_to_end_gives_the_table_and_a_killed_run_resumes_to_it(refer_root, tmp_path, make_agent):
    out = tmp_path / "run"
    options = EvalOptions(data=refer_root, split="val", out=out)
    summary = run_eval("refcoco", options, progress=False)

    # what the agent makes for each sentence, scored by hand against the rectangles
    agent = make_agent()
    truths = [(refer_root / "images/mscoco/images/train2014/COCO_train2014_000000000001.jpg", "the face", FACE),
              (refer_root / "images/mscoco/images/train2014/COCO_train2014_000000000002.jpg", "the face", CAT_HEAD),
              (refer_root / "images/mscoco/images/train2014/COCO_train2014_000000000002.jpg", "the cat", CAT_HEAD)]
    inters, unions = [], []
    for image, sentence, (x1, y1, x2, y2) in truths:
        pred = _agent_mask(agent, image, f"segment {sentence}")
        truth_area = (x2 - x1) * (y2 - y1)
        if pred is None:
            inters.append(0)
            unions.append(truth_area)
            continue
        inside = int(pred[y1:y2, x1:x2].sum())
        inters.append(inside)
        unions.append(int(pred.sum()) - inside + truth_area)
    assert inters[0] > 0  # the face is found and segmented
    assert unions[2] == (CAT_HEAD[2] - CAT_HEAD[0]) * (CAT_HEAD[3] - CAT_HEAD[1])  # no grounder for cats offline
    expected_ciou = 100 * sum(inters) / sum(unions)
    expected_giou = 100 * sum(i / u for i, u in zip(inters, unions)) / 3
    assert summary.ours == {"cIoU": pytest.approx(expected_ciou), "gIoU": pytest.approx(expected_giou)}
    assert (summary.samples, summary.failed) == (3, 1)

    table = json.loads((out / "summary.json").read_text())
    assert table["metrics"]["cIoU"] == {"ours": pytest.approx(expected_ciou), "paper": 75.5}
    assert table["metrics"]["gIoU"]["paper"] is None
    markdown = (out / "summary.md").read_text()
    assert "| cIoU (%, sum I / sum U) |" in markdown and "| 75.50 |" in markdown
    lines = (out / "results.jsonl").read_text().splitlines()
    failed = json.loads(lines[2])
    assert failed["id"] == "ref6-sent61" and "cannot locate" in failed["error"]

    # killed while writing the third line: the cut line is dropped and that sample runs again
    (out / "results.jsonl").write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2][:25])
    again = run_eval("refcoco", options, progress=False)
    assert again.ours == summary.ours
    assert (out / "summary.json").read_text() == json.dumps(table, indent=2) + "\n"
    assert [json.loads(line)["id"] for line in (out / "results.jsonl").read_text().splitlines()] == [
        "ref5-sent50", "ref6-sent60", "ref6-sent61"]

    # other settings in the same folder are refused rather than mixed
    with pytest.raises(DataError, match="another run"):
        run_eval("refcoco", EvalOptions(data=refer_root, split="testA", out=out), progress=False)


def test_the_cli_runs_a_quick_look_and_then_the_rest(refer_root, tmp_path, capsys):
    from vitron_agent.cli import main

    out = tmp_path / "cli"
    assert main(["eval", "refcoco", "--data", str(refer_root), "--out", str(out), "--limit", "1"]) == 0
    assert "RefCOCO referring segmentation (val)" in capsys.readouterr().out
    first = json.loads((out / "summary.json").read_text())
    assert first["samples"] == 1
    assert main(["eval", "refcoco-rec", "--data", str(refer_root), "--out", str(tmp_path / "rec"),
                 "--limit", "1"]) == 0
    rec = json.loads((tmp_path / "rec" / "summary.json").read_text())
    record = json.loads((tmp_path / "rec" / "results.jsonl").read_text())
    x1, y1, x2, y2 = record["box"]  # the face detector's box, scored by hand against the face rectangle
    inter = max(0, min(x2, 270) - max(x1, 180)) * max(0, min(y2, 170) - max(y1, 60))
    iou = inter / ((x2 - x1) * (y2 - y1) + 90 * 110 - inter)
    assert rec["metrics"]["Acc@0.5"]["ours"] == (100.0 if iou >= 0.5 else 0.0)
    assert record["iou"] == pytest.approx(iou)
    assert main(["eval", "nope", "--data", str(refer_root), "--out", str(tmp_path / "x")]) == 2
