"""I2VGen-XL through its real loading path, on a tiny random pipeline; the clip is written as MP4."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.image_to_video import ImageToVideoExpert  # noqa: E402

from .tiny_models import tiny_i2v_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def i2v_dir(tmp_path_factory):
    return tiny_i2v_pipeline(tmp_path_factory.mktemp("i2v") / "tiny-i2v")


def test_a_still_becomes_a_seeded_clip(i2v_dir):
    from skimage import data

    expert = ImageToVideoExpert(weights=str(i2v_dir), max_side=32)
    expert.load("cpu")
    image = data.astronaut()
    inv = Invocation(id="c1", task="animate_image", command="she waves", args={"steps": 2, "frames": 4, "fps": 8})
    clip = expert.run(ExpertCall(invocation=inv, images=[image])).videos[0]
    assert clip.frames.shape == (4, 32, 32, 3) and clip.frames.dtype == np.uint8 and clip.fps == 8
    again = expert.run(ExpertCall(invocation=inv, images=[image])).videos[0]
    assert np.array_equal(again.frames, clip.frames)  # seeded, the image latents included


def test_animate_prefers_i2vgen_xl_when_installed(i2v_dir, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(ImageToVideoExpert, weights=str(i2v_dir), max_side=32)
    agent = make_agent(registry=registry)
    result = agent.invoke("", images=[photos["astronaut"]],
                          invocations=[{"task": "animate_image", "command": "she waves", "args": {"steps": 2, "frames": 4}}])
    assert result.errors == [] and result.invocations[0].module == "image_to_video"
    assert any(a.kind == "video" and a.frames == 4 for a in result.artifacts)
