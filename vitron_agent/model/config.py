"""``VitronConfig``: the VITRON model's shape, saved as ``config.json`` beside its weights."""

from __future__ import annotations

from transformers import AutoConfig, PretrainedConfig
from transformers.configuration_utils import SubConfigSpec

__all__ = ["VitronConfig", "DEFAULT_EXPERT_HEADS"]

DEFAULT_EXPERT_HEADS: dict[str, list[int]] = {
    "stable_diffusion": [77, 768],
    "gligen": [77, 768],
    "text_to_video": [77, 1024],
    "sam": [4, 256],
}
"""Expert name -> [tokens, width] of its conditioning space: SD 1.5 and GLIGEN ``prompt_embeds``
(CLIP ViT-L text, 77x768), ZeroScope's (OpenCLIP ViT-H text, 77x1024), SAM ViT-B sparse prompt tokens."""


class VitronConfig(PretrainedConfig):
    """Vision tower + projector + causal LM + signal heads + per-expert heads.

    ``vision_config``/``text_config``: a CLIP vision config and any causal-LM config (dicts or configs).
    ``vision_model_id``/``text_model_id``: where the base weights came from (local path or hub id), a record.
    ``vision_feature_layer``: which vision hidden layer feeds the projector (-2: LLaVA's choice); the CLS
    token is dropped, so an image gives ``(image_size / patch_size) ** 2`` tokens.
    ``video_frames``: frames sampled per video; a video gives the patch tokens averaged over time plus
    one spatially averaged token per frame.
    ``num_signal_tokens``: ``k``, signal tokens per invocation.
    ``signal_dim``: width of each signal head (task-specific and task-invariant); the expert heads read
    their concatenation, ``2 * signal_dim``.
    ``expert_heads``: expert name -> ``[tokens, width]`` of the space its head projects into.
    ``head_width``/``head_attention_heads``: the expert heads' internal width and attention heads.
    ``*_token_id``: ids of the special tokens in the tokenizer (set when the tokens are added).
    """

    model_type = "vitron"
    sub_configs_defaults = {
        "vision_config": SubConfigSpec(config_class=AutoConfig, model_type="clip_vision_model"),
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="qwen2"),
    }

    vision_config: dict | PretrainedConfig | None = None
    text_config: dict | PretrainedConfig | None = None
    vision_model_id: str | None = None
    text_model_id: str | None = None
    vision_feature_layer: int = -2
    projector_hidden_act: str = "gelu"
    video_frames: int = 8
    num_signal_tokens: int = 4
    signal_dim: int = 256
    expert_heads: dict | None = None
    head_width: int = 256
    head_attention_heads: int = 4
    image_token_id: int | None = None
    video_token_id: int | None = None
    region_token_id: int | None = None
    end_token_id: int | None = None
    signal_token_ids: list | None = None
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        heads = DEFAULT_EXPERT_HEADS if self.expert_heads is None else self.expert_heads
        self.expert_heads = {str(name): [int(tokens), int(width)] for name, (tokens, width) in heads.items()}
        if self.signal_token_ids is not None and len(self.signal_token_ids) != self.num_signal_tokens:
            raise ValueError(f"signal_token_ids has {len(self.signal_token_ids)} ids; expected num_signal_tokens="
                             f"{self.num_signal_tokens}")

    @property
    def image_tokens(self) -> int:
        """Tokens per image: the vision tower's patch count."""
        return (self.vision_config.image_size // self.vision_config.patch_size) ** 2

    @property
    def video_tokens(self) -> int:
        """Tokens per video: patches (averaged over time) plus one per sampled frame."""
        return self.image_tokens + self.video_frames


AutoConfig.register("vitron", VitronConfig, exist_ok=True)
