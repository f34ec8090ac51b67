"""Tiny random SAM 3 models (image and video) with their processors, built offline from configs and saved the
way the ``facebook/sam3`` release is laid out (``save_pretrained``: config, safetensors, processor files).

The image model can be tiny everywhere (hidden size 32). The video model's tracker fixes two sizes: its memory
cross-attention reads 64 channels (``memory_encoder_output_channels=64``) and splits object pointers into
memory-sized pieces, so its hidden size is a multiple of 64 above 64 (128), and the detector's FPN, which the
tracker shares, has that width too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .tiny_models import tiny_clip_tokenizer

IMAGE_SIZE = 56  # 4x4 patches of 14 pixels; the FPN levels are 16, 8 and 4 pixels wide
LOW_RES_MASK = 16  # the detector's mask size: 4 x the 4x4 patch grid


def tiny_sam3_config(hidden: int = 32, small: int = 32) -> Any:
    """A ``Sam3Config``: 2-layer 32-d ViT on 56-pixel images, 1-layer 32-d CLIP text encoder, 1-layer DETR
    encoder and decoder (8 queries) and geometry encoder of width ``hidden``, and a mask decoder."""
    from transformers import Sam3Config

    vit = dict(model_type="sam3_vit_model", hidden_size=small, intermediate_size=2 * small, num_hidden_layers=2,
               num_attention_heads=2, image_size=IMAGE_SIZE, patch_size=14, window_size=2, global_attn_indexes=[1],
               pretrain_image_size=IMAGE_SIZE)
    vision = dict(backbone_config=vit, fpn_hidden_size=hidden, backbone_feature_sizes=[[16, 16], [8, 8], [4, 4]])
    text = dict(model_type="clip_text_model", vocab_size=100, hidden_size=small, intermediate_size=2 * small,
                projection_dim=small, num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=32,
                bos_token_id=1, eos_token_id=2, pad_token_id=2)
    layer = dict(hidden_size=hidden, num_layers=1, num_attention_heads=2, intermediate_size=small)
    return Sam3Config(vision_config=vision, text_config=text, geometry_encoder_config=layer,
                      detr_encoder_config=layer, detr_decoder_config=dict(layer, num_queries=8),
                      mask_decoder_config=dict(hidden_size=hidden, num_attention_heads=2))


def tiny_sam3_video_config(**video: Any) -> Any:
    """A ``Sam3VideoConfig``: the tiny detector (width 128) and a 1-layer tracker; ``video`` overrides the
    tracking settings (thresholds, ``hotstart_delay``, ...). Tracker memory windows are short (3 memory frames,
    4 object pointers, 2 conditioning frames) and tracks are re-conditioned every 2nd frame on any matching
    detection (the release: every 16th, on confident ones), so tests reach every store on short clips. No hot start
    by default (the release holds outputs back 15 frames)."""
    from transformers import Sam3VideoConfig

    hidden, small = 128, 32
    detector = tiny_sam3_config(hidden=hidden, small=small)
    tracker = dict(
        model_type="sam3_tracker_video", vision_config=detector.vision_config.to_dict(), image_size=IMAGE_SIZE,
        prompt_encoder_config=dict(hidden_size=hidden, image_size=IMAGE_SIZE, patch_size=14, mask_input_channels=4),
        mask_decoder_config=dict(hidden_size=hidden, mlp_dim=small, num_hidden_layers=1, num_attention_heads=2,
                                 iou_head_hidden_dim=small),
        memory_attention_hidden_size=hidden, memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=small, memory_encoder_hidden_size=hidden,
        memory_encoder_output_channels=64, mask_downsampler_embed_dim=hidden, memory_fuser_embed_dim=hidden,
        memory_fuser_intermediate_dim=small, memory_fuser_num_layers=1,
        num_maskmem=3, max_object_pointers_in_encoder=4, max_cond_frame_num=2)
    settings = dict(low_res_mask_size=LOW_RES_MASK, hotstart_delay=0, recondition_every_nth_frame=2,
                    high_conf_thresh=0.1, high_iou_thresh=0.1)
    settings.update(video)
    return Sam3VideoConfig(detector_config=detector.to_dict(), tracker_config=tracker, **settings)


def _spread(model: Any) -> Any:
    """Re-draw every weight matrix with variance 1 / fan-in: at the default 0.02 scale a tiny random SAM 3 gives
    nearly the same scores for any image, at this scale its detections depend on what the image shows."""
    import torch

    with torch.no_grad():
        for weight in model.parameters():
            if weight.dim() >= 2:
                weight.normal_(0.0, weight[0].numel() ** -0.5)
    return model.eval()


def _image_processor() -> Any:
    from transformers import Sam3ImageProcessor

    return Sam3ImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}, image_mean=[0.5] * 3,
                              image_std=[0.5] * 3)


def tiny_sam3(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random ``Sam3Model`` and its ``Sam3Processor`` (tiny CLIP tokenizer) to ``folder``."""
    import torch
    from transformers import Sam3Model, Sam3Processor

    torch.manual_seed(seed)
    _spread(Sam3Model(tiny_sam3_config())).save_pretrained(folder, safe_serialization=True)
    Sam3Processor(image_processor=_image_processor(), tokenizer=tiny_clip_tokenizer(folder / "tok")).save_pretrained(folder)
    return folder


def tiny_sam3_video(folder: Path, seed: int = 0, **video: Any) -> Path:
    """Save a tiny random ``Sam3VideoModel`` and its ``Sam3VideoProcessor`` to ``folder``: the layout of the
    ``facebook/sam3`` release, which ``Sam3Model`` and ``Sam3Processor`` also load (the detector part)."""
    import torch
    from transformers import Sam2VideoVideoProcessor, Sam3VideoModel, Sam3VideoProcessor

    torch.manual_seed(seed)
    model = _spread(Sam3VideoModel(tiny_sam3_video_config(**video)))
    with torch.no_grad():  # the tracker is sure each object is still there, so tracks last beyond one frame
        model.tracker_model.mask_decoder.pred_obj_score_head.proj_out.bias.fill_(10.0)
    model.save_pretrained(folder, safe_serialization=True)
    frames = Sam2VideoVideoProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}, image_mean=[0.5] * 3,
                                     image_std=[0.5] * 3)
    Sam3VideoProcessor(image_processor=_image_processor(), video_processor=frames,
                       tokenizer=tiny_clip_tokenizer(folder / "tok")).save_pretrained(folder)
    return folder
