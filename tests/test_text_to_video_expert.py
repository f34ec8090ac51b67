"""Text-to-video through its real loading path, on a tiny random pipeline; the clip is written as MP4."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.text_to_video import TextToVideoExpert  # noqa: E402

from .tiny_models import tiny_t2v_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def t2v_dir(tmp_path_factory):
    return tiny_t2v_pipeline(tmp_path_factory.mktemp("t2v") / "tiny-t2v")


def test_prompt_and_signal_give_real_clips(t2v_dir):
    expert = TextToVideoExpert(weights=str(t2v_dir))
    expert.load("cpu")

    def run(command="", signal=None):
        inv = Invocation(id="c1", task="generate_video", command=command, args={"steps": 2, "frames": 6, "fps": 6})
        return expert.run(ExpertCall(invocation=inv, signal=signal)).videos[0]

    clip = run("waves on rocks")
    assert clip.frames.shape == (6, 32, 32, 3) and clip.frames.dtype == np.uint8 and clip.fps == 6
    assert np.array_equal(run("waves on rocks").frames, clip.frames)
    rng = np.random.default_rng(0)
    one, two = (rng.standard_normal((77, 16)).astype(np.float32) for _ in range(2))
    assert not np.array_equal(run(signal=one).frames, run(signal=two).frames)


def test_generate_a_video_through_the_graph(t2v_dir, make_agent):
    registry = ExpertRegistry.default()
    registry.register(TextToVideoExpert, weights=str(t2v_dir))
    agent = make_agent(registry=registry)
    result = agent.invoke("", invocations=[{"task": "generate_video", "command": "a red kite in the wind",
                                            "args": {"steps": 2, "frames": 4}}])
    assert result.errors == [] and result.invocations[0].module == "text_to_video"
    video = next(a for a in result.artifacts if a.kind == "video")
    assert (video.frames, video.width, video.height) == (4, 32, 32) and video.path.endswith(".mp4")
