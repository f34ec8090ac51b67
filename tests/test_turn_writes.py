"""What a turn's steps write to the thread: only changes, and reads of the thread that do not grow with it."""

from __future__ import annotations

import numpy as np
from langchain_core.messages import AIMessage, HumanMessage
from PIL import Image

from vitron_agent import AgentConfig
from vitron_agent.graph.calls import read_media, unfinished_calls
from vitron_agent.graph.state import GROWING, TurnRequest, changes


def _call(key: str, status: str) -> dict:
    return {"key": key, "turn": 1, "round": 0, "expert": "box_mask", "status": status,
            "invocation": {"id": key.rsplit(".", 1)[-1], "module": "box_mask", "task": "segment"}}


def _medium(media_id: str) -> dict:
    return {"id": media_id, "kind": "mask", "file": f"blobs/{'0' * 40}.png", "width": 4, "height": 3}


def test_changes_drops_rewrites_of_the_same_value_and_empty_additions():
    state = {"round": 0, "feedback": [], "budget": {"expert_calls": 1}, "messages": [HumanMessage("hi", id="h")]}
    update = {"round": 0, "feedback": ["fix the box"], "budget": {"expert_calls": 1}, "turn": 1, "errors": [],
              "messages": [], "calls": {}, "media": {"o1": _medium("o1")}}
    assert changes(state, update) == {"feedback": ["fix the box"], "turn": 1, "errors": [],
                                      "media": {"o1": _medium("o1")}}  # errors is new to this state: written


def test_unfinished_calls_reads_only_calls_that_are_not_final():
    calls = {k: _call(k, s) for k, s in [("1.0.c1", "done"), ("1.0.c2", "queued"), ("1.0.c3", "failed"),
                                         ("1.0.c4", "planned"), ("1.0.c5", "skipped")]}
    calls["1.0.c1"]["invocation"] = {"not": "a valid invocation"}  # never read: a final call is left alone
    assert sorted(unfinished_calls({"calls": calls})) == ["1.0.c2", "1.0.c4"]


def test_read_media_of_some_ids():
    state = {"media": {i: _medium(i) for i in ("u0", "o1", "o1.1")}}
    assert list(read_media(state, ["o1.1", "missing", "o1"])) == ["o1.1", "o1"]
    assert list(read_media(state)) == ["u0", "o1", "o1.1"]


def test_is_dry_run_reads_the_flag_alone():
    assert TurnRequest.is_dry_run({"turn_input": {"dry_run": True, "invocations": "not read"}})
    assert not TurnRequest.is_dry_run({"turn_input": TurnRequest(text="x").dump()})
    assert not TurnRequest.is_dry_run({})


def test_no_step_of_a_turn_rewrites_a_value_it_does_not_change(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    first = agent.invoke("segment the object in the box", images=[spot_image], region=[10, 10, 60, 50])
    before = agent.state(first.thread)
    rewrites, steps = [], []
    for mode, event in agent.stream("segment the object in the box", thread=first.thread, region=[20, 20, 40, 40],
                                    stream_mode=["values", "updates"]):
        if mode == "values":
            before = event
            continue
        for node, update in event.items():
            steps.append(node)
            for key, value in (update or {}).items():
                if (value in ({}, []) if key in GROWING else before.get(key, object()) == value):
                    rewrites.append((node, key))
    assert steps[:4] == ["ingest", "plan", "validate", "schedule"] and steps[-1] == "respond"
    assert rewrites == []
    after = agent.result(first.thread)
    assert after.errors == [] and [a.kind for a in after.artifacts] == ["mask", "image"]
    last = agent.state(first.thread)["messages"][-1]
    assert isinstance(last, AIMessage) and "o2 (mask), o2.1 (preview)" in last.content  # the second turn's outputs


def test_a_turn_with_previews_off_writes_the_mask_and_no_overlay(make_agent, synthetic_registry, spot_image, tmp_path):
    agent = make_agent(registry=synthetic_registry, config=AgentConfig(state_dir=tmp_path / "state", previews=False))
    result = agent.invoke("", images=[spot_image], invocations=[{"task": "segment", "region": {"box": [10, 10, 60, 50]}}])
    assert result.errors == [] and [a.kind for a in result.artifacts] == ["mask"]
    mask = np.asarray(Image.open(result.artifacts[0].path)) > 127
    assert mask[30, 30] and not mask[5, 5]
    assert not any(ref.get("preview") for ref in agent.state(result.thread)["media"].values())


def test_given_invocations_skip_the_planning_step(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    steps = [next(iter(event)) for mode, event in agent.stream(
        "", images=[spot_image], invocations=[{"task": "segment", "region": {"box": [10, 10, 60, 50]}}],
        stream_mode=["updates"]) if mode == "updates"]
    assert steps[:3] == ["ingest", "validate", "schedule"] and "plan" not in steps and steps[-1] == "respond"
    bad = agent.invoke("", images=[spot_image], invocations="<segment> no closing tag")
    assert bad.errors  # invocations that cannot be read still reach the planning step, which says why


def _steps(agent, **turn) -> list[str]:
    return [node for mode, event in agent.stream("", stream_mode=["updates"], **turn) if mode == "updates"
            for node in event]


def test_after_its_last_call_a_turn_answers_without_another_scheduling_step(make_agent, synthetic_registry,
                                                                           spot_image):
    agent = make_agent(registry=synthetic_registry)
    one = _steps(agent, images=[spot_image], invocations=[{"task": "segment", "region": {"box": [10, 10, 60, 50]}}])
    assert one == ["ingest", "validate", "schedule", "run_expert", "respond"]
    # a chain: the removal waits for the segmentation, so one scheduling step comes between them
    chain = [{"id": "c1", "module": "box_mask", "task": "segment", "region": {"box": [50, 30, 70, 40]}},
             {"id": "c2", "module": "invert_remove", "task": "edit_image", "region": {"ref": "c1"},
              "args": {"op": "remove"}}]
    steps = _steps(agent, images=[spot_image], invocations=chain, thread="chain")
    assert steps == ["ingest", "validate", "schedule", "run_expert", "schedule", "run_expert", "respond"]
    result = agent.result("chain")
    edited = np.asarray(Image.open(next(a.path for a in result.artifacts if a.kind == "image" and not a.preview)))
    assert result.errors == [] and (edited[30:40, 50:70] == 0).all() and (edited[:30] == 0).all()
    # two calls of one round run in one step; each sees the other unfinished, so both lead to one schedule
    pair = [{"id": "c1", "module": "box_mask", "task": "segment", "region": {"box": [10, 10, 60, 50]}},
            {"id": "c2", "module": "spot_finder", "task": "ground", "command": "spot"}]
    steps = _steps(agent, images=[spot_image], invocations=pair, thread="pair")
    assert steps == ["ingest", "validate", "schedule", "run_expert", "run_expert", "schedule", "respond"]
    assert agent.result("pair").errors == [] and {a.kind for a in agent.result("pair").artifacts} >= {"mask", "boxes"}
