"""The plain chat loop: media and regions by command, one thread carried across requests."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image

from vitron_agent.chat import run_chat


def _chat(agent, *lines: str, thread: str | None = None) -> str:
    out = io.StringIO()
    assert run_chat(agent, thread=thread, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out) == 0
    return out.getvalue()


def _artifacts(text: str) -> dict[str, tuple[str, Path]]:
    """``  o1: mask -> /path`` lines as id -> (kind, path)."""
    return {m[1]: (m[2], Path(m[3])) for m in re.finditer(r"^  (o[\d.]+): (\w+) -> (.+)$", text, re.M)}


def test_segment_then_remove_it_on_one_thread(make_agent, synthetic_registry, spot_image, checkpointer_url):
    agent = make_agent(registry=synthetic_registry)
    text = _chat(agent,
                 "/thread",
                 f"/image {spot_image}",
                 "/region 50,30,70,40",
                 "segment the object in the box",
                 "now remove it",
                 "/thread",
                 "/quit",
                 "remove the spot")  # after /quit: never read
    assert text.startswith("commands: /image PATH")
    assert re.search(r"^I'll segment ", text, re.M) and re.search(r"^I'll remove ", text, re.M)
    artifacts = _artifacts(text)
    assert {k: kind for k, (kind, _) in artifacts.items()} == {"o1": "mask", "o1.1": "image", "o2": "image"}
    assert all(path.is_file() for _, path in artifacts.values())
    mask = np.asarray(Image.open(artifacts["o1"][1])) > 127
    assert mask.sum() == 200 and mask[30:40, 50:70].all()
    edited, original = np.asarray(Image.open(artifacts["o2"][1])), np.asarray(Image.open(spot_image))
    assert (edited[30:40, 50:70] == 0).all() and np.array_equal(edited[:30], original[:30])
    threads = re.findall(r"^thread: (\S+)$", text, re.M)
    assert threads[0] == "new" and threads[1] != "new"
    state = agent.state(threads[1])
    assert state["turn"] == 2  # both requests went to the printed thread, the line after /quit did not
    assert state["messages"][-1].type == "ai"


def test_a_bad_image_path_prints_an_error_and_the_loop_continues(make_agent, synthetic_registry, spot_image, tmp_path):
    agent = make_agent(registry=synthetic_registry)
    text = _chat(agent,
                 f"/image {tmp_path / 'missing.png'}",
                 "segment the object in the box",
                 f"/image {spot_image}",
                 "/region 50,30,70,40",
                 "segment the object in the box",
                 "/thread",
                 "/quit")
    assert "error: missing.png: no such file" in text
    assert re.search(r"^I'll segment ", text, re.M)  # a later request ran...
    assert list(_artifacts(text)) == ["o1", "o1.1"]  # ...on the good file only
    (thread,) = re.findall(r"^thread: (\S+)$", text, re.M)
    media = agent.state(thread)["media"]
    assert set(media) == {"u0", "o1", "o1.1"} and (media["u0"]["width"], media["u0"]["height"]) == (120, 100)


def test_a_bad_image_path_is_reported_at_once_and_costs_nothing_else(make_agent, synthetic_registry, spot_image,
                                                                      tmp_path):
    agent = make_agent(registry=synthetic_registry)
    text = _chat(agent,
                 f"/image {spot_image}",
                 f"/image {tmp_path / 'missing.png'}",
                 "/region 50,30,70,40",
                 "segment the object in the box",
                 "/quit")
    lines = text.splitlines()
    error_line = next(n for n, line in enumerate(lines) if "missing.png" in line)
    reply = next(i for i, line in enumerate(lines) if line.startswith("I'll segment "))
    assert error_line < reply  # reported at /image, before the reply
    assert "o1" in _artifacts(text)  # the request still ran on spot.png


def test_bad_commands_and_regions_print_help_and_are_survived(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    text = _chat(agent,
                 "/region a,b,c,d",
                 "/bogus",
                 f"/image {spot_image}",
                 "/region 0,0,500,10",
                 "segment the object in the box",
                 "/region 50,30,70,40",  # a failed request keeps its attachments; fix the region
                 "segment the object in the box",
                 "/quit")
    assert "region must be x1,y1,x2,y2 in pixels" in text
    assert text.count("commands: /image PATH") == 2  # at start and for /bogus
    assert "error: Box [0.0, 0.0, 500.0, 10.0] lies outside the first attached medium (120x100)" in text
    assert re.search(r"^I'll segment ", text, re.M)  # after the rejected region, a good one works
    assert list(_artifacts(text)) == ["o1", "o1.1"]


def test_chit_chat_gets_the_help_reply_and_no_artifacts(make_agent, synthetic_registry):
    agent = make_agent(registry=synthetic_registry)
    text = _chat(agent, "", "hello", "/exit")
    assert "Attach an image and tell me what to do." in text and _artifacts(text) == {}


def test_a_given_thread_is_continued(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    first = agent.invoke("segment the object in the box", images=[spot_image], region=[50, 30, 70, 40])
    text = _chat(agent, "/thread", "now remove it", "/quit", thread=first.thread)
    assert f"thread: {first.thread}" in text
    assert _artifacts(text)["o2"][0] == "image" and agent.state(first.thread)["turn"] == 2


def test_undo_forgets_the_last_turn_and_the_next_turn_builds_on_the_one_before(make_agent, photos):
    agent = make_agent()
    text = _chat(agent,
                 f"/image {photos['coffee']}",
                 "/region 172,18,410,300",
                 "segment the object in the box",
                 "make it red",
                 "/undo",
                 "make it blue",
                 "/thread")
    assert "undone; the thread has 1 turn(s)" in text
    thread = re.findall(r"^thread: (\S+)$", text, re.M)[-1]
    state = agent.state(thread)
    said = " ".join(str(m.content) for m in state["messages"])
    assert state["turn"] == 2 and not re.search(r"\bred\b", said) and re.search(r"\bblue\b", said)
    assert _chat(agent, "/undo").count("nothing to undo") == 1  # a fresh loop has no thread yet


def test_progress_lines_while_an_expert_runs(make_agent, photos, tmp_path):
    from skimage import data

    from .synthetic_media import pan_clip

    frames, _ = pan_clip(data.rocket(), frames=12, step=2)
    from vitron_agent.stores.media_io import encode_video

    video = tmp_path / "pan.mp4"
    video.write_bytes(encode_video(frames, 12.0))
    agent = make_agent()
    text = _chat(agent, f"/video {video}", "/region 285,120,360,360", "track the rocket in the box")
    assert re.search(r"^  \.\.\. flow_track: frame \d+/12 \(100%\)$", text, re.M), text
    assert "mask_video" in text or "video" in text


def test_a_costly_step_is_asked_for_and_declining_skips_it(tmp_path, photos):
    from vitron_agent import AgentConfig, VitronAgent

    with VitronAgent(AgentConfig(state_dir=tmp_path / "s", human_in_the_loop=True)) as agent:
        text = _chat(agent, f"/image {photos['coffee']}", "/region 172,18,410,300", "remove the object in the box",
                     "n")
        assert "approve" in text and "opencv_inpaint" in text
        thread = next(iter(agent.context._stores))
        records = agent.state(thread)["calls"].values()
        assert any(r["status"] == "skipped" for r in records)
