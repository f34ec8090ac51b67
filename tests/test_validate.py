"""Plan validation against expert specs, default inputs and precondition insertion, without a graph."""

from __future__ import annotations

import pytest

from vitron_agent.graph.validate import check_region_bounds, validate_plan
from vitron_agent.protocol.invocation import Invocation, Region
from vitron_agent.stores.media import MediaRef

MEDIA = {
    "u0": MediaRef(id="u0", kind="image", file="blobs/a.png", width=120, height=100),
    "o1": MediaRef(id="o1", kind="mask", file="blobs/m.png", width=120, height=100, source="box_mask", parents=("u0",)),
    "o1.1": MediaRef(id="o1.1", kind="image", file="blobs/p.png", width=120, height=100, source="box_mask",
                     parents=("u0",), preview=True),
    "u1": MediaRef(id="u1", kind="video", file="blobs/v.mp4", width=64, height=48, frames=10, fps=10.0),
}


def _messages(plan) -> list[str]:
    return [p.message for p in plan.problems]


def test_auto_module_picks_an_expert_and_default_input_skips_previews(synthetic_registry):
    plan = validate_plan([Invocation(task="segment", region={"box": [0, 0, 10, 10]})], dict(MEDIA), synthetic_registry)
    assert plan.problems == [] and plan.experts == {"c1": "box_mask"}
    assert plan.invocations[0].inputs == ["u0"]


def test_region_ref_to_a_mask_defaults_the_input_to_its_parent(synthetic_registry):
    plan = validate_plan([Invocation(task="edit_image", args={"op": "remove"}, region=Region(ref="o1"))],
                         dict(MEDIA), synthetic_registry)
    assert plan.problems == [] and plan.invocations[0].inputs == ["u0"]


def test_words_only_target_inserts_ground_then_segment(synthetic_registry):
    plan = validate_plan([Invocation(task="edit_image", command="the spot", args={"op": "remove"})],
                         dict(MEDIA), synthetic_registry)
    assert [i.task for i in plan.invocations] == ["ground", "segment", "edit_image"]
    assert plan.inserted == ["c2", "c3"]
    assert plan.invocations[1].region == Region(ref="c2") and plan.invocations[2].region == Region(ref="c3")


@pytest.mark.parametrize("inv, fragment", [
    (Invocation(task="segment", region={"box": [0, 0, 500, 10]}), "lies outside u0 (120x100)"),
    (Invocation(task="segment", module="nosuch"), "unknown module 'nosuch'"),
    (Invocation(task="edit_image", region=Region(ref="o1")), "needs args.op"),
    (Invocation(task="generate_video", command="a cat"), "no expert for generate_video is installed"),
    (Invocation(task="segment", command="the zebra"), "cannot locate 'the zebra' without a region"),
    (Invocation(task="segment", region=Region(ref="o1.1")), "a region must be a mask or boxes output"),
    (Invocation(task="segment", region={"box": [0, 0, 5, 5]}, inputs=["u7"]), "input u7 does not exist"),
    (Invocation(task="segment", region=Region(ref="c4")), "not an earlier invocation"),
    (Invocation(task="segment", region={"box": [0, 0, 5, 5]}, signal="s0123456789abcdef"), "not in this thread's signal"),
    (Invocation(task="segment", module="spot_finder", region={"box": [0, 0, 5, 5]}), "spot_finder cannot do segment"),
])
def test_problems_are_actionable(synthetic_registry, inv, fragment):
    plan = validate_plan([inv], dict(MEDIA), synthetic_registry)
    assert any(fragment in m for m in _messages(plan)), _messages(plan)


def test_dependents_of_a_bad_invocation_are_rejected_too(synthetic_registry):
    plan = validate_plan([Invocation(task="segment", module="nosuch"),
                          Invocation(task="edit_image", args={"op": "remove"}, region=Region(ref="c1"))],
                         dict(MEDIA), synthetic_registry)
    assert {p.invocation for p in plan.problems} == {"c1", "c2"}
    assert any("depends on c1" in m for m in _messages(plan))


def test_region_bounds_on_video_frames():
    region = Region(box=(0, 0, 10, 10), frames=(2, 12))
    with pytest.raises(Exception, match="10 frame"):
        check_region_bounds(region, 64, 48, 10, "u1")
    check_region_bounds(Region(box=(0, 0, 64, 48), frames=(0, 9)), 64, 48, 10, "u1")
