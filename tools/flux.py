"""FLUX.1 (Black Forest Labs) on diffusers: text-to-image, instruction editing (Kontext) and inpainting (Fill).

Weights (safetensors ``save_pretrained`` folders or cached hub ids, never downloaded):
- ``flux``: ``FluxPipeline``, default ``black-forest-labs/FLUX.1-schnell`` (Apache-2.0; 4 steps, no guidance).
- ``flux_kontext``: ``FluxKontextPipeline``, default ``black-forest-labs/FLUX.1-Kontext-dev``: restyles the
  image (or a region of it) as an instruction says.
- ``flux_fill``: ``FluxFillPipeline``, default ``black-forest-labs/FLUX.1-Fill-dev``: replaces, adds, removes,
  recolours or moves what a mask covers, as ``sd_inpaint`` does.
The Kontext and Fill releases are FLUX.1 [dev] models, under their non-commercial licence.

FLUX was trained near a megapixel, so image inputs are worked on at ``max_side`` (1024) on the long side, scaled
up or down, in sizes its packed latents allow (multiples of 16 for the real VAE); edits come back at the input's
size. Models whose transformer embeds guidance (the [dev] family) default to their guidance and 28-50 steps;
schnell, which does not, to 4 steps and 256 text tokens.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import feathered_blend, input_image
from ._diffusers import DiffusersExpert
from .instruct_pix2pix import restyle_instruction, restyled
from .sd_inpaint import SDInpaintExpert

__all__ = ["FluxExpert", "FluxKontextExpert", "FluxFillExpert"]

MAX_SIDE = 4096
"""Largest width or height, in pixels, a FLUX call may ask for."""


class _FluxSizes:
    """Mixin of the FLUX experts (before ``DiffusersExpert`` in the bases): ``max_side`` 1024 by default, sizes
    in multiples of the packed latents' pixel size, and the pipeline's float output as uint8."""

    pipe: Any
    max_side: int

    def __init__(self, weights: str | None = None, max_side: int = 1024, **options: Any) -> None:
        super().__init__(weights, max_side=max_side, **options)  # type: ignore[call-arg]

    @property
    def multiple(self) -> int:
        """Pixels per packed latent: the VAE's scale times the 2x2 packing (16 for FLUX.1's VAE)."""
        return int(self.pipe.vae_scale_factor) * 2

    def flux_size(self, height: int, width: int) -> tuple[int, int]:
        """(w, h) with the long side scaled to ``max_side`` (up or down), each a multiple of ``multiple``."""
        scale, step = self.max_side / max(height, width), self.multiple
        return max(step, round(width * scale) // step * step), max(step, round(height * scale) // step * step)

    def guided(self) -> bool:
        """Whether the transformer embeds a guidance scale (the guidance-distilled [dev] models)."""
        return bool(self.pipe.transformer.config.guidance_embeds)



class FluxExpert(_FluxSizes, DiffusersExpert):
    """Generates an image from a prompt. ``args``: ``steps`` (4 for schnell, 28 for a guided [dev] model),
    ``guidance`` (0, or 3.5 guided), ``width``/``height`` (``max_side``), ``seed`` (0). Options: ``max_side``
    (1024: the default width and height), ``cpu_offload``."""

    spec = ExpertSpec(
        name="flux",
        tasks=("generate_image",),
        description="Generates a high-quality image from a text prompt; follows long, detailed prompts and renders "
                    "text in images (FLUX.1).",
        input_kinds=("text",),
        outputs=("image",),
        weights="black-forest-labs/FLUX.1-schnell",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=20,
        costly=True,
    )
    pipeline_class = "FluxPipeline"

    def run(self, call: ExpertCall) -> ExpertResult:
        if not call.command.strip():
            raise BadInputError("flux needs a prompt (the command) saying what to draw")
        guided = self.guided()
        steps = self.steps(call, 28 if guided else 4)
        width, height = (self._side(call, "width"), self._side(call, "height"))
        output = self.pipe(
            prompt=call.command, width=width, height=height, num_inference_steps=steps,
            guidance_scale=float(call.args.get("guidance", 3.5 if guided else 0.0)),
            max_sequence_length=512 if guided else 256, generator=self.generator(call), output_type="np",
            **self.progress_kwargs(call, steps, "denoising"))
        image = self.output_image(output)
        return ExpertResult(images=[image], text=f"generated a {image.shape[1]}x{image.shape[0]} image from "
                                                 f"{call.command!r}")

    def _side(self, call: ExpertCall, name: str) -> int:
        """``args.width`` or ``args.height`` (default ``max_side``), rounded down to a multiple FLUX can make."""
        try:
            side = int(call.args.get(name, self.max_side))
        except (TypeError, ValueError):
            raise BadInputError(f"{name} must be a whole number of pixels, got {call.args.get(name)!r}") from None
        if not self.multiple <= side <= MAX_SIDE:
            raise BadInputError(f"{name} must be {self.multiple}-{MAX_SIDE} pixels, got {side}")
        return side // self.multiple * self.multiple


class FluxKontextExpert(_FluxSizes, DiffusersExpert):
    """Edits by instruction. ``args``: ``style`` (the instruction; else the command), ``steps`` (28), ``guidance``
    (2.5), ``seed`` (0). Options: ``max_side`` (1024), ``auto_resize`` (True: the input is encoded at the nearest
    of Kontext's trained resolutions, as diffusers recommends; False: at the working size), ``cpu_offload``."""

    spec = ExpertSpec(
        name="flux_kontext",
        tasks=("edit_image",),
        edit_ops=("restyle",),
        description="Restyles the image (or a region) as told in words, e.g. 'make it a watercolor', keeping its "
                    "content and layout (FLUX.1 Kontext).",
        input_kinds=("image",),
        region_kinds=("mask", "box"),
        region_required=False,
        outputs=("image",),
        weights="black-forest-labs/FLUX.1-Kontext-dev",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=20,
        costly=True,
    )
    pipeline_class = "FluxKontextPipeline"

    def __init__(self, weights: str | None = None, auto_resize: bool = True, **options: Any) -> None:
        super().__init__(weights, **options)
        self.auto_resize = bool(auto_resize)

    def run(self, call: ExpertCall) -> ExpertResult:
        from PIL import Image

        image = input_image(call, self.spec.name)
        instruction = restyle_instruction(call)
        height, width = image.shape[:2]
        size = self.flux_size(height, width)
        steps = self.steps(call, 28)
        output = self.pipe(
            image=Image.fromarray(image).resize(size), prompt=instruction, width=size[0], height=size[1],
            max_area=size[0] * size[1], _auto_resize=self.auto_resize, num_inference_steps=steps,
            guidance_scale=float(call.args.get("guidance", 2.5)), max_sequence_length=512,
            generator=self.generator(call), output_type="np", **self.progress_kwargs(call, steps, "editing"))
        return restyled(call, image, self.output_image(output, (width, height)), instruction, self.spec.name)


class FluxFillExpert(_FluxSizes, SDInpaintExpert):
    """Edits inside a mask by inpainting, with ``sd_inpaint``'s ops and prompts (remove paints background; a move
    returns the object's mask where it now is). ``args``: ``new`` (what to paint, for replace/add), ``color``
    (recolor), ``direction``/``distance`` (move), ``steps`` (50), ``guidance`` (30), ``strength`` (1.0),
    ``seed`` (0). Options: ``max_side`` (1024), ``cpu_offload``. FLUX Fill takes no negative prompt."""

    spec = ExpertSpec(
        name="flux_fill",
        tasks=("edit_image",),
        edit_ops=("replace", "add", "remove", "recolor", "move"),
        description="Replaces the object in a mask with new content, adds something in a region, removes an object "
                    "(background painted in), recolours it (color) or moves it (direction), blending seamlessly "
                    "(FLUX.1 Fill).",
        input_kinds=("image",),
        region_kinds=("mask", "box"),
        region_required=True,
        outputs=("image", "mask"),  # a move also gives the object's mask where it now is
        weights="black-forest-labs/FLUX.1-Fill-dev",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=20,
        costly=True,
    )
    pipeline_class = "FluxFillPipeline"
    pipeline_options: dict[str, Any] = {}

    def _paint(self, image: np.ndarray, mask: np.ndarray, call: ExpertCall, prompt: str,
               negative: str | None) -> np.ndarray:
        """``image`` with ``prompt`` painted into ``mask`` (``negative`` is unused: Fill has no negative prompt);
        only the mask's pixels change (feathered edge)."""
        from PIL import Image

        strength = float(call.args.get("strength", 1.0))
        if not 0.0 < strength <= 1.0:
            raise BadInputError(f"strength must be in (0, 1], got {strength}")
        height, width = image.shape[:2]
        size = self.flux_size(height, width)
        steps = self.steps(call, 50)
        output = self.pipe(
            prompt=prompt, image=Image.fromarray(image).resize(size),
            mask_image=Image.fromarray(mask.astype(np.uint8) * 255).resize(size), width=size[0], height=size[1],
            num_inference_steps=steps, guidance_scale=float(call.args.get("guidance", 30.0)), strength=strength,
            max_sequence_length=512, generator=self.generator(call), output_type="np",
            **self.progress_kwargs(call, steps, "inpainting"))
        return feathered_blend(self.output_image(output, (width, height)), image, mask)
