"""Stable Diffusion text-to-image (diffusers ``StableDiffusionPipeline``), conditioned by text or signal embeddings.

Signal embeddings in the text encoder's space (77 x hidden, e.g. 77x768 for SD 1.5) replace the prompt's
encoding (``prompt_embeds=``, the NExT-GPT path), or are blended with it by ``args.signal_weight``.
"""

from __future__ import annotations

from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._diffusers import DiffusersExpert

__all__ = ["StableDiffusionExpert"]


class StableDiffusionExpert(DiffusersExpert):
    """Generates an image from a prompt. ``args``: ``steps`` (30), ``guidance`` (7.5), ``width``/``height``
    (the model's default), ``seed`` (0), ``negative`` (negative prompt), ``signal_weight`` (1.0)."""

    spec = ExpertSpec(
        name="stable_diffusion",
        tasks=("generate_image",),
        description="Generates an image from a text prompt or signal embeddings (Stable Diffusion).",
        input_kinds=("text",),
        outputs=("image",),
        embedding_space="clip-text 77x768",
        weights="stable-diffusion-v1-5/stable-diffusion-v1-5",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=10,
        costly=True,
    )
    pipeline_class = "StableDiffusionPipeline"
    pipeline_options = {"safety_checker": None, "requires_safety_checker": False}

    def run(self, call: ExpertCall) -> ExpertResult:
        steps = self.steps(call, 30)
        conditioning = self.conditioning(call)
        output = self.pipe(
            **conditioning, num_inference_steps=steps, guidance_scale=float(call.args.get("guidance", 7.5)),
            height=call.args.get("height"), width=call.args.get("width"), generator=self.generator(call),
            output_type="np", **self.progress_kwargs(call, steps, "denoising"),
        )
        image = self.output_image(output)
        how = "signal embeddings" if "prompt_embeds" in conditioning else repr(call.command)
        return ExpertResult(images=[image], text=f"generated a {image.shape[1]}x{image.shape[0]} image from {how}")
