"""Open-vocabulary grounding with OWLv2 (transformers ``Owlv2ForObjectDetection``): boxes for any phrase.

Grounds what a closed-set detector cannot name ("the red car", "the spoon"). Weights: a
``save_pretrained`` folder (model and processor) or a cached hub id, safetensors only, never downloaded.
"""

from __future__ import annotations

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import (
    Detection,
    ExpertCall,
    ExpertResult,
    ExpertSpec,
)

from ._common import clip_box, input_image, torch_dtype
from ._hf import TransformersExpert

__all__ = ["Owlv2Expert"]


class Owlv2Expert(TransformersExpert):
    """Boxes for a phrase. ``args``: ``threshold`` (score cut, default 0.1), ``top_k`` (at most this many, 10)."""

    spec = ExpertSpec(
        name="owlv2",
        tasks=("ground",),
        description="Finds the boxes of anything named in words, e.g. 'the red car' (OWLv2 open-vocabulary detection).",
        input_kinds=("image",),
        outputs=("boxes",),
        weights="google/owlv2-base-patch16-ensemble",
        extra="ground",
        requires=("torch", "transformers"),
        quality=10,
    )

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        from transformers import Owlv2ForObjectDetection, Owlv2Processor

        folder = self.weights_folder(device)
        self.processor = Owlv2Processor.from_pretrained(folder, local_files_only=True)
        self.model = Owlv2ForObjectDetection.from_pretrained(
            folder, local_files_only=True, use_safetensors=True, dtype=torch_dtype(dtype, self.device)
        ).to(self.device).eval()
        self.loaded = True

    def run(self, call: ExpertCall) -> ExpertResult:
        import torch

        image = input_image(call, self.spec.name)
        phrase = _phrase(call.command)
        if not phrase:
            raise BadInputError("owlv2 needs the words of what to find, e.g. 'the red car'")
        threshold = float(call.args.get("threshold", 0.1))
        top_k = int(call.args.get("top_k", 10))
        inputs = self.processor(text=[[phrase]], images=image.copy(), return_tensors="pt").to(self.device, dtype=self.model.dtype)
        with torch.inference_mode():
            outputs = self.model(**inputs)
        side = max(image.shape[:2])  # OWLv2 pads to a square at the bottom and right
        found = self.processor.image_processor.post_process_object_detection(
            outputs, threshold=threshold, target_sizes=torch.tensor([[side, side]]))[0]
        height, width = image.shape[:2]
        detections = []
        for box, score in sorted(zip(found["boxes"].tolist(), found["scores"].tolist()), key=lambda bs: -bs[1]):
            x1, y1, x2, y2 = clip_box(box, width, height)
            if x2 - x1 >= 1 and y2 - y1 >= 1:
                detections.append(Detection((x1, y1, x2, y2), phrase, float(score)))
            if len(detections) >= top_k:
                break
        return ExpertResult(detections=detections, text=f"found {len(detections)} '{phrase}'")


def _phrase(command: str) -> str:
    """The object words without a leading article: 'the red car' -> 'red car'."""
    words = command.strip().split()
    if words and words[0].lower() in ("the", "a", "an", "all", "every", "each"):
        words = words[1:]
    return " ".join(words)
