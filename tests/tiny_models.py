"""Tiny random diffusers/transformers components built in-process from configs, seeded, as diffusers tests do."""

from __future__ import annotations

import json
import string
from pathlib import Path


def tiny_clip_tokenizer(folder: Path):
    """A real ``CLIPTokenizer`` over single characters (no merges), saved in ``folder``."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    symbols = list(string.ascii_lowercase + string.digits + ".,!?'-")
    vocab = {"!": 0, "<|startoftext|>": 1, "<|endoftext|>": 2}  # no real token at 0: OWL reads id 0 as padding
    for symbol in symbols:
        vocab.setdefault(symbol, len(vocab))
        vocab.setdefault(symbol + "</w>", len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def _tiny_sd_parts():
    """The VAE (32x32, 4 latent channels), 16-d CLIP text encoder and DDIM scheduler every tiny pipeline shares."""
    from diffusers import AutoencoderKL, DDIMScheduler
    from transformers import CLIPTextConfig, CLIPTextModel

    vae = AutoencoderKL(block_out_channels=(8,), in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",),
                        up_block_types=("UpDecoderBlock2D",), latent_channels=4, norm_num_groups=4, sample_size=32)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=1, eos_token_id=2, pad_token_id=2, hidden_size=16, intermediate_size=32, num_attention_heads=2,
        num_hidden_layers=2, vocab_size=128, max_position_embeddings=77))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    return vae, text_encoder, scheduler


def tiny_sd_pipeline(folder: Path, seed: int = 0, inpaint: bool = False, gligen: bool | str = False,
                     pix2pix: bool = False) -> Path:
    """Save a tiny random Stable Diffusion pipeline (32x32 images, 16-d text) to ``folder``;
    ``inpaint``: the inpainting variant (its UNet also reads the masked image and the mask: 9 channels);
    ``gligen``: GLIGEN's (gated attention layers that read phrase boxes); ``"edit"`` for its inpainting UNet;
    ``pix2pix``: InstructPix2Pix's (the UNet also reads the input image's latents: 8 channels)."""
    import torch
    from diffusers import (
        StableDiffusionGLIGENPipeline,
        StableDiffusionInpaintPipeline,
        StableDiffusionInstructPix2PixPipeline,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=32, in_channels=9 if inpaint or gligen == "edit" else 8 if pix2pix else 4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16, norm_num_groups=4, attention_head_dim=4,
        **({"attention_type": "gated"} if gligen else {}))
    for module in unet.modules():  # open GLIGEN's zero-initialised gates, so the boxes have an effect
        for gate in ("alpha_attn", "alpha_dense"):
            if hasattr(module, gate):
                getattr(module, gate).data.fill_(1.0)
    vae, text_encoder, scheduler = _tiny_sd_parts()
    pipeline = (StableDiffusionGLIGENPipeline if gligen else StableDiffusionInpaintPipeline if inpaint
                else StableDiffusionInstructPix2PixPipeline if pix2pix else StableDiffusionPipeline)
    pipe = pipeline(vae=vae, text_encoder=text_encoder, tokenizer=tiny_clip_tokenizer(folder / "tok"),
                                   unet=unet, scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def tiny_t2v_pipeline(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random text-to-video pipeline (ZeroScope's layout: a 3-D UNet) to ``folder``."""
    import torch
    from diffusers import TextToVideoSDPipeline, UNet3DConditionModel

    torch.manual_seed(seed)
    unet = UNet3DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"), up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=16, attention_head_dim=4, norm_num_groups=4)
    vae, text_encoder, scheduler = _tiny_sd_parts()
    pipe = TextToVideoSDPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tiny_clip_tokenizer(folder / "tok"),
                                 unet=unet, scheduler=scheduler)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def tiny_owlv2(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random OWLv2 detector and its processor (32x32 inputs) to ``folder``."""
    import torch
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor, Owlv2Processor

    torch.manual_seed(seed)
    config = Owlv2Config(
        text_config={"hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2, "num_hidden_layers": 1,
                     "vocab_size": 128, "max_position_embeddings": 16, "bos_token_id": 1, "eos_token_id": 2,
                     "pad_token_id": 2},
        vision_config={"hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2, "num_hidden_layers": 1,
                       "image_size": 32, "patch_size": 8},
        projection_dim=16)
    model = Owlv2ForObjectDetection(config).eval()
    tokenizer = tiny_clip_tokenizer(folder / "tok")
    tokenizer.model_max_length = 16
    processor = Owlv2Processor(image_processor=Owlv2ImageProcessor(size={"height": 32, "width": 32}),
                               tokenizer=tokenizer)
    model.save_pretrained(folder, safe_serialization=True)
    processor.save_pretrained(folder)
    return folder


def tiny_i2v_pipeline(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random I2VGen-XL pipeline (32x32 frames) to ``folder``."""
    import torch
    from diffusers import I2VGenXLPipeline, I2VGenXLUNet
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    torch.manual_seed(seed)
    unet = I2VGenXLUNet(block_out_channels=(8, 16), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
                        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=16,
                        attention_head_dim=4, num_attention_heads=None, norm_num_groups=4)
    vae, text_encoder, scheduler = _tiny_sd_parts()
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=16, projection_dim=16, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=32, patch_size=4))
    pipe = I2VGenXLPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tiny_clip_tokenizer(folder / "tok"),
                            image_encoder=image_encoder, feature_extractor=CLIPImageProcessor(crop_size=32, size=32),
                            unet=unet, scheduler=scheduler)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


TINY_SAM = {"encoder_embed_dim": 32, "encoder_depth": 1, "encoder_num_heads": 2, "global_attn_indexes": [0],
            "image_size": 64, "patch_size": 16, "prompt_embed_dim": 32, "decoder_mlp_dim": 64, "decoder_num_heads": 2,
            "window_size": 4}
"""A segment-anything model of about 0.2M parameters: 64x64 inputs, 32-d prompt embeddings."""


def tiny_sam(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random SAM (``TINY_SAM``) as ``config.json`` + ``model.safetensors`` in ``folder``."""
    import torch

    from vitron_agent.tools.sam import build_sam_model, save_sam

    torch.manual_seed(seed)
    return save_sam(build_sam_model(TINY_SAM), TINY_SAM, folder)


QWEN_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                "<|video_pad|>"]
QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif item['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
"""Qwen-VL's chat layout, reduced to what a tiny model needs: roles, image and video pads, text."""


def tiny_qwen_vl(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random Qwen2.5-VL (about 0.2M parameters, 2-layer LM, 2-block vision tower) with its processor
    (a byte-level BPE tokenizer trained here, image and video processors at 56-112 px) to ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2TokenizerFast,
        Qwen2VLImageProcessor,
    )
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=QWEN_SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(["a photo of a cat on a table", "what is in this picture? caption this photo",
                             '{"bbox_2d": [10, 20, 30, 40], "label": "cup"}'], trainer)
    tokenizer = Qwen2TokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in QWEN_SPECIAL}
    sizes = {"min_pixels": 28 * 28 * 4, "max_pixels": 28 * 28 * 16, "patch_size": 14, "merge_size": 2,
             "temporal_patch_size": 2}
    processor = Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(**sizes), tokenizer=tokenizer,
                                    video_processor=Qwen2VLVideoProcessor(**sizes), chat_template=QWEN_TEMPLATE)
    config = Qwen2_5_VLConfig(
        text_config={"vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 1024,
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
                     "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"],
                     "pad_token_id": ids["<|endoftext|>"]},
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "patch_size": 14,
                       "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 28, "out_hidden_size": 64,
                       "fullatt_block_indexes": [1]},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    torch.manual_seed(seed)
    Qwen2_5_VLForConditionalGeneration(config).eval().save_pretrained(folder, safe_serialization=True)
    processor.save_pretrained(folder)
    return folder
