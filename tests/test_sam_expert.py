"""SAM through its real loading path, on a tiny random model the test builds, seeds and saves."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("segment_anything")

from vitron_agent.errors import BadInputError, UnavailableError  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation, Point  # noqa: E402
from vitron_agent.tools.sam import SamExpert  # noqa: E402

from .tiny_models import tiny_sam  # noqa: E402


@pytest.fixture(scope="module")
def tiny_sam_dir(tmp_path_factory):
    return tiny_sam(tmp_path_factory.mktemp("sam") / "tiny-sam")


@pytest.fixture(scope="module")
def sam(tiny_sam_dir):
    expert = SamExpert(weights=str(tiny_sam_dir))
    assert expert.availability().ok
    expert.load("cpu")
    return expert


def _call(image, **region) -> ExpertCall:
    return ExpertCall(invocation=Invocation(id="c1", task="segment"), images=[image], **region)


def test_box_points_and_mask_prompts_give_masks_in_the_image_frame(sam):
    from skimage import data

    image = data.coffee()
    by_box = sam.run(_call(image, boxes=[(172.0, 18.0, 410.0, 300.0)]))
    by_points = sam.run(_call(image, points=[Point(x=290, y=150), Point(x=50, y=350, positive=False)]))
    hint = np.zeros(image.shape[:2], bool)
    hint[40:280, 190:400] = True
    by_hint = sam.run(_call(image, mask=hint))
    for result in (by_box, by_points, by_hint):
        (mask,) = result.masks
        assert mask.shape == (400, 600) and mask.dtype == bool
        assert all(np.isfinite(s) for s in result.data["scores"])
    assert sam.images_embedded == 1  # one image, embedded once, prompted three times
    again = sam.run(_call(image, boxes=[(172.0, 18.0, 410.0, 300.0)]))
    assert np.array_equal(again.masks[0], by_box.masks[0])  # deterministic


def test_output_depends_on_the_signal_embedding(sam):
    from skimage import data

    image = data.coffee()
    rng = np.random.default_rng(0)
    first, second = (rng.standard_normal((2, 32)).astype(np.float32) * 3 for _ in range(2))
    a = sam.run(_call(image, signal=first))
    b = sam.run(_call(image, signal=second))
    assert a.masks[0].shape == (400, 600)
    assert a.data["scores"] != b.data["scores"] or not np.array_equal(a.masks[0], b.masks[0])
    same = sam.run(_call(image, signal=first))
    assert same.data["scores"] == a.data["scores"] and np.array_equal(same.masks[0], a.masks[0])
    with pytest.raises(BadInputError, match=r"shape \(k, 32\)"):
        sam.run(_call(image, signal=np.zeros((2, 7), np.float32)))


def test_sam_outranks_grabcut_once_its_weights_are_present(tiny_sam_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("VITRON_WEIGHTS_DIR", str(tmp_path / "empty"))
    registry = ExpertRegistry.default()
    state = registry.availability("sam")
    assert not state.ok and "sam_vit_b_01ec64.pth" in state.reason and "VITRON_WEIGHTS_DIR" in state.fix
    assert registry.best_for("segment") == "grabcut"
    registry.register(SamExpert, weights=str(tiny_sam_dir))
    assert registry.best_for("segment") == "sam"


def test_a_checkpoint_that_is_a_pickle_is_refused(tmp_path):
    from fractions import Fraction  # any class: unpickling it would run arbitrary constructors

    path = tmp_path / "sam_vit_b_evil.pth"
    torch.save({"payload": Fraction(1, 3)}, path)
    with pytest.raises(UnavailableError, match="refused to load"):
        SamExpert(weights=str(path)).load("cpu")


def test_sam_in_a_graph_turn(tiny_sam_dir, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(SamExpert, weights=str(tiny_sam_dir))
    agent = make_agent(registry=registry)
    result = agent.invoke("segment the object in the box", images=[photos["coffee"]], region=[172, 18, 410, 300])
    assert result.invocations[0].module == "sam" and result.errors == []
    assert any(a.kind == "mask" and (a.width, a.height) == (600, 400) for a in result.artifacts)
