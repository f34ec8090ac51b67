"""Questions answered offline, from what the embedded experts measure on real photos and clips, through the CLI and
the Python API; what cannot be seen is said, never an internal failure."""

from __future__ import annotations

import json

import numpy as np
from skimage import data

from vitron_agent.stores.media_io import encode_video

from .synthetic_media import pan_clip
from .test_cli import ASTRONAUT_FACE, iou, run_cli


def test_how_many_faces_on_the_astronaut_is_one_with_its_box(photos, tmp_path):
    done = run_cli("run", "--image", str(photos["astronaut"]), "--json", "how many faces are in this picture?",
                   state=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["invocations"][0]["task"] == "answer" and out["errors"] == []
    assert out["reply"].startswith("I count 1 face")
    (boxes,) = [a for a in out["artifacts"] if a["kind"] == "boxes"]
    (face,) = json.load(open(boxes["path"]))["detections"]
    assert iou(face["box"], ASTRONAUT_FACE) > 0.5


def test_a_question_it_cannot_see_gets_an_honest_reply_and_exit_0(photos, tmp_path):
    done = run_cli("run", "--image", str(photos["coffee"]), "--json", "what is in this picture?", state=tmp_path)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)["reply"]
    assert "cannot see what it shows without a vision-language model" in reply and "vitron-agent[vlm]" in reply
    assert "600x400" in reply and "failed" not in reply


def test_colour_size_and_place_of_the_object_in_the_box(make_agent, photos):
    agent = make_agent()
    result = agent.invoke("what colour is the object in the box?", images=[photos["coffee"]],
                          region=[220, 60, 360, 200])  # inside the cup: the coffee's crema, by eye
    mean = tuple(round(float(c)) for c in data.coffee()[60:200, 220:360].reshape(-1, 3).mean(axis=0))
    assert result.errors == [] and f"mostly orange (mean RGB {mean})" in result.reply  # crema is orange-tan
    assert "140x140 px at [220, 60, 360, 200]" in result.reply and "top centre" in result.reply
    first = agent.invoke("segment the object in the box", images=[photos["coffee"]], region=[172, 18, 410, 300])
    follow = agent.invoke("what colour is it?", thread=first.thread)
    assert follow.invocations[0].region.ref == "o1" and follow.errors == []
    mask = next(a for a in first.artifacts if a.kind == "mask")
    from PIL import Image

    inside = np.asarray(Image.open(mask.path)) > 127
    assert f"{100 * inside.mean():.1f}% of the frame" in follow.reply


def test_how_long_is_the_video(make_agent, tmp_path):
    frames, _ = pan_clip(data.rocket(), frames=36, step=2)
    clip = tmp_path / "pan.mp4"
    clip.write_bytes(encode_video(frames, 12.0))
    result = make_agent().invoke("how long is this video?", videos=[clip])
    assert result.errors == [] and result.reply.startswith("The video is 36 frames of 480x360 at 12 fps, 3.0 s long.")


def test_what_have_you_done_so_far_is_answered_from_the_thread(make_agent, photos):
    agent = make_agent()
    first = agent.invoke("segment the object in the box", images=[photos["coffee"]], region=[172, 18, 410, 300])
    told = agent.invoke("what have you done so far?", thread=first.thread)
    assert told.invocations == [] and "turn 1: segment by grabcut" in told.reply and "-> o1" in told.reply
