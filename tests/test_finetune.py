"""The five fine-tuning stages on a tiny random VITRON and tiny real data (scikit-image photos, a video
made from one, hand-measured boxes, hand-written captions), with real training steps on the CPU:
losses fall, decoder alignment pulls the heads onto the experts' encodings, the synergy discriminator
is driven back to chance, the stage-2 checkpoint plans through ``VitronPlanner``, and an interrupted
run resumes where its checkpoint left off. Also the dialogue generator's coverage and round trip.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("accelerate")
pytest.importorskip("segment_anything")
pytest.importorskip("skimage")

from vitron_agent.finetune import align, decoder_align, grounding, invoke, synergy  # noqa: E402
from vitron_agent.finetune.data.generator import coverage, generate_dialogues  # noqa: E402
from vitron_agent.finetune.data.planner_view import catalogue, planner_input  # noqa: E402
from vitron_agent.model import build_tiny_vitron, load_vitron, render_reply  # noqa: E402
from vitron_agent.planners.vitron_prompt import default_medium  # noqa: E402
from vitron_agent.protocol import EDIT_OPS, TASKS  # noqa: E402
from vitron_agent.protocol.text_form import parse  # noqa: E402

from . import finetune_data as fd  # noqa: E402
from .vitron_helpers import tiny_sam_dir  # noqa: E402

HEADS = {"stable_diffusion": [77, 16], "text_to_video": [77, 16], "sam": [4, 32]}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("finetune")
    photos = fd.write_photos(root / "photos")
    video, _ = fd.write_video(root / "videos")
    paths = {
        "photos": photos, "captions": fd.write_coco_captions(root / "photos", photos),
        "refs": fd.write_referring(root / "photos", photos), "llava": fd.write_llava(root / "photos", photos),
        "videos": root / "videos", "video": video, "text_encoder": fd.write_text_encoder(root / "sd"),
        "sam": tiny_sam_dir(root / "sam"), "root": root,
    }  # fmt: skip
    paths["base"] = build_tiny_vitron(root / "base", vocab_size=2048, expert_heads=HEADS)
    return paths


def _config(stage, data, name, **settings):
    return stage.CONFIG(model=str(data["base"]), output_dir=str(data["root"] / name), progress=False, tensorboard=False,
                        **settings)


def _mean(history, key, rows):
    values = [r[key] for r in rows if not math.isnan(r[key])]
    return sum(values) / len(values)


def _falls(history, key="loss", n=5):
    first, last = _mean(history, key, history[:n]), _mean(history, key, history[-n:])
    assert last < first, f"{key}: first {n} steps {first:.4f}, last {n} steps {last:.4f}"
    return first, last


def _encoders(data, *heads):
    kinds = {"stable_diffusion": ("clip_text", "text_encoder"), "text_to_video": ("clip_text", "text_encoder"),
             "sam": ("sam_prompt", "sam")}
    return {h: {"kind": kinds[h][0], "path": str(data[kinds[h][1]])} for h in heads}


# -- data ----------------------------------------------------------------------------------------


_RUN = re.compile(r"(?:<\|sp_\d+\|>)+")


def _marked(text):
    """Each run of signal tokens written ``sp1``, ``sp2``..., as ``VitronProcessor.decode_marked`` does."""
    runs = iter(range(1, 100))
    return _RUN.sub(lambda _: f"sp{next(runs)}", text)


def test_generated_dialogues_cover_every_task_op_and_region_form_and_parse_back():
    dialogues = generate_dialogues(120, seed=3)
    tags = coverage(dialogues)
    assert {f"task:{t}" for t in TASKS} <= set(tags)
    assert {f"op:{op}" for op in EDIT_OPS} <= set(tags)
    assert {"region:box", "region:points", "region:ref", "region:none", "ref:output", "ref:call"} <= set(tags)
    assert tags["multi_turn"] >= 5 and tags["no_tool"] >= 2 and tags["signal"] >= 5
    follow_ups = [d.exchanges[1].user for d in dialogues if "multi_turn" in d.tags]
    assert any(re.search(r"\bit\b", text) for text in follow_ups)  # "now remove it"
    assert generate_dialogues(5, seed=3)[4].exchanges[0].user == dialogues[4].exchanges[0].user  # reproducible
    answers = 0
    for dialogue in dialogues:
        for n, exchange in enumerate(dialogue.exchanges):
            inp = planner_input(dialogue, n)
            text = render_reply(exchange.reply, exchange.invocations, dialogue.sizes(), 4, default_medium(inp))
            marked = _marked(text)
            parsed = parse(marked, dialogue.sizes(), default_medium(inp))
            assert parsed.reply == exchange.reply and parsed.invocations == exchange.invocations, text
            answers += 1
    assert answers > len(dialogues)


def test_readers_take_the_standard_layouts(data):
    from vitron_agent.finetune.data.readers import read_coco_captions, read_llava, read_referring, read_video_boxes

    captions = read_coco_captions(data["captions"])
    assert len(captions) == 8 and captions[0].image == str(data["photos"]["astronaut"])
    refs = read_referring(data["refs"])
    assert {r.box for r in refs} == {box for boxes in fd.BOXES.values() for box in boxes.values()}  # xywh and xyxy
    convs = read_llava(data["llava"])
    assert convs[1].bbox == (230, 220, 295, 265) and convs[0].turns[0] == ("user", "What is in the cup?")
    (track,) = read_video_boxes(data["videos"])
    assert (track.width, track.height, track.frames) == (200, 214, 12)
    assert track.objects[0].boxes[1] == (3, (132.0, 62.0, 152.0, 205.0))


# -- the stages ----------------------------------------------------------------------------------


def _state(folder):
    model, _ = load_vitron(folder)
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_stage1_align_trains_only_the_projector(data):
    result = align.run(_config(align, data, "align", captions=str(data["captions"]), llava=str(data["llava"]),
                               max_steps=25, batch_size=16, lr=1e-2))
    assert result.steps == 25 and len(result.history) == 25
    _falls(result.history)
    before, after = _state(data["base"]), _state(result.model_dir)
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"projector"}


def test_stage2_checkpoint_plans_with_vitron_planner(data):
    from vitron_agent.finetune.data.examples import load_image
    from vitron_agent.planners.vitron import VitronPlanner

    recipes = ["segment_box", "generate_image", "chat"]
    config = _config(invoke, data, "invoke", referring=str(data["refs"]), experts=["sam"], dialogues=3,
                     recipes=recipes, max_steps=90, batch_size=3, lr=5e-3, schedule="constant", lora_r=16,
                     lora_alpha=64, lora_dropout=0.0, lora_targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                     "down_proj"],
                     train_parts=["projector", "region_encoder", "signal_heads", "embeddings"])
    result = invoke.run(config)
    first, last = _falls(result.history)
    assert last < 0.1 < 5 < first
    planner = VitronPlanner.from_pretrained(result.model_dir)
    assert not any("lora" in k for k in planner.model.state_dict())  # merged: a plain checkpoint
    specs = catalogue(["sam"])
    dialogues = generate_dialogues(3, 0, invoke.scenes(config), list(HEADS), recipes)  # the training dialogues
    for dialogue in dialogues:
        (exchange,) = dialogue.exchanges
        inp = planner_input(dialogue, 0, specs)
        inp.pixels = lambda media_id, d=dialogue: load_image(d.media[media_id].path)
        out = planner.plan(inp)  # parses the generated text, or raises
        assert out.reply == exchange.reply
        assert [i.model_copy(update={"signal": None}) for i in out.invocations] == [
            i.model_copy(update={"signal": None}) for i in exchange.invocations]
        for inv in exchange.invocations:  # signal tokens came out, through the expert's head
            assert out.signals[inv.id]["features"].shape == tuple(HEADS[inv.module])
    assert {d.recipe for d in dialogues} == set(recipes)


def test_stage3_decoder_alignment_pulls_heads_onto_the_experts_encodings(data):
    config = _config(decoder_align, data, "decoder", captions=str(data["captions"]), referring=str(data["refs"]),
                     encoders=_encoders(data, "stable_diffusion", "sam"), system="short", max_steps=24,
                     batch_size=6, lr=3e-3, mixed_precision="bf16")
    result = decoder_align.run(config)
    _falls(result.history)
    first, last = _falls(result.history, "distance")
    assert last < 0.5 * first
    for head in ("stable_diffusion", "sam"):
        _falls(result.history, f"distance/{head}")
    before, after = _state(data["base"]), _state(result.model_dir)
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"signal_heads", "expert_heads"}


def test_stage4_grounding_on_images_videos_and_conversations(data):
    config = _config(grounding, data, "grounding", referring=str(data["refs"]), videos=str(data["videos"]),
                     llava=str(data["llava"]), system="short", max_steps=20, batch_size=4, lr=3e-3, lora_r=8,
                     gradient_checkpointing=True)
    examples = grounding.examples(config, 4, 4)
    texts = [ex.text for ex in examples]
    assert any("the rocket: (" in t and "| 9, 9" in t for t in texts)  # per-frame boxes of the sampled frames
    assert any("visible from frame 0 to frame 9" in t for t in texts)
    assert any("the cup: (0.287, 0.045, 0.683, 0.750)" in t for t in texts)  # the box as the region text form
    assert any("<|region|>" in t and "The cat's nose." in t for t in texts)  # a drawn box, from the LLaVA bbox
    result = grounding.run(config)
    _falls(result.history)


def test_stage5_synergy_drives_the_discriminator_to_chance_while_the_task_loss_falls(data):
    config = _config(synergy, data, "synergy", captions=str(data["captions"]), referring=str(data["refs"]),
                     encoders=_encoders(data, "stable_diffusion", "text_to_video", "sam"), system="short",
                     max_steps=40, batch_size=32, lr=3e-3, schedule="constant", discriminator_lr=1e-2,
                     discriminator_warmup=16, probe_examples=26)
    result = synergy.run(config)
    history = result.history
    chance = history[0]["chance"]
    assert chance == pytest.approx(10 / 26)  # 16 generation signals (two tasks), 10 segmentation
    learned = max(r["accuracy"] for r in history[:16])
    assert learned > chance + 0.15  # alone (no reversed gradient yet), the discriminator finds the task in v_s
    end = _mean(history, "accuracy", history[-10:])
    assert abs(end - chance) < learned - chance  # the reversed gradient pushed it back toward chance
    assert _mean(history, "adversarial", history[-10:]) > history[15]["adversarial"]  # and its loss back up
    assert set(result.extra["probe"]) == {"chance", "before", "after"}  # the linear-probe diagnostic ran
    _falls(history, "task_loss")
    _falls(history, "distance")


def test_the_invariance_probe_reads_a_task_that_is_there_and_not_one_that_is_not():
    from vitron_agent.finetune.adversarial import probe_accuracy

    torch.manual_seed(0)
    tasks = torch.tensor([0] * 8 + [1] * 8 + [2] * 10)
    noise = torch.randn(26, 4, 32)
    telling = noise * 0.1
    telling[:, :, 0] += 3 * tasks[:, None].float()
    assert probe_accuracy(telling, tasks) == 1.0
    assert probe_accuracy(noise, tasks) < 0.5


# -- resuming, checkpoints, command line ---------------------------------------------------------


class _Stop(Exception):
    pass


def test_an_interrupted_stage_resumes_from_its_checkpoint(data):
    settings = {"captions": str(data["captions"]), "llava": str(data["llava"]), "max_steps": 7, "batch_size": 2,
                "grad_accum": 2, "lr": 1e-2, "warmup_steps": 2}
    straight = align.run(_config(align, data, "straight", **settings))

    def stop_at_5(trainer, row):
        if row["step"] == 5:
            raise _Stop

    config = _config(align, data, "interrupted", save_every=2, keep_checkpoints=2, **settings)
    with pytest.raises(_Stop):
        align.run(config, callbacks=[stop_at_5])
    checkpoints = sorted(p.name for p in (data["root"] / "interrupted" / "checkpoints").iterdir())
    assert checkpoints == ["step-000002", "step-000004"]  # the oldest pruned
    assert all(not p.suffix == ".pt" for p in (data["root"] / "interrupted" / "checkpoints" / "step-000004").iterdir())
    resumed = align.run(config)
    assert resumed.resumed_from == 4 and resumed.steps == 7
    assert [r["step"] for r in resumed.history] == list(range(1, 8))  # steps 5.. redone, the log continues
    for mine, theirs in zip(resumed.history, straight.history):
        assert mine["loss"] == pytest.approx(theirs["loss"], abs=1e-5) and mine["epoch"] == theirs["epoch"]
    a, b = _state(straight.model_dir), _state(resumed.model_dir)
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_checkpoints_restore_optimizer_scheduler_and_rng_without_pickle(tmp_path):
    import random

    from vitron_agent.finetune.checkpoint import load_checkpoint, save_checkpoint
    from vitron_agent.finetune.trainer import lr_lambda

    def setup():
        torch.manual_seed(0)
        module = torch.nn.Linear(3, 2)
        opt = torch.optim.AdamW(module.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda("cosine", 1, 10))
        return module, opt, sched

    module, opt, sched = setup()
    for _ in range(3):
        module(torch.randn(4, 3)).pow(2).sum().backward()
        opt.step()
        sched.step()
        opt.zero_grad()
    folder = save_checkpoint(tmp_path, 3, dict(module.named_parameters()), opt, sched, {"step": 3, "epoch": 0,
                                                                                         "batches": 3})
    draws = (torch.rand(2), np.random.rand(2), random.random())
    assert {p.suffix for p in folder.iterdir()} == {".safetensors", ".json"}
    again, opt2, sched2 = setup()
    state = load_checkpoint(folder, again, opt2, sched2)
    assert state == {"step": 3, "epoch": 0, "batches": 3}
    assert torch.equal(torch.rand(2), draws[0]) and np.array_equal(np.random.rand(2), draws[1])
    assert random.random() == draws[2]
    assert sched2.get_last_lr() == sched.get_last_lr()
    for p, q in zip(opt.state_dict()["state"].values(), opt2.state_dict()["state"].values()):
        assert all(torch.equal(p[k], q[k]) for k in p)
    assert all(torch.equal(a, b) for a, b in zip(module.parameters(), again.parameters()))


def test_train_command_runs_a_stage_and_rejects_bad_settings(data, tmp_path, capsys):
    from vitron_agent.cli import main

    config = tmp_path / "align.json"
    config.write_text(json.dumps({"model": str(data["base"]), "output_dir": str(tmp_path / "out"),
                                  "captions": str(data["captions"]), "progress": False, "tensorboard": False}))
    assert main(["train", "align", "--config", str(config), "--set", "max_steps=2", "--set", "batch_size=2"]) == 0
    assert "align: 2 steps" in capsys.readouterr().out
    assert (tmp_path / "out" / "model" / "model.safetensors").exists()
    assert (tmp_path / "out" / "log.csv").read_text().startswith("step,epoch,lr,loss,nll")
    assert main(["train", "align", "--config", str(config), "--set", "max_step=2"]) == 2
    assert "--set expects KEY=VALUE with a known key" in capsys.readouterr().err
    config.write_text(json.dumps({"model": str(data["base"]), "captions": "missing.json", "colour": 1}))
    assert main(["train", "align", "--config", str(config)]) == 2
    assert "AlignConfig has no setting 'colour'" in capsys.readouterr().err
    from vitron_agent.finetune.config import load_config
    from vitron_agent.finetune.stage import __file__ as stage_file

    shipped = Path(stage_file).parent / "configs"
    for stage in (align, invoke, decoder_align, grounding, synergy):  # the example configs are valid settings
        load_config(stage.CONFIG, shipped / f"{stage.__name__.rsplit('.', 1)[1]}.yaml")
    assert {"accelerate_deepspeed_zero2.yaml", "accelerate_fsdp.yaml"} <= {p.name for p in shipped.iterdir()}
    help_text = subprocess.run([sys.executable, "-m", "vitron_agent.finetune.synergy", "--help"], capture_output=True,
                               text=True, check=True).stdout
    assert "stage 5" in help_text and "--config FILE" in help_text
