"""Every form a user can give a region in (box, clicks, a mask, on a video frame), from the command line and from
Python, and threads the command line must find before it continues them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from vitron_agent import AgentConfig, VitronAgent
from vitron_agent.errors import RegionError
from vitron_agent.stores.media_io import encode_video

from .synthetic_media import pan_clip
from .test_cli import run_cli

CUP = (172, 18, 410, 300)  # the coffee cup, drawn by eye on scikit-image's photo
ROCKET = (308, 127, 336, 360)  # the rocket in scikit-image's rocket photo, drawn by eye


def _load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


def _cup_mask(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A hand-made mask of the cup's body: an ellipse inside the drawn box, white on black, as a PNG."""
    import cv2

    mask = np.zeros((400, 600), np.uint8)
    cv2.ellipse(mask, (290, 110), (110, 85), 0, 0, 360, 255, -1)
    path = tmp_path / "cup-mask.png"
    Image.fromarray(mask).save(path)
    return path, mask > 0


def test_cli_mask_file_is_the_region_of_an_edit(photos, tmp_path):
    path, inside = _cup_mask(tmp_path)
    recolor = json.dumps({"task": "edit_image", "args": {"op": "recolor", "color": "blue"}})
    done = run_cli("run", "--image", str(photos["coffee"]), "--mask", str(path), "--invoke", recolor, "--json",
                   state=tmp_path / "state")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["invocations"][0]["region"] == {"ref": "u1"} and out["invocations"][0]["inputs"] == ["u0"]
    edited = _load(next(a["path"] for a in out["artifacts"] if a["kind"] == "image"))
    original = _load(str(photos["coffee"]))
    feathered = np.ones_like(inside)
    feathered[np.nonzero(inside)] = False
    import cv2

    far = cv2.erode(feathered.astype(np.uint8), np.ones((21, 21), np.uint8)) > 0  # away from the feathered edge
    assert np.array_equal(edited[far], original[far])
    blue = edited[inside].astype(int)
    assert (blue[:, 2] > blue[:, 0] + 40).mean() > 0.9  # inside the mask it is blue


def test_cli_points_segment_the_object_they_are_on(photos, tmp_path):
    done = run_cli("run", "--image", str(photos["coffee"]), "--point", "290,150", "--point", "60,360,-",
                   "--point", "300,240,+", "--json", "segment the object", state=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    points = out["invocations"][0]["region"]["points"]
    assert [(p["x"], p["y"], p["positive"]) for p in points] == [(290, 150, True), (60, 360, False), (300, 240, True)]
    mask = _load(next(a["path"] for a in out["artifacts"] if a["kind"] == "mask")) > 127
    assert mask[150, 290] and mask[240, 300] and not mask[360, 60]


def test_cli_frame_puts_the_box_on_that_frame_of_the_video(tmp_path):
    frames, offsets = pan_clip(data.rocket(), frames=30, step=2)
    clip = tmp_path / "pan.mp4"
    clip.write_bytes(encode_video(frames, 12.0))
    x1, y1, x2 = ROCKET[0] - offsets[20], ROCKET[1], ROCKET[2] - offsets[20]
    done = run_cli("run", "--video", str(clip), "--region", f"{x1 - 12},{y1 - 8},{x2 + 12},360", "--frame", "20",
                   "--json", "track the object in the box", state=tmp_path / "state")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [i["region"].get("frames") for i in out["invocations"]] == [[20, 20], [20, 20]]
    bad = run_cli("run", "--video", str(clip), "--region", "1,1,9,9", "--frame", "99", "track it", state=tmp_path)
    assert bad.returncode == 2 and "Frame span [99, 99] is outside" in bad.stderr
    alone = run_cli("run", "--video", str(clip), "--frame", "3", "track it", state=tmp_path)
    assert alone.returncode == 2 and "--frame says which video frame" in alone.stderr


def test_python_regions_as_boxes_clicks_masks_and_refs(make_agent, photos, tmp_path):
    path, inside = _cup_mask(tmp_path)
    agent = make_agent()
    clicks = agent.invoke("segment the object", images=[photos["coffee"]], region=[(290, 150), (60, 360, False)])
    (mask,) = [_load(a.path) > 127 for a in clicks.artifacts if a.kind == "mask"]
    assert clicks.errors == [] and mask[150, 290] and not mask[360, 60]
    for given in (inside, str(path), {"mask": path}):
        planned = agent.plan("remove it", images=[photos["coffee"]], region=given)
        (edit,) = planned.invocations
        assert planned.errors == [] and edit.region.ref == "u1" and edit.inputs == ["u0"]
    with pytest.raises(RegionError, match="is 60x40 but the medium is 600x400"):
        agent.invoke("remove it", images=[photos["coffee"]], region=np.ones((40, 60), bool))
    with pytest.raises(RegionError, match="is empty"):
        agent.invoke("remove it", images=[photos["coffee"]], region=np.zeros((400, 600), bool))
    with pytest.raises(RegionError, match="outside"):
        agent.invoke("segment it", images=[photos["coffee"]], region=[(900, 10)])
    first = agent.invoke("segment the object in the box", images=[photos["coffee"]], region=list(CUP))
    again = agent.plan("remove it", thread=first.thread, region={"ref": "o1"})
    assert again.invocations[-1].region.ref == "o1" and not again.errors


def test_plan_is_a_dry_run_of_the_graph_that_saves_nothing(make_agent, photos):
    agent = make_agent()
    planned = agent.plan("make the object in the box red", images=[photos["coffee"]], region=list(CUP))
    assert [(i.task, i.module) for i in planned.invocations] == [("segment", "grabcut"), ("edit_image", "opencv_recolor")]
    assert [c.status for c in planned.calls] == ["planned", "planned"] and planned.calls[0].inserted
    assert planned.artifacts == [] and not agent.has_thread(planned.thread)
    done = agent.invoke("make the object in the box red", images=[photos["coffee"]], region=list(CUP))
    later = agent.plan("now remove it", thread=done.thread)
    assert later.invocations[-1].inputs == ["o2"]  # the latest version of the image, as the real turn would
    assert agent.state(done.thread)["turn"] == 1  # planning added no turn


def test_cli_threads_must_exist_unless_a_new_one_is_asked_for(photos, tmp_path):
    unknown = run_cli("run", "--thread", "nosuch", "--json", "what is this?", state=tmp_path)
    assert unknown.returncode == 2 and "no thread 'nosuch'" in unknown.stderr and "--new-thread" in unknown.stderr
    empty = run_cli("run", "--thread", "", "hello", state=tmp_path)
    assert empty.returncode == 2 and "non-empty" in empty.stderr
    made = run_cli("run", "--new-thread", "mine", "--image", str(photos["coffee"]), "--region", "172,18,410,300",
                   "--json", "segment the object in the box", state=tmp_path)
    assert made.returncode == 0, made.stderr and json.loads(made.stdout)["thread"] == "mine"
    continued = run_cli("run", "--thread", "mine", "--json", "now remove it", state=tmp_path)
    assert continued.returncode == 0, continued.stderr
    assert json.loads(continued.stdout)["invocations"][0]["region"] == {"ref": "o1"}
    twice = run_cli("run", "--new-thread", "mine", "hello", state=tmp_path)
    assert twice.returncode == 2 and "already exists" in twice.stderr
    chat = run_cli("chat", "--thread", "nosuch", state=tmp_path)
    assert chat.returncode == 2 and "no thread 'nosuch'" in chat.stderr


def test_python_thread_ids_are_checked(tmp_path):
    from vitron_agent.errors import BadInputError

    with VitronAgent(AgentConfig(state_dir=tmp_path)) as agent:
        with pytest.raises(BadInputError, match="non-empty"):
            agent.invoke("hello", thread="")
        assert not agent.has_thread("later")
        agent.invoke("hello", thread="later")  # Python starts a thread under a new id, as documented
        assert agent.has_thread("later")
