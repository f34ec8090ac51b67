"""The plain chat loop: media and regions by command, threads carried across requests."""

from __future__ import annotations

import io
from pathlib import Path

from vitron_agent.chat import run_chat


def test_chat_runs_turns_on_one_thread_and_survives_a_bad_path(make_agent, synthetic_registry, spot_image, tmp_path):
    agent = make_agent(registry=synthetic_registry)
    script = "\n".join([
        f"/image {tmp_path / 'missing.png'}",
        "segment the object in the box",
        f"/image {spot_image}",
        "/region 50,30,70,40",
        "segment the object in the box",
        "now remove it",
        "/thread",
        "/quit",
        "never read",
    ])
    out = io.StringIO()
    assert run_chat(agent, stdin=io.StringIO(script), stdout=out) == 0
    text = out.getvalue()
    assert "error: missing.png: no such file" in text
    paths = [line.split("-> ")[1] for line in text.splitlines() if "-> " in line]
    assert any(p.endswith(".png") for p in paths) and all(Path(p).exists() for p in paths)
    assert "o2: image" in text  # the removal made a new image from the first turn's mask
    assert "thread: " in text and "thread: None" not in text
