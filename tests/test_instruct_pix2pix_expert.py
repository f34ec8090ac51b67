"""InstructPix2Pix through its real loading path, on a tiny random pipeline."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.instruct_pix2pix import InstructPix2PixExpert  # noqa: E402

from .tiny_models import tiny_sd_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def pix_dir(tmp_path_factory):
    return tiny_sd_pipeline(tmp_path_factory.mktemp("p2p") / "tiny-p2p", pix2pix=True)


def test_whole_image_and_region_edits(pix_dir):
    from skimage import data

    expert = InstructPix2PixExpert(weights=str(pix_dir), max_side=64)
    expert.load("cpu")
    image = data.chelsea()
    inv = Invocation(id="c1", task="edit_image", args={"op": "restyle", "style": "make it a watercolor", "steps": 2})
    whole = expert.run(ExpertCall(invocation=inv, images=[image])).images[0]
    assert whole.shape == image.shape and np.abs(whole.astype(int) - image).mean() > 5
    mask = np.zeros(image.shape[:2], bool)
    mask[50:200, 100:300] = True
    part = expert.run(ExpertCall(invocation=inv, images=[image], mask=mask)).images[0]
    far = np.ones_like(mask)
    far[40:210, 90:310] = False
    assert np.array_equal(part[far], image[far]) and not np.array_equal(part[mask], image[mask])


def test_restyle_prefers_instruct_pix2pix_when_installed(pix_dir, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(InstructPix2PixExpert, weights=str(pix_dir), max_side=64)
    agent = make_agent(registry=registry)
    result = agent.invoke("make it look like an oil painting", images=[photos["chelsea"]])
    assert [(i.task, i.module) for i in result.invocations] == [("edit_image", "instruct_pix2pix")]
    assert result.errors == [] and any(a.kind == "image" for a in result.artifacts)
