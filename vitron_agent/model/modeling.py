"""``VitronModel``: a CLIP-style vision tower, an MLP projector into any causal LM, a region encoder,
and the signal heads, as one transformers ``PreTrainedModel`` (``save_pretrained``/``from_pretrained``).

Media reach the LM as embeddings in place of placeholder tokens (``<|image|>`` etc., expanded by the
processor). Inputs, in the order their placeholders appear in the text:

- ``pixel_values``: (n_images, 3, S, S) float, normalised;
- ``video_values``: (n_videos, T, 3, S, S), T = ``config.video_frames``;
- ``region_masks``: (R, S, S) in [0, 1], the region in the processed frame of its medium;
- ``region_boxes``: (R, 4) ``(x1, y1, x2, y2)`` in [0, 1] of the medium;
- ``region_frames``: (R,) long, which frame each region is drawn on, indexing the images followed by
  every video's sampled frames (video j, frame t -> ``n_images + j * T + t``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModel, AutoModelForCausalLM, PreTrainedModel
from transformers import initialization as init

from ..errors import BadInputError
from .config import VitronConfig
from .heads import ExpertHead, SignalHeads
from .vision import Projector, RegionEncoder, pool_video, region_weights

__all__ = ["VitronModel", "PICKLE_SUFFIXES"]

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
"""Weight files that are Python pickles: loading one can run code, so it needs ``allow_pickle=True``."""


class VitronModel(PreTrainedModel):
    """The VITRON MLLM. ``forward`` is the LM's (loss from ``labels``); ``signal_features`` and
    ``project`` turn hidden states at signal tokens into expert conditioning."""

    config_class = VitronConfig
    base_model_prefix = "vitron"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def __init__(self, config: VitronConfig) -> None:
        super().__init__(config)
        text_hidden = config.text_config.hidden_size
        self.vision_tower = AutoModel.from_config(config.vision_config)
        self.projector = Projector(config.vision_config.hidden_size, text_hidden, config.projector_hidden_act)
        self.region_encoder = RegionEncoder(text_hidden)
        self.language_model = AutoModelForCausalLM.from_config(config.text_config)
        self.signal_heads = SignalHeads(text_hidden, config.signal_dim)
        self.expert_heads = nn.ModuleDict({
            name: ExpertHead(2 * config.signal_dim, tokens, width, config.head_width, config.head_attention_heads)
            for name, (tokens, width) in config.expert_heads.items()
        })
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, ExpertHead):  # runs after its children: overrides the output layer's init
            init.normal_(module.queries, mean=0.0, std=0.02)
            # unit-scale outputs from the start, like the text encoders' embeddings the heads stand in for
            init.normal_(module.write.weight, mean=0.0, std=module.write.in_features**-0.5)

    # -- what resize_token_embeddings and generation utilities expect -------------------------
    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module | None:
        return self.language_model.get_output_embeddings()

    # -- loading --------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, *args: Any, allow_pickle: bool = False,
                        **kwargs: Any) -> VitronModel:
        """Safetensors weights only, unless ``allow_pickle``: then ``.bin``/``.pt`` files are read with
        ``torch.load(weights_only=True)`` (tensors, never code). Hub ids resolve from the local cache
        only unless ``local_files_only=False`` is passed."""
        from .loading import checked_weights, load_pickled

        kwargs.setdefault("local_files_only", True)
        kind = checked_weights(pretrained_model_name_or_path, allow_pickle)
        if kind == "pickle":
            return load_pickled(cls, Path(pretrained_model_name_or_path), kwargs.get("dtype"))
        use_safetensors = None if kind == "hub" and allow_pickle else True
        return super().from_pretrained(pretrained_model_name_or_path, *args, use_safetensors=use_safetensors, **kwargs)

    # -- media into embeddings ------------------------------------------------------------------
    def encode_frames(self, pixels: torch.Tensor) -> torch.Tensor:
        """(F, 3, S, S) -> (F, P, vision_hidden) patch features (CLS dropped) from the chosen layer."""
        tower = self.vision_tower
        out = tower(pixel_values=pixels.to(tower.dtype), output_hidden_states=True)
        return out.hidden_states[self.config.vision_feature_layer][:, 1:]

    def embed(
        self,
        input_ids: torch.Tensor,
        pixel_values: torch.Tensor | None = None,
        video_values: torch.Tensor | None = None,
        region_masks: torch.Tensor | None = None,
        region_boxes: torch.Tensor | None = None,
        region_frames: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, L) ids -> (B, L, hidden) embeddings with media and region features in their placeholders."""
        cfg = self.config
        embeds = self.get_input_embeddings()(input_ids)
        frames = []
        if pixel_values is not None and len(pixel_values):
            frames.append(pixel_values)
        if video_values is not None and len(video_values):
            frames.append(video_values.flatten(0, 1))
        features = self.encode_frames(torch.cat(frames)) if frames else None
        n_images = 0 if pixel_values is None else len(pixel_values)
        n_videos = 0 if video_values is None else len(video_values)
        if features is not None and n_images:
            embeds = _fill(embeds, input_ids, cfg.image_token_id, self.projector(features[:n_images]), "image")
        else:
            _check_absent(input_ids, cfg.image_token_id, "image")
        if features is not None and n_videos:
            patches = features[n_images:].reshape(n_videos, cfg.video_frames, *features.shape[1:])
            embeds = _fill(embeds, input_ids, cfg.video_token_id, self.projector(pool_video(patches)), "video")
        else:
            _check_absent(input_ids, cfg.video_token_id, "video")
        if region_masks is not None and len(region_masks):
            if features is None or region_boxes is None or region_frames is None:
                raise BadInputError("regions need region_boxes, region_frames and the media they are drawn on")
            weights = region_weights(region_masks.to(features.device), int(features.shape[1] ** 0.5))
            pooled = torch.einsum("rp,rpd->rd", weights.to(features.dtype), features[region_frames])
            tokens = self.region_encoder(self.projector(pooled), region_boxes.to(features.device))
            embeds = _fill(embeds, input_ids, cfg.region_token_id, tokens, "region")
        else:
            _check_absent(input_ids, cfg.region_token_id, "region")
        return embeds

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        video_values: torch.Tensor | None = None,
        region_masks: torch.Tensor | None = None,
        region_boxes: torch.Tensor | None = None,
        region_frames: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> Any:
        """The LM's output (``loss`` when ``labels`` are given; pass ``output_hidden_states=True`` to read
        the states at signal tokens for ``signal_features``)."""
        embeds = self.embed(input_ids, pixel_values, video_values, region_masks, region_boxes, region_frames)
        return self.language_model(inputs_embeds=embeds, attention_mask=attention_mask, labels=labels, **kwargs)

    # -- signals ----------------------------------------------------------------------------------
    def signal_features(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(..., k, hidden) last-layer states at signal tokens -> (specific, invariant), (..., k, signal_dim)."""
        return self.signal_heads(states.to(self.signal_heads.specific[0].weight.dtype))

    def project(self, expert: str, specific: torch.Tensor, invariant: torch.Tensor) -> torch.Tensor:
        """[specific; invariant] -> (..., tokens, width) in ``expert``'s conditioning space."""
        if expert not in self.expert_heads:
            raise BadInputError(f"this VITRON model has no head for {expert!r}; it has: "
                                f"{', '.join(sorted(self.expert_heads)) or 'none'}")
        return self.expert_heads[expert](torch.cat([specific, invariant], dim=-1))


def _fill(embeds: torch.Tensor, input_ids: torch.Tensor, token_id: int | None, values: torch.Tensor,
          what: str) -> torch.Tensor:
    """Put ``values`` (..., hidden) row by row into the positions of ``token_id``."""
    rows = values.reshape(-1, values.shape[-1])
    slots = input_ids == token_id if token_id is not None else torch.zeros_like(input_ids, dtype=torch.bool)
    if int(slots.sum()) != rows.shape[0]:
        raise BadInputError(f"the text holds {int(slots.sum())} {what} token(s) but the {what} inputs give "
                            f"{rows.shape[0]} feature(s); build inputs with VitronProcessor, which expands each "
                            f"placeholder to the right count")
    return embeds.masked_scatter(slots.unsqueeze(-1), rows.to(embeds.dtype))


def _check_absent(input_ids: torch.Tensor, token_id: int | None, what: str) -> None:
    if token_id is not None and bool((input_ids == token_id).any()):
        raise BadInputError(f"the text holds {what} tokens but no {what} was given")
