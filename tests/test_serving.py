"""Serving: the wrapper graph in-process (with the checkpointer a server would give it), then ``langgraph dev``
started from ``langgraph.json`` and driven through ``langgraph_sdk``."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from PIL import Image

from vitron_agent import AgentConfig, VitronAgent
from vitron_agent.serve import agent_from_env, build_serve_graph

from .ports import free_port

REPO = Path(__file__).resolve().parents[1]
CUP = [172, 18, 410, 300]  # the cup in scikit-image's coffee photo (600 x 400), pixels


def _served(agent: VitronAgent):
    """The served graph as the server runs it: compiled without a checkpointer, given the server's."""
    return build_serve_graph(agent).copy(update={"checkpointer": InMemorySaver()})


def _run(graph, thread: str, request, modes=("values", "custom")) -> tuple[dict, list[dict]]:
    config = {"configurable": {"thread_id": thread}}
    values, custom = {}, []
    for mode, event in graph.stream(request, config, stream_mode=list(modes)):
        if mode == "values":
            values = event
        else:
            custom.append(event)
    return values, custom


def _mask(values: dict) -> np.ndarray:
    """The turn's mask artifact, (H, W) bool."""
    path = next(a["path"] for a in values["artifacts"] if a["kind"] == "mask")
    return np.asarray(Image.open(path)) > 127


def _assert_on_the_cup(mask: np.ndarray) -> None:
    x1, y1, x2, y2 = CUP
    assert mask.shape == (400, 600)
    inside = mask[y1:y2, x1:x2].sum()
    assert inside > 0.2 * (x2 - x1) * (y2 - y1)  # a good part of the box
    assert inside > 0.95 * mask.sum()  # and hardly anything outside it


def test_turns_on_one_thread_with_a_data_url_and_progress(tmp_path, photos):
    with VitronAgent(AgentConfig(state_dir=tmp_path / "state", media_roots=(tmp_path / "state" / "uploads",))) as agent:
        graph = _served(agent)
        url = "data:image/png;base64," + base64.b64encode(photos["coffee"].read_bytes()).decode()
        first, custom = _run(graph, "t1", {"messages": [{"role": "user", "content": "segment the object in the box"}],
                                           "images": [url], "region": CUP})
        assert any(e["type"] == "progress" for e in custom)
        assert first["errors"] == [] and first["images"] == [] and first["region"] is None  # inputs are per turn
        assert [(i["task"], i["module"]) for i in first["invocations"]] == [("segment", "grabcut")]
        _assert_on_the_cup(_mask(first))
        assert [m.type for m in first["messages"]] == ["human", "ai"] and first["messages"][-1].content == first["reply"]

        second, _ = _run(graph, "t1", {"messages": [{"role": "user", "content": "make it red"}]})
        (recolor,) = second["invocations"]
        assert recolor["args"]["op"] == "recolor" and recolor["region"] == {"ref": "o1"}  # the first turn's mask
        assert recolor["inputs"] == ["u0"] and len(second["messages"]) == 4
        assert agent.state("t1")["turn"] == 2  # the agent's own thread of the same id holds both turns


def test_bad_input_is_said_in_the_thread_and_it_goes_on(tmp_path, photos):
    with VitronAgent(AgentConfig(state_dir=tmp_path / "state", media_roots=(tmp_path / "state" / "uploads",))) as agent:
        graph = _served(agent)
        outside, _ = _run(graph, "t2", {"messages": [{"role": "user", "content": "find the faces"}],
                                        "images": [str(photos["astronaut"])]})
        assert outside["errors"] and "outside" in outside["errors"][0] and outside["artifacts"] == []
        broken, _ = _run(graph, "t2", {"messages": [{"role": "user", "content": "find the faces"}],
                                       "images": ["data:image/png;base64,not base64!"]})
        assert broken["errors"] == ["a data URL holds invalid base64"]
        assert broken["messages"][-1].content == "error: a data URL holds invalid base64"
        block = {"type": "image", "base64": base64.b64encode(photos["astronaut"].read_bytes()).decode(),
                 "mime_type": "image/png"}
        good, _ = _run(graph, "t2", {"messages": [{"role": "user", "content": [
            {"type": "text", "text": "find the faces"}, block]}]})
        assert good["errors"] == [] and good["invocations"][0]["task"] == "ground"
        assert len(good["messages"]) == 6


def test_a_question_pauses_the_served_run_and_the_answer_resumes_it(tmp_path, photos, checkpointer_url):
    config = AgentConfig(state_dir=tmp_path / "state", media_roots=(photos["coffee"].parent,), human_in_the_loop=True,
                         checkpointer=checkpointer_url)
    with VitronAgent(config) as agent:
        graph = _served(agent)
        paused, _ = _run(graph, "t3", {"messages": [{"role": "user", "content": "remove the object in the box"}],
                                       "images": [str(photos["coffee"])], "region": CUP})
        edited = [a for a in paused["artifacts"] if a["kind"] == "image" and not a["preview"]]
        assert paused["interrupt"]["type"] == "approve" and edited == []  # the mask is made, the removal waits
        pending = graph.get_state({"configurable": {"thread_id": "t3"}})
        assert pending.next == ("ask",) and pending.tasks[0].interrupts[0].value == paused["interrupt"]
        done, _ = _run(graph, "t3", Command(resume=True))
        assert done["interrupt"] is None and done["errors"] == []
        assert any(a["kind"] == "image" and not a["preview"] for a in done["artifacts"])
        assert done["messages"][-1].type == "ai"


def test_the_agent_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VITRON_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("VITRON_MEDIA_ROOTS", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    monkeypatch.setenv("VITRON_PLANNER", "rules")
    monkeypatch.setenv("VITRON_HUMAN_IN_THE_LOOP", "1")
    with agent_from_env() as agent:
        assert agent.config.media_roots == (tmp_path / "a", tmp_path / "b", tmp_path / "state" / "uploads")
        assert agent.config.human_in_the_loop and agent.planner.name == "rules"
    monkeypatch.setenv("VITRON_PLANNER", "nonsense")
    with pytest.raises(ValueError, match=r"\$VITRON_PLANNER must be"):
        agent_from_env()


# -- the real server ---------------------------------------------------------------------------------------

def _wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    """Poll ``/ok`` until the server answers; fail with its log if it exits (a long bound only guards a hang)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ok", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"langgraph dev did not answer /ok:\n{log.read_text()[-4000:]}")


@pytest.fixture
def server(tmp_path, photos):
    """``langgraph dev`` on a free localhost port, run from a temporary folder (its in-memory runtime saves
    there), with every network call it could make switched off; killed at the end whatever happens."""
    pytest.importorskip("langgraph_api", reason='the server needs: pip install "vitron-agent[serve]"')
    pytest.importorskip("langgraph_sdk")
    cli = Path(sys.executable).parent / "langgraph"
    if not cli.exists():
        pytest.skip('langgraph-cli is not installed: pip install "vitron-agent[serve]"')
    port, log = free_port(), tmp_path / "server.log"
    env = {**os.environ, "LANGSMITH_TRACING": "false", "LANGCHAIN_TRACING_V2": "false", "LANGSMITH_API_KEY": "",
           "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGGRAPH_NO_VERSION_CHECK": "true", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "YOLO_OFFLINE": "1", "VITRON_STATE_DIR": str(tmp_path / "state"),
           "VITRON_MEDIA_ROOTS": str(photos["coffee"].parent), "VITRON_PLANNER": "rules"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(cli), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port),
             "--config", str(REPO / "langgraph.json")],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.slow
def test_langgraph_dev_serves_the_agent_with_threads_and_streaming(server, photos):
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=server)
    thread = client.threads.create()["thread_id"]
    request = {"messages": [{"role": "user", "content": "segment the object in the box"}],
               "images": [str(photos["coffee"])], "region": CUP}
    parts = list(client.runs.stream(thread, "vitron", input=request, stream_mode=["values", "custom"]))
    events = [p.event for p in parts]
    custom = [p.data for p in parts if p.event == "custom"]
    assert "error" not in events, [p.data for p in parts if p.event == "error"]
    assert [e["type"] for e in custom if e["call"] == "1.0.c1"][0] == "expert_start"
    assert any(e["type"] == "progress" and e["expert"] == "grabcut" for e in custom)
    last_custom = max(i for i, e in enumerate(events) if e == "custom")
    assert events[-1] == "values" and last_custom < len(events) - 1  # progress came before the final state
    final = parts[-1].data
    assert final["errors"] == [] and [i["task"] for i in final["invocations"]] == ["segment"]
    _assert_on_the_cup(_mask(final))

    second = list(client.runs.stream(thread, "vitron", input={"messages": [{"role": "user", "content": "make it red"}]},
                                     stream_mode=["values", "custom"]))
    state = client.threads.get_state(thread)["values"]
    assert state == second[-1].data
    (recolor,) = state["invocations"]
    assert recolor["args"] == {"op": "recolor", "color": "red"} and recolor["region"] == {"ref": "o1"}
    assert [m["type"] for m in state["messages"]] == ["human", "ai", "human", "ai"]
    red = np.asarray(Image.open(next(a["path"] for a in state["artifacts"] if a["kind"] == "image")).convert("RGB"))
    original = np.asarray(Image.open(photos["coffee"]).convert("RGB"))
    cup = _mask(final)
    redder = red[..., 0].astype(int) - red[..., 1:].mean(-1) - (original[..., 0].astype(int) - original[..., 1:].mean(-1))
    near = cv2.dilate(cup.astype(np.uint8), np.ones((21, 21), np.uint8)) > 0  # the mask and its feathered edge
    assert redder[cup].mean() > 20 and not ((red != original).any(-1) & ~near).any()  # the first turn's mask only
