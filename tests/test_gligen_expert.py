"""GLIGEN through its real loading path, on a tiny random pipeline with gated attention."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from vitron_agent.errors import BadInputError  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.gligen import GligenEditExpert, GligenExpert  # noqa: E402

from .tiny_models import tiny_sd_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def gligen(tmp_path_factory):
    folder = tiny_sd_pipeline(tmp_path_factory.mktemp("gligen") / "tiny-gligen", gligen=True)
    expert = GligenExpert(weights=str(folder))
    expert.load("cpu")
    return expert


def test_boxes_place_phrases_and_change_the_image(gligen):
    def run(boxes):
        inv = Invocation(id="c1", task="generate_image", command="a park",
                         args={"phrases": ["a dog", "a ball"], "boxes": boxes, "steps": 2, "beta": 1.0})
        return gligen.run(ExpertCall(invocation=inv)).images[0]

    left = run([[0, 0, 16, 16], [16, 16, 32, 32]])
    right = run([[16, 0, 32, 16], [0, 16, 16, 32]])
    assert left.shape == (32, 32, 3) and left.dtype == np.uint8
    assert not np.array_equal(left, right)  # where the boxes are changes the picture
    with pytest.raises(BadInputError, match="same, non-zero length"):
        run([[0, 0, 16, 16]])
    with pytest.raises(BadInputError, match="inside the 32x32 image"):
        run([[0, 0, 16, 16], [0, 0, 99, 16]])


@pytest.fixture(scope="module")
def gligen_edit(tmp_path_factory):
    folder = tiny_sd_pipeline(tmp_path_factory.mktemp("gligen") / "tiny-gligen-edit", gligen="edit")
    expert = GligenEditExpert(weights=str(folder))
    expert.load("cpu")
    return expert


def test_add_changes_only_the_box(gligen_edit):
    from skimage import data

    image = data.coffee()
    inv = Invocation(id="c1", task="edit_image", command="", args={"op": "add", "new": "a cookie", "steps": 2})
    out = gligen_edit.run(ExpertCall(invocation=inv, images=[image], boxes=[(420.0, 250.0, 560.0, 380.0)])).images[0]
    assert out.shape == image.shape
    assert np.array_equal(out[:250], image[:250]) and np.array_equal(out[:, :420], image[:, :420])
    assert np.abs(out[250:380, 420:560].astype(int) - image[250:380, 420:560]).mean() > 5
