"""Qwen-VL answers through its real loading path, on a tiny random model the test builds and saves: captions,
visual QA, video QA and boxed answers run through the graph and equal a direct ``generate`` on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("transformers")

from skimage import data  # noqa: E402

from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.stores.media_io import encode_video  # noqa: E402
from vitron_agent.tools.qwen_vl import BOX_REQUEST, REGION_NOTE, QwenVLExpert, boxes_in_answer, outlined  # noqa: E402

from .tiny_models import tiny_qwen_vl  # noqa: E402


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory):
    return tiny_qwen_vl(tmp_path_factory.mktemp("qwen") / "tiny-qwen-vl")


@pytest.fixture(scope="module")
def direct(qwen_dir):
    """The same model and processor loaded by transformers itself, to compare against."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    return (AutoModelForImageTextToText.from_pretrained(str(qwen_dir), local_files_only=True).eval(),
            AutoProcessor.from_pretrained(str(qwen_dir), local_files_only=True))


def _generate(direct, prompt: str, image=None, video=None, max_new_tokens: int = 12) -> str:
    import torch

    model, processor = direct
    content = [{"type": "video" if video is not None else "image"}, {"type": "text", "text": prompt}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
    media = {"videos": [video]} if video is not None else {"images": [image]}
    inputs = processor(text=[text], return_tensors="pt", **media)
    with torch.inference_mode():
        out = model.generate(**inputs, do_sample=False, max_new_tokens=max_new_tokens)
    return processor.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


@pytest.fixture
def agent(make_agent, qwen_dir):
    registry = ExpertRegistry.default()
    registry.register(QwenVLExpert, weights=str(qwen_dir))
    return make_agent(registry=registry)


def _answer(question: str, **extra) -> list[dict]:
    return [{"task": "answer", "command": question, "args": {"max_new_tokens": 12}, **extra}]


def test_caption_and_visual_question_equal_direct_generate(agent, direct, photos):
    for question in ("caption this photo", "what is in this picture?"):
        result = agent.invoke("", images=[photos["astronaut"]], invocations=_answer(question))
        assert result.errors == [] and result.invocations[0].module == "qwen_vl"
        assert result.calls[0].text == _generate(direct, question, image=data.astronaut())
    planned = agent.plan("what is in this picture?", images=[photos["astronaut"]])
    assert [(i.task, i.module) for i in planned.invocations] == [("answer", "qwen_vl")]  # preferred once installed


def test_a_question_about_a_drawn_region_sees_it_outlined(agent, direct, photos):
    box = [172, 18, 410, 300]
    result = agent.invoke("", images=[photos["coffee"]], invocations=_answer("what colour is it?"), region=box)
    assert result.errors == [] and result.invocations[0].region.box == tuple(map(float, box))
    drawn = outlined(data.coffee(), ExpertCall(invocation=Invocation(task="answer"), boxes=[tuple(map(float, box))]))
    assert tuple(drawn[18, 300]) == (255, 0, 0) and tuple(drawn[150, 300]) == tuple(data.coffee()[150, 300])
    assert result.calls[0].text == _generate(direct, "what colour is it?" + REGION_NOTE, image=drawn)


def test_video_question_reads_the_frames(agent, direct, tmp_path):
    frames = np.stack([data.astronaut()[i * 8:i * 8 + 256, :256] for i in range(8)])
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(encode_video(frames, 4.0))
    result = agent.invoke("", videos=[clip], invocations=_answer("what happens in this video?"))
    assert result.errors == [] and result.invocations[0].module == "qwen_vl"
    store, _ = agent.context.stores(result.thread)
    from vitron_agent.stores import MediaRef

    decoded, _ = store.load_video(MediaRef(**agent.state(result.thread)["media"]["u0"]))
    sampled = decoded[::2]  # 4 fps read at the expert's 2 frames per second
    assert result.calls[0].text == _generate(direct, "what happens in this video?", video=sampled)


def test_a_where_question_asks_for_boxes_and_keeps_the_ones_written(agent, direct, photos):
    question = "where is the cup?"
    result = agent.invoke("", images=[photos["coffee"]], invocations=_answer(question))
    assert result.errors == [] and result.calls[0].text == _generate(direct, question + BOX_REQUEST,
                                                                      image=data.coffee())
    # what a trained model writes: pixels of its resized input (here 112x84 for 600x400), mapped back
    answer = '[{"bbox_2d": [32, 3, 77, 53], "label": "cup"}, {"bbox_2d": [90, 10, 90, 40]}]'
    (cup,) = boxes_in_answer(answer, (600 / 112, 400 / 84), (600, 400), "cup")
    assert cup.label == "cup" and cup.box == pytest.approx((32 * 600 / 112, 3 * 400 / 84, 77 * 600 / 112, 53 * 400 / 84))


def test_missing_weights_name_the_extra_and_the_download():
    state = ExpertRegistry.default().availability("qwen_vl")
    assert not state.ok and "huggingface-cli download Qwen/Qwen2.5-VL-3B-Instruct" in state.fix


def test_vitrons_vqa_instruction_reaches_the_answer_expert(agent, direct, photos):
    tagged = "Let me look. <instruction>vqa: what is in this picture?</instruction>"
    result = agent.invoke("", images=[photos["astronaut"]], invocations=tagged)
    assert [(i.task, i.module) for i in result.invocations] == [("answer", "qwen_vl")] and result.errors == []
    assert result.calls[0].text == _generate(direct, "what is in this picture?", image=data.astronaut(),
                                             max_new_tokens=256)


def test_the_training_recipes_name_experts_that_exist():
    from vitron_agent.finetune.data.vocab import EXPERT_FOR

    registry = ExpertRegistry.default()
    for task, name in EXPERT_FOR.items():
        assert name in registry and registry.spec(name).does(task), (task, name)
