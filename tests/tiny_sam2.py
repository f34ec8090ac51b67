"""Tiny random SAM 2 models (64-px inputs, one Hiera block per stage), saved the way the hub releases are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SIZE = 64
"""Input side of the tiny models, in pixels (the real ones take 1024)."""


def _parts(hidden: int) -> dict[str, Any]:
    """Vision, prompt-encoder and mask-decoder configs shared by the image and video models."""
    backbone = {"model_type": "sam2_hiera_det_model", "hidden_size": 8, "num_attention_heads": 1,
                "image_size": [SIZE, SIZE], "blocks_per_stage": [1, 1, 1, 1], "embed_dim_per_stage": [8, 16, 32, 64],
                "num_attention_heads_per_stage": [1, 1, 1, 1], "window_size_per_stage": [4, 4, 4, 4],
                "global_attention_blocks": [], "window_positional_embedding_background_size": [2, 2]}
    sizes = [[SIZE // 4, SIZE // 4], [SIZE // 8, SIZE // 8], [SIZE // 16, SIZE // 16]]
    return {
        "vision_config": {"backbone_config": backbone, "backbone_channel_list": [64, 32, 16, 8],
                          "backbone_feature_sizes": sizes, "fpn_hidden_size": hidden},
        "prompt_encoder_config": {"hidden_size": hidden, "image_size": SIZE, "patch_size": 16, "mask_input_channels": 4},
        "mask_decoder_config": {"hidden_size": hidden, "mlp_dim": 32, "num_hidden_layers": 1, "num_attention_heads": 1,
                                "iou_head_depth": 1, "iou_head_hidden_dim": 16},
    }


def sam2_config() -> Any:
    """A ``Sam2Config`` of about 70k parameters (16-d prompts and masks)."""
    from transformers import Sam2Config

    return Sam2Config(**_parts(16))


def sam2_video_config(num_maskmem: int = 3, max_object_pointers: int = 4) -> Any:
    """A ``Sam2VideoConfig`` of about 0.9M parameters: the memory needs a hidden size that is a multiple of 64 above
    64 and 64 memory channels. A short memory (``num_maskmem`` frames, ``max_object_pointers`` pointers) lets a test
    see old outputs become unneeded within a few frames."""
    from transformers import Sam2VideoConfig

    hidden = 128
    return Sam2VideoConfig(
        **_parts(hidden), image_size=SIZE, memory_attention_hidden_size=hidden, memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=32, memory_attention_rope_feat_sizes=[SIZE // 16, SIZE // 16],
        memory_encoder_hidden_size=hidden, memory_encoder_output_channels=64, mask_downsampler_embed_dim=hidden,
        memory_fuser_embed_dim=hidden, memory_fuser_intermediate_dim=32, memory_fuser_num_layers=1,
        num_maskmem=num_maskmem, max_object_pointers_in_encoder=max_object_pointers)


def _processors() -> tuple[Any, Any]:
    from transformers import Sam2ImageProcessor, Sam2Processor, Sam2VideoProcessor
    from transformers.models.sam2_video.video_processing_sam2_video import Sam2VideoVideoProcessor

    images = Sam2ImageProcessor(size={"height": SIZE, "width": SIZE}, mask_size={"height": SIZE // 4, "width": SIZE // 4})
    video = Sam2VideoProcessor(image_processor=images,
                               video_processor=Sam2VideoVideoProcessor(size={"height": SIZE, "width": SIZE}))
    return Sam2Processor(image_processor=images), video


def tiny_sam2(folder: Path, seed: int = 0, video: bool = True) -> Path:
    """Save a tiny random SAM 2 with its processor to ``folder``: by default a video checkpoint (``Sam2VideoModel``
    + ``Sam2VideoProcessor``, the layout of ``facebook/sam2.1-hiera-*``, which both experts load), else an image-only
    ``Sam2Model`` + ``Sam2Processor``."""
    import torch
    from transformers import Sam2Model, Sam2VideoModel

    torch.manual_seed(seed)
    image_processor, video_processor = _processors()
    if video:
        model, processor = Sam2VideoModel(sam2_video_config()).eval(), video_processor
    else:
        model, processor = Sam2Model(sam2_config()).eval(), image_processor
    model.save_pretrained(folder, safe_serialization=True)
    processor.save_pretrained(folder)
    return Path(folder)
