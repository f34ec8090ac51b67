"""The models ``gpu_check.py`` builds and calls: the releases' architectures (and smaller presets) as constructor
configs, built with random weights on the device and saved as the experts load them; each expert's call and the bare
library call it is compared with. A bare call returns the raw output: bool masks, or [0, 1] floats for pixels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Sizes", "Case", "Model", "MODELS", "full_sizes", "quick_sizes", "tiny_sizes"]


@dataclass(frozen=True)
class Sizes:
    """One preset: component configs (constructor keyword arguments) and the calls' sizes."""

    name: str
    sam2: Callable[[], Any]  # -> Sam2VideoConfig
    sam2_side: int  # the processors' input side (1024 for the releases)
    image: tuple[int, int]  # (H, W) of the segmented images
    clip: tuple[int, int, int]  # (T, H, W) of the tracked clip
    sd: dict[str, dict[str, Any]]  # unet, vae, text
    flux: dict[str, dict[str, Any]]  # transformer, vae, clip, t5
    wan: dict[str, dict[str, Any]]  # transformer, vae, text
    calls: dict[str, dict[str, Any]]  # sd, flux, wan: the expert call's args
    rounds: int  # at most this many paired rounds per case
    seconds: float  # time given to a case's paired rounds (fewer rounds when its calls are slow)
    estimate: dict[str, float] = field(default_factory=dict)  # seconds each model's check takes, for the budget


def _clip_text(hidden: int, layers: int, heads: int, vocab: int) -> dict[str, Any]:
    """CLIPTextConfig of the character-level tokenizer's ids (bos 1, eos 2)."""
    return {"hidden_size": hidden, "intermediate_size": 4 * hidden, "num_attention_heads": heads,
            "num_hidden_layers": layers, "vocab_size": vocab, "max_position_embeddings": 77, "projection_dim": hidden,
            "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2}


def _t5(d_model: int, heads: int, d_ff: int, layers: int, vocab: int, buckets: int = 32) -> dict[str, Any]:
    """T5Config / UMT5Config of a gated-GELU encoder (T5 v1.1 and UMT5 are)."""
    return {"vocab_size": vocab, "d_model": d_model, "d_kv": d_model // heads, "d_ff": d_ff, "num_layers": layers,
            "num_heads": heads, "relative_attention_num_buckets": buckets, "feed_forward_proj": "gated-gelu",
            "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0}


def _kl_vae(channels: tuple[int, ...], latent: int, groups: int, layers: int, **extra: Any) -> dict[str, Any]:
    """AutoencoderKL's config (SD's and FLUX's VAEs differ in latent channels and scaling)."""
    return {"in_channels": 3, "out_channels": 3, "block_out_channels": channels, "layers_per_block": layers,
            "latent_channels": latent, "down_block_types": ("DownEncoderBlock2D",) * len(channels),
            "up_block_types": ("UpDecoderBlock2D",) * len(channels), "norm_num_groups": groups, **extra}


def _hiera(kind: str) -> Any:
    """Sam2VideoConfig of SAM 2.1 Hiera large or base-plus (the memory parts are the config's defaults)."""
    from transformers import Sam2VideoConfig

    dim, blocks, windows, global_blocks, background = {
        "large": (144, [2, 6, 36, 4], [8, 4, 16, 8], [23, 33, 43], [7, 7]),
        "base_plus": (112, [2, 3, 16, 3], [8, 4, 14, 7], [12, 16, 20], [14, 14])}[kind]
    dims = [dim * 2**i for i in range(4)]
    backbone = {"model_type": "sam2_hiera_det_model", "hidden_size": dim, "num_attention_heads": 2,
                "blocks_per_stage": blocks, "embed_dim_per_stage": dims, "num_attention_heads_per_stage": [2, 4, 8, 16],
                "window_size_per_stage": windows, "global_attention_blocks": global_blocks,
                "window_positional_embedding_background_size": background}
    return Sam2VideoConfig(vision_config={"backbone_config": backbone, "backbone_channel_list": dims[::-1]})


def _sd15() -> dict[str, dict[str, Any]]:
    """Stable Diffusion 1.5: the 860M UNet, the 84M VAE, CLIP ViT-L/14's text encoder."""
    return {"unet": {"sample_size": 64, "in_channels": 4, "out_channels": 4,
                     "block_out_channels": (320, 640, 1280, 1280), "layers_per_block": 2, "cross_attention_dim": 768,
                     "attention_head_dim": 8,
                     "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                     "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3},
            "vae": _kl_vae((128, 256, 512, 512), 4, 32, 2, sample_size=512, scaling_factor=0.18215),
            "text": {**_clip_text(768, 12, 12, 49408), "hidden_act": "quick_gelu"}}


def _flux(double: int, single: int, text_layers: int) -> dict[str, dict[str, Any]]:
    """FLUX.1 [schnell]'s shapes: 3072-wide, 24 heads of 128; ``double`` + ``single`` blocks (19 + 38 released)."""
    return {"transformer": {"patch_size": 1, "in_channels": 64, "num_layers": double, "num_single_layers": single,
                            "attention_head_dim": 128, "num_attention_heads": 24, "joint_attention_dim": 4096,
                            "pooled_projection_dim": 768, "guidance_embeds": False, "axes_dims_rope": (16, 56, 56)},
            "vae": _kl_vae((128, 256, 512, 512), 16, 32, 2, sample_size=1024, use_quant_conv=False,
                           use_post_quant_conv=False, shift_factor=0.1159, scaling_factor=0.3611),
            "clip": {**_clip_text(768, 12, 12, 49408), "hidden_act": "quick_gelu"},
            "t5": _t5(4096, 64, 10240, text_layers, 32128)}


def _wan(layers: int, text_layers: int) -> dict[str, dict[str, Any]]:
    """Wan 2.1 T2V 1.3B's shapes: 1536-wide, 12 heads of 128; ``layers`` blocks (30 released); UMT5-XXL's width."""
    return {"transformer": {"patch_size": (1, 2, 2), "num_attention_heads": 12, "attention_head_dim": 128,
                            "in_channels": 16, "out_channels": 16, "text_dim": 4096, "freq_dim": 256, "ffn_dim": 8960,
                            "num_layers": layers, "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads",
                            "rope_max_seq_len": 1024},
            "vae": {},  # AutoencoderKLWan's defaults are the release's
            "text": _t5(4096, 64, 10240, text_layers, 256384)}


def full_sizes() -> Sizes:
    """The releases' architectures (text encoders at 2 layers), at the sizes they are used at."""
    return Sizes(
        "full", lambda: _hiera("large"), 1024, (720, 1280), (12, 540, 960), _sd15(), _flux(19, 38, 2), _wan(30, 2),
        {"sd": {"steps": 20, "width": 512, "height": 512}, "flux": {"steps": 4, "width": 1024, "height": 1024},
         "wan": {"steps": 4, "frames": 17, "width": 832, "height": 480}},
        rounds=7, seconds=20.0, estimate={"sam2": 60, "sd": 45, "wan": 70, "flux": 150})


def quick_sizes() -> Sizes:
    """Smaller: SAM 2.1 base-plus, fewer transformer blocks, smaller images and clips."""
    return Sizes(
        "quick", lambda: _hiera("base_plus"), 1024, (480, 640), (6, 360, 640), _sd15(), _flux(2, 4, 1), _wan(6, 1),
        {"sd": {"steps": 8, "width": 256, "height": 256}, "flux": {"steps": 4, "width": 512, "height": 512},
         "wan": {"steps": 4, "frames": 9, "width": 416, "height": 240}},
        rounds=5, seconds=10.0, estimate={"sam2": 25, "sd": 25, "wan": 30, "flux": 40})


def tiny_sizes() -> Sizes:
    """The tests' tiny models (tests/tiny_*.py), for the CPU."""
    from tests.tiny_sam2 import SIZE, sam2_video_config

    return Sizes(
        "tiny", sam2_video_config, SIZE, (48, 64), (6, 48, 64),
        {"unet": {"block_out_channels": (8, 16), "layers_per_block": 1, "sample_size": 32, "in_channels": 4,
                  "out_channels": 4, "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
                  "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"), "cross_attention_dim": 16,
                  "norm_num_groups": 4, "attention_head_dim": 4},
         "vae": _kl_vae((8,), 4, 4, 1, sample_size=32), "text": _clip_text(16, 2, 2, 128)},
        {"transformer": {"patch_size": 1, "in_channels": 4, "out_channels": 4, "num_layers": 1, "num_single_layers": 1,
                         "attention_head_dim": 16, "num_attention_heads": 2, "joint_attention_dim": 16,
                         "pooled_projection_dim": 16, "guidance_embeds": False, "axes_dims_rope": (4, 4, 8)},
         "vae": _kl_vae((8, 8), 1, 4, 1, sample_size=32, use_quant_conv=False, use_post_quant_conv=False,
                         shift_factor=0.0609, scaling_factor=1.5035),
         "clip": _clip_text(16, 1, 2, 128), "t5": _t5(16, 2, 32, 1, 128, buckets=8)},
        {"transformer": {"patch_size": (1, 2, 2), "num_attention_heads": 2, "attention_head_dim": 8, "in_channels": 16,
                         "out_channels": 16, "text_dim": 16, "freq_dim": 32, "ffn_dim": 32, "num_layers": 2,
                         "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "rope_max_seq_len": 32},
         "vae": {"base_dim": 3, "z_dim": 16, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1},
         "text": _t5(16, 2, 32, 1, 64, buckets=8)},
        {"sd": {"steps": 2, "width": 32, "height": 32}, "flux": {"steps": 2, "width": 32, "height": 32},
         "wan": {"steps": 2, "frames": 5, "width": 32, "height": 32}},
        rounds=3, seconds=1.0)


# Building: the architecture with random weights, constructed on the device in float32, saved in the dtype.

def build_sam2(folder: Path, sizes: Sizes, device: str, dtype: Any) -> None:
    """A SAM 2.1 video checkpoint and its processors (the layout of facebook/sam2.1-hiera-*; both experts read it)."""
    import torch
    from transformers import Sam2ImageProcessor, Sam2VideoModel, Sam2VideoProcessor
    from transformers.models.sam2_video.video_processing_sam2_video import Sam2VideoVideoProcessor

    side = sizes.sam2_side
    with torch.device(device):
        model = Sam2VideoModel(sizes.sam2())
    model.to(dtype).save_pretrained(folder, safe_serialization=True)
    square = {"height": side, "width": side}
    images = Sam2ImageProcessor(size=square, mask_size={"height": side // 4, "width": side // 4})
    processor = Sam2VideoProcessor(image_processor=images, video_processor=Sam2VideoVideoProcessor(size=square))
    processor.save_pretrained(folder)


def build_sd(folder: Path, sizes: Sizes, device: str, dtype: Any) -> None:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from tests.tiny_models import tiny_clip_tokenizer

    with torch.device(device):
        parts = {"unet": UNet2DConditionModel(**sizes.sd["unet"]), "vae": AutoencoderKL(**sizes.sd["vae"]),
                 "text_encoder": CLIPTextModel(CLIPTextConfig(**sizes.sd["text"]))}
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(**parts, tokenizer=tiny_clip_tokenizer(folder / "tok"), scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.to(dtype).save_pretrained(folder, safe_serialization=True)


def build_flux(folder: Path, sizes: Sizes, device: str, dtype: Any) -> None:
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    from tests.tiny_flux import tiny_t5_tokenizer
    from tests.tiny_models import tiny_clip_tokenizer

    with torch.device(device):
        parts = {"transformer": FluxTransformer2DModel(**sizes.flux["transformer"]),
                 "vae": AutoencoderKL(**sizes.flux["vae"]),
                 "text_encoder": CLIPTextModel(CLIPTextConfig(**sizes.flux["clip"])),
                 "text_encoder_2": T5EncoderModel(T5Config(**sizes.flux["t5"]))}
    pipe = FluxPipeline(**parts, scheduler=FlowMatchEulerDiscreteScheduler(),
                        tokenizer=tiny_clip_tokenizer(folder / "tok"), tokenizer_2=tiny_t5_tokenizer())
    pipe.to(dtype).save_pretrained(folder, safe_serialization=True)


def build_wan(folder: Path, sizes: Sizes, device: str, dtype: Any) -> None:
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    from tests.tiny_wan import tiny_umt5_tokenizer

    with torch.device(device):
        parts = {"transformer": WanTransformer3DModel(**sizes.wan["transformer"]),
                 "vae": AutoencoderKLWan(**sizes.wan["vae"]),
                 "text_encoder": UMT5EncoderModel(UMT5Config(**sizes.wan["text"]))}
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0,
                                        num_train_timesteps=1000)
    pipe = WanPipeline(**parts, scheduler=scheduler, tokenizer=tiny_umt5_tokenizer(folder / "tok"))
    pipe.to(dtype).save_pretrained(folder, safe_serialization=True)


# The calls, ours and bare.

@dataclass
class Case:
    """One expert call (``call(round)``: a round's inputs, the same for both) and the library's own way of doing it."""

    name: str
    expert: str  # module:Class
    call: Callable[[int], Any]  # round -> ExpertCall
    output: Callable[[Any], np.ndarray]  # ExpertResult -> what is compared
    bare_load: Callable[[str, Any, str], Any]  # (folder, torch dtype, device) -> the library's objects
    bare: Callable[[Any, Any], np.ndarray]  # (those objects, ExpertCall) -> raw output


def _invocation(task: str, command: str = "", **args: Any) -> Any:
    from vitron_agent.protocol.invocation import Invocation

    return Invocation(id="c1", task=task, command=command, args=args)


def _image(index: int, height: int, width: int) -> np.ndarray:
    """A different smooth image each round (SAM 2's expert embeds an image once: a repeat would skip the encoder)."""
    rng = np.random.default_rng(index)
    ys, xs = np.mgrid[0:height, 0:width] / max(height, width)
    waves = [np.sin(2 * np.pi * (f[0] * xs + f[1] * ys) + f[2]) for f in rng.uniform(0.5, 4.0, (3, 3))]
    return np.clip(127.5 + 120 * np.stack(waves, axis=-1), 0, 255).astype(np.uint8)


def _sam2_load(image: bool) -> Callable[[str, Any, str], Any]:
    def load(folder: str, dtype: Any, device: str) -> Any:
        from transformers import Sam2Model, Sam2Processor, Sam2VideoModel, Sam2VideoProcessor

        model_class, processor_class = (Sam2Model, Sam2Processor) if image else (Sam2VideoModel, Sam2VideoProcessor)
        model = model_class.from_pretrained(folder, local_files_only=True, use_safetensors=True, dtype=dtype)
        return model.to(device).eval(), processor_class.from_pretrained(folder, local_files_only=True)

    return load


def _bare_sam2_image(loaded: Any, call: Any) -> np.ndarray:
    """The model card's call: processor, model, post-processing (of float32 logits, as the expert does)."""
    import torch

    model, processor = loaded
    image = call.images[0]
    inputs = processor(images=image, input_boxes=[[list(box) for box in call.boxes]], return_tensors="pt")
    with torch.inference_mode():
        out = model(pixel_values=inputs["pixel_values"].to(model.device, model.dtype), multimask_output=False,
                    input_boxes=inputs["input_boxes"].to(model.device))
    masks = processor.post_process_masks(out.pred_masks.float(), [list(image.shape[:2])])[0]
    return masks[:, 0].cpu().numpy().astype(bool)


def _bare_sam2_video(loaded: Any, call: Any) -> np.ndarray:
    """The model card's tracking: the whole clip in a session, forward from frame 0, then backward."""
    import torch

    model, processor = loaded
    frames = call.video.frames
    session = processor.init_video_session(video=frames, inference_device=model.device.type, dtype=model.dtype)
    processor.add_inputs_to_inference_session(session, frame_idx=0, obj_ids=[1],
                                              input_boxes=[[list(box) for box in call.boxes]])
    out = np.zeros((1, *frames.shape[:3]), bool)
    with torch.inference_mode():
        for reverse in (False, True):
            for step in model.propagate_in_video_iterator(session, start_frame_idx=0, reverse=reverse):
                found = processor.post_process_masks([step.pred_masks.float()], [list(frames.shape[1:3])])[0]
                out[:, step.frame_idx] = found[:, 0].cpu().numpy()
    return out


def sam2_cases(sizes: Sizes) -> list[Case]:
    from vitron_agent.experts.base import ExpertCall, VideoClip

    height, width = sizes.image
    box = (0.25 * width, 0.2 * height, 0.7 * width, 0.8 * height)
    count, clip_h, clip_w = sizes.clip
    frames = np.stack([np.roll(_image(0, clip_h, clip_w), 4 * t, axis=1) for t in range(count)])  # a slow pan
    clip_box = (0.3 * clip_w, 0.25 * clip_h, 0.6 * clip_w, 0.75 * clip_h)

    def segment(index: int) -> Any:
        return ExpertCall(invocation=_invocation("segment"), images=[_image(index, height, width)], boxes=[box])

    def track(index: int) -> Any:
        return ExpertCall(invocation=_invocation("track"), video=VideoClip(frames, 16.0), frames=(0, 0),
                          boxes=[clip_box])

    def masks(result: Any) -> np.ndarray:
        return np.stack(result.masks)

    return [Case("sam2", "vitron_agent.tools.sam2:Sam2Expert", segment, masks, _sam2_load(True), _bare_sam2_image),
            Case("sam2_video", "vitron_agent.tools.sam2:Sam2VideoExpert", track, masks, _sam2_load(False),
                 _bare_sam2_video)]


def _pipeline_load(name: str, **options: Any) -> Callable[[str, Any, str], Any]:
    def load(folder: str, dtype: Any, device: str) -> Any:
        import diffusers

        pipe = getattr(diffusers, name).from_pretrained(folder, dtype=dtype, use_safetensors=True,
                                                        local_files_only=True, **options).to(device)
        pipe.set_progress_bar_config(disable=True)
        return pipe

    return load


def _seed(call: Any) -> Any:
    import torch

    return torch.Generator("cpu").manual_seed(int(call.args.get("seed", 0)))


def _bare_sd(pipe: Any, call: Any) -> np.ndarray:
    args = call.args
    return pipe(prompt=call.command, negative_prompt=None, num_inference_steps=args["steps"], guidance_scale=7.5,
                height=args["height"], width=args["width"], generator=_seed(call), output_type="np").images[0]


def _bare_flux(pipe: Any, call: Any) -> np.ndarray:
    """schnell's settings, as the expert picks them for a transformer without a guidance embedding."""
    args = call.args
    return pipe(prompt=call.command, width=args["width"], height=args["height"], num_inference_steps=args["steps"],
                guidance_scale=0.0, max_sequence_length=256, generator=_seed(call), output_type="np").images[0]


def _bare_wan(pipe: Any, call: Any) -> np.ndarray:
    args = call.args
    output = pipe(prompt=call.command, negative_prompt=None, height=args["height"], width=args["width"],
                  num_frames=args["frames"], num_inference_steps=args["steps"], guidance_scale=5.0,
                  generator=_seed(call), output_type="np")
    return np.asarray(output.frames[0])


def diffusion_cases(model: str, sizes: Sizes) -> list[Case]:
    """The one call of the SD, FLUX or Wan expert."""
    expert, task, prompt, pipeline, bare = {
        "sd": ("stable_diffusion:StableDiffusionExpert", "generate_image", "a red bicycle leaning on a brick wall",
               _pipeline_load("StableDiffusionPipeline", safety_checker=None, requires_safety_checker=False), _bare_sd),
        "flux": ("flux:FluxExpert", "generate_image", "a lighthouse on a cliff at dusk",
                 _pipeline_load("FluxPipeline"), _bare_flux),
        "wan": ("wan:WanTextToVideoExpert", "generate_video", "a red kite in the wind", _pipeline_load("WanPipeline"),
                _bare_wan)}[model]

    def call(index: int) -> Any:
        from vitron_agent.experts.base import ExpertCall

        return ExpertCall(invocation=_invocation(task, prompt, seed=0, **sizes.calls[model]))

    def output(result: Any) -> np.ndarray:
        return result.videos[0].frames if result.videos else result.images[0]

    return [Case(model, f"vitron_agent.tools.{expert}", call, output, pipeline, bare)]


@dataclass(frozen=True)
class Model:
    name: str  # what --only names
    dtype: str  # on CUDA (float32 on the CPU)
    build: Callable[[Path, Sizes, str, Any], None]
    cases: Callable[[Sizes], list[Case]]


MODELS = {
    "sam2": Model("sam2", "bfloat16", build_sam2, sam2_cases),
    "sd": Model("sd", "float16", build_sd, lambda sizes: diffusion_cases("sd", sizes)),
    "wan": Model("wan", "bfloat16", build_wan, lambda sizes: diffusion_cases("wan", sizes)),
    "flux": Model("flux", "bfloat16", build_flux, lambda sizes: diffusion_cases("flux", sizes)),
}
"""In the order they run: FLUX, the largest, last, so a short budget skips it first."""
