"""A chat model that can see gets the pixels: attached photos, video frames, the drawn region, and the results of its
tools. The scripted model here reads the image blocks it is given, so its answers come from those pixels."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import numpy as np
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from PIL import Image
from pydantic import Field
from skimage import data

from vitron_agent.planners.chat_model import ChatModelPlanner
from vitron_agent.stores.media_io import encode_video

from .synthetic_media import pan_clip

CUP = [172, 18, 410, 300]


def _decode(block: dict[str, Any]) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(block["base64"]))).convert("RGB"))


def _images(messages: list[BaseMessage]) -> list[np.ndarray]:
    return [_decode(b) for m in messages if isinstance(m, HumanMessage) and isinstance(m.content, list)
            for b in m.content if isinstance(b, dict) and b.get("type") == "image"]


class PixelReader(BaseChatModel):
    """A scripted multimodal chat model: each step is a message, or a function of the images it was sent."""

    script: list[Any] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    refuse: bool = False

    @property
    def _llm_type(self) -> str:
        return "pixel-reader"

    def bind_tools(self, tools: Any, **kwargs: Any) -> PixelReader:
        return self

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        self.seen.append(list(messages))
        if self.refuse and _images(messages):
            raise ValueError("Invalid content type: image_url is only supported by certain models")
        step = self.script.pop(0) if self.script else AIMessage("done")
        message = step(_images(messages)) if isinstance(step, Callable) else step
        return ChatResult(generations=[ChatGeneration(message=message)])


def _mean_and_size(images: list[np.ndarray]) -> AIMessage:
    image = images[-1]
    mean = ", ".join(f"{c:.0f}" for c in image.reshape(-1, 3).mean(axis=0))
    return AIMessage(f"{len(images)} image(s); the last is {image.shape[1]}x{image.shape[0]}, mean colour ({mean})")


def test_a_question_about_a_photo_is_answered_from_its_pixels(make_agent, photos):
    model = PixelReader(script=[_mean_and_size])
    agent = make_agent(planner=ChatModelPlanner(model))
    result = agent.invoke("what is the mean colour of this photo?", images=[photos["coffee"]])
    true_mean = data.coffee().reshape(-1, 3).mean(axis=0)
    said = [float(v) for v in result.reply.split("mean colour (")[1].rstrip(")").split(", ")]
    assert result.reply.startswith("1 image(s); the last is 600x400") and np.allclose(said, true_mean, atol=3)


def test_after_a_segmentation_the_follow_up_call_receives_the_overlay(make_agent, photos):
    segment = {"name": "grabcut", "id": "call_1", "type": "tool_call", "args": {"task": "segment", "region": {"box": CUP}}}
    model = PixelReader(script=[AIMessage("", tool_calls=[segment]), _mean_and_size])
    agent = make_agent(planner=ChatModelPlanner(model))
    result = agent.invoke("segment the cup and check it", images=[photos["coffee"]], region=CUP)
    assert result.errors == [] and len(model.seen) == 2
    first, second = (_images(view) for view in model.seen)
    outlined = first[0]
    assert outlined.shape == (400, 600, 3) and outlined[18, 290, 0] > 200 and outlined[18, 290, 1] < 80  # red box
    preview = next(a for a in result.artifacts if a.preview)
    overlay = np.asarray(Image.open(preview.path).convert("RGB")).astype(int)
    assert len(second) == 2 and np.abs(second[-1].astype(int) - overlay).mean() < 3  # the overlay, JPEG'd again
    assert result.reply.startswith("2 image(s); the last is 600x400")


def test_video_frames_go_with_their_numbers_within_the_budget(make_agent, tmp_path):
    frames, _ = pan_clip(data.rocket(), frames=20, step=2)
    clip = tmp_path / "pan.mp4"
    clip.write_bytes(encode_video(frames, 10.0))
    model = PixelReader(script=[_mean_and_size])
    agent = make_agent(planner=ChatModelPlanner(model))
    agent.invoke("what happens in this clip?", videos=[clip])
    (human,) = [m for m in model.seen[0] if isinstance(m, HumanMessage)]
    texts = [b["text"] for b in human.content if b["type"] == "text"]
    assert "u0 frame 0" in texts and "u0 frame 19" in texts and len(_images(model.seen[0])) == 4
    assert _images(model.seen[0])[0].shape == (360, 480, 3)


def test_a_text_only_model_gets_notes_and_a_refusal_is_explained(make_agent, photos):
    blind = PixelReader(script=[AIMessage("ok")])
    make_agent(planner=ChatModelPlanner(blind, sees=False)).invoke("what is this?", images=[photos["coffee"]])
    assert _images(blind.seen[0]) == [] and "[u0: image 600x400]" in blind.seen[0][-1].content
    refusing = PixelReader(refuse=True)
    result = make_agent(planner=ChatModelPlanner(refusing)).invoke("what is this?", images=[photos["coffee"]])
    assert "refused image input" in result.errors[0]["message"] and "sees=False" in result.errors[0]["message"]
