"""Image-to-video with I2VGen-XL (diffusers ``I2VGenXLPipeline``): animates a still, guided by a prompt.

Default weights ``ali-vilab/i2vgen-xl`` (cache or folder, safetensors only). Called with
``clip_skip=None``: with transformers 5, diffusers' clip-skip path breaks on ``CLIPTextModel``.
"""

from __future__ import annotations

import numpy as np

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec, VideoClip

from ._common import input_image, work_size
from ._diffusers import DiffusersExpert

__all__ = ["ImageToVideoExpert"]


class ImageToVideoExpert(DiffusersExpert):
    """Animates the input image. ``args``: ``frames`` (16), ``fps`` (8), ``steps`` (25), ``guidance`` (9.0),
    ``seed`` (0), ``negative``. The command describes the motion ("the waves roll in"). Options: ``max_side`` (512)."""

    spec = ExpertSpec(
        name="image_to_video",
        tasks=("animate_image",),
        description="Turns a still image into a short video, guided by a text prompt about the motion (I2VGen-XL).",
        input_kinds=("image",),
        outputs=("video",),
        weights="ali-vilab/i2vgen-xl",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=10,
        costly=True,
    )
    pipeline_class = "I2VGenXLPipeline"


    def run(self, call: ExpertCall) -> ExpertResult:
        import torch
        from PIL import Image

        image = input_image(call, self.spec.name)
        steps = self.steps(call, 25)
        count, fps = int(call.args.get("frames", 16)), float(call.args.get("fps", 8))
        if not (1 <= count <= 128 and 1 <= fps <= 60):
            raise BadInputError(f"image_to_video needs 1-128 frames and 1-60 fps; got {count} frames, {fps} fps")
        width, height = work_size(*image.shape[:2], self.max_side)
        prompt = call.command or "natural motion"
        # The pipeline samples the image latents from torch's global generator: seed it, then restore it.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(call.args.get("seed", 0)))
            output = self.pipe(prompt=prompt, image=Image.fromarray(image), height=height, width=width,
                               num_frames=count, target_fps=round(fps), num_inference_steps=steps,
                               guidance_scale=float(call.args.get("guidance", 9.0)),
                               negative_prompt=call.args.get("negative"), generator=self.generator(call),
                               clip_skip=None, output_type="np", **self.progress_kwargs(call, steps, "denoising"))
        frames = np.clip(np.rint(np.asarray(output.frames[0]) * 255), 0, 255).astype(np.uint8)
        call.progress(1.0, "done")
        return ExpertResult(videos=[VideoClip(frames, fps)],
                            text=f"animated the image: {len(frames)} frames of {frames.shape[2]}x{frames.shape[1]}")
