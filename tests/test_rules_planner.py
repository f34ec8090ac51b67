"""The rule-based planner on plain requests: task, op, target, args and region references.

No graph here: ``PlannerInput`` in, ``PlannerOutput`` out. Phrasings the planner gets wrong are
listed with the answer it should give and marked ``xfail(strict=True)``, so a fix shows up as XPASS.
"""

from __future__ import annotations

import pytest

from vitron_agent.planners import CallInfo, MediaInfo, PlannerInput, RuleBasedPlanner
from vitron_agent.protocol import Region

IMAGE = [MediaInfo("u0", "image", 640, 480)]
VIDEO = [MediaInfo("u0", "video", 320, 240, frames=60)]
BOX = Region(box=(10, 20, 200, 220))
HISTORY = [  # turn 1 found faces (o1) and segmented a cup (o2); turn 2 removed it (o3, an image)
    CallInfo(1, "c1", "ground", "the faces", "done", "o1", "opencv_detect"),
    CallInfo(1, "c2", "segment", "the cup", "done", "o2", "grabcut"),
    CallInfo(2, "c1", "edit_image", "the cup", "done", "o3", "inpaint", op="remove"),
]


def plan(text: str, *, region: Region | None = None, media=IMAGE, new=("u0",), history=(), region_media="u0"):
    inp = PlannerInput(text=text, messages=[], media=list(media), new_media=list(new), region=region,
                       region_media=region_media if region else None, history=list(history))
    return RuleBasedPlanner().plan(inp)


def _bug(reason: str):
    return pytest.mark.xfail(strict=True, reason=f"rules.py: {reason}")


# (text, task, op, command, args); command None = not checked
SINGLE = [
    # ground
    ("find the faces", "ground", None, "the faces", {}),
    ("Where is the person?", "ground", None, "the person", {}),
    ("please detect all people in the image", "ground", None, "all people", {}),
    ("locate the cup in the photo", "ground", None, "the cup", {}),
    ("show me the cars", "ground", None, "the cars", {}),
    ("search for a bottle", "ground", None, "a bottle", {}),
    # segment
    ("segment the cat", "segment", None, "the cat", {}),
    ("can you cut out the dog from the photo", "segment", None, "the dog", {}),
    ("mask the red car.", "segment", None, "the red car", {}),
    ("Isolate the bird.", "segment", None, "the bird", {}),
    ("extract the logo from the image", "segment", None, "the logo", {}),
    ("segment the person on the left", "segment", None, "the person on the left", {}),
    pytest.param("mask out the cat", "segment", None, "the cat", {}),
    pytest.param("cut the cat out", "segment", None, "the cat", {}),
    # remove
    ("remove the cat", "edit_image", "remove", "the cat", {}),
    ("get rid of the lamp in the corner", "edit_image", "remove", "the lamp in the corner", {}),
    ("Could you erase the watermark?", "edit_image", "remove", "the watermark", {}),
    ("I'd like you to remove the lamp", "edit_image", "remove", "the lamp", {}),
    ("remove the dog from the picture", "edit_image", "remove", "the dog", {}),
    ("Remove the cat!", "edit_image", "remove", "the cat", {}),
    # replace
    ("replace the cat with a dog", "edit_image", "replace", "the cat", {"new": "a dog"}),
    ("Replace the cat with a dog.", "edit_image", "replace", "the cat", {"new": "a dog"}),
    ("swap the apple for an orange", "edit_image", "replace", "the apple", {"new": "an orange"}),
    ("substitute the chair with a sofa", "edit_image", "replace", "the chair", {"new": "a sofa"}),
    ("turn the horse into a zebra", "edit_image", "replace", "the horse", {"new": "a zebra"}),
    # recolor
    ("make the car red", "edit_image", "recolor", "the car", {"color": "red"}),
    ("recolor the shirt to blue", "edit_image", "recolor", "the shirt", {"color": "blue"}),
    ("change the colour of the door to green", "edit_image", "recolor", "the door", {"color": "green"}),
    ("paint the wall blue", "edit_image", "recolor", "the wall", {"color": "blue"}),
    ("recolour the bus yellow", "edit_image", "recolor", "the bus", {"color": "yellow"}),
    pytest.param("make the cat green.", "edit_image", "recolor", "the cat", {"color": "green"}),
    pytest.param("turn the sky purple", "edit_image", "recolor", "the sky", {"color": "purple"}),
    pytest.param("change the car's colour to red", "edit_image", "recolor", "the car", {"color": "red"}),
    # restyle
    ("make it look like a watercolor painting", "edit_image", "restyle", "", {"style": "a watercolor painting"}),
    ("render it as a pencil drawing", "edit_image", "restyle", "", {"style": "a pencil drawing"}),
    pytest.param("restyle as a pencil sketch", "edit_image", "restyle", "", {"style": "a pencil sketch"}),
    pytest.param("stylize this as an oil painting", "edit_image", "restyle", "", {"style": "an oil painting"}),
    pytest.param("make it cartoon style", "edit_image", "restyle", "", {"style": "cartoon"}),
    pytest.param("turn it into a watercolor", "edit_image", "restyle", "", {"style": "a watercolor"}),
    pytest.param("make the image black and white", "edit_image", "restyle", "", {"style": "black and white"}),
    # move and add
    ("move the cup to the left", "edit_image", "move", "the cup", {"direction": "left"}),
    ("shift the lamp left", "edit_image", "move", "the lamp", {"direction": "left"}),
    ("move the cat up a bit", "edit_image", "move", "the cat", {"direction": "up"}),
    ("add a hat", "edit_image", "add", "", {"new": "a hat"}),
    ("add a rainbow to the sky", "edit_image", "add", "the sky", {"new": "a rainbow"}),
    ("put a cat on the sofa", "edit_image", "add", "the sofa", {"new": "a cat"}),
    # generation: the prompt without its scaffolding
    ("generate an image of a red fox in the snow", "generate_image", None, "a red fox in the snow", {}),
    ("can you make me a picture of a red fox", "generate_image", None, "a red fox", {}),
    ("Can you make me a picture of a red fox?", "generate_image", None, "a red fox", {}),
    ("please generate a photo of a dog", "generate_image", None, "a dog", {}),
    ("create an image showing a castle at night", "generate_image", None, "a castle at night", {}),
    ("draw me a picture of a fox", "generate_image", None, "a fox", {}),
    ("make an illustration of a robot", "generate_image", None, "a robot", {}),
    ("draw a painting of mountains at dawn", "generate_image", None, "mountains at dawn", {}),
    pytest.param("draw a cat", "generate_image", None, "a cat", {}),
    pytest.param("paint a sunset over the sea", "generate_image", None, "a sunset over the sea", {}),
    pytest.param("imagine a dragon flying over a city", "generate_image", None, "a dragon flying over a city", {}),
    pytest.param("I want a picture of a sunset", "generate_image", None, "a sunset", {}),
    ("create a video of waves crashing on rocks", "generate_video", None, "waves crashing on rocks", {}),
    ("generate a short video of a dog running", "generate_video", None, "a dog running", {}),
    ("let's make a video of a cat", "generate_video", None, "a cat", {}),
    # animation of the attached image
    ("animate this image", "animate_image", None, None, {}),
    ("bring this picture to life", "animate_image", None, None, {}),
    ("make the car move", "animate_image", None, "the car", {}),
    pytest.param("make a video from this image", "animate_image", None, None, {}),
    pytest.param("turn this image into a video", "animate_image", None, None, {}),
    # questions: the answer task carries the question itself
    ("what is in this picture?", "answer", None, "what is in this picture?", {}),
    ("how many people are there?", "answer", None, "how many people are there?", {}),
    ("describe this image", "answer", None, "describe this image", {}),
]


@pytest.mark.parametrize("text, task, op, command, args", SINGLE)
def test_single_requests(text, task, op, command, args):
    out = plan(text)
    assert len(out.invocations) == 1, out
    inv = out.invocations[0]
    assert (inv.task, inv.op) == (task, op)
    if command is not None:
        assert inv.command == command
    for key, value in args.items():
        assert inv.args.get(key) == value
    assert inv.id == "c1" and inv.region is None
    assert inv.inputs == ([] if task.startswith("generate") else ["u0"])
    assert out.reply.startswith("I'll ") if task != "answer" else out.reply == ""  # an answer speaks for itself


def test_the_planner_is_deterministic_and_does_not_ask_for_revisions():
    planner = RuleBasedPlanner()
    assert planner.can_revise is False
    assert plan("replace the cat with a dog") == plan("replace the cat with a dog")


@pytest.mark.parametrize("text, task, op, command, args", [
    ("segment the object in the box", "segment", None, "the object", {}),
    ("remove the object in the box", "edit_image", "remove", "the object", {}),
    ("remove the thing in my box", "edit_image", "remove", "the thing", {}),
    ("remove the object inside the rectangle", "edit_image", "remove", "the object", {}),
    ("segment the cup inside the box", "segment", None, "the cup", {}),
    ("replace the object in the box with a dog", "edit_image", "replace", "the object", {"new": "a dog"}),
    ("make the object in the box red", "edit_image", "recolor", "the object", {"color": "red"}),
    ("move the object in the box to the left", "edit_image", "move", "the object", {"direction": "left"}),
    ("remove the selected object", "edit_image", "remove", None, {}),
    ("segment this", "segment", None, None, {}),
    ("remove this", "edit_image", "remove", None, {}),
    pytest.param("segment the region I drew", "segment", None, None, {}),
])
def test_the_users_box_is_the_region(text, task, op, command, args):
    inv = plan(text, region=BOX).invocations[0]
    assert (inv.task, inv.op, inv.region, inv.inputs) == (task, op, BOX, ["u0"])
    if command is not None:
        assert inv.command == command
    for key, value in args.items():
        assert inv.args[key] == value


def test_the_box_is_on_the_medium_it_was_drawn_on():
    two = [MediaInfo("u0", "image", 640, 480), MediaInfo("u1", "image", 64, 64)]
    inv = plan("segment the object in the box", region=BOX, media=two, new=("u1",), region_media="u0").invocations[0]
    assert inv.inputs == ["u0"] and inv.region == BOX


def test_a_box_drawn_this_turn_wins_over_the_history():
    inv = plan("remove it", region=BOX, history=HISTORY).invocations[0]
    assert inv.region == BOX and inv.inputs == ["u0"]


@pytest.mark.parametrize("text, task, op, args", [
    ("now remove it", "edit_image", "remove", {}),
    ("remove that", "edit_image", "remove", {}),
    ("delete the selection", "edit_image", "remove", {}),
    ("replace it with a dog", "edit_image", "replace", {"new": "a dog"}),
    ("paint it red", "edit_image", "recolor", {"color": "red"}),
    ("make it red", "edit_image", "recolor", {"color": "red"}),
    ("move it to the left", "edit_image", "move", {"direction": "left"}),
    ("segment it", "segment", None, {}),
])
def test_it_is_the_latest_mask_or_boxes_of_an_earlier_turn(text, task, op, args):
    """HISTORY's latest call is an edit (an image): ``it`` skips it and means the cup's mask o2."""
    inv = plan(text, new=(), history=HISTORY).invocations[0]
    assert (inv.task, inv.op) == (task, op)
    assert inv.region == Region(ref="o2") and inv.command == "the cup" and inv.inputs == []
    for key, value in args.items():
        assert inv.args[key] == value


def test_it_skips_failed_calls_and_them_can_mean_boxes():
    history = [CallInfo(1, "c1", "segment", "the cup", "done", "o1"),
               CallInfo(2, "c1", "segment", "the dog", "error", None)]
    inv = plan("remove it", new=(), history=history).invocations[0]
    assert inv.region == Region(ref="o1") and inv.command == "the cup"
    inv = plan("remove them", new=(), history=HISTORY[:1]).invocations[0]
    assert inv.region == Region(ref="o1") and inv.command == "the faces"
    failed_only = [CallInfo(1, "c1", "segment", "the cup", "error", None)]
    assert plan("remove it", new=(), history=failed_only).invocations[0].region is None  # nothing to point at


@pytest.mark.parametrize("text, first, second, args", [
    ("segment the cup and then remove it", ("segment", None, "the cup"), ("edit_image", "remove"), {}),
    ("find the dog, then segment it", ("ground", None, "the dog"), ("segment", None), {}),
    ("segment the cat; make it blue", ("segment", None, "the cat"), ("edit_image", "recolor"), {"color": "blue"}),
    ("detect the person. Remove it.", ("ground", None, "the person"), ("edit_image", "remove"), {}),
])
def test_it_in_a_later_clause_is_the_earlier_clause(text, first, second, args):
    out = plan(text, history=HISTORY)  # this turn's c1 wins over the history's o2
    a, b = out.invocations
    assert (a.id, a.task, a.op, a.command, a.inputs, a.region) == ("c1", *first, ["u0"], None)
    assert (b.id, b.task, b.op) == ("c2", *second)
    assert b.region == Region(ref="c1") and b.command == a.command and b.inputs == []
    for key, value in args.items():
        assert b.args[key] == value
    assert "; then " in out.reply


def test_independent_clauses_do_not_refer_to_each_other():
    first, second = plan("remove the cat and then add a dog").invocations
    assert (first.op, first.command, second.op, second.args["new"]) == ("remove", "the cat", "add", "a dog")
    assert second.region is None and second.inputs == ["u0"]


def test_animate_it_after_generating_animates_the_generated_image():
    gen, anim = plan("generate a picture of a cat wearing a hat and then animate it", media=[], new=()).invocations
    assert (gen.task, gen.command) == ("generate_image", "a cat wearing a hat")
    assert anim.task == "animate_image" and anim.inputs == ["c1"]


@pytest.mark.parametrize("text, task, op, args", [
    ("segment the person", "track", None, {}),
    ("track the car", "track", None, {}),
    ("follow the person in the video", "track", None, {}),
    ("remove the person", "edit_video", "remove", {}),
    ("replace the car with a bus", "edit_video", "replace", {"new": "a bus"}),
])
def test_on_a_video_segment_becomes_track_and_edits_become_video_edits(text, task, op, args):
    inv = plan(text, media=VIDEO).invocations[0]
    assert (inv.task, inv.op, inv.inputs) == (task, op, ["u0"])
    for key, value in args.items():
        assert inv.args[key] == value


def test_video_kind_comes_from_the_latest_medium():
    inv = plan("segment the object in the box", media=VIDEO, region=BOX).invocations[0]
    assert (inv.task, inv.region) == ("track", BOX)
    video_then_image = [VIDEO[0], MediaInfo("u1", "image", 64, 64)]
    assert plan("segment the cat", media=video_then_image, new=("u1",)).invocations[0].task == "segment"
    image_then_video = [MediaInfo("u0", "image", 64, 64), MediaInfo("u1", "video", 320, 240, frames=60)]
    assert plan("segment the cat", media=image_then_video, new=()).invocations[0].task == "track"


@pytest.mark.parametrize("text", ["hello there", "hi", "thanks!", "good morning", "", "   "])
def test_chit_chat_gets_a_help_reply_and_no_invocation(text):
    out = plan(text)
    assert out.invocations == [] and not out.needs_followup
    assert "segment" in out.reply and "Attach an image" in out.reply
