"""The turn graph end to end with the SQLite checkpointer and small real experts."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from langchain_core.messages import ToolMessage
from PIL import Image

from vitron_agent import AgentConfig, Invocation, VitronAgent
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from .conftest import save_png
from .synthetic_experts import BoxMaskExpert, CrashingExpert
from .thread_growth import assert_bytes_per_turn_stay_flat


def _load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


def _artifact(result, kind: str, preview: bool = False):
    return next(a for a in result.artifacts if a.kind == kind and a.preview == preview)


def test_segment_with_box_stores_a_mask_in_the_image_frame(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    result = agent.invoke("segment the object in the box", images=[spot_image], region=[10, 10, 60, 50])
    assert [i.task for i in result.invocations] == ["segment"]
    assert result.invocations[0].module == "box_mask"
    mask = _load(_artifact(result, "mask").path) > 127
    assert mask.shape == (100, 120)
    expected = np.zeros((100, 120), bool)
    expected[10:50, 10:60] = True
    assert np.array_equal(mask, expected)
    preview = _load(_artifact(result, "image", preview=True).path)
    assert preview.shape == (100, 120, 3) and not np.array_equal(preview[20, 20], [0, 0, 0])
    assert result.errors == []


def test_state_round_trips_through_the_checkpointer_and_a_new_agent_continues(tmp_path, synthetic_registry,
                                                                              spot_image, checkpointer_url):
    config = AgentConfig(state_dir=tmp_path / "state", checkpointer=checkpointer_url)
    with VitronAgent(config, registry=synthetic_registry) as first:
        turn1 = first.invoke("segment the object in the box", images=[spot_image], region=[50, 30, 70, 40])
    with VitronAgent(config, registry=synthetic_registry) as second:  # a new process would do the same
        state = second.state(turn1.thread)
        assert set(state["media"]) >= {"u0", "o1"}
        assert [m.type for m in state["messages"]][:3] == ["human", "ai", "tool"]
        turn2 = second.invoke("now remove it", thread=turn1.thread)
    assert turn2.invocations[0].region.ref == "o1"
    assert turn2.invocations[0].inputs == ["u0"]
    edited = _load(_artifact(turn2, "image").path)
    original = _load(str(spot_image))
    assert (edited[30:40, 50:70] == 0).all() and np.array_equal(edited[:30], original[:30])


def test_text_target_gets_ground_and_segment_steps_inserted(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    result = agent.invoke("remove the spot", images=[spot_image])
    tasks = [i.task for i in result.invocations]
    assert tasks == ["ground", "segment", "edit_image"]
    ground, segment, edit = result.invocations
    assert segment.region.ref == ground.id and edit.region.ref == segment.id
    mask = _load(_artifact(result, "mask").path) > 127
    assert mask.sum() == 200 and mask[30:40, 50:70].all()
    assert (_load(_artifact(result, "image").path)[30:40, 50:70] == 0).all()


def test_missing_expert_is_a_clear_error_and_the_conversation_continues(make_agent, spot_image):
    from vitron_agent.experts.registry import ExpertRegistry

    registry = ExpertRegistry()
    registry.register(BoxMaskExpert)
    agent = make_agent(registry=registry)
    first = agent.invoke("segment the object in the box", images=[spot_image], region=[50, 30, 70, 40])
    second = agent.invoke("now remove it", thread=first.thread)
    assert "no expert for edit_image.remove is installed" in second.errors[0]["message"]
    assert "no expert for edit_image.remove is installed" in second.reply
    third = agent.invoke("segment the object in the box", thread=first.thread, region=[0, 0, 10, 10])
    assert third.errors == [] and _artifact(third, "mask").id == "o2"  # the failed call made nothing


@pytest.mark.parametrize("message, expected", [
    ("CUDA out of memory. Tried to allocate 20.00 GiB", "ran out of memory"),
    ("boom", "RuntimeError: boom"),
])
def test_failing_expert_becomes_an_error_tool_message(make_agent, synthetic_registry, spot_image, message, expected):
    crasher = type("Crasher", (CrashingExpert,), {"message": message})
    synthetic_registry.register(crasher)
    agent = make_agent(registry=synthetic_registry)
    result = agent.invoke("segment the object in the box", images=[spot_image], region=[1, 1, 9, 9])
    assert expected in result.errors[0]["message"]
    tools = [m for m in agent.state(result.thread)["messages"] if isinstance(m, ToolMessage)]
    assert tools[-1].status == "error" and expected in tools[-1].content
    after = agent.invoke("segment the object in the box", thread=result.thread, region=[1, 1, 9, 9],
                         invocations=[{"module": "box_mask", "task": "segment", "region": {"box": [1, 1, 9, 9]}}])
    assert after.errors == [] and after.artifacts


class _BarrierExpert(BoxMaskExpert):
    """Two calls must be inside ``run`` at the same time, or the barrier breaks."""

    spec = ExpertSpec(name="barrier_mask", tasks=("segment",), description="Waits for a partner call.",
                      region_kinds=("box",), region_required=True, outputs=("mask",))
    barrier = threading.Barrier(2, timeout=20)

    def run(self, call: ExpertCall) -> ExpertResult:
        self.barrier.wait()
        return super().run(call)


class _OtherBarrierExpert(_BarrierExpert):
    spec = ExpertSpec(name="barrier_mask_two", tasks=("segment",), description="Waits for a partner call.",
                      region_kinds=("box",), region_required=True, outputs=("mask",))


def test_calls_to_different_experts_run_in_parallel(make_agent, synthetic_registry, spot_image):
    synthetic_registry.register(_BarrierExpert)
    synthetic_registry.register(_OtherBarrierExpert)
    agent = make_agent(registry=synthetic_registry)
    calls = [{"module": module, "task": "segment", "region": {"box": box}}
             for module, box in (("barrier_mask", [0, 0, 10, 10]), ("barrier_mask_two", [20, 20, 40, 40]))]
    result = agent.invoke("", images=[spot_image], invocations=calls)
    assert result.errors == []
    masks = [a for a in result.artifacts if a.kind == "mask"]
    assert sorted(int((_load(a.path) > 127).sum()) for a in masks) == [100, 400]


class _OneAtATimeExpert(BoxMaskExpert):
    """Records how many calls are inside ``run`` at once, as an expert with per-call state would suffer."""

    spec = ExpertSpec(name="one_at_a_time", tasks=("segment",), description="Counts overlapping calls.",
                      region_kinds=("box",), region_required=True, outputs=("mask",))
    inside, most = 0, 0
    guard = threading.Lock()
    entered = threading.Event()

    def run(self, call: ExpertCall) -> ExpertResult:
        with self.guard:
            type(self).inside += 1
            type(self).most = max(type(self).most, type(self).inside)
        self.entered.wait(0.3)  # a second call gets time to come in, if it may
        self.entered.set()
        try:
            return super().run(call)
        finally:
            with self.guard:
                type(self).inside -= 1


def test_calls_to_one_expert_instance_take_turns(make_agent, synthetic_registry, spot_image):
    synthetic_registry.register(_OneAtATimeExpert)
    agent = make_agent(registry=synthetic_registry)
    calls = [{"module": "one_at_a_time", "task": "segment", "region": {"box": box}}
             for box in ([0, 0, 10, 10], [20, 20, 40, 40], [50, 30, 70, 40])]
    result = agent.invoke("", images=[spot_image], invocations=calls)
    assert result.errors == [] and _OneAtATimeExpert.most == 1
    masks = {a.id: int((_load(a.path) > 127).sum()) for a in result.artifacts if a.kind == "mask"}
    assert masks == {"o1": 100, "o2": 400, "o3": 200}


def test_expert_budget_and_unknown_module_are_reported(make_agent, synthetic_registry, spot_image, tmp_path):
    agent = make_agent(registry=synthetic_registry,
                       config=AgentConfig(state_dir=tmp_path / "s", max_expert_calls=1))
    calls = [{"task": "segment", "region": {"box": [0, 0, 5, 5]}}, {"task": "segment", "region": {"box": [5, 5, 9, 9]}},
             {"module": "nosuch", "task": "segment"}]
    result = agent.invoke("", images=[spot_image], invocations=calls)
    messages = sorted(e["message"] for e in result.errors)
    assert any("budget of 1 expert calls" in m for m in messages)
    assert any("unknown module 'nosuch'" in m for m in messages)
    assert len([a for a in result.artifacts if a.kind == "mask"]) == 1


def test_stream_yields_node_updates_and_progress_events(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    events = list(agent.stream("segment the object in the box", images=[spot_image], region=[1, 1, 20, 20]))
    nodes = [next(iter(e)) for mode, e in events if mode == "updates"]
    assert nodes[:4] == ["ingest", "plan", "validate", "schedule"] and "run_expert" in nodes and nodes[-1] == "respond"
    custom = [e["type"] for mode, e in events if mode == "custom"]
    assert custom[0] == "expert_start" and custom[-1] == "expert_end"


def test_human_in_the_loop_pauses_for_approval_and_resumes_after_a_restart(tmp_path, synthetic_registry,
                                                                           spot_image, checkpointer_url):
    config = AgentConfig(state_dir=tmp_path / "state", human_in_the_loop=True, checkpointer=checkpointer_url)
    with VitronAgent(config, registry=synthetic_registry) as agent:
        paused = agent.invoke("remove the object in the box", images=[spot_image], region=[50, 30, 70, 40])
        assert paused.interrupt["type"] == "approve" and paused.interrupt["calls"][0]["task"] == "edit_image"
        assert not any(a.kind == "image" and not a.preview for a in paused.artifacts)
    with VitronAgent(config, registry=synthetic_registry) as again:  # resume after a restart
        done = again.resume(paused.thread, True)
    assert done.interrupt is None and done.errors == []
    assert (_load(_artifact(done, "image").path)[30:40, 50:70] == 0).all()


def test_human_in_the_loop_asks_for_a_missing_region(make_agent, synthetic_registry, spot_image, tmp_path,
                                                     checkpointer_url):
    agent = make_agent(registry=synthetic_registry,
                       config=AgentConfig(state_dir=tmp_path / "s", human_in_the_loop=True))
    paused = agent.invoke("", images=[spot_image], invocations=[{"task": "segment"}])
    assert paused.interrupt["type"] == "region"
    done = agent.resume(paused.thread, {"box": [50, 30, 70, 40]})
    assert done.errors == []
    assert int((_load(_artifact(done, "mask").path) > 127).sum()) == 200


def _checkpoint_bytes(db: Path, thread: str) -> int:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT sum(length(checkpoint)) + sum(length(metadata)) FROM checkpoints WHERE thread_id=?",
                            (thread,)).fetchone()[0]
        writes = conn.execute("SELECT coalesce(sum(length(value)), 0) FROM writes WHERE thread_id=?", (thread,)).fetchone()[0]
    return rows + writes


def test_checkpoint_size_does_not_grow_with_image_size(make_agent, synthetic_registry, tmp_path):
    agent = make_agent(registry=synthetic_registry)
    sizes = {}
    for side in (64, 1024):
        image = (np.random.default_rng(side).random((side, side, 3)) * 255).astype(np.uint8)
        path = save_png(image, tmp_path / f"noise{side}.png")
        result = agent.invoke("segment the object in the box", images=[path], region=[1, 1, 30, 30])
        assert result.errors == []
        sizes[side] = _checkpoint_bytes(agent.config.state_dir / "checkpoints.sqlite", result.thread)
    # 256x more pixels; only a few digits of width/height may differ
    assert abs(sizes[1024] - sizes[64]) < 0.02 * sizes[64], sizes


def test_checkpoint_bytes_per_turn_stay_flat_as_the_thread_grows(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    db = agent.config.state_dir / "checkpoints.sqlite"
    thread = assert_bytes_per_turn_stay_flat(agent, spot_image, 24, lambda t: _checkpoint_bytes(db, t))
    segment = [Invocation(module="box_mask", task="segment", region={"box": [50, 30, 70, 40]}, inputs=["u0"])]
    resumed = agent.invoke("once more", thread=thread, invocations=segment)
    assert resumed.errors == [] and agent.state(thread)["turn"] == 25


def test_previews_of_large_inputs_are_drawn_at_display_size(make_agent, synthetic_registry, tmp_path):
    agent = make_agent(registry=synthetic_registry)
    big = save_png(np.full((1536, 2048, 3), 90, np.uint8), tmp_path / "big.png")
    result = agent.invoke("", images=[big], invocations=[
        Invocation(module="box_mask", task="segment", region={"box": [400, 300, 1200, 900]})])
    mask = next(a for a in result.artifacts if a.kind == "mask")
    preview = next(a for a in result.artifacts if a.preview)
    assert (mask.width, mask.height) == (2048, 1536)  # the output keeps the input's size
    assert (preview.width, preview.height) == (1024, 768)  # the picture for people is display-sized
    drawn = np.asarray(Image.open(preview.path).convert("RGB")).astype(int)
    assert drawn.shape == (768, 1024, 3)
    assert abs(drawn[300, 400] - [90, 90, 90]).sum() > 60  # tinted inside the box (200..600, 150..450 scaled)
    assert abs(drawn[50, 50] - [90, 90, 90]).sum() < 12  # untouched outside


def test_explicit_invocations_skip_the_planner(make_agent, synthetic_registry, spot_image):
    agent = make_agent(registry=synthetic_registry)
    inv = Invocation(module="box_mask", task="segment", region={"box": [0, 0, 60, 50]})
    result = agent.invoke("anything", images=[spot_image], invocations=[inv])
    assert [i.module for i in result.invocations] == ["box_mask"] and result.artifacts


class _StuckExpert(BoxMaskExpert):
    """Blocks until the test releases it: a hung expert."""

    spec = ExpertSpec(name="stuck_mask", tasks=("segment",), description="Hangs.", region_kinds=("box",),
                      region_required=True, outputs=("mask",))
    release = threading.Event()

    def run(self, call: ExpertCall) -> ExpertResult:
        self.release.wait(60)
        return super().run(call)


def test_a_hung_expert_hits_the_time_limit_and_the_thread_goes_on(synthetic_registry, spot_image, tmp_path):
    synthetic_registry.register(_StuckExpert)
    config = AgentConfig(state_dir=tmp_path / "state", expert_timeout=0.3)
    with VitronAgent(config, registry=synthetic_registry) as agent:
        stuck = agent.invoke("", images=[spot_image],
                             invocations=[{"module": "stuck_mask", "task": "segment", "region": {"box": [0, 0, 9, 9]}}])
        assert "did not finish within 0.3 s" in stuck.errors[0]["message"]
        assert "stuck_mask" in agent.pool.loaded()  # still running: not evicted
        _StuckExpert.release.set()
        after = agent.invoke("segment the object in the box", thread=stuck.thread, region=[0, 0, 9, 9])
        assert after.errors == [] and any(a.kind == "mask" for a in after.artifacts)


def test_any_langgraph_checkpointer_can_be_used(synthetic_registry, spot_image, tmp_path):
    from langgraph.checkpoint.memory import InMemorySaver

    with VitronAgent(AgentConfig(state_dir=tmp_path / "s"), registry=synthetic_registry,
                     checkpointer=InMemorySaver()) as agent:
        first = agent.invoke("segment the object in the box", images=[spot_image], region=[50, 30, 70, 40])
        second = agent.invoke("now remove it", thread=first.thread)
    assert second.invocations[0].region.ref == "o1" and second.errors == []
    assert not (tmp_path / "s" / "checkpoints.sqlite").exists()
