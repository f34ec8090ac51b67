"""Instruction editing with InstructPix2Pix (diffusers ``StableDiffusionInstructPix2PixPipeline``): restyle by words.

"make it look like a watercolor painting": the instruction (``args.style`` or the command) edits the whole
image, or, with a region, only the region (the rest is kept exactly, edges feathered).
"""

from __future__ import annotations

import numpy as np

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import feathered_blend, input_image, region_mask, work_size
from ._diffusers import DiffusersExpert

__all__ = ["InstructPix2PixExpert"]


class InstructPix2PixExpert(DiffusersExpert):
    """``args``: ``style`` (the instruction; else the command), ``steps`` (20), ``guidance`` (7.5),
    ``image_guidance`` (1.5: how closely to keep the input), ``seed`` (0). Options: ``max_side`` (512)."""

    spec = ExpertSpec(
        name="instruct_pix2pix",
        tasks=("edit_image",),
        edit_ops=("restyle",),
        description="Restyles the image (or a region) as told in words, e.g. 'make it a watercolor' (InstructPix2Pix).",
        input_kinds=("image",),
        region_kinds=("mask", "box"),
        region_required=False,
        outputs=("image",),
        weights="timbrooks/instruct-pix2pix",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=10,
        costly=True,
    )
    pipeline_class = "StableDiffusionInstructPix2PixPipeline"
    pipeline_options = {"safety_checker": None, "requires_safety_checker": False}


    def run(self, call: ExpertCall) -> ExpertResult:
        import cv2
        from PIL import Image

        image = input_image(call, self.spec.name)
        instruction = str(call.args.get("style") or call.command).strip()
        if not instruction:
            raise BadInputError("restyle needs an instruction in words (args.style), e.g. 'make it a watercolor'")
        height, width = image.shape[:2]
        size = work_size(height, width, self.max_side)
        steps = self.steps(call, 20)
        output = self.pipe(prompt=instruction, image=Image.fromarray(image).resize(size), num_inference_steps=steps,
                           guidance_scale=float(call.args.get("guidance", 7.5)),
                           image_guidance_scale=float(call.args.get("image_guidance", 1.5)),
                           generator=self.generator(call), output_type="np",
                           **self.progress_kwargs(call, steps, "editing"))
        edited = cv2.resize(np.clip(np.rint(output.images[0] * 255), 0, 255).astype(np.uint8), (width, height),
                            interpolation=cv2.INTER_CUBIC)
        mask = region_mask(call, (height, width), self.spec.name, required=False)
        if mask is not None:
            edited = feathered_blend(edited, image, mask)
        where = "the region" if mask is not None else "the image"
        return ExpertResult(images=[edited], text=f"edited {where}: {instruction!r}")
