"""Stable Diffusion through its real loading path (``from_pretrained`` on a folder the test saved)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from vitron_agent.errors import BadInputError  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.stable_diffusion import StableDiffusionExpert  # noqa: E402

from .tiny_models import tiny_sd_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def sd_dir(tmp_path_factory):
    return tiny_sd_pipeline(tmp_path_factory.mktemp("sd") / "tiny-sd")


@pytest.fixture(scope="module")
def sd(sd_dir):
    expert = StableDiffusionExpert(weights=str(sd_dir))
    assert expert.availability().ok
    expert.load("cpu")
    return expert


def _call(command: str = "", signal=None, **args) -> ExpertCall:
    return ExpertCall(invocation=Invocation(id="c1", task="generate_image", command=command, args={"steps": 2, **args}),
                      signal=signal)


def test_text_to_image_is_seeded_and_shaped(sd):
    first = sd.run(_call("a red fox in the snow"))
    (image,) = first.images
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert np.array_equal(sd.run(_call("a red fox in the snow")).images[0], image)  # same seed, same image
    assert not np.array_equal(sd.run(_call("a red fox in the snow", seed=1)).images[0], image)


def test_output_depends_on_the_signal_embedding(sd):
    rng = np.random.default_rng(0)
    one, two = (rng.standard_normal((77, 16)).astype(np.float32) for _ in range(2))
    a, b = sd.run(_call(signal=one)).images[0], sd.run(_call(signal=two)).images[0]
    text = sd.run(_call("a cat")).images[0]
    assert not np.array_equal(a, b) and not np.array_equal(a, text)
    assert np.array_equal(sd.run(_call(signal=one)).images[0], a)
    blended = sd.run(_call("a cat", signal=one, signal_weight=0.5)).images[0]
    assert not np.array_equal(blended, a) and not np.array_equal(blended, text)
    with pytest.raises(BadInputError, match=r"shape \(77, 16\)"):
        sd.run(_call(signal=np.zeros((77, 7), np.float32)))


def test_progress_is_reported_per_step(sd):
    seen = []
    call = _call("a boat", steps=3)
    call.progress = lambda fraction, message: seen.append(round(fraction, 2))
    sd.run(call)
    assert seen == [0.33, 0.67, 1.0]


def test_missing_weights_say_how_to_get_them():
    state = ExpertRegistry.default().availability("stable_diffusion")
    assert not state.ok and "huggingface-cli download stable-diffusion-v1-5/stable-diffusion-v1-5" in state.fix


def test_generate_an_image_through_the_graph(sd_dir, make_agent):
    registry = ExpertRegistry.default()
    registry.register(StableDiffusionExpert, weights=str(sd_dir))
    agent = make_agent(registry=registry)
    result = agent.invoke("generate an image of a lighthouse at night")
    assert result.invocations[0].module == "stable_diffusion" and result.errors == []
    image = next(a for a in result.artifacts if a.kind == "image")
    assert (image.width, image.height) == (32, 32)
