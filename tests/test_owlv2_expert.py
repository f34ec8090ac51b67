"""Open-vocabulary grounding through its real loading path, on a tiny random OWLv2 the test saves."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.owlv2 import Owlv2Expert  # noqa: E402

from .tiny_models import tiny_owlv2  # noqa: E402


@pytest.fixture(scope="module")
def owl_dir(tmp_path_factory):
    return tiny_owlv2(tmp_path_factory.mktemp("owl") / "tiny-owlv2")


def test_boxes_for_any_phrase_lie_in_the_image_frame(owl_dir):
    from skimage import data

    expert = Owlv2Expert(weights=str(owl_dir))
    expert.load("cpu")
    image = data.coffee()
    call = ExpertCall(invocation=Invocation(id="c1", task="ground", command="the spoon",
                                            args={"threshold": 0.0, "top_k": 5}), images=[image])
    result = expert.run(call)
    assert 1 <= len(result.detections) <= 5
    scores = [d.score for d in result.detections]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    for det in result.detections:
        x1, y1, x2, y2 = det.box
        assert 0 <= x1 < x2 <= 600 and 0 <= y1 < y2 <= 400 and det.label == "spoon"
    again = expert.run(call)
    assert [d.box for d in again.detections] == [d.box for d in result.detections]


def test_a_phrase_opencv_cannot_ground_is_grounded_by_owlv2(owl_dir, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(Owlv2Expert, weights=str(owl_dir))
    assert registry.best_for("ground", phrase="the spoon") == "owlv2"
    agent = make_agent(registry=registry)
    result = agent.invoke("", images=[photos["coffee"]],
                          invocations=[{"task": "ground", "command": "the spoon", "args": {"threshold": 0.0}}])
    assert result.errors == [] and result.invocations[0].module == "owlv2"
    assert any(a.kind == "boxes" for a in result.artifacts)
