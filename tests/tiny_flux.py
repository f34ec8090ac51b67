"""Tiny random FLUX pipelines (text-to-image, Kontext, Fill) built in-process from configs, offline, seeded."""

from __future__ import annotations

import string
from pathlib import Path

from .tiny_models import tiny_clip_tokenizer

FLUX_PIPELINES = ("flux", "kontext", "fill")


def tiny_t5_tokenizer():
    """A real ``T5TokenizerFast`` (Unigram, as T5's sentencepiece model is) over single characters, built in code."""
    from transformers import T5TokenizerFast

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(symbol, -3.0) for symbol in string.ascii_lowercase + string.digits + ".,!?'-"]
    pieces += [("\u2581" + letter, -2.5) for letter in string.ascii_lowercase]
    return T5TokenizerFast(vocab=pieces, extra_ids=0)


def tiny_flux_pipeline(folder: Path, kind: str = "flux", seed: int = 0) -> Path:
    """Save a tiny random FLUX pipeline to ``folder``: ``kind`` ``"flux"`` (schnell's layout: no guidance
    embedding), ``"kontext"`` (the input image's latents join the sequence) or ``"fill"`` (the transformer also
    reads the masked image's latents and the mask: 4 + 4 + 16 channels). A 2x VAE with 1 latent channel, so
    images are multiples of 4 pixels; 16-d CLIP and T5 text encoders; one block of each transformer kind."""
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxFillPipeline,
        FluxKontextPipeline,
        FluxPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    if kind not in FLUX_PIPELINES:
        raise ValueError(f"kind must be one of {FLUX_PIPELINES}, got {kind!r}")
    torch.manual_seed(seed)
    latent_channels, vae_scale = 1, 2
    packed = 4 * latent_channels  # latents are packed in 2x2 patches
    in_channels = packed + packed + 4 * vae_scale**2 if kind == "fill" else packed
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=in_channels, out_channels=packed, num_layers=1, num_single_layers=1,
        attention_head_dim=16, num_attention_heads=2, joint_attention_dim=16, pooled_projection_dim=16,
        guidance_embeds=kind != "flux", axes_dims_rope=(4, 4, 8))
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, block_out_channels=(8, 8), layers_per_block=1, latent_channels=latent_channels,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=4,
        sample_size=32, use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.0609, scaling_factor=1.5035)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=1, eos_token_id=2, pad_token_id=2, hidden_size=16, intermediate_size=32, num_attention_heads=2,
        num_hidden_layers=1, vocab_size=128, max_position_embeddings=77, projection_dim=16))
    tokenizer_2 = tiny_t5_tokenizer()
    text_encoder_2 = T5EncoderModel(T5Config(
        vocab_size=len(tokenizer_2), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1))
    pipeline = {"flux": FluxPipeline, "kontext": FluxKontextPipeline, "fill": FluxFillPipeline}[kind]
    pipe = pipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=text_encoder,
                    tokenizer=tiny_clip_tokenizer(folder / "tok"), text_encoder_2=text_encoder_2,
                    tokenizer_2=tokenizer_2, transformer=transformer)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder
