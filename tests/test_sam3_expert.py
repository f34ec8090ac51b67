"""SAM 3 concept segmentation through its real loading path, on tiny random models the tests save, checked
against a direct transformers call (processor, model, the processor's post-processing) on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("transformers")

from vitron_agent.errors import BadInputError, RegionError  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.stores import MediaRef  # noqa: E402
from vitron_agent.tools.sam3 import Sam3Expert, concept_phrase  # noqa: E402

from .tiny_sam3 import tiny_sam3, tiny_sam3_video  # noqa: E402

CAT_BOX = (120.0, 60.0, 330.0, 240.0)  # around the cat's head in skimage's chelsea (451x300)


@pytest.fixture(scope="module")
def sam3_dir(tmp_path_factory):
    return tiny_sam3(tmp_path_factory.mktemp("sam3") / "tiny-sam3")


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    """The layout of the facebook/sam3 release: a video model (detector + tracker) and its processor."""
    return tiny_sam3_video(tmp_path_factory.mktemp("sam3v") / "tiny-sam3-video")


@pytest.fixture(scope="module")
def chelsea():
    from skimage import data

    return data.chelsea()


@pytest.fixture(scope="module")
def expert(sam3_dir):
    loaded = Sam3Expert(weights=str(sam3_dir))
    loaded.load("cpu")
    return loaded


def direct(folder, image, phrase, threshold, boxes=None):
    """What a script gets from transformers alone: (masks, boxes, scores), best score first."""
    import torch
    from transformers import Sam3Model, Sam3Processor

    processor = Sam3Processor.from_pretrained(folder, local_files_only=True)
    model = Sam3Model.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()
    inputs = processor(images=image, text=phrase, input_boxes=boxes, return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs)
    found = processor.post_process_instance_segmentation(outputs, threshold=threshold, mask_threshold=0.5,
                                                         target_sizes=inputs["original_sizes"].tolist())[0]
    order = torch.argsort(found["scores"], descending=True, stable=True)
    return found["masks"][order].numpy().astype(bool), found["boxes"][order].numpy(), found["scores"][order].numpy()


def segment(expert, image, command, boxes=(), **args):
    call = ExpertCall(invocation=Invocation(id="c1", task="segment", command=command, args=args), images=[image],
                      boxes=list(boxes))
    return expert.run(call)


def test_concept_phrase_drops_the_verb_and_the_determiners():
    assert concept_phrase("segment every person") == "person"
    assert concept_phrase("the red car") == "red car"
    assert concept_phrase("all of the cats.") == "cats"
    assert concept_phrase("Track the dog") == "dog"


@pytest.mark.parametrize("weights", ["sam3_dir", "release_dir"])
def test_masks_boxes_and_scores_equal_a_direct_transformers_call(weights, chelsea, request):
    folder = request.getfixturevalue(weights)
    expert = Sam3Expert(weights=str(folder))
    expert.load("cpu")
    result = segment(expert, chelsea, "the cat", threshold=0.0)
    masks, boxes, scores = direct(folder, chelsea, "cat", 0.0)
    assert len(result.masks) == len(result.detections) == len(masks) == 8  # every query of the tiny model
    for mine, theirs in zip(result.masks, masks):
        assert mine.dtype == bool and mine.shape == (300, 451) and np.array_equal(mine, theirs)
    clipped = np.clip(boxes, 0, [451, 300, 451, 300])
    assert np.allclose([d.box for d in result.detections], clipped, atol=1e-4)
    assert np.allclose([d.score for d in result.detections], scores) and all(d.label == "cat" for d in result.detections)
    assert [d.score for d in result.detections] == sorted((d.score for d in result.detections), reverse=True)


def test_grounding_gives_the_boxes_of_a_direct_detection_call(expert, sam3_dir, chelsea):
    import torch
    from transformers import Sam3Model, Sam3Processor

    call = ExpertCall(invocation=Invocation(id="c1", task="ground", command="the cat", args={"threshold": 0.0}),
                      images=[chelsea])
    result = expert.run(call)
    processor = Sam3Processor.from_pretrained(sam3_dir, local_files_only=True)
    model = Sam3Model.from_pretrained(sam3_dir, local_files_only=True, use_safetensors=True).eval()
    inputs = processor(images=chelsea, text="cat", return_tensors="pt")
    with torch.no_grad():
        found = processor.post_process_object_detection(model(**inputs), threshold=0.0, target_sizes=[(300, 451)])[0]
    order = torch.argsort(found["scores"], descending=True, stable=True)
    assert result.masks == [] and len(result.detections) == len(order) == 8
    assert np.allclose([d.box for d in result.detections], np.clip(found["boxes"][order].numpy(), 0, [451, 300] * 2),
                       atol=1e-4)
    assert np.allclose([d.score for d in result.detections], found["scores"][order].numpy())


def test_the_threshold_decides_what_is_kept(expert, sam3_dir, chelsea):
    _, _, scores = direct(sam3_dir, chelsea, "cat", 0.0)
    middle = float(np.median(scores))
    result = segment(expert, chelsea, "every cat", threshold=middle)
    assert len(result.masks) == int((scores > middle).sum()) and all(d.score > middle for d in result.detections)
    with pytest.raises(RegionError, match="lower args.threshold"):
        segment(expert, chelsea, "the cat", threshold=0.99)
    with pytest.raises(BadInputError, match="words"):
        segment(expert, chelsea, "the")


def test_a_box_is_an_exemplar_prompt_and_picks_the_instance_in_it(expert, sam3_dir, chelsea):
    from vitron_agent.tools._common import box_iou

    result = segment(expert, chelsea, "the cat", boxes=[CAT_BOX], threshold=0.0)
    masks, boxes, scores = direct(sam3_dir, chelsea, "cat", 0.0, boxes=[[list(CAT_BOX)]])
    best = int(np.argmax([box_iou(np.clip(b, 0, [451, 300, 451, 300]), CAT_BOX) for b in boxes]))
    assert len(result.masks) == 1 and np.array_equal(result.masks[0], masks[best])
    assert result.detections[0].score == pytest.approx(float(scores[best]))
    _, _, unprompted = direct(sam3_dir, chelsea, "cat", 0.0)
    assert not np.allclose(np.sort(scores), np.sort(unprompted))  # the box reached the model


def test_bfloat16_on_cpu_loads_and_runs(sam3_dir, chelsea):
    import torch

    expert = Sam3Expert(weights=str(sam3_dir))
    expert.load("cpu", dtype="bfloat16")
    assert {p.dtype for p in expert.model.parameters()} == {torch.bfloat16}
    result = segment(expert, chelsea, "the cat", threshold=0.0)
    assert result.masks and all(m.shape == (300, 451) and m.dtype == bool for m in result.masks)


def test_the_cat_keeps_one_instance_and_the_cats_keep_all_in_one_call(sam3_dir, make_agent, photos, chelsea):
    registry = ExpertRegistry.default()
    registry.register(Sam3Expert, weights=str(sam3_dir))
    assert registry.best_for("segment", None, "image", "the cat") == "sam3"  # preferred once its weights are here
    agent = make_agent(registry=registry)
    for command, phrase, keep in (("the cat", "cat", 1), ("the cats", "cats", None)):
        expected = direct(sam3_dir, chelsea, phrase, 0.0)[0][:keep]  # the best one, or every instance
        result = agent.invoke("", images=[photos["chelsea"]], invocations=[
            Invocation(module="sam3", task="segment", command=command, args={"threshold": 0.0})])
        assert result.errors == [] and [(i.task, i.module) for i in result.invocations] == [("segment", "sam3")]
        store, _ = agent.context.stores(result.thread)
        media = agent.state(result.thread)["media"]
        stored = next(a for a in result.artifacts if a.kind == "mask" and not a.preview)
        assert (stored.width, stored.height) == (451, 300)
        ref = MediaRef(**media[stored.id])
        assert np.array_equal(store.load_mask(ref), np.logical_or.reduce(expected))
        instances = [store.load_mask(MediaRef(**media[i])) for i in ref.instances]
        assert len(instances) == (0 if len(expected) == 1 else len(expected))
        assert all(np.array_equal(a, b) for a, b in zip(instances, expected))


def test_remove_the_cat_runs_on_sam3_alone(sam3_dir, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(Sam3Expert, weights=str(sam3_dir), threshold=0.0)
    agent = make_agent(registry=registry)
    result = agent.invoke("remove the cat", images=[photos["chelsea"]])
    assert result.errors == []
    assert [(i.task, i.module) for i in result.invocations][:2] == [("ground", "sam3"), ("segment", "sam3")]
    assert result.invocations[-1].task == "edit_image"
    edited = next(a for a in result.artifacts if a.kind == "image" and not a.preview)
    assert (edited.width, edited.height) == (451, 300)
