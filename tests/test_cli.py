"""The command line as other programs use it: JSON schema, threads, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

# Determined by eye: scikit-image's photos drawn with a 50 px grid; the face from hairline to chin,
# the cup from rim to saucer line, handle included.
ASTRONAUT_FACE = (175, 55, 265, 170)
COFFEE_CUP = (175, 18, 408, 295)


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("vitron-agent")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vitron_agent.cli"]


def run_cli(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([*_cli(), *args, "--state-dir", str(state)], capture_output=True, text=True,
                          timeout=300, env=env)


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_find_the_faces_returns_a_ground_invocation_and_the_face_box(photos, tmp_path):
    done = run_cli("run", "--image", str(photos["astronaut"]), "--json", "find the faces", state=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) >= {"thread", "reply", "invocations", "artifacts", "errors"}
    assert out["invocations"][0]["task"] == "ground" and out["invocations"][0]["module"] == "opencv_detect"
    boxes = next(a for a in out["artifacts"] if a["kind"] == "boxes")
    detections = json.loads(Path(boxes["path"]).read_text())["detections"]
    assert any(iou(d["box"], ASTRONAUT_FACE) > 0.3 for d in detections), detections


def test_segment_the_object_in_the_box_then_remove_it_through_threads(photos, tmp_path):
    done = run_cli("run", "--image", str(photos["coffee"]), "--region", "172,18,410,300", "--json",
                   "segment the object in the box", state=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["invocations"][0]["region"] == {"box": [172.0, 18.0, 410.0, 300.0]}
    mask_artifact = next(a for a in out["artifacts"] if a["kind"] == "mask")
    assert (mask_artifact["width"], mask_artifact["height"]) == (600, 400)
    mask = np.asarray(Image.open(mask_artifact["path"])) > 127
    ys, xs = np.nonzero(mask)
    assert iou((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), COFFEE_CUP) >= 0.5
    second = run_cli("run", "--thread", out["thread"], "--json", "now remove it", state=tmp_path)
    follow = json.loads(second.stdout)
    assert follow["invocations"][0]["region"] == {"ref": mask_artifact["id"]}
    assert follow["invocations"][0]["inputs"] == ["u0"]
    if follow["errors"]:  # no removal expert installed yet: a clear error, exit 2, and the thread goes on
        assert "no expert for edit_image.remove is installed" in follow["errors"][0]
        assert second.returncode == 2 and second.stderr.count("\n") == 1
    third = run_cli("run", "--thread", out["thread"], "--region", "10,10,100,100", "--json",
                    "segment the object in the box", state=tmp_path)
    assert third.returncode == 0 and json.loads(third.stdout)["artifacts"]


def test_vitron_tag_text_runs_as_explicit_invocations(photos, tmp_path):
    tags = ("<module>B</module> <instruction>segmentation: the cup</instruction> "
            "<Region> (0.287, 0.045, 0.683, 0.750) </Region>")
    done = run_cli("run", "--image", str(photos["coffee"]), "--invoke", tags, "--json", state=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["invocations"][0]["module"] == "grabcut" and out["invocations"][0]["command"] == "the cup"
    assert out["invocations"][0]["region"]["box"] == [172.2, 18.0, 409.8, 300.0]
    assert any(a["kind"] == "mask" for a in out["artifacts"])


def test_plan_prints_the_validated_plan_without_running(photos, tmp_path):
    done = run_cli("plan", "--image", str(photos["astronaut"]), "--json", "find the faces", state=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["invocations"][0]["task"] == "ground" and out["artifacts"] == []


def _zero_frame_video(path: Path) -> Path:
    import av

    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
    return path


def _bad_inputs(tmp: Path, photos: dict[str, Path]) -> list[tuple[str, list[str]]]:
    empty = tmp / "empty.png"
    empty.write_bytes(b"")
    noise = (np.random.default_rng(1).random((64, 64, 3)) * 255).astype(np.uint8)
    Image.fromarray(noise).save(tmp / "noise.png")
    (tmp / "truncated.png").write_bytes((tmp / "noise.png").read_bytes()[:4000])
    (tmp / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(3000))
    (tmp / "notes.png").write_text("this is text, not a picture\n" * 20)
    Image.new("L", (7000, 6000)).save(tmp / "huge.png")
    _zero_frame_video(tmp / "empty.mp4")
    coffee = str(photos["coffee"])
    return [
        ("missing file", ["--image", str(tmp / "missing.png")]),
        ("0-byte", ["--image", str(empty)]),
        ("truncated", ["--image", str(tmp / "truncated.png")]),
        ("corrupt", ["--image", str(tmp / "corrupt.jpg")]),
        ("unsupported type", ["--image", str(tmp / "notes.png")]),
        ("over the pixel cap", ["--image", str(tmp / "huge.png")]),
        ("video with 0 frames", ["--video", str(tmp / "empty.mp4")]),
        ("region out of bounds", ["--image", coffee, "--region", "500,300,900,700"]),
        ("region inverted", ["--image", coffee, "--region", "300,300,100,100"]),
        ("region non-numeric", ["--image", coffee, "--region", "a,b,c,d"]),
        ("unknown module", ["--image", coffee, "--invoke", '{"module": "nosuch", "task": "segment"}']),
        ("unknown task", ["--image", coffee, "--invoke", '{"task": "fly"}']),
        ("unparseable invocation", ["--image", coffee, "--invoke", "<module>grabcut</module><region>(0.1, nan"]),
        ("invalid JSON invocation", ["--image", coffee, "--invoke", '{"task": "segment",']),
    ]


def test_bad_input_exits_2_with_a_one_line_reason(photos, tmp_path):
    for label, args in _bad_inputs(tmp_path, photos):
        done = run_cli("run", *args, "--json", "segment the object in the box", state=tmp_path / "state")
        assert done.returncode == 2, (label, done.returncode, done.stderr, done.stdout)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, (label, done.stderr)
        assert len(lines[0]) > 20, (label, lines)


def test_experts_lists_every_expert_with_its_state(tmp_path):
    done = run_cli("experts", "--json", state=tmp_path)
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["grabcut"]["available"] and rows["opencv_detect"]["available"]
    assert "segment" in rows["grabcut"]["tasks"]


def test_demo_writes_overlays_and_a_summary(tmp_path):
    done = subprocess.run([*_cli(), "demo", "--out", str(tmp_path / "demo")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert len(summary) >= 3 and all(Path(p).exists() for turn in summary for p in turn["saved"])
    overlays = list((tmp_path / "demo").glob("*_preview.png"))
    assert overlays and Image.open(overlays[0]).size[0] > 100
