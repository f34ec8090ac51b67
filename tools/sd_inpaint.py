"""Stable Diffusion inpainting (diffusers ``StableDiffusionInpaintPipeline``): replace, add or remove in a mask.

Replace and add paint ``args.new`` into the region; remove paints background (the target's words go to
the negative prompt); recolor paints "<colour> <target>" into the mask; move cuts the object out, paints background into its hole and pastes it shifted. The image is processed at a size divisible by 8 (at most ``max_side``) and only
the region's pixels change in the returned full-size image, with a feathered edge.
"""

from __future__ import annotations

import numpy as np

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import feathered_blend, input_image, move_object, region_mask, target_words, work_size
from ._diffusers import DiffusersExpert

__all__ = ["SDInpaintExpert"]


class SDInpaintExpert(DiffusersExpert):
    """Edits inside a mask by inpainting. ``args``: ``new`` (what to paint, for replace/add), ``steps`` (30),
    ``guidance`` (7.5), ``seed`` (0), ``strength`` (1.0). Options: ``max_side`` (512), ``cpu_offload``."""

    spec = ExpertSpec(
        name="sd_inpaint",
        tasks=("edit_image",),
        edit_ops=("replace", "add", "remove", "recolor", "move"),
        description="Replaces the object in a mask with new content, adds "
                    "something in a region, removes an object (background painted in), recolours it (color) or "
                    "moves it (direction) (Stable Diffusion inpainting).",
        input_kinds=("image",),
        region_kinds=("mask", "box"),
        region_required=True,
        outputs=("image", "mask"),  # a move also gives the object's mask where it now is
        weights="stable-diffusion-v1-5/stable-diffusion-inpainting",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=10,
        costly=True,
    )

    pipeline_class = "StableDiffusionInpaintPipeline"
    pipeline_options = {"safety_checker": None, "requires_safety_checker": False}


    def run(self, call: ExpertCall) -> ExpertResult:
        image = input_image(call, self.spec.name)
        mask = region_mask(call, image.shape[:2], self.spec.name)
        op = call.invocation.op
        if op == "move":  # cut, paint background into the hole, paste shifted
            background = self._prompts("remove", call)
            return move_object(image, mask, call, lambda img, hole: self._paint(img, hole, call, *background))
        prompt, negative = self._prompts(op, call)
        out = self._paint(image, mask, call, prompt, negative)
        return ExpertResult(images=[out], text=f"{op}: painted {prompt!r} into the region")

    def _paint(self, image: np.ndarray, mask: np.ndarray, call: ExpertCall, prompt: str,
               negative: str | None) -> np.ndarray:
        """``image`` with ``prompt`` inpainted into ``mask``; only the mask's pixels change (feathered edge)."""
        from PIL import Image

        height, width = image.shape[:2]
        size = work_size(height, width, self.max_side)
        steps = self.steps(call, 30)
        output = self.pipe(
            prompt=prompt, negative_prompt=negative, image=Image.fromarray(image).resize(size),
            mask_image=Image.fromarray(mask.astype(np.uint8) * 255).resize(size), width=size[0], height=size[1],
            num_inference_steps=steps, guidance_scale=float(call.args.get("guidance", 7.5)),
            strength=float(call.args.get("strength", 1.0)), generator=self.generator(call), output_type="np",
            **self.progress_kwargs(call, steps, "inpainting"))
        return feathered_blend(self.output_image(output, (width, height)), image, mask)

    @staticmethod
    def _prompts(op: str | None, call: ExpertCall) -> tuple[str, str | None]:
        """(prompt, negative prompt) for the edit op."""
        new = str(call.args.get("new", "")).strip()
        if op == "recolor":
            color = str(call.args.get("color") or new).strip()
            if not color:
                raise BadInputError("recolor needs args.color: the new colour, e.g. 'red'")
            return f"{color} {target_words(call.command) or 'object'}", None
        if op in ("replace", "add"):
            if not new:
                raise BadInputError(f"{op} needs args.new: what to paint, e.g. 'a dog'")
            return new, None
        return "empty background, seamless, natural continuation of the surroundings", call.command or None
