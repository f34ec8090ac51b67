"""Resource limits: each cap configured small, shown enforced with a clear error, and the thread goes on.

Caps: pixels per image and per video frame, frames, video duration, file bytes (``MediaLimits``);
expert calls per turn, planner retries and planner rounds per turn, wall time per expert with its
loading included (``AgentConfig``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from vitron_agent import AgentConfig
from vitron_agent.errors import MediaError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec
from vitron_agent.planners.base import PlannerInput, PlannerOutput
from vitron_agent.protocol import Invocation
from vitron_agent.stores import MediaLimits
from vitron_agent.stores.media_io import encode_video

from ..conftest import save_png
from ..synthetic_experts import BoxMaskExpert
from .conftest import assert_actionable, assert_thread_goes_on, begin_thread, small_photo

LIMITS = MediaLimits(max_pixels=64 * 48, max_frames=12, max_seconds=2.0, max_bytes=64 * 1024)
"""The good image (64x48) fits exactly; anything bigger is refused."""


@pytest.fixture
def agent(make_agent, synthetic_registry, tmp_path):
    return make_agent(registry=synthetic_registry, config=AgentConfig(state_dir=tmp_path / "state", limits=LIMITS))


def _clip(path: Path, frames: int, fps: float, size: tuple[int, int] = (32, 24)) -> Path:
    w, h = size
    path.write_bytes(encode_video(np.stack([np.full((h, w, 3), 10 * t % 256, np.uint8) for t in range(frames)]), fps))
    return path


def _noise(path: Path, size: int) -> Path:
    path.write_bytes(np.random.default_rng(0).bytes(size))
    return path


@pytest.mark.parametrize("make, given_as, reason", [
    (lambda d: save_png(small_photo(1, (49, 64)), d / "tall.png"), "images",
     "64x49 = 0.00314 megapixels exceeds the 0.003072 megapixel cap; downscale it"),
    (lambda d: _clip(d / "wide.mp4", 4, 10.0, (80, 48)), "videos", "80x48 video frames exceed the 0.003072 megapixel"),
    (lambda d: _clip(d / "many.mp4", 13, 10.0), "videos", "more than 12 frames; trim the video or raise"),
    (lambda d: _clip(d / "long.mp4", 6, 2.0), "videos", "3 s exceeds the 2 s video duration cap"),
    (lambda d: _noise(d / "big.png", 70 * 1024), "images", "71680 bytes exceeds the 65536 bytes cap"),
], ids=["pixels", "frame-pixels", "frames", "duration", "bytes"])
def test_media_caps_refuse_with_a_clear_reason(make, given_as, reason, agent, good_image, tmp_path):
    before = begin_thread(agent, good_image, "media-caps")
    path = make(tmp_path)
    with pytest.raises(MediaError) as info:
        agent.invoke("look", thread="media-caps", **{given_as: [path]})
    assert reason in str(info.value)
    assert_actionable(str(info.value), names=path.name)
    assert agent.state("media-caps") == before
    fits = _clip(tmp_path / "fits.mp4", 12, 6.0)  # exactly at the frame and duration caps
    accepted = agent.invoke("this one fits", thread="media-caps", videos=[fits], invocations=[])
    assert accepted.errors == [] and agent.state("media-caps")["media"]["u1"]["frames"] == 12
    assert_thread_goes_on(agent, "media-caps", before, good_image)


def test_expert_calls_per_turn(make_agent, synthetic_registry, good_image, tmp_path):
    agent = make_agent(registry=synthetic_registry,
                       config=AgentConfig(state_dir=tmp_path / "state", max_expert_calls=2))
    before = begin_thread(agent, good_image, "calls")
    boxes = ([0, 0, 8, 8], [8, 8, 16, 16], [16, 16, 24, 24], [24, 24, 32, 32])
    calls = [{"module": "box_mask", "task": "segment", "region": {"box": list(b)}, "inputs": ["u0"]} for b in boxes]
    result = agent.invoke("four masks", thread="calls", invocations=calls)
    assert len([a for a in result.artifacts if a.kind == "mask"]) == 2
    refused = [e["message"] for e in result.errors]
    assert len(refused) == 2 and all("budget of 2 expert calls is spent" in m for m in refused)
    for message in refused:
        assert_actionable(message)
    # steps the validator inserts count too: ground + segment + edit is three calls
    chain = agent.invoke("remove the spot", thread="calls", invocations=[
        {"task": "edit_image", "command": "spot", "args": {"op": "remove"}, "inputs": ["u0"]}])
    statuses = {r["invocation"]["task"]: r["status"] for r in agent.state("calls")["calls"].values() if r["turn"] == 3}
    assert statuses == {"ground": "done", "segment": "done", "edit_image": "failed"}
    assert any("budget of 2 expert calls" in e["message"] for e in chain.errors)
    assert_thread_goes_on(agent, "calls", before, good_image)


class _StubbornPlanner:
    """A planner that may revise but always plans an unknown module; counts its calls."""

    name = "stubborn"
    can_revise = True

    def __init__(self, followup: bool = False) -> None:
        self.calls: list[PlannerInput] = []
        self.followup = followup

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        self.calls.append(inp)
        if self.followup:  # a valid call, and always wanting to see the result and plan again
            call = Invocation(module="box_mask", task="segment", region={"box": [1, 1, 9, 9]}, inputs=["u0"])
            return PlannerOutput(reply="once more", invocations=[call], needs_followup=True)
        return PlannerOutput(reply="trying", invocations=[Invocation(module="nosuch", task="segment")])


@pytest.mark.parametrize("retries", [0, 2])
def test_planner_retries(retries, make_agent, synthetic_registry, good_image, tmp_path):
    planner = _StubbornPlanner()
    agent = make_agent(registry=synthetic_registry, planner=planner,
                       config=AgentConfig(state_dir=tmp_path / "state", max_planner_retries=retries))
    before = begin_thread(agent, good_image, "retries")
    result = agent.invoke("do something impossible", thread="retries")
    assert len(planner.calls) == retries + 1  # the first plan and its revisions, no more
    for revision in planner.calls[1:]:  # each revision is told what was wrong
        assert len(revision.feedback) == 1 and "c1: unknown module 'nosuch'; use 'auto' or one of" in revision.feedback[0]
    assert result.artifacts == [] and "unknown module 'nosuch'" in result.errors[0]["message"]
    assert_actionable(result.errors[0]["message"])
    assert_thread_goes_on(agent, "retries", before, good_image)


def test_planner_rounds_per_turn(make_agent, synthetic_registry, good_image, tmp_path):
    planner = _StubbornPlanner(followup=True)
    agent = make_agent(registry=synthetic_registry, planner=planner,
                       config=AgentConfig(state_dir=tmp_path / "state", max_plan_rounds=3))
    before = begin_thread(agent, good_image, "rounds")
    planner.calls.clear()
    result = agent.invoke("keep going", thread="rounds")
    assert len(planner.calls) == 3 and [c.round for c in planner.calls] == [0, 1, 2]
    assert len([a for a in result.artifacts if a.kind == "mask"]) == 3  # one call per round
    assert sorted(r["round"] for r in agent.state("rounds")["calls"].values() if r["turn"] == 2) == [0, 1, 2]
    assert_thread_goes_on(agent, "rounds", before, good_image)


class _SlowToLoad(BoxMaskExpert):
    """Takes 2 s to load: the expert time limit counts loading too."""

    spec = ExpertSpec(name="slow_load", tasks=("segment",), description="Slow to load.", region_kinds=("box",),
                      region_required=True, outputs=("mask",))

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        time.sleep(2.0)


class _Hang(BoxMaskExpert):
    """Runs until released."""

    spec = ExpertSpec(name="hang", tasks=("segment",), description="Hangs.", region_kinds=("box",),
                      region_required=True, outputs=("mask",))
    release = threading.Event()

    def run(self, call: ExpertCall) -> ExpertResult:
        self.release.wait(30)
        return super().run(call)


def test_wall_time_per_expert_loading_included(make_agent, synthetic_registry, good_image, tmp_path):
    synthetic_registry.register(_SlowToLoad)
    synthetic_registry.register(_Hang)
    agent = make_agent(registry=synthetic_registry,
                       config=AgentConfig(state_dir=tmp_path / "state", expert_timeout=0.4))
    before = begin_thread(agent, good_image, "slow")
    try:
        for name in ("slow_load", "hang"):
            start = time.monotonic()
            result = agent.invoke("segment", thread="slow", invocations=[
                {"module": name, "task": "segment", "region": {"box": [0, 0, 9, 9]}, "inputs": ["u0"]}])
            assert time.monotonic() - start < 1.9  # the turn did not wait for the load or the run
            assert result.artifacts == []
            message = result.errors[0]["message"]
            assert f"{name}: did not finish within 0.4 s (the expert time limit)" in message
            assert_actionable(message)
        assert_thread_goes_on(agent, "slow", before, good_image)  # other experts are not blocked meanwhile
    finally:
        _Hang.release.set()
    deadline = time.monotonic() + 10
    while "slow_load" not in agent.pool.loaded() and time.monotonic() < deadline:
        time.sleep(0.05)  # the load finished in the background: the next call is a warm hit
    again = agent.invoke("segment", thread="slow", invocations=[
        {"module": "slow_load", "task": "segment", "region": {"box": [0, 0, 9, 9]}, "inputs": ["u0"]}])
    assert again.errors == [] and agent.pool.stats.loads["slow_load"] == 1
