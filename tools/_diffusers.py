"""What the diffusers experts share: loading a pipeline safely, conditioning by text or signal, progress."""

from __future__ import annotations

from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError, UnavailableError
from vitron_agent.experts.base import Availability, Expert, ExpertCall, resolve_device

from ._common import torch_dtype, torch_memory
from ._hf import find_pretrained

__all__ = ["DiffusersExpert"]


class DiffusersExpert(Expert):
    """Base for experts wrapping one diffusers pipeline class (``pipeline_class``, a name in ``diffusers``).

    Weights: a ``save_pretrained`` folder or a cached hub id, safetensors only, never downloaded.
    Options: ``cpu_offload`` (move sub-models to the GPU only while they run; ``AgentConfig.cpu_offload`` sets it
    for all), ``max_side``.
    """

    abstract = True
    pipeline_class: str = ""
    pipeline_options: dict[str, Any] = {}

    def __init__(self, weights: str | None = None, max_side: int = 512, **options: Any) -> None:
        """``max_side``: longest side, in pixels, of the images the image-input pipelines work on."""
        super().__init__(weights, **options)
        self.max_side = int(max_side)
        self.pipe: Any = None

    def check_weights(self) -> Availability:
        return find_pretrained(self.weights, "model_index.json", self.spec.name)

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        import diffusers

        state = self.check_weights()
        if not state.ok:
            raise UnavailableError(f"{state.reason}. {state.fix}")
        self.device = resolve_device(device)
        pipe = getattr(diffusers, self.pipeline_class).from_pretrained(
            state.weights_path, dtype=torch_dtype(dtype, self.device), use_safetensors=True, local_files_only=True,
            **self.pipeline_options)
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
        return torch_memory(list(self.pipe.components.values()) if self.pipe is not None else [], self.device)

    @staticmethod
    def steps(call: ExpertCall, default: int) -> int:
        steps = int(call.args.get("steps", default))
        if not 1 <= steps <= 200:
            raise BadInputError(f"steps must be 1-200, got {steps}")
        return steps

    def progress_kwargs(self, call: ExpertCall, steps: int, verb: str) -> dict[str, Any]:
        """Pipeline arguments that stream per-step progress through ``call.progress`` (either callback API)."""
        import inspect

        def report(step: int) -> None:
            call.progress((step + 1) / steps, f"{verb} step {step + 1}/{steps}")

        params = inspect.signature(type(self.pipe).__call__).parameters
        if "callback_on_step_end" in params:
            def on_step_end(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
                report(step)
                return kwargs

            return {"callback_on_step_end": on_step_end}
        if "callback" in params:
            return {"callback": lambda step, timestep, latents: report(step), "callback_steps": 1}
        return {}  # this pipeline reports no steps

    @staticmethod
    def output_image(output: Any, size: tuple[int, int] | None = None) -> np.ndarray:
        """The first image of an ``output_type="np"`` pipeline output ((H, W, 3) floats in [0, 1]) as uint8, resized
        to ``size`` (w, h) when given: the input's size, for pipelines that work at their own."""
        image = np.clip(np.rint(output.images[0] * 255), 0, 255).astype(np.uint8)
        if size is None:
            return image
        import cv2

        return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)

    @staticmethod
    def generator(call: ExpertCall) -> Any:
        import torch

        return torch.Generator("cpu").manual_seed(int(call.args.get("seed", 0)))

    def conditioning(self, call: ExpertCall) -> dict[str, Any]:
        """``prompt=`` for text; ``prompt_embeds=`` from the signal (the text encoder's 77 x hidden space),
        blended with the text's encoding by ``args.signal_weight`` when both exist. ``args.negative`` (the
        negative prompt) applies either way."""
        import torch

        if call.signal is None:
            if not call.command:
                raise BadInputError(f"{self.spec.name} needs a prompt (the command) or signal embeddings")
            return {"prompt": call.command, "negative_prompt": call.args.get("negative")}
        encoder = self.pipe.text_encoder
        expected = (self.pipe.tokenizer.model_max_length, encoder.config.hidden_size)
        signal = np.asarray(call.signal, dtype=np.float32)
        if signal.shape[-2:] != expected:
            raise BadInputError(f"{self.spec.name} takes signal embeddings of shape {expected}; got {signal.shape}. "
                                f"Project them with the VITRON model's {self.spec.name} head first")
        embeds = torch.as_tensor(signal.reshape(1, *expected), device=self.pipe.device, dtype=encoder.dtype)
        weight = float(call.args.get("signal_weight", 1.0))
        if call.command and weight < 1.0:
            text, _ = self.pipe.encode_prompt(call.command, self.pipe.device, 1, False)
            embeds = weight * embeds + (1.0 - weight) * text
        return {"prompt_embeds": embeds, "negative_prompt": call.args.get("negative")}
