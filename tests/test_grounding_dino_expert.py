"""Grounding DINO through its real loading path, on tiny random Grounding DINO and MM-Grounding-DINO models the
test saves, checked box for box against a direct processor -> model -> post-processing call."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from vitron_agent.errors import BadInputError, UnavailableError  # noqa: E402
from vitron_agent.experts.base import Detection, ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.protocol.referring import refer  # noqa: E402
from vitron_agent.tools.grounding_dino import GroundingDinoExpert  # noqa: E402
from vitron_agent.tools.owlv2 import Owlv2Expert  # noqa: E402

from .tiny_grounding_dino import tiny_grounding_dino  # noqa: E402
from .tiny_models import tiny_owlv2  # noqa: E402

LOW = 0.01  # random weights score low: a low box threshold still returns boxes


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def gd_dir(tmp_path_factory):
    return tiny_grounding_dino(tmp_path_factory.mktemp("gd") / "tiny-grounding-dino")


@pytest.fixture(scope="module")
def mm_dir(tmp_path_factory):
    return tiny_grounding_dino(tmp_path_factory.mktemp("mmgd") / "tiny-mm-grounding-dino", mm=True)


@pytest.fixture(scope="module")
def chelsea():
    from skimage import data

    return data.chelsea()


def _direct(folder, image, text, threshold, text_threshold=0.0):
    """The library called directly: processor -> model -> post-processing, with its raw outputs."""
    import torch
    from transformers import AutoModelForZeroShotObjectDetection, GroundingDinoProcessor

    processor = GroundingDinoProcessor.from_pretrained(folder, local_files_only=True)
    model = AutoModelForZeroShotObjectDetection.from_pretrained(folder, local_files_only=True,
                                                               use_safetensors=True).eval()
    inputs = processor(images=image, text=text, return_tensors="pt")
    with torch.inference_mode():
        outputs = model(**inputs)
    found = processor.post_process_grounded_object_detection(
        outputs, inputs["input_ids"], threshold=threshold, text_threshold=text_threshold,
        target_sizes=[image.shape[:2]])[0]
    return model, inputs, outputs, found


def _in_image(found, width, height):
    """Direct boxes as the expert reports them: by score, moved inside the image, thinner than 1 px dropped."""
    order = np.argsort(-found["scores"].numpy(), kind="stable")
    boxes = found["boxes"].numpy()[order].copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    keep = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
    return boxes[keep], found["scores"].numpy()[order][keep], order[keep]


def _ground(expert, image, command, **args):
    return expert.run(ExpertCall(invocation=Invocation(id="c1", task="ground", command=command, args=args),
                                 images=[image]))


@pytest.mark.parametrize("family", ["grounding-dino", "mm-grounding-dino"])
def test_boxes_equal_a_direct_call_of_the_library(family, gd_dir, mm_dir, chelsea):
    folder = gd_dir if family == "grounding-dino" else mm_dir
    expert = GroundingDinoExpert(weights=str(folder))
    expert.load("cpu")
    result = _ground(expert, chelsea, "the cat", threshold=LOW, text_threshold=0.0, top_k=100)

    model, inputs, _, found = _direct(folder, chelsea, "cat.", LOW)
    assert type(expert.model) is type(model) and model.config.model_type == family
    assert inputs["input_ids"].tolist() == [[101, expert.processor.tokenizer.convert_tokens_to_ids("cat"), 1012, 102]]
    boxes, scores, _ = _in_image(found, 451, 300)
    assert len(boxes) >= 2 and len(result.detections) == len(boxes)
    np.testing.assert_allclose([d.box for d in result.detections], boxes, rtol=0, atol=1e-4)
    np.testing.assert_allclose([d.score for d in result.detections], scores, rtol=0, atol=1e-6)
    assert {d.label for d in result.detections} == {"cat"}
    assert result.text == f"found {len(boxes)} 'cat'"
    first_ten = _ground(expert, chelsea, "the cat", threshold=LOW, text_threshold=0.0).detections  # top_k 10
    assert first_ten == result.detections[:10]


def test_each_box_is_labelled_with_the_phrase_it_matches_best(gd_dir, chelsea):
    import torch

    expert = GroundingDinoExpert(weights=str(gd_dir))
    expert.load("cpu")
    result = _ground(expert, chelsea, "The cat . a Remote control", threshold=0.0, text_threshold=0.0,
                     top_k=100)

    _, inputs, outputs, found = _direct(gd_dir, chelsea, "cat. remote control.", 0.0)
    tokens = expert.processor.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    assert tokens == ["[CLS]", "cat", ".", "remote", "control", ".", "[SEP]"]
    probs = torch.sigmoid(outputs.logits[0])  # every query passes threshold 0, in query order
    per_phrase = torch.stack([probs[:, 1], probs[:, 3:5].max(dim=-1).values], dim=-1)
    boxes, scores, order = _in_image(found, 451, 300)
    expected = [("cat", "remote control")[i] for i in per_phrase.argmax(dim=-1)[torch.as_tensor(order)].tolist()]
    np.testing.assert_allclose([d.box for d in result.detections], boxes, rtol=0, atol=1e-4)
    assert [d.label for d in result.detections] == expected
    assert len(set(expected)) == 2  # the check means something: both phrases label some box

    # a box no phrase token scores above text_threshold for names nothing, and goes
    strict = float(per_phrase.max(dim=-1).values.median())
    kept = _ground(expert, chelsea, "cat . remote control", threshold=0.0, top_k=100, text_threshold=strict)
    named = per_phrase.max(dim=-1).values[torch.as_tensor(order)] > strict
    assert [d.box for d in kept.detections] == [d.box for d, ok in zip(result.detections, named.tolist()) if ok]
    assert _ground(expert, chelsea, "cat", threshold=0.0, text_threshold=1.0).detections == []


def test_bfloat16_on_cpu_loads_bf16_weights_and_still_grounds(gd_dir, chelsea):
    import torch

    expert = GroundingDinoExpert(weights=str(gd_dir))
    expert.load("cpu", dtype="bfloat16")
    assert {p.dtype for p in expert.model.parameters()} == {torch.bfloat16}
    result = _ground(expert, chelsea, "the cat", threshold=LOW)
    assert result.detections and all(d.label == "cat" for d in result.detections)
    for det in result.detections:
        x1, y1, x2, y2 = det.box
        assert 0 <= x1 < x2 <= 451 and 0 <= y1 < y2 <= 300 and 0 <= det.score <= 1


def test_bad_input_says_what_was_expected(gd_dir, chelsea, tmp_path):
    from transformers import BertConfig, BertModel

    expert = GroundingDinoExpert(weights=str(gd_dir))
    expert.load("cpu")
    with pytest.raises(BadInputError, match="needs the words of what to find"):
        _ground(expert, chelsea, " . . ")
    with pytest.raises(BadInputError, match=r"args.threshold is a score in \[0, 1\], got 2"):
        _ground(expert, chelsea, "cat", threshold=2)
    with pytest.raises(BadInputError, match="args.top_k is how many boxes to keep at most"):
        _ground(expert, chelsea, "cat", top_k=0)
    with pytest.raises(BadInputError, match="reads at most 32 text tokens"):
        _ground(expert, chelsea, "cat " * 40)
    with pytest.raises(BadInputError, match="needs an image input"):
        expert.run(ExpertCall(invocation=Invocation(id="c1", task="ground", command="cat")))

    BertModel(BertConfig(vocab_size=16, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=8)).save_pretrained(tmp_path / "bert")
    with pytest.raises(UnavailableError, match="holds a 'bert' model, not Grounding DINO"):
        GroundingDinoExpert(weights=str(tmp_path / "bert")).load("cpu")


def test_the_registry_prefers_grounding_dino_when_its_weights_are_there(gd_dir, tmp_path_factory, tmp_path):
    owl_dir = tiny_owlv2(tmp_path_factory.mktemp("owl") / "tiny-owlv2")
    default = ExpertRegistry.default()
    assert default.spec("grounding_dino").quality == 20 > default.spec("owlv2").quality > default.spec("yolo").quality
    assert "'IDEA-Research/grounding-dino-base' for grounding_dino are not on disk" in default.availability(
        "grounding_dino").reason

    registry = ExpertRegistry.default()
    registry.register(Owlv2Expert, weights=str(owl_dir))
    registry.register(GroundingDinoExpert, weights=str(gd_dir))
    ranked = registry.candidates("ground", input_kind="image")
    assert ranked[0] == "grounding_dino" and ranked.index("owlv2") > ranked.index("grounding_dino")
    assert registry.best_for("ground", None, "image", "the cat") == "grounding_dino"

    missing = tmp_path / "grounding-dino-base"
    registry.register(GroundingDinoExpert, weights=str(missing))
    assert registry.best_for("ground", None, "image", "the cat") == "owlv2"
    state = registry.availability("grounding_dino")
    assert not state.ok and str(missing) in state.reason and "huggingface-cli download" in state.fix

    alone = ExpertRegistry()
    alone.register(GroundingDinoExpert, weights=str(missing))
    with pytest.raises(UnavailableError, match=rf"grounding_dino: weights '{missing}' for grounding_dino are not on "
                                               "disk; Download them"):
        alone.best_for("ground", phrase="the cat")


def test_the_agent_stores_the_referred_box_of_a_direct_call(gd_dir, chelsea, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(GroundingDinoExpert, weights=str(gd_dir))
    agent = make_agent(registry=registry)
    result = agent.invoke("", images=[photos["chelsea"]], invocations=[
        Invocation(module="grounding_dino", task="ground", command="the cat",
                   args={"threshold": LOW, "text_threshold": 0.0})])
    assert result.errors == [] and result.calls[0].expert == "grounding_dino"
    (boxes,) = [a for a in result.artifacts if a.kind == "boxes"]
    stored = json.loads(open(boxes.path).read())
    assert (stored["width"], stored["height"]) == (451, 300)

    # the same detections from the library, then the agent's one-vs-all step: "the cat" is one cat
    _, _, _, found = _direct(gd_dir, chelsea, "cat.", LOW)
    boxes, scores, _ = _in_image(found, 451, 300)
    detections = [Detection(tuple(box.tolist()), "cat", float(score)) for box, score in zip(boxes, scores)][:10]
    kept, _ = refer(detections, "the cat", 451, 300)
    assert len(kept) == 1 and len(stored["detections"]) == 1
    (got,) = stored["detections"]
    np.testing.assert_allclose(got["box"], detections[kept[0]].box, rtol=0, atol=1e-4)
    assert got["score"] == pytest.approx(detections[kept[0]].score, abs=1e-6) and got["label"] == "cat"


def test_a_segment_named_in_words_is_grounded_by_grounding_dino_first(gd_dir, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(GroundingDinoExpert, weights=str(gd_dir), box_threshold=LOW, text_threshold=0.0)
    agent = make_agent(registry=registry)
    result = agent.invoke("", images=[photos["chelsea"]], invocations=[
        Invocation(task="segment", command="the cat")])
    assert result.errors == []
    ground, segment = result.calls
    assert ground.inserted and ground.invocation.task == "ground" and ground.expert == "grounding_dino"
    assert segment.invocation.region.ref == ground.invocation.id
    (mask,) = [a for a in result.artifacts if a.kind == "mask"]
    assert (mask.width, mask.height) == (451, 300)
