"""Requests typed the way people type them, run end to end by the default agent (LitePlanner and the embedded
experts) on a real photo, and scored against an outline traced by hand: a box written in the text, a compound
request whose second action works on the first one's output, a follow-up in the next turn, and the same in
Chinese. What matters is what the user gets back, not only the plan."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.ground_truth import COFFEE_CUP, polygon_mask
from tests.synthetic_media import iou
from vitron_agent import AgentConfig, VitronAgent

CUP_BOX = (172, 18, 410, 300)


@pytest.fixture(scope="module")
def cup() -> np.ndarray:
    return polygon_mask(COFFEE_CUP, (600, 400))


@pytest.fixture
def agent(tmp_path):
    with VitronAgent(AgentConfig(state_dir=tmp_path / "state")) as made:
        yield made


def _mask(result) -> np.ndarray:
    path = next(a.path for a in result.artifacts if a.kind == "mask" and not a.preview)
    return np.asarray(Image.open(path).convert("L")) > 127


def _image(result) -> np.ndarray:
    return np.asarray(Image.open(next(a.path for a in result.artifacts if a.kind == "image" and not a.preview))
                      .convert("RGB")).astype(int)


@pytest.mark.parametrize("text", [
    "cut out the cup in [172, 18, 410, 300]",
    "segment whatever is inside (172, 18, 410, 300) please",
    "把[172, 18, 410, 300]里的杯子抠出来",
])
def test_a_box_written_in_the_request_is_the_region_segmented(agent, photos, cup, text):
    result = agent.invoke(text, images=[photos["coffee"]])
    assert not result.errors, result.errors
    assert [inv.task for inv in result.invocations] == ["segment"]
    assert result.invocations[0].region.box == pytest.approx(CUP_BOX)  # exactly as written
    assert iou(_mask(result), cup) >= 0.8  # the cup as traced by hand


def test_a_compound_request_runs_its_second_action_on_the_first_ones_output(agent, photos, cup):
    original = np.asarray(Image.open(photos["coffee"]).convert("RGB")).astype(int)
    result = agent.invoke("segment the object in [172, 18, 410, 300], then make it blue", images=[photos["coffee"]])
    assert not result.errors, result.errors
    assert [inv.task for inv in result.invocations] == ["segment", "edit_image"]
    assert result.invocations[1].args.get("op") == "recolor"
    edited = _image(result)
    changed = np.abs(edited - original).sum(axis=2) > 30
    # the recolour lands on the segmented cup and nowhere far from it
    assert changed[cup].mean() >= 0.5
    assert changed[~_dilated(cup, 15)].mean() <= 0.01
    blue, red = edited[..., 2][cup & changed], edited[..., 0][cup & changed]
    assert np.median(blue - red) > 0


def test_a_follow_up_in_the_next_turn_acts_on_the_last_output(agent, photos, cup):
    first = agent.invoke("cut out the cup in [172, 18, 410, 300]", images=[photos["coffee"]])
    assert not first.errors, first.errors
    original = np.asarray(Image.open(photos["coffee"]).convert("RGB")).astype(int)
    second = agent.invoke("now remove it", thread=first.thread)
    assert not second.errors, second.errors
    assert [inv.task for inv in second.invocations] == ["edit_image"]
    assert second.invocations[0].args.get("op") == "remove"
    changed = np.abs(_image(second) - original).sum(axis=2) > 30
    assert changed[cup].mean() >= 0.5
    assert changed[~_dilated(cup, 25)].mean() <= 0.02


def _dilated(mask: np.ndarray, pixels: int) -> np.ndarray:
    import cv2

    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def test_a_question_about_what_was_found_reads_the_photo_it_was_found_on(agent, photos):
    found = agent.invoke("find the faces", images=[photos["astronaut"]])
    assert not found.errors, found.errors
    boxes = next(a for a in found.artifacts if a.kind == "boxes")
    asked = agent.invoke("how many faces are there?", thread=found.thread)
    assert not asked.errors, asked.errors  # the planner names the boxes; the graph reads the photo under them
    (inv,) = asked.invocations
    assert inv.task == "answer" and inv.inputs == ["u0"] and inv.region.ref == boxes.id
    assert len(found.data[boxes.id].get("detections", [])) >= 1


def test_a_question_after_finding_nothing_reads_the_whole_photo(agent, photos):
    found = agent.invoke("find the faces", images=[photos["coffee"]])
    assert not found.errors and not found.data[next(a.id for a in found.artifacts if a.kind == "boxes")]["detections"]
    asked = agent.invoke("how many faces are there?", thread=found.thread)
    assert not asked.errors, asked.errors
    (inv,) = asked.invocations
    assert inv.inputs == ["u0"] and inv.region is None
