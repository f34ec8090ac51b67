"""GLIGEN (diffusers ``StableDiffusionGLIGENPipeline``): box-grounded generation and editing, VITRON's choice.

Generate: ``args.phrases`` with ``args.boxes`` (pixels of the output image, ``[x1, y1, x2, y2]`` each)
place each phrase in its box; the command is the whole scene's prompt. Edit (add, replace): the
phrase ``args.new`` is painted into the region's box of the input image (GLIGEN's inpainting mode), and
only that box changes. Prompts or signal embeddings (``prompt_embeds``) condition the scene.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import input_image, region_mask
from ._diffusers import DiffusersExpert

__all__ = ["GligenExpert", "GligenEditExpert"]


class GligenExpert(DiffusersExpert):
    """Grounded generation. ``args``: ``phrases`` and ``boxes`` (pixels of the output), ``steps`` (30),
    ``guidance`` (7.5), ``seed`` (0), ``width``/``height`` (the model's default), ``beta`` (grounded share of the
    steps, 0.3)."""

    spec = ExpertSpec(
        name="gligen",
        tasks=("generate_image",),
        description="Generates an image with given phrases placed in given boxes (phrases, boxes; GLIGEN).",
        input_kinds=("text",),
        outputs=("image",),
        embedding_space="clip-text 77x768",
        weights="masterful/gligen-1-4-generation-text-box",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=9,
        costly=True,
        reads_args=("phrases", "boxes"),
    )
    pipeline_class = "StableDiffusionGLIGENPipeline"
    pipeline_options = {"safety_checker": None, "requires_safety_checker": False}

    def run(self, call: ExpertCall) -> ExpertResult:
        steps = self.steps(call, 30)
        common = dict(num_inference_steps=steps, guidance_scale=float(call.args.get("guidance", 7.5)),
                      gligen_scheduled_sampling_beta=float(call.args.get("beta", 0.3)), generator=self.generator(call),
                      output_type="np", **self.progress_kwargs(call, steps, "denoising"))
        if call.invocation.task == "generate_image":
            return self._generate(call, common)
        return self._edit(call, common)

    def _generate(self, call: ExpertCall, common: dict[str, Any]) -> ExpertResult:
        phrases, boxes = list(call.args.get("phrases") or []), list(call.args.get("boxes") or [])
        if len(phrases) != len(boxes) or not phrases:
            raise BadInputError("gligen generation needs args.phrases and args.boxes of the same, non-zero length")
        size = self.pipe.unet.config.sample_size * self.pipe.vae_scale_factor
        width, height = int(call.args.get("width") or size), int(call.args.get("height") or size)
        normalised = [_normalise(box, width, height) for box in boxes]
        output = self.pipe(**self.conditioning(call), height=height, width=width, gligen_phrases=phrases,
                           gligen_boxes=normalised, **common)
        image = self.output_image(output)
        return ExpertResult(images=[image], text=f"generated a {width}x{height} image with {', '.join(phrases)}")

    def _edit(self, call: ExpertCall, common: dict[str, Any]) -> ExpertResult:
        raise BadInputError(f"{self.spec.name} generates; use gligen_edit for {call.invocation.label}")


class GligenEditExpert(GligenExpert):
    """Adds or replaces an object inside a box of an image (GLIGEN's inpainting checkpoint). ``args``: ``new``."""

    spec = ExpertSpec(
        name="gligen_edit",
        tasks=("edit_image",),
        edit_ops=("add", "replace"),
        description="Adds or replaces an object (new) inside a box or mask of an image (GLIGEN inpainting).",
        input_kinds=("image",),
        region_kinds=("box", "mask"),
        region_required=True,
        outputs=("image",),
        embedding_space="clip-text 77x768",
        weights="masterful/gligen-1-4-inpainting-text-box",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=9,
        costly=True,
    )

    def _edit(self, call: ExpertCall, common: dict[str, Any]) -> ExpertResult:
        from PIL import Image

        image = input_image(call, self.spec.name)
        phrase = str(call.args.get("new", "")).strip()
        if not phrase:
            raise BadInputError(f"{call.invocation.op} needs args.new: what to paint, e.g. 'a dog'")
        mask = region_mask(call, image.shape[:2], self.spec.name)
        ys, xs = np.nonzero(mask)
        height, width = image.shape[:2]
        box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        side = self.pipe.unet.config.sample_size * self.pipe.vae_scale_factor
        square = self.pipe.vae.config.sample_size  # the pipeline centre-crops its input to this square: pass a
        stretched = Image.fromarray(image).resize((square, square))  # square so [0, 1] boxes keep their place
        conditioning = self.conditioning(call) if call.signal is not None else {"prompt": phrase}
        output = self.pipe(**conditioning, height=side, width=side, gligen_phrases=[phrase],
                           gligen_boxes=[_normalise(box, width, height)], gligen_inpaint_image=stretched, **common)
        painted = self.output_image(output, (width, height))
        inside = np.zeros_like(mask)
        inside[int(box[1]):int(box[3]), int(box[0]):int(box[2])] = True
        out = np.where(inside[..., None], painted, image)
        return ExpertResult(images=[out], text=f"{call.invocation.op}: placed {phrase!r} in the box")


def _normalise(box: Any, width: int, height: int) -> list[float]:
    """Pixel ``[x1, y1, x2, y2]`` -> GLIGEN's [0, 1] box; a clear error if it is not inside the frame."""
    try:
        x1, y1, x2, y2 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise BadInputError(f"each gligen box must be 4 numbers [x1, y1, x2, y2] in pixels, got {box!r}") from None
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise BadInputError(f"gligen box {box!r} must lie inside the {width}x{height} image with x1<x2, y1<y2")
    return [x1 / width, y1 / height, x2 / width, y2 / height]
