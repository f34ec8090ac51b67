"""The web UI's pieces without a browser: upload checks, the two-click box, canvas drawing, and a thread
rendered back into chat messages from its checkpoint (what a page reload shows)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vitron_agent import AgentConfig, VitronAgent
from vitron_agent.errors import MediaError, RegionError
from vitron_agent.stores.media_io import MediaLimits, encode_video
from vitron_agent.ui.canvas import (
    add_point,
    check_upload,
    click,
    format_box,
    parse_region,
    region_for,
    render_canvas,
)
from vitron_agent.ui.history import progress_message, render_thread, render_turn

CUP = [172, 18, 410, 300]


def test_importing_the_ui_package_does_not_import_gradio():
    probe = "import sys, json, vitron_agent.ui, vitron_agent.ui.canvas, vitron_agent.ui.history\n" \
            "print(json.dumps('gradio' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False


def test_uploads_are_checked_by_content_type_and_size(tmp_path, photos):
    good = check_upload(photos["coffee"], MediaLimits())
    assert (good["kind"], good["width"], good["height"], good["name"]) == ("image", 600, 400, "coffee.png")
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(MediaError, match="notes.png: not a supported image"):
        check_upload(text, MediaLimits())
    truncated = tmp_path / "broken.png"
    truncated.write_bytes(photos["coffee"].read_bytes()[:5000])
    with pytest.raises(MediaError, match="broken.png"):
        check_upload(truncated, MediaLimits())
    with pytest.raises(MediaError, match="coffee.png: .* exceeds the .* cap"):
        check_upload(photos["coffee"], MediaLimits(max_bytes=1000))


def test_two_clicks_make_a_box_in_either_order_and_text_round_trips():
    anchor, box = click(None, 410, 300)
    assert anchor == [410, 300] and box is None
    anchor, box = click(anchor, 172, 18)
    assert anchor is None and box == CUP
    assert click([5, 5], 5, 9) == ([5, 9], None)  # no area: the click starts a new box
    assert parse_region(format_box(box)) == {"box": CUP}
    assert parse_region(" [1, 2, 3, 4] ") == {"box": [1, 2, 3, 4]} and parse_region("") is None
    for bad in ("1,2,3,4,5", "4,4,2,2", "a,b,c,d", "1,2,*", "1,2;3"):
        with pytest.raises(RegionError):
            parse_region(bad)


def test_point_clicks_add_points_on_the_object_and_the_background():
    text = add_point("", 300, 150, True)
    text = add_point(text, 120, 250, False)
    assert text == "300,150,+; 120,250,-"
    assert parse_region(text) == {"points": [[300.0, 150.0, True], [120.0, 250.0, False]]}
    assert parse_region("10,20") == {"points": [[10.0, 20.0, True]]}
    assert add_point("1,2,30,40", 5, 6, True) == "5,6,+"  # a box gives way to points
    video = {"kind": "video", "frames": 9}
    assert region_for(parse_region(text), video, 4) == {
        "points": [{"x": 300.0, "y": 150.0, "positive": True}, {"x": 120.0, "y": 250.0, "positive": False}],
        "frames": [4, 4]}


def test_the_canvas_draws_the_box_on_an_image_and_on_a_chosen_video_frame(tmp_path, photos):
    image = render_canvas({"path": str(photos["coffee"]), "kind": "image", "frames": 1, "label": "coffee"}, box=CUP)
    assert image.shape == (400, 600, 3) and tuple(image[18, 300]) == (255, 64, 64)
    frames = np.zeros((5, 64, 80, 3), np.uint8)
    for t in range(5):
        frames[t, :, :, :] = 40 * t
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(encode_video(frames, 5))
    source = check_upload(clip, MediaLimits())
    assert source["kind"] == "video" and source["frames"] == 5
    video = {"path": str(clip), "kind": "video", "frames": 5, "label": "clip.mp4"}
    third = render_canvas(video, frame=3)
    assert third.shape == (64, 80, 3) and abs(int(third[32, 40].mean()) - 120) < 12
    assert region_for({"box": [1, 2, 30, 40]}, video, 3) == {"box": [1, 2, 30, 40], "frames": [3, 3]}
    assert region_for({"box": [1, 2, 30, 40]}, {"kind": "image"}, 0) == [1, 2, 30, 40]
    marked = render_canvas(video, frame=3, points=[[40, 32, True]])
    assert tuple(marked[32, 40]) == (64, 220, 64)  # a point on the object shows as a green cross


def test_a_thread_renders_back_into_the_same_chat_after_the_agent_restarts(tmp_path, photos, checkpointer_url):
    config = AgentConfig(state_dir=tmp_path / "state", checkpointer=checkpointer_url)
    with VitronAgent(config) as agent:
        events = list(agent.stream("segment the object in the box", images=[photos["coffee"]], region=CUP,
                                   thread="t1"))
        first = render_thread(agent, "t1", publish=str)
        assert render_turn(agent, "t1", str) == first[2:]  # the latest turn, without the user's side
    custom = [e for mode, e in events if mode == "custom"]
    assert any(e["type"] == "progress" for e in custom)  # experts' progress reaches the stream
    assert progress_message(custom)["content"].count("grabcut") == 1
    with VitronAgent(config) as again:
        assert render_thread(again, "t1", publish=str) == first
    roles = [(m["role"], m.get("metadata", {}).get("title", "")) for m in first]
    assert roles[0] == ("user", "") and first[0]["content"].startswith("segment the object in the box")
    assert first[1]["content"]["alt_text"] == "u0: your image"
    assert roles[2][1].startswith("Trace: c1 segment by grabcut (done)")
    assert json.loads(first[2]["content"].strip("`\njson"))[0]["region"] == {"box": [172.0, 18.0, 410.0, 300.0]}
    shown = [m["content"] for m in first[3:] if isinstance(m["content"], dict)]
    assert [s["alt_text"] for s in shown] == ["o1.1: overlay on u0"]


def test_the_app_builds_and_the_cli_binds_to_localhost(tmp_path):
    pytest.importorskip("gradio")
    from vitron_agent.cli import build_parser
    from vitron_agent.ui import build_app, upload_folder, web_config

    config = web_config(tmp_path / "state", max_upload_mb=3)
    assert config.limits.max_bytes == 3 * 2**20 and config.media_roots == (upload_folder(),)
    with VitronAgent(config) as agent:
        app = build_app(agent)
        assert {"vitron-chat", "vitron-canvas", "vitron-upload"} <= {b.elem_id for b in app.blocks.values()}
    args = build_parser().parse_args(["ui"])
    assert (args.host, args.port, args.max_upload_mb) == ("127.0.0.1", 7860, 100)


def test_a_region_question_is_answered_by_the_box_drawn_on_the_canvas(tmp_path, photos):
    pytest.importorskip("gradio")
    from vitron_agent.ui.app import WebSession

    config = AgentConfig(state_dir=tmp_path / "state", human_in_the_loop=True)
    with VitronAgent(config) as agent:
        paused = agent.invoke("", images=[photos["coffee"]], invocations=[{"task": "segment"}])
        assert paused.interrupt["type"] == "region"
        session = WebSession(agent)
        keys = ("chat", "thread", "thread_label", "text", "pending", "attached", "source", "canvas", "frame",
                "anchor", "region", "trace", "waiting", "approval", "upload")
        session.bind(**{k: k for k in keys})
        loaded = session.on_load(paused.thread, request=type("R", (), {"query_params": {}})())
        assert loaded["waiting"]["type"] == "region" and loaded["source"]["label"] == "u0"
        assert loaded["chat"][-1]["metadata"]["title"] == "Your input is needed"
        asked = list(session.on_send("", "", 0, [], loaded["source"], paused.thread, loaded["chat"], loaded["waiting"]))
        assert "Draw a region first" in asked[-1]["chat"][-1]["content"]
        updates = list(session.on_send("", "172,18,410,300", 0, [], loaded["source"], paused.thread, loaded["chat"],
                                       loaded["waiting"]))
    final = updates[-1]
    assert final["waiting"] is None and final["trace"]["errors"] == []
    titles = [m.get("metadata", {}).get("title", "") for m in final["chat"]]
    assert any(t.startswith("Trace: c1 segment by grabcut (done)") for t in titles)
    assert final["trace"]["invocations"][0]["region"]["box"] == [172.0, 18.0, 410.0, 300.0]


def test_display_copies_are_served_from_a_folder_that_goes_with_the_session(tmp_path, photos):
    pytest.importorskip("gradio")
    import gc

    from vitron_agent.ui.app import WebSession

    with VitronAgent(AgentConfig(state_dir=tmp_path / "state")) as agent:
        session = WebSession(agent)
        copy = Path(session.publish(str(photos["coffee"])))
        assert copy.read_bytes() == Path(photos["coffee"]).read_bytes() and copy.parent == session.published
        folder = session.published
        del session, copy
        gc.collect()
    assert not folder.exists()
