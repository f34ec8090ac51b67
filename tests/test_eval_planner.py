"""Planner invocation accuracy: a labelled request file scored against a planner whose plans are known."""

from __future__ import annotations

import json

import pytest

from vitron_agent.eval import EvalOptions, Runner, run_eval
from vitron_agent.eval.base import DataError
from vitron_agent.eval.planner import same_invocation

CUP_BOX = [172, 18, 410, 300]

REQUESTS = [
    # (request, what a scripted planner answers)
    ({"id": "box", "text": "segment the object in the box", "images": ["coffee.png"], "region": CUP_BOX,
      "expected": [{"task": "segment"}]},
     {"task": "segment", "command": "the object", "region": {"box": CUP_BOX}}),                 # right
    ({"id": "faces", "text": "find the faces", "images": ["astronaut.png"],
      "expected": [{"task": "ground", "command": "faces"}]},
     {"task": "ground", "command": "the faces"}),                                               # right
    ({"id": "remove", "text": "remove the cup", "images": ["coffee.png"], "region": CUP_BOX,
      "expected": [{"task": "edit_image", "op": "remove"}]},
     {"task": "edit_image", "command": "the cup", "args": {"op": "restyle", "style": "sketch"}}),  # wrong op
    ({"id": "chat", "text": "thanks!", "images": ["coffee.png"], "expected": []},
     {"task": "answer", "command": "thanks"}),                                                  # a needless tool
    ({"id": "sam", "text": "segment the cup with SAM", "images": ["coffee.png"], "region": CUP_BOX,
      "expected": [{"task": "segment", "module": "sam"}]},
     {"task": "segment", "command": "the cup", "region": {"box": CUP_BOX}}),                    # other expert
]


def test_invocations_match_on_the_fields_a_label_gives():
    got = {"task": "edit_image", "module": "opencv_inpaint", "command": "The Cup!", "args": {"op": "remove"}}
    assert same_invocation({"task": "edit_image"}, got)
    assert same_invocation({"task": "edit_image", "op": "remove", "command": "cup"}, got)
    assert not same_invocation({"task": "edit_image", "op": "recolor"}, got)
    assert not same_invocation({"task": "edit_image", "module": "sd_inpaint"}, got)
    assert not same_invocation({"task": "segment"}, got)


def test_accuracy_of_a_planner_with_known_plans(photos, tmp_path, make_agent):
    from vitron_agent import Invocation, ScriptedPlanner
    from vitron_agent.planners.base import PlannerOutput

    folder = tmp_path / "requests"
    folder.mkdir()
    for name in ("coffee", "astronaut"):
        (folder / f"{name}.png").write_bytes(photos[name].read_bytes())
    (folder / "requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r, _ in REQUESTS))
    answers = {r["text"]: plan for r, plan in REQUESTS}
    planner = ScriptedPlanner(fn=lambda inp: PlannerOutput(invocations=[Invocation(**answers[inp.text])]))
    runner = Runner(agent=make_agent(planner=planner))
    summary = run_eval("planner", EvalOptions(data=folder, split="", out=tmp_path / "out"), runner=runner,
                       progress=False)
    # by hand: right = box, faces (2 of 5); right tasks = all but chat (4 of 5)
    assert summary.ours == {"invocation accuracy": pytest.approx(40.0), "task accuracy": pytest.approx(80.0)}
    records = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert [r["right"] for r in records] == [True, True, False, False, False]
    assert records[4]["planned"][0]["module"] == "grabcut"


def test_a_request_file_without_labels_is_refused(tmp_path):
    bad = tmp_path / "requests.jsonl"
    bad.write_text(json.dumps({"text": "segment the cup"}) + "\n")
    with pytest.raises(DataError, match="line 1"):
        run_eval("planner", EvalOptions(data=bad, split="", out=tmp_path / "out"), progress=False)
