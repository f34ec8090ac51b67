"""Experts on a local Ray Serve cluster, used as an agent uses them: the same turns give the same bytes as the
in-process pool, progress reaches the stream, and a replica killed mid-call is a clear error in the thread
that the next turn survives."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from vitron_agent import AgentConfig, VitronAgent
from vitron_agent.experts.ray_serve import RayServePool, RayServeSettings, family_of, parse_backend
from vitron_agent.experts.registry import ExpertRegistry
from vitron_agent.stores.media_io import encode_video

from .synthetic_experts import BoxMaskExpert, CrashingExpert, WaitingMaskExpert
from .synthetic_media import cup_clip

CUP = [172, 18, 410, 300]  # the coffee cup in scikit-image's coffee photo (tests/ground_truth.py)
FACE = [175, 55, 265, 170]  # the astronaut's face


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster of this machine's CPUs, started in this process and stopped after the module."""
    ray = pytest.importorskip("ray")
    serve = pytest.importorskip("ray.serve")
    try:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 namespace="vitron-agent-tests")
    except Exception as exc:  # pragma: no cover - a machine where Ray cannot start
        pytest.skip(f"a local Ray cluster could not start here: {exc}")
    yield ray
    serve.shutdown()
    ray.shutdown()


def _settings(prefix: str) -> RayServeSettings:
    """One replica per family, reserving no CPU so every family fits on two cores."""
    from vitron_agent.experts.ray_serve import FamilySettings

    return RayServeSettings(app_prefix=prefix, default=FamilySettings(replicas=1, num_cpus=0))


def _outputs(result) -> list[tuple[str, str, bytes]]:
    """The turn's outputs people and programs read: id, kind and the stored file's bytes (previews left out:
    they are drawn in the agent process from these)."""
    return [(a.id, a.kind, Path(a.path).read_bytes()) for a in result.artifacts if not a.preview]


def test_backend_setting_reads_the_forms_it_documents():
    assert parse_backend(None) is None and parse_backend("local") is None
    assert parse_backend("ray").address is None
    assert parse_backend("ray:auto").address == "auto"
    assert parse_backend("ray://10.0.0.2:10001").address == "ray://10.0.0.2:10001"
    with pytest.raises(ValueError, match="experts must be"):
        AgentConfig(experts="kubernetes")


def test_experts_on_ray_serve_make_the_same_bytes_as_in_process(ray_cluster, photos, tmp_path, tiny_sam_dir):
    from vitron_agent.tools.sam import SamExpert

    registry = ExpertRegistry.default()
    registry.register(SamExpert, weights=str(tiny_sam_dir))
    clip = cup_clip(frames=16, scale=0.3, size=(320, 240))
    video = tmp_path / "cup.mp4"
    video.write_bytes(encode_video(clip.frames, 12.0))
    keyframe = 5
    turns = [
        ({"images": [photos["coffee"]]},
         [{"module": "grabcut", "task": "segment", "inputs": ["u0"], "region": {"box": CUP}},
          {"module": "opencv_inpaint", "task": "edit_image", "inputs": ["u0"], "region": {"ref": "c1"},
           "args": {"op": "remove"}},
          {"module": "opencv_recolor", "task": "edit_image", "inputs": ["u0"], "region": {"ref": "c1"},
           "args": {"op": "recolor", "color": "blue"}}]),
        ({"images": [photos["astronaut"]]},
         [{"module": "opencv_detect", "task": "ground", "command": "faces", "inputs": ["u0"]},
          {"module": "sam", "task": "segment", "inputs": ["u0"], "region": {"box": FACE}},
          {"module": "opencv_restyle", "task": "edit_image", "inputs": ["u0"], "args": {"op": "restyle", "style": "sketch"}},
          {"module": "measure_answer", "task": "answer", "command": "how many faces are there?", "inputs": ["u0"]}]),
        ({"videos": [video]},
         [{"module": "flow_track", "task": "track", "inputs": ["u0"],
           "region": {"box": list(clip.boxes[keyframe]), "frames": [keyframe, keyframe]}}]),
    ]
    in_process = VitronAgent(AgentConfig(state_dir=tmp_path / "local"), registry=registry)
    on_ray = VitronAgent(AgentConfig(state_dir=tmp_path / "ray"), registry=registry,
                         pool=RayServePool(registry, _settings("bytes-")))
    try:
        for media, calls in turns:
            local = in_process.invoke("", invocations=calls, **media)
            remote = on_ray.invoke("", invocations=calls, **media)
            assert local.errors == [] and remote.errors == []
            assert [c.expert for c in remote.calls] == [c.expert for c in local.calls]
            assert _outputs(remote) == _outputs(local) and _outputs(local)
            assert remote.reply == local.reply
        served = {family_of(registry.spec(name)) for name in on_ray.pool.stats.hits}
        assert served == {"core", "sam"}  # the SAM family runs in its own deployment
        assert set(on_ray.pool.loaded()) >= {"grabcut", "sam", "flow_track"}  # loaded in the replicas
    finally:
        in_process.close()
        on_ray.close()


def test_progress_reaches_the_stream_and_a_killed_replica_is_a_clear_error(ray_cluster, photos, tmp_path):
    pid_file = tmp_path / "replica.pid"
    registry = ExpertRegistry.default()
    registry.register(WaitingMaskExpert, pid_file=str(pid_file), hold=60.0)
    registry.register(BoxMaskExpert)
    registry.register(CrashingExpert)
    agent = VitronAgent(AgentConfig(state_dir=tmp_path / "state"), registry=registry,
                        pool=RayServePool(registry, _settings("kill-")))
    box = [100, 80, 300, 260]
    events: list = []
    thread = "t-kill"

    def first_turn() -> None:
        for mode, event in agent.stream("", thread=thread, images=[photos["astronaut"]],
                                        invocations=[{"module": "waiting_mask", "task": "segment", "region": {"box": box}}]):
            events.append((mode, event))

    runner = threading.Thread(target=first_turn)
    try:
        runner.start()
        deadline = time.monotonic() + 120
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        replica = int(pid_file.read_text())
        assert replica != os.getpid()  # the expert ran in a replica, not here
        os.kill(replica, signal.SIGKILL)
        runner.join(120)
        assert not runner.is_alive()

        progress = [e for mode, e in events if mode == "custom" and e.get("type") == "progress"]
        assert any(f"working in process {replica}" in str(e.get("message")) for e in progress)
        result = agent.result(thread)
        assert len(result.errors) == 1
        message = result.errors[0]["message"]
        assert "lost the 'core' replica running waiting_mask" in message and "ask again" in message
        assert "u0" in agent.state(thread)["media"]  # the conversation and its media survive

        after = agent.invoke("", thread=thread, invocations=[{"module": "box_mask", "task": "segment",
                                                              "inputs": ["u0"], "region": {"box": box}}])
        assert after.errors == []
        mask_file = next(a.path for a in after.artifacts if a.kind == "mask" and not a.preview)
        from PIL import Image

        mask = np.asarray(Image.open(mask_file)) > 127
        expected = np.zeros(mask.shape[:2], bool)
        expected[80:260, 100:300] = True
        assert np.array_equal(mask if mask.ndim == 2 else mask[..., 0], expected)

        crashed = agent.invoke("", thread=thread, invocations=[{"module": "crasher", "task": "segment",
                                                                "inputs": ["u0"], "region": {"box": box}}])
        assert [e["message"] for e in crashed.errors] == [
            "crasher ran out of memory; try a smaller input, fp16, CPU offload or a lower pool budget"]
    finally:
        runner.join(1)
        agent.close()


@pytest.fixture(scope="module")
def tiny_sam_dir(tmp_path_factory):
    pytest.importorskip("segment_anything")
    from .tiny_models import tiny_sam

    return tiny_sam(tmp_path_factory.mktemp("sam") / "tiny-sam")
