"""Questions about images and videos answered by a vision-language model: Qwen2.5-VL or Qwen3-VL (transformers).

Captions, visual QA, reading text, video QA on the frames themselves (native video input), questions about a
drawn region (outlined in red on the pixels the model sees), and answers with boxes: when a question asks where
things are, the model is asked for ``bbox_2d`` JSON, and the boxes it writes become a ``boxes`` output in pixels
of the input. Weights: a ``save_pretrained`` folder or a cached hub id, safetensors only, never downloaded.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import (
    Detection,
    ExpertCall,
    ExpertResult,
    ExpertSpec,
)

from ._common import clip_box, torch_dtype
from ._hf import TransformersExpert

__all__ = ["QwenVLExpert", "boxes_in_answer", "outlined", "asks_where", "BOX_REQUEST", "REGION_NOTE"]

BOX_REQUEST = ' Answer with JSON: a list of {"bbox_2d": [x1, y1, x2, y2], "label": "..."}.'
"""Appended to a question that asks where things are, so the model answers with boxes."""
REGION_NOTE = " (The region in question is outlined in red.)"
"""Appended to a question about a drawn region; the region is drawn on the pixels the model sees."""

_WHERE = re.compile(r"\b(?:where|locate|location|find|point out|bounding box|boxes?|coordinates?)\b|在哪|位置", re.I)
_BOX = re.compile(r'"bbox_2d"\s*:\s*\[\s*([-\d.]+)\s*,\s*([-\d.]+)\s*,\s*([-\d.]+)\s*,\s*([-\d.]+)\s*\]'
                  r'(?:\s*,\s*"label"\s*:\s*"([^"]*)")?')


def asks_where(question: str) -> bool:
    """Whether a question asks where things are (the answer then carries boxes)."""
    return bool(_WHERE.search(question))


def boxes_in_answer(text: str, scale: tuple[float, float], size: tuple[int, int], default: str) -> list[Detection]:
    """The ``bbox_2d`` boxes a Qwen-VL answer writes, as detections in pixels of the input.

    ``scale``: (x, y) factors from the model's coordinates to input pixels (Qwen2.5-VL writes pixels of its
    resized input, Qwen3-VL thousandths); ``size``: the input's (width, height); ``default``: the label of a box
    written without one. Boxes the model writes inverted are put right; empty ones are dropped."""
    found = []
    for match in _BOX.finditer(text):
        x1, y1, x2, y2 = (float(v) for v in match.groups()[:4])
        x1, x2 = sorted((x1 * scale[0], x2 * scale[0]))
        y1, y2 = sorted((y1 * scale[1], y2 * scale[1]))
        box = clip_box((x1, y1, x2, y2), *size)
        if box[2] > box[0] and box[3] > box[1]:
            found.append(Detection(box, (match.group(5) or default).strip() or default, 1.0))
    return found


def outlined(image: np.ndarray, call: ExpertCall) -> np.ndarray:
    """``image`` with the call's region drawn in red: a box's rectangle, a mask's outline, clicks as crosses."""
    from vitron_agent.visualize import outline_region

    mask = call.mask
    if mask is not None and mask.ndim == 3:
        mask = mask[call.frames[0] if call.frames else 0]
    return outline_region(image, call.boxes, call.points, mask)


class QwenVLExpert(TransformersExpert):
    """Answers with Qwen2.5-VL / Qwen3-VL. ``args``: ``max_new_tokens`` (256). Options: ``max_pixels`` (the
    image budget the processor resizes to, default its own), ``video_fps`` (frames per second of video the model
    reads, 2), ``max_frames`` (32), ``cpu_offload``."""

    spec = ExpertSpec(
        name="qwen_vl",
        tasks=("answer",),
        description=("A vision-language model (Qwen2.5-VL / Qwen3-VL) answers questions about an image or video: "
                     "captions, visual questions, reading text, what happens in a clip, questions about a drawn "
                     "region; asked where things are, it answers with boxes."),
        input_kinds=("image", "video"),
        region_kinds=("box", "points", "mask"),
        outputs=("text", "boxes"),
        weights="Qwen/Qwen2.5-VL-3B-Instruct",
        extra="vlm",
        requires=("torch", "torchvision", "transformers"),
        quality=10,
    )

    def __init__(self, weights: str | None = None, max_pixels: int | None = None, video_fps: float = 2.0,
                 max_frames: int = 32, **options: Any) -> None:
        super().__init__(weights, **options)
        self.max_pixels, self.video_fps, self.max_frames = max_pixels, float(video_fps), int(max_frames)

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        folder = self.weights_folder(device)
        extra = {"max_pixels": self.max_pixels} if self.max_pixels else {}
        self.processor = AutoProcessor.from_pretrained(folder, local_files_only=True, **extra)
        placement = {"device_map": "auto"} if self.cpu_offload and self.device.startswith("cuda") else {}
        model = AutoModelForImageTextToText.from_pretrained(folder, local_files_only=True, use_safetensors=True,
                                                            dtype=torch_dtype(dtype, self.device), **placement)
        self.model = (model if placement else model.to(self.device)).eval()
        self.loaded = True

    def run(self, call: ExpertCall) -> ExpertResult:
        import torch

        question = call.command.strip()
        if not question:
            raise BadInputError("qwen_vl needs a question (the command), e.g. 'what is in this picture?'")
        where = asks_where(question)
        prompt = question + (REGION_NOTE if self._has_region(call) else "") + (BOX_REQUEST if where else "")
        inputs, size = self.inputs(call, prompt)
        with torch.inference_mode():
            out = self.model.generate(**inputs.to(self.model.device, dtype=self.model.dtype), do_sample=False,
                                      max_new_tokens=int(call.args.get("max_new_tokens", 256)))
        new = out[0, inputs["input_ids"].shape[1]:]
        answer = self.processor.decode(new, skip_special_tokens=True).strip()
        detections = boxes_in_answer(answer, self._scale(inputs, size), size, _target(question)) if where else []
        text = answer or "(the model gave no answer)"
        return ExpertResult(text=text, detections=detections, data={"new_tokens": int(new.shape[0])})

    def inputs(self, call: ExpertCall, prompt: str) -> tuple[Any, tuple[int, int]]:
        """The processor's model inputs for ``prompt`` on the call's image (region outlined) or video, and the
        input's (width, height)."""
        if call.video is not None:
            frames = call.video.frames
            step = max(1, round(call.video.fps / self.video_fps)) if call.video.fps else 1
            picked = frames[::step][: self.max_frames]
            if self._has_region(call):
                picked = np.stack([outlined(f, call) for f in picked])
            content = [{"type": "video"}, {"type": "text", "text": prompt}]
            text = self.processor.apply_chat_template([{"role": "user", "content": content}],
                                                      add_generation_prompt=True)
            inputs = self.processor(text=[text], videos=[picked], return_tensors="pt")
            return inputs, (frames.shape[2], frames.shape[1])
        if not call.images:
            raise BadInputError("qwen_vl needs an image or a video to answer about")
        image = call.images[0]
        if self._has_region(call):
            image = outlined(image, call)
        content = [{"type": "image"}, {"type": "text", "text": prompt}]
        text = self.processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
        return self.processor(text=[text], images=[np.array(image)], return_tensors="pt"), (image.shape[1], image.shape[0])

    @staticmethod
    def _has_region(call: ExpertCall) -> bool:
        return bool(call.boxes or call.points) or call.mask is not None

    def _scale(self, inputs: Any, size: tuple[int, int]) -> tuple[float, float]:
        """Model box coordinates -> input pixels: thousandths for Qwen3-VL, else pixels of the resized input."""
        if "qwen3" in str(getattr(self.model.config, "model_type", "")):
            return size[0] / 1000.0, size[1] / 1000.0
        grid = inputs.get("image_grid_thw")
        if grid is None:
            grid = inputs.get("video_grid_thw")
        patch = int(getattr(self.processor.image_processor, "patch_size", 14))
        _, rows, cols = (int(v) for v in grid[0])
        return size[0] / (cols * patch), size[1] / (rows * patch)


def _target(question: str) -> str:
    """A label for boxes written without one: the question's last words ("where is the red car" -> "red car")."""
    words = re.sub(r"[?.!]", "", question).split()
    return " ".join(w for w in words[-2:] if w.lower() not in ("the", "a", "an", "is", "are")) or "object"
