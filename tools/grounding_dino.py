"""Open-vocabulary grounding with Grounding DINO (transformers): boxes for any phrase, or several phrases at once.

Weights: ``IDEA-Research/grounding-dino-base`` by default (``IDEA-Research/grounding-dino-tiny`` is the small
release). MM-Grounding-DINO releases (``openmmlab-community/mm_grounding_dino_tiny_o365v1_goldg``,
``openmmlab-community/mm_grounding_dino_base_all``, ...) load too: their config names the model type
``mm-grounding-dino``, which loads as ``MMGroundingDinoForObjectDetection`` (the same architecture and outputs as
``GroundingDinoForObjectDetection``, in its own class in transformers 5) with the same ``GroundingDinoProcessor``.
A ``save_pretrained`` folder or a cached hub id, safetensors only, never downloaded.

The command is the target (``the cat``) or several targets separated by ``.`` (``cat . remote control``): each
is lower-cased and loses a leading article, then they are joined the way Grounding DINO was trained
(``cat. remote control.``). Each box is labelled with the phrase it matches best.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from vitron_agent.errors import BadInputError, UnavailableError
from vitron_agent.experts.base import Detection, ExpertCall, ExpertResult, ExpertSpec

from ._common import clip_box, input_image, target_words, torch_dtype
from ._hf import TransformersExpert

__all__ = ["GroundingDinoExpert", "phrases_of", "prompt_text"]

MODEL_CLASSES = {"grounding-dino": "GroundingDinoForObjectDetection",
                 "mm-grounding-dino": "MMGroundingDinoForObjectDetection"}
"""Config ``model_type`` -> the transformers class that loads it."""


class GroundingDinoExpert(TransformersExpert):
    """Boxes for one or more phrases. ``args``: ``threshold`` (box score cut, default 0.35), ``text_threshold``
    (a box is kept only when some token of a phrase scores above it, 0.25), ``top_k`` (at most this many, 10).
    Options ``box_threshold`` and ``text_threshold`` set the defaults (Grounding DINO's own demo values)."""

    spec = ExpertSpec(
        name="grounding_dino",
        tasks=("ground",),
        description="Finds the boxes of anything named in words, e.g. 'the red car', or several things at once "
                    "separated by '.' (Grounding DINO open-vocabulary detection).",
        input_kinds=("image",),
        outputs=("boxes",),
        weights="IDEA-Research/grounding-dino-base",
        extra="ground",
        requires=("torch", "transformers"),
        quality=20,
    )

    def __init__(self, weights: str | None = None, box_threshold: float = 0.35, text_threshold: float = 0.25,
                 **options: Any) -> None:
        super().__init__(weights, **options)
        self.box_threshold, self.text_threshold = float(box_threshold), float(text_threshold)

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        import transformers
        from transformers import GroundingDinoProcessor

        folder = self.weights_folder(device)
        model_type = json.loads((Path(folder) / "config.json").read_text()).get("model_type")
        if model_type not in MODEL_CLASSES:
            raise UnavailableError(f"{folder} holds a {model_type!r} model, not Grounding DINO "
                                   f"({' or '.join(MODEL_CLASSES)}); point grounding_dino's weights at one")
        model_class = getattr(transformers, MODEL_CLASSES[model_type])
        self.processor = GroundingDinoProcessor.from_pretrained(folder, local_files_only=True)
        placement = {"device_map": "auto"} if self.cpu_offload and self.device.startswith("cuda") else {}
        model = model_class.from_pretrained(folder, local_files_only=True, use_safetensors=True,
                                            dtype=torch_dtype(dtype, self.device), **placement)
        self.model = (model if placement else model.to(self.device)).eval()
        self.loaded = True

    def run(self, call: ExpertCall) -> ExpertResult:
        import torch

        image = input_image(call, self.spec.name)
        phrases = phrases_of(call.command)
        if not phrases:
            raise BadInputError("grounding_dino needs the words of what to find, e.g. 'the red car' "
                                "(several things: 'cat . remote control')")
        threshold = _fraction(call.args, "threshold", self.box_threshold)
        text_threshold = _fraction(call.args, "text_threshold", self.text_threshold)
        top_k = call.args.get("top_k", 10)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise BadInputError(f"grounding_dino's args.top_k is how many boxes to keep at most (1 or more), got {top_k!r}")
        inputs = self.processor(images=image.copy(), text=prompt_text(phrases), return_tensors="pt")
        limit = self.model.config.max_text_len
        if inputs["input_ids"].shape[1] > limit:
            raise BadInputError(f"grounding_dino reads at most {limit} text tokens; the phrases "
                                f"{', '.join(phrases)!r} make {inputs['input_ids'].shape[1]}: name fewer or shorter ones")
        inputs = inputs.to(self.model.device, dtype=self.model.dtype)
        with torch.inference_mode():
            outputs = self.model(**inputs)
        height, width = image.shape[:2]
        found = self.processor.post_process_grounded_object_detection(
            outputs, inputs["input_ids"], threshold=threshold, text_threshold=text_threshold,
            target_sizes=[(height, width)])[0]
        # the rows post-processing kept, in its order: it keeps queries whose best token scores above threshold
        probs = torch.sigmoid(outputs.logits[0])
        rows = probs[probs.max(dim=-1).values > threshold].float()
        best, which = self._phrase_scores(rows, inputs["input_ids"][0], len(phrases)).max(dim=-1)
        ranked = sorted(zip(found["boxes"].float().tolist(), found["scores"].float().tolist(), best.tolist(),
                            which.tolist()), key=lambda found_box: -found_box[1])
        detections = []
        for box, score, phrase_score, phrase in ranked:
            x1, y1, x2, y2 = clip_box(box, width, height)
            if phrase_score > text_threshold and x2 - x1 >= 1 and y2 - y1 >= 1:
                detections.append(Detection((x1, y1, x2, y2), phrases[phrase], float(score)))
            if len(detections) >= top_k:
                break
        named = ", ".join(f"{sum(d.label == p for d in detections)} '{p}'" for p in phrases)
        return ExpertResult(detections=detections, text=f"found {named}")

    def _phrase_scores(self, rows: Any, input_ids: Any, count: int) -> Any:
        """(N, ``count``) float: per kept box, the best token probability inside each phrase's tokens
        (``rows``: (N, max_text_len) token probabilities; delimiters and special tokens belong to no phrase)."""
        import torch

        tokenizer = self.processor.tokenizer
        separator = tokenizer.convert_tokens_to_ids(".")
        special = set(tokenizer.all_special_ids)
        scores = torch.zeros((rows.shape[0], count), dtype=rows.dtype, device=rows.device)
        phrase = 0
        for position, token in enumerate(input_ids.tolist()):
            if token == separator:
                phrase += 1
            elif token not in special and phrase < count:
                scores[:, phrase] = torch.maximum(scores[:, phrase], rows[:, position])
        return scores


def phrases_of(command: str) -> list[str]:
    """The target phrases of a command, lower-case, without a leading article or quantifier, in order, once each:
    'The cat . a remote control' -> ['cat', 'remote control']."""
    phrases: list[str] = []
    for part in command.split("."):
        words = re.sub(r"^(?:all|every|each)\s+", "", target_words(" ".join(part.split())).lower())
        if words and words not in phrases:
            phrases.append(words)
    return phrases


def prompt_text(phrases: list[str]) -> str:
    """Grounding DINO's text input: the phrases, each ended by '.', e.g. 'cat. remote control.'."""
    return " ".join(f"{phrase}." for phrase in phrases)


def _fraction(args: dict[str, Any], name: str, default: float) -> float:
    """``args[name]`` as a number in [0, 1], else a ``BadInputError`` saying so."""
    try:
        value = float(args.get(name, default))
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise BadInputError(f"grounding_dino's args.{name} is a score in [0, 1], got {args.get(name)!r}")
    return value
