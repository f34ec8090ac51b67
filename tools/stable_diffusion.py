"""Stable Diffusion text-to-image (diffusers ``StableDiffusionPipeline``), conditioned by text or signal embeddings.

Weights: a ``save_pretrained`` folder or a Hugging Face id already in the local cache, loaded from
safetensors only (``use_safetensors=True``; no pickles) and never downloaded at run time. Signal
embeddings in the text encoder's space (77 x hidden, e.g. 77x768 for SD 1.5) replace the prompt's
encoding (``prompt_embeds=``, the NExT-GPT path), or are blended with it by ``args.signal_weight``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError, UnavailableError
from vitron_agent.experts.base import Availability, Expert, ExpertCall, ExpertResult, ExpertSpec, resolve_device

from ._hf import find_pretrained

__all__ = ["StableDiffusionExpert"]


class StableDiffusionExpert(Expert):
    """Generates an image from a prompt. ``args``: ``steps`` (30), ``guidance`` (7.5), ``width``/``height``
    (the model's default), ``seed`` (0), ``negative`` (negative prompt), ``signal_weight`` (1.0).
    Options: ``cpu_offload`` (move sub-models to the GPU only while they run)."""

    spec = ExpertSpec(
        name="stable_diffusion",
        tasks=("generate_image",),
        description="Stable Diffusion: generates an image from a text prompt (or from signal embeddings).",
        input_kinds=("text",),
        outputs=("image",),
        embedding_space="clip-text 77x768",
        weights="stable-diffusion-v1-5/stable-diffusion-v1-5",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=10,
        costly=True,
    )

    def __init__(self, weights: str | None = None, cpu_offload: bool = False, **options: Any) -> None:
        super().__init__(weights, **options)
        self.cpu_offload = cpu_offload
        self.pipe: Any = None

    def check_weights(self) -> Availability:
        return find_pretrained(self.weights, "model_index.json", self.spec.name)

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        import torch
        from diffusers import StableDiffusionPipeline

        state = self.check_weights()
        if not state.ok:
            raise UnavailableError(f"{state.reason}. {state.fix}")
        self.device = resolve_device(device)
        torch_dtype = torch.float16 if dtype == "float16" and self.device.startswith("cuda") else torch.float32
        pipe = StableDiffusionPipeline.from_pretrained(
            state.weights_path, torch_dtype=torch_dtype, use_safetensors=True, local_files_only=True,
            safety_checker=None, requires_safety_checker=False)
        if self.cpu_offload and self.device.startswith("cuda"):
            pipe.enable_model_cpu_offload()
        else:
            pipe.to(self.device)
        pipe.set_progress_bar_config(disable=True)
        self.pipe, self.loaded = pipe, True

    def unload(self) -> None:
        self.pipe = None
        super().unload()

    def memory_bytes(self) -> dict[str, int]:
        if self.pipe is None:
            return {"ram": 0, "vram": 0}
        size = sum(p.numel() * p.element_size() for m in self.pipe.components.values()
                   if hasattr(m, "parameters") for p in m.parameters())
        return {"vram": size, "ram": 0} if self.device.startswith("cuda") else {"ram": size, "vram": 0}

    def run(self, call: ExpertCall) -> ExpertResult:
        import torch

        args = call.args
        steps = int(args.get("steps", 30))
        if not 1 <= steps <= 200:
            raise BadInputError(f"steps must be 1-200, got {steps}")
        if not call.command and call.signal is None:
            raise BadInputError("generate_image needs a prompt (the command) or signal embeddings")
        generator = torch.Generator("cpu").manual_seed(int(args.get("seed", 0)))
        conditioning = self._conditioning(call)

        def on_step(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            call.progress((step + 1) / steps, f"denoising step {step + 1}/{steps}")
            return kwargs

        output = self.pipe(
            **conditioning, num_inference_steps=steps, guidance_scale=float(args.get("guidance", 7.5)),
            negative_prompt=args.get("negative") if "prompt" in conditioning else None,
            height=args.get("height"), width=args.get("width"), generator=generator, output_type="np",
            callback_on_step_end=on_step,
        )
        image = np.clip(np.rint(output.images[0] * 255), 0, 255).astype(np.uint8)
        how = "signal embeddings" if "prompt_embeds" in conditioning else repr(call.command)
        return ExpertResult(images=[image], text=f"generated a {image.shape[1]}x{image.shape[0]} image from {how}")

    def _conditioning(self, call: ExpertCall) -> dict[str, Any]:
        """``prompt=`` for text; ``prompt_embeds=`` from the signal, blended with the text when both exist."""
        import torch

        if call.signal is None:
            return {"prompt": call.command}
        encoder = self.pipe.text_encoder
        expected = (self.pipe.tokenizer.model_max_length, encoder.config.hidden_size)
        signal = np.asarray(call.signal, dtype=np.float32)
        if signal.shape[-2:] != expected:
            raise BadInputError(f"stable_diffusion takes signal embeddings of shape {expected}; got {signal.shape}. "
                                "Project them with the VITRON model's stable_diffusion head first")
        embeds = torch.as_tensor(signal.reshape(1, *expected), device=self.pipe.device, dtype=encoder.dtype)
        weight = float(call.args.get("signal_weight", 1.0))
        if call.command and weight < 1.0:
            text, _ = self.pipe.encode_prompt(call.command, self.pipe.device, 1, False)
            embeds = weight * embeds + (1.0 - weight) * text
        return {"prompt_embeds": embeds}
