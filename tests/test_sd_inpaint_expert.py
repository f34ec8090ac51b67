"""Stable Diffusion inpainting through its real loading path, on a tiny random pipeline."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from vitron_agent.errors import BadInputError  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.sd_inpaint import SDInpaintExpert  # noqa: E402

from .tiny_models import tiny_sd_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def inpaint_dir(tmp_path_factory):
    return tiny_sd_pipeline(tmp_path_factory.mktemp("sdi") / "tiny-inpaint", inpaint=True)


@pytest.fixture(scope="module")
def inpainter(inpaint_dir):
    expert = SDInpaintExpert(weights=str(inpaint_dir), max_side=64)
    expert.load("cpu")
    return expert


def _call(image, mask, op, command="the cup", **args) -> ExpertCall:
    inv = Invocation(id="c1", task="edit_image", command=command, args={"op": op, "steps": 2, **args})
    return ExpertCall(invocation=inv, images=[image], mask=mask)


def test_only_the_masked_region_changes(inpainter):
    from skimage import data

    image = data.coffee()
    mask = np.zeros(image.shape[:2], bool)
    mask[100:250, 200:380] = True
    out = inpainter.run(_call(image, mask, "replace", new="a blue bowl")).images[0]
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.abs(out[mask].astype(int) - image[mask]).mean() > 5
    far = np.ones_like(mask)
    far[80:270, 180:400] = False
    assert np.array_equal(out[far], image[far])
    removed = inpainter.run(_call(image, mask, "remove")).images[0]
    assert not np.array_equal(removed, out)
    with pytest.raises(BadInputError, match="args.new"):
        inpainter.run(_call(image, mask, "add"))
    recolored = inpainter.run(_call(image, mask, "recolor", color="red")).images[0]
    assert np.array_equal(recolored[far], image[far]) and not np.array_equal(recolored, out)
    with pytest.raises(BadInputError, match="args.color"):
        inpainter.run(_call(image, mask, "recolor"))


def test_move_pastes_the_object_shifted_and_paints_its_old_place(inpainter):
    from skimage import data

    image = data.coffee()
    mask = np.zeros(image.shape[:2], bool)
    mask[100:250, 200:380] = True
    out = inpainter.run(_call(image, mask, "move", direction="left", distance=0.25)).images[0]
    shift = round(0.25 * image.shape[1])
    assert np.array_equal(out[100:250, 200 - shift:380 - shift], image[100:250, 200:380])
    vacated = np.zeros_like(mask)
    vacated[100:250, 380 - shift:380] = True
    assert np.abs(out[vacated].astype(int) - image[vacated]).mean() > 5  # painted over where it was
    far = np.ones_like(mask)
    far[80:270, 20:400] = False
    assert np.array_equal(out[far], image[far])
    with pytest.raises(BadInputError, match="direction"):
        inpainter.run(_call(image, mask, "move"))


def test_replace_the_object_in_the_box_segments_first_then_inpaints(inpaint_dir, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(SDInpaintExpert, weights=str(inpaint_dir), max_side=64)
    agent = make_agent(registry=registry)
    result = agent.invoke("replace the object in the box with a teapot", images=[photos["coffee"]],
                          region=[172, 18, 410, 300])
    assert [(i.task, i.module) for i in result.invocations] == [("segment", "grabcut"), ("edit_image", "sd_inpaint")]
    assert result.invocations[1].args == {"op": "replace", "new": "a teapot"} and result.errors == []
