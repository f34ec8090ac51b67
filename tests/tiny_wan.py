"""Tiny random Wan 2.1 pipelines (text-to-video, image-to-video, VACE) built in-process from configs, seeded, offline.

Layouts follow the released ``Wan-AI/Wan2.1-*-Diffusers`` folders: a UMT5 text encoder and its tokenizer, the
3-D causal VAE (8x spatial, 4x temporal compression, 16 latent channels), a Wan transformer with 2x2 patches,
and the flow-matching UniPC scheduler those releases ship. Frames are 32 px; the text context stays 512 tokens
long because the I2V attention splits image tokens from text tokens at that fixed length.
"""

from __future__ import annotations

import string
from pathlib import Path

TEXT_DIM = 16
IMAGE_DIM = 16


def tiny_umt5_tokenizer(folder: Path):
    """A real fast tokenizer over single characters (a ``tokenizers`` word-level model made in code), saved in
    ``folder``; T5's special tokens: ``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for symbol in " " + string.ascii_lowercase + string.digits + ".,!?'-":
        vocab.setdefault(symbol, len(vocab))
    model = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    model.normalizer = normalizers.Lowercase()
    model.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=model, pad_token="<pad>", eos_token="</s>",
                                        unk_token="<unk>", model_max_length=512)
    tokenizer.save_pretrained(folder)
    return tokenizer


def _tiny_wan_parts(folder: Path):
    """Tokenizer, UMT5 encoder (16-d), VAE and scheduler that every tiny Wan pipeline shares."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler
    from transformers import UMT5Config, UMT5EncoderModel

    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=64, d_model=TEXT_DIM, d_kv=8, d_ff=32, num_layers=1, num_heads=2, relative_attention_num_buckets=8,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0))
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0,
                                        num_train_timesteps=1000)
    return tiny_umt5_tokenizer(folder / "tok"), text_encoder, vae, scheduler


def _transformer_config(**extra) -> dict:
    """The transformer's tiny config (2 heads of 8, 2 layers, 2x2 patches); ``extra`` adds or overrides keys."""
    return {"patch_size": (1, 2, 2), "num_attention_heads": 2, "attention_head_dim": 8, "in_channels": 16,
            "out_channels": 16, "text_dim": TEXT_DIM, "freq_dim": 32, "ffn_dim": 32, "num_layers": 2,
            "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "rope_max_seq_len": 32, **extra}


def tiny_wan_t2v_pipeline(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random ``WanPipeline`` (text-to-video) to ``folder``."""
    import torch
    from diffusers import WanPipeline, WanTransformer3DModel

    torch.manual_seed(seed)
    tokenizer, text_encoder, vae, scheduler = _tiny_wan_parts(folder)
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler,
                       transformer=WanTransformer3DModel(**_transformer_config()))
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def tiny_wan_i2v_pipeline(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random ``WanImageToVideoPipeline`` (Wan 2.1 I2V: a CLIP vision encoder's penultimate hidden
    states go to image cross-attention; the transformer reads 16 noise + 4 mask + 16 first-frame channels)."""
    import torch
    from diffusers import WanImageToVideoPipeline, WanTransformer3DModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    torch.manual_seed(seed)
    tokenizer, text_encoder, vae, scheduler = _tiny_wan_parts(folder)
    image_encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=IMAGE_DIM, projection_dim=IMAGE_DIM, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=32, patch_size=8))
    transformer = WanTransformer3DModel(**_transformer_config(
        in_channels=36, image_dim=IMAGE_DIM, added_kv_proj_dim=16))
    pipe = WanImageToVideoPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler, transformer=transformer,
        image_encoder=image_encoder, image_processor=CLIPImageProcessor(crop_size=32, size=32))
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def tiny_wan_vace_pipeline(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random ``WanVACEPipeline`` (masked video editing: VACE blocks read the kept and the
    to-regenerate parts of the source, 16 + 16 latent channels, and the mask folded to 64 channels)."""
    import torch
    from diffusers import WanVACEPipeline, WanVACETransformer3DModel

    torch.manual_seed(seed)
    tokenizer, text_encoder, vae, scheduler = _tiny_wan_parts(folder)
    transformer = WanVACETransformer3DModel(**_transformer_config(vace_layers=[0], vace_in_channels=96))
    pipe = WanVACEPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler,
                           transformer=transformer)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder
