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

__all__ = ["InstructPix2PixExpert", "restyle_instruction", "restyled"]


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
        from PIL import Image

        image = input_image(call, self.spec.name)
        instruction = restyle_instruction(call)
        height, width = image.shape[:2]
        size = work_size(height, width, self.max_side)
        steps = self.steps(call, 20)
        output = self.pipe(prompt=instruction, image=Image.fromarray(image).resize(size), num_inference_steps=steps,
                           guidance_scale=float(call.args.get("guidance", 7.5)),
                           image_guidance_scale=float(call.args.get("image_guidance", 1.5)),
                           generator=self.generator(call), output_type="np",
                           **self.progress_kwargs(call, steps, "editing"))
        return restyled(call, image, self.output_image(output, (width, height)), instruction, self.spec.name)


def restyle_instruction(call: ExpertCall) -> str:
    """The restyle instruction in words (``args.style``, else the command), or a ``BadInputError`` asking for one."""
    instruction = str(call.args.get("style") or call.command).strip()
    if not instruction:
        raise BadInputError("restyle needs an instruction in words (args.style), e.g. 'make it a watercolor'")
    return instruction


def restyled(call: ExpertCall, image: np.ndarray, edited: np.ndarray, instruction: str, expert: str) -> ExpertResult:
    """The result of an instruction edit: the whole ``edited`` image, or only the call's region of it blended into
    ``image`` (feathered edge) when the call has one."""
    mask = region_mask(call, image.shape[:2], expert, required=False)
    if mask is not None:
        edited = feathered_blend(edited, image, mask)
    where = "the region" if mask is not None else "the image"
    return ExpertResult(images=[edited], text=f"edited {where}: {instruction!r}")
