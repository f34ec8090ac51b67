"""The rule-based planner on plain requests: task, op, target, args and region references."""

from __future__ import annotations

import pytest

from vitron_agent.planners import CallInfo, MediaInfo, PlannerInput, RuleBasedPlanner
from vitron_agent.protocol import Region

IMAGE = [MediaInfo("u0", "image", 640, 480)]
BOX = Region(box=(10, 20, 200, 220))


def plan(text: str, *, region: Region | None = None, media=IMAGE, new=("u0",), history=()):
    inp = PlannerInput(text=text, messages=[], media=list(media), new_media=list(new), region=region,
                       region_media="u0" if region else None, history=list(history))
    return RuleBasedPlanner().plan(inp)


@pytest.mark.parametrize("text, task, op, command, args", [
    ("find the faces", "ground", None, "the faces", {}),
    ("Where is the person?", "ground", None, "the person", {}),
    ("please detect all people in the image", "ground", None, "all people", {}),
    ("segment the cat", "segment", None, "the cat", {}),
    ("can you cut out the dog from the photo", "segment", None, "the dog", {}),
    ("mask the red car.", "segment", None, "the red car", {}),
    ("remove the cat", "edit_image", "remove", "the cat", {}),
    ("get rid of the lamp in the corner", "edit_image", "remove", "the lamp in the corner", {}),
    ("erase the text", "edit_image", "remove", "the text", {}),
    ("replace the cat with a dog", "edit_image", "replace", "the cat", {"new": "a dog"}),
    ("swap the apple for an orange", "edit_image", "replace", "the apple", {"new": "an orange"}),
    ("turn the horse into a zebra", "edit_image", "replace", "the horse", {"new": "a zebra"}),
    ("make the car red", "edit_image", "recolor", "the car", {"color": "red"}),
    ("recolor the shirt to blue", "edit_image", "recolor", "the shirt", {"color": "blue"}),
    ("change the colour of the door to green", "edit_image", "recolor", "the door", {"color": "green"}),
    ("make it look like a watercolor painting", "edit_image", "restyle", "", {"style": "a watercolor painting"}),
    ("restyle as a pencil sketch", "edit_image", "restyle", "", {"style": "as a pencil sketch"}),
    ("move the cup to the left", "edit_image", "move", "the cup", {"direction": "left"}),
    ("add a hat", "edit_image", "add", "", {"new": "a hat"}),
    ("add a rainbow to the sky", "edit_image", "add", "the sky", {"new": "a rainbow"}),
    ("generate an image of a red fox in the snow", "generate_image", None, "a red fox in the snow", {}),
    ("can you make me a picture of a cat on a sofa", "generate_image", None, "a cat on a sofa", {}),
    ("draw a painting of mountains at dawn", "generate_image", None, "mountains at dawn", {}),
    ("create a video of waves crashing on rocks", "generate_video", None, "waves crashing on rocks", {}),
    ("animate this image", "animate_image", None, "this image", {}),
    ("what is in this picture?", "answer", None, "what is in this picture?", {}),
])
def test_single_requests(text, task, op, command, args):
    out = plan(text)
    assert len(out.invocations) == 1, out
    inv = out.invocations[0]
    assert (inv.task, inv.op, inv.command) == (task, op, command)
    for key, value in args.items():
        assert inv.args[key] == value


def test_the_object_in_the_box_uses_the_users_region():
    inv = plan("segment the object in the box", region=BOX).invocations[0]
    assert inv.region == BOX and inv.inputs == ["u0"] and inv.command == "the object"
    inv = plan("remove this", region=BOX).invocations[0]
    assert inv.op == "remove" and inv.region == BOX


def test_it_refers_to_the_latest_mask_of_an_earlier_turn():
    history = [CallInfo(1, "c1", "ground", "the faces", "done", "o1"),
               CallInfo(2, "c1", "segment", "the cup", "done", "o2")]
    inv = plan("now remove it", new=(), history=history).invocations[0]
    assert inv.region == Region(ref="o2") and inv.command == "the cup" and inv.inputs == []
    failed = [CallInfo(1, "c1", "segment", "the cup", "error", None)]
    assert plan("remove it", new=(), history=failed).invocations[0].region is None


def test_several_clauses_and_a_reference_between_them():
    out = plan("segment the cup and then remove it")
    first, second = out.invocations
    assert (first.task, first.command) == ("segment", "the cup")
    assert second.op == "remove" and second.region == Region(ref=first.id)


def test_video_input_turns_segment_into_track():
    video = [MediaInfo("u0", "video", 320, 240, frames=60)]
    assert plan("segment the person", media=video).invocations[0].task == "track"
    assert plan("track the car", media=video).invocations[0].task == "track"


def test_chit_chat_gets_a_help_reply_and_no_invocation():
    out = plan("hello there")
    assert out.invocations == [] and "segment" in out.reply
