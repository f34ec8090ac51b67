"""The VITRON model on a tiny random checkpoint built in-process: saving and loading, pickle refusal,
images, video and regions into embeddings, the heads, LoRA, a training step, base-weight assembly."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from vitron_agent.errors import BadInputError  # noqa: E402
from vitron_agent.model import (  # noqa: E402
    DrawnRegion,
    Shown,
    Turn,
    VitronModel,
    build_tiny_vitron,
    load_vitron,
    render_dialogue,
    render_reply,
    sample_frames,
)
from vitron_agent.model.tokens import signal_tokens  # noqa: E402
from vitron_agent.protocol import Invocation, Region  # noqa: E402
from vitron_agent.protocol.text_form import parse  # noqa: E402

from .vitron_helpers import noise_image  # noqa: E402


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_vitron(tmp_path_factory.mktemp("vitron") / "tiny")


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    return load_vitron(tiny_dir)


IMAGE_U0 = (Shown("u0", "image"),)


def _prompt(media=IMAGE_U0, region=None, text="segment the cup"):
    return render_dialogue([Turn("system", "You are VITRON."), Turn("user", text, tuple(media), region)])


def _logits(model, batch):
    with torch.no_grad():
        return model(**batch).logits


def test_save_and_load_round_trip_is_exact(tiny, tiny_dir, tmp_path):
    from vitron_agent.model import save_vitron

    model, processor = tiny
    batch = processor(_prompt(), {"u0": noise_image(0)})
    again, processor_again = load_vitron(save_vitron(model, processor, tmp_path / "copy"))
    assert {p.name for p in (tmp_path / "copy").iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json"}
    assert not any(p.suffix in (".bin", ".pt") for p in (tmp_path / "copy").iterdir())
    first, second = model.state_dict(), again.state_dict()
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    same = lambda c: {k: v for k, v in c.to_dict().items() if k != "_name_or_path"}  # noqa: E731
    assert same(again.config) == same(model.config)
    assert torch.equal(_logits(model, batch), _logits(again, batch))
    lm = again.language_model  # Qwen2-style tied embeddings stay one tensor after loading
    assert lm.get_output_embeddings().weight.data_ptr() == lm.get_input_embeddings().weight.data_ptr()
    assert processor_again(_prompt(), {"u0": noise_image(0)})["input_ids"].tolist() == batch["input_ids"].tolist()


def test_pickle_weights_are_refused_unless_the_user_opts_in(tiny, tiny_dir, tmp_path):
    import shutil

    model, _ = tiny
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_dir, folder)
    (folder / "model.safetensors").unlink()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(BadInputError, match=r"only pickle weights \(pytorch_model.bin\).*allow_pickle=True"):
        load_vitron(folder)
    loaded, _ = load_vitron(folder, allow_pickle=True)
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())

    class Exploit:
        def __reduce__(self):
            return (print, ("pickled code ran",))

    torch.save({"weights": Exploit()}, folder / "pytorch_model.bin")
    with pytest.raises(BadInputError, match="not a plain tensor checkpoint"):  # weights_only, even when opted in
        load_vitron(folder, allow_pickle=True)


def test_an_image_becomes_patch_tokens_and_a_region_one_token(tiny):
    model, processor = tiny
    region = DrawnRegion("u0", Region(box=(8, 4, 40, 30)), (64, 48))
    prompt = _prompt(region=region)
    assert "region on u0: <|region|> (0.125, 0.083, 0.625, 0.625)" in prompt.text
    batch = processor(prompt, {"u0": noise_image(0)})
    ids = batch["input_ids"][0].tolist()
    assert ids.count(processor.image_id) == model.config.image_tokens == 16 and ids.count(processor.region_id) == 1
    assert batch["region_boxes"].tolist() == [pytest.approx([0.125, 4 / 48, 0.625, 30 / 48])]
    mask = batch["region_masks"][0]  # the box in the 32 x 32 processed frame
    assert mask[2:20, 4:20].all() and mask.sum() == 18 * 16
    moved = processor(_prompt(region=DrawnRegion("u0", Region(box=(30, 20, 60, 44)), (64, 48))), {"u0": noise_image(0)})
    slot = ids.index(processor.region_id)
    with torch.no_grad():
        here, there = (model.embed(b["input_ids"], b["pixel_values"], region_masks=b["region_masks"],
                                   region_boxes=b["region_boxes"], region_frames=b["region_frames"])[0]
                       for b in (batch, moved))
    assert not torch.allclose(here[slot], there[slot])  # the region token reads the region
    assert torch.equal(here[:slot], there[:slot])


def test_frames_are_sampled_evenly_and_keep_the_annotated_one():
    assert sample_frames(100, 4) == [12, 37, 62, 87]
    assert sample_frames(100, 4, keep=[40]) == [12, 40, 62, 87]
    assert sample_frames(2, 4) == [0, 0, 1, 1]  # short videos repeat frames
    with pytest.raises(BadInputError, match="outside the video's 100 frames"):
        sample_frames(100, 4, keep=[100])


def test_a_video_is_pooled_over_time_and_a_region_sits_on_its_frame(tiny):
    model, processor = tiny
    video = np.stack([noise_image(s) for s in range(10)])  # (T, H, W, 3)
    on_frame = lambda f: DrawnRegion("u0", Region(box=(8, 4, 40, 30), frames=(f, f)), (64, 48))  # noqa: E731
    batch = processor(_prompt((Shown("u0", "video"),), on_frame(7)), {"u0": video})
    assert tuple(batch["video_values"].shape) == (1, 4, 3, 32, 32)  # video_frames sampled, 7 among them
    assert batch["region_frames"].tolist() == [2]  # picks [1, 3, 7, 8]: frame 7 is the third
    ids = batch["input_ids"][0].tolist()
    assert ids.count(processor.video_id) == model.config.video_tokens == 16 + 4
    assert "| 7, 7" in processor.tokenizer.decode(ids)
    other = processor(_prompt((Shown("u0", "video"),), on_frame(1)), {"u0": video})
    assert other["region_frames"].tolist() == [0]
    slot = ids.index(processor.region_id)
    with torch.no_grad():
        here, there = (model.embed(b["input_ids"], video_values=b["video_values"], region_masks=b["region_masks"],
                                   region_boxes=b["region_boxes"], region_frames=b["region_frames"])[0, slot]
                       for b in (batch, other))
    assert not torch.allclose(here, there)  # same box, other frame: another feature
    assert _logits(model, batch).shape[1] == len(ids)


def test_placeholder_and_media_counts_must_agree(tiny):
    model, processor = tiny
    batch = processor(_prompt(), {"u0": noise_image(0)})
    with pytest.raises(BadInputError, match="image tokens but no image was given"):
        model(input_ids=batch["input_ids"])
    with pytest.raises(BadInputError, match="holds 16 image token.*give 32 feature"):
        model(input_ids=batch["input_ids"], pixel_values=torch.cat([batch["pixel_values"]] * 2))
    with pytest.raises(BadInputError, match="no pixels for u0"):
        processor(_prompt(), {})


def test_heads_project_signal_states_into_each_experts_space(tiny):
    model, _ = tiny
    states = torch.randn(4, model.config.text_config.hidden_size)
    with torch.no_grad():
        specific, invariant = model.signal_features(states)
        assert specific.shape == invariant.shape == (4, 32)
        assert model.project("stable_diffusion", specific, invariant).shape == (77, 16)
        assert model.project("sam", specific, invariant).shape == (4, 32)
        assert model.project("sam", specific[:2], invariant[:2]).shape == (4, 32)  # any k in, the space's count out
    with pytest.raises(BadInputError, match="no head for 'gligen'; it has: sam, stable_diffusion"):
        model.project("gligen", specific, invariant)


def test_reply_with_signal_tokens_reads_back_through_the_parser(tiny):
    _, processor = tiny
    plan = [Invocation(module="sam", task="segment", command="the cup", region=Region(box=(8, 4, 40, 30)), signal="x"),
            Invocation(module="grabcut", task="segment", command="the saucer")]
    text = render_reply("On it.", plan, {"u0": (64, 48)}, k=4, default_input="u0")
    assert "<SP>" + "".join(signal_tokens(4)) + "</SP>" in text
    marked, runs = processor.decode_marked(processor.tokenizer(text, add_special_tokens=False)["input_ids"])
    parsed = parse(marked, {"u0": (64, 48)}, "u0")
    assert parsed.reply == "On it." and len(runs) == 1 and runs[0].stop - runs[0].start == 4
    assert [i.signal for i in parsed.invocations] == ["sp1", None]
    assert parsed.invocations[0].region.box == pytest.approx((8, 4, 40, 30), abs=0.05)  # 3 decimals of 48 px


def test_a_training_step_reaches_every_new_part(tiny_dir):
    model, processor = load_vitron(tiny_dir)
    model.train()
    region = DrawnRegion("u0", Region(box=(8, 4, 40, 30)), (64, 48))
    batch = processor(_prompt(region=region), {"u0": noise_image(0)})
    target = processor.tokenizer("On it. <SP>" + "".join(signal_tokens(4)) + "</SP><|end|>",
                                 add_special_tokens=False)["input_ids"]
    ids = torch.cat([batch["input_ids"], torch.tensor([target])], dim=1)
    labels = torch.full_like(ids, -100)
    labels[0, -len(target):] = torch.tensor(target)
    out = model(**{**batch, "input_ids": ids, "attention_mask": torch.ones_like(ids)}, labels=labels,
                output_hidden_states=True)
    at_signals = torch.isin(ids[0], torch.tensor(processor.signal_ids))
    specific, invariant = model.signal_features(out.hidden_states[-1][0, at_signals])
    alignment = model.project("stable_diffusion", specific, invariant).pow(2).mean()  # stand-in for stage 3's L2
    (out.loss + alignment).backward()
    for part in ("projector", "region_encoder", "signal_heads", "language_model", "vision_tower"):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in getattr(model, part).parameters()), part
    assert model.expert_heads["sam"].write.weight.grad is None  # untouched head, untouched weights


def test_lora_trains_adapters_only_and_merges_into_a_plain_checkpoint(tiny_dir, tmp_path):
    pytest.importorskip("peft")
    from vitron_agent.model import add_lora, merge_lora, save_vitron

    model, processor = load_vitron(tiny_dir)
    batch = processor(_prompt(), {"u0": noise_image(0)})
    keys = set(model.state_dict())
    add_lora(model, r=2)
    lm_trainable = [n for n, p in model.language_model.named_parameters() if p.requires_grad]
    assert lm_trainable and all("lora_" in n for n in lm_trainable)
    assert not any(p.requires_grad for p in model.vision_tower.parameters())
    assert all(p.requires_grad for p in model.projector.parameters())
    for name, p in model.language_model.named_parameters():  # make the adapters matter
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)
    adapted = _logits(model.eval(), batch)
    merge_lora(model)
    assert set(model.state_dict()) == keys
    assert torch.allclose(_logits(model, batch), adapted, atol=1e-4)
    reloaded, _ = load_vitron(save_vitron(model, processor, tmp_path / "merged"))
    assert torch.allclose(_logits(reloaded, batch), adapted, atol=1e-4)


def test_from_base_keeps_the_base_weights_and_refuses_pickled_ones(tmp_path):
    from transformers import CLIPVisionConfig, CLIPVisionModel

    from vitron_agent.model import from_base

    tiny_model, tiny_processor = load_vitron(build_tiny_vitron(tmp_path / "donor"))
    text_dir = tmp_path / "base-lm"  # a plain causal LM and its tokenizer, as on the hub
    tiny_model.language_model.save_pretrained(text_dir)
    tiny_processor.tokenizer.save_pretrained(text_dir)
    torch.manual_seed(1)
    vision = CLIPVisionModel(CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                              num_attention_heads=2, image_size=32, patch_size=16))
    vision.save_pretrained(tmp_path / "base-vision")
    model, processor = from_base(str(tmp_path / "base-vision"), str(text_dir), num_signal_tokens=2,
                                 expert_heads={"sam": [2, 8]}, signal_dim=8, head_width=8, video_frames=2)
    assert model.config.image_tokens == 4 and model.config.text_model_id == str(text_dir)
    base_vision = vision.state_dict()
    assert all(torch.equal(v, base_vision[k]) for k, v in model.vision_tower.state_dict().items())
    base_lm = tiny_model.language_model.state_dict()
    assert all(torch.equal(v, base_lm[k]) for k, v in model.language_model.state_dict().items()
               if "embed_tokens" not in k and "lm_head" not in k)
    assert processor.num_signal_tokens == 2 and len(processor.signal_ids) == 2
    batch = processor(_prompt(), {"u0": noise_image(0)})
    assert _logits(model, batch).shape[-1] == len(processor.tokenizer)
    (tmp_path / "base-vision" / "model.safetensors").unlink()
    torch.save(vision.state_dict(), tmp_path / "base-vision" / "pytorch_model.bin")
    with pytest.raises(BadInputError, match="only pickle weights"):
        from_base(str(tmp_path / "base-vision"), str(text_dir))


def test_importing_the_model_package_loads_no_model_library():
    import json
    import subprocess
    import sys

    probe = ("import sys, json, vitron_agent.model, vitron_agent.planners.vitron, vitron_agent.planners.vitron_prompt\n"
             "print(json.dumps(sorted(sys.modules)))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                           check=True).stdout.strip().splitlines()[-1]))
    assert not {"torch", "transformers"} & loaded


def test_vitron_model_class_loads_through_from_pretrained(tiny_dir):
    model = VitronModel.from_pretrained(tiny_dir)
    assert type(model) is VitronModel and model.config.num_signal_tokens == 4
