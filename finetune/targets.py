"""The experts' own encoders, which give stage 3 and 5 their targets (frozen, run once per example).

- ``clip_text``: a diffusion pipeline's text encoder (``text_encoder/`` and ``tokenizer/`` of a
  diffusers folder, or a CLIP text model folder with its tokenizer): the caption's ``prompt_embeds``,
  (77, width), as Stable Diffusion and ZeroScope compute them (padded to the tokenizer's max length,
  last hidden state).
- ``sam_prompt``: SAM's prompt encoder (``SamExpert`` weights: an official ``.pth`` or ``save_sam``'s
  folder): the sparse embedding of the ground-truth box, (2, 256) for ViT-B, the tokens SAM's mask
  decoder reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vitron_agent.errors import BadInputError

from .data.examples import SignalTarget

__all__ = ["ENCODER_KINDS", "TextEncoderTarget", "SamBoxTarget", "build_encoder", "attach_targets"]

ENCODER_KINDS = ("clip_text", "sam_prompt")


class TextEncoderTarget:
    """Caption -> (tokens, width) ``prompt_embeds`` of a diffusion pipeline's text encoder."""

    def __init__(self, path: str | Path) -> None:
        from transformers import AutoTokenizer, CLIPTextModel

        folder = Path(path)
        text_dir = folder / "text_encoder" if (folder / "text_encoder").is_dir() else folder
        tok_dir = folder / "tokenizer" if (folder / "tokenizer").is_dir() else folder
        if not (text_dir / "config.json").exists():
            raise BadInputError(f"{folder} holds no text encoder (expected text_encoder/config.json, as in a "
                                "diffusers pipeline folder, or config.json)")
        self.tokenizer = AutoTokenizer.from_pretrained(tok_dir, local_files_only=True)
        self.encoder = CLIPTextModel.from_pretrained(text_dir, local_files_only=True, use_safetensors=True).eval()

    @torch.no_grad()
    def encode(self, target: SignalTarget) -> np.ndarray:
        if not target.text:
            raise BadInputError(f"a {target.expert} target needs the text it encodes")
        ids = self.tokenizer(target.text, padding="max_length", max_length=self.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt").input_ids
        return self.encoder(ids).last_hidden_state[0].float().numpy()


class SamBoxTarget:
    """Box (pixels of a medium of ``size``) -> SAM's (2, width) sparse box embedding."""

    def __init__(self, path: str | Path) -> None:
        from vitron_agent.tools.sam import SamExpert

        expert = SamExpert(weights=str(path))
        expert.load("cpu")
        self.model = expert.model
        self.transform = expert.predictor.transform

    @torch.no_grad()
    def encode(self, target: SignalTarget) -> np.ndarray:
        if target.box is None or target.size is None:
            raise BadInputError(f"a {target.expert} target needs a box and the size of its medium")
        width, height = target.size
        box = self.transform.apply_boxes(np.asarray([target.box], dtype=np.float32), (height, width))
        sparse, _ = self.model.prompt_encoder(points=None, boxes=torch.as_tensor(box), masks=None)
        return sparse[0].float().numpy()


def build_encoder(spec: Mapping[str, Any]) -> TextEncoderTarget | SamBoxTarget:
    """``{"kind": "clip_text" | "sam_prompt", "path": ...}`` -> the encoder."""
    kind, path = spec.get("kind"), spec.get("path")
    if kind not in ENCODER_KINDS or not path:
        raise BadInputError(f"an encoder is {{'kind': one of {', '.join(ENCODER_KINDS)}, 'path': ...}}, got {dict(spec)}")
    return TextEncoderTarget(path) if kind == "clip_text" else SamBoxTarget(path)


def attach_targets(targets: Iterable[SignalTarget], encoders: Mapping[str, Any], heads: Mapping[str, list[int]]) -> None:
    """Fill each target's ``value`` with its expert's encoding (once per distinct target); checks it
    fits that expert's head."""
    done: dict[tuple[Any, ...], np.ndarray] = {}
    for target in targets:
        if target.expert not in encoders:
            raise BadInputError(f"no encoder for {target.expert!r}; configure one under encoders")
        key = (target.expert, target.text, target.box, target.size)
        if key not in done:
            done[key] = encoders[target.expert].encode(target)
        value = done[key]
        tokens, width = heads[target.expert]
        if value.shape[-1] != width or value.shape[0] > tokens:
            raise BadInputError(f"{target.expert}'s encoder gives {tuple(value.shape)} but the VITRON head projects "
                                f"to ({tokens}, {width}); build the model with expert_heads matching the expert")
        target.value = value
