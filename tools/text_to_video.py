"""Text-to-video with ZeroScope-style models (diffusers ``TextToVideoSDPipeline``), by prompt or signal embeddings.

Default weights ``cerspense/zeroscope_v2_576w``. Signal embeddings in the text encoder's space replace
(or blend with) the prompt's encoding through ``prompt_embeds=``. Output: a real H.264 video.
"""

from __future__ import annotations

import numpy as np

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec, VideoClip

from ._diffusers import DiffusersExpert

__all__ = ["TextToVideoExpert"]


class TextToVideoExpert(DiffusersExpert):
    """Generates a clip. ``args``: ``frames`` (24), ``fps`` (8), ``steps`` (25), ``guidance`` (9.0), ``seed`` (0),
    ``width``/``height`` (the model's default), ``negative``, ``signal_weight`` (1.0)."""

    spec = ExpertSpec(
        name="text_to_video",
        tasks=("generate_video",),
        description="Generates a short video clip from a prompt or signal embeddings (ZeroScope text-to-video diffusion).",
        input_kinds=("text",),
        outputs=("video",),
        embedding_space="clip-text 77x1024",
        weights="cerspense/zeroscope_v2_576w",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=10,
        costly=True,
    )
    pipeline_class = "TextToVideoSDPipeline"

    def run(self, call: ExpertCall) -> ExpertResult:
        steps = self.steps(call, 25)
        count, fps = int(call.args.get("frames", 24)), float(call.args.get("fps", 8))
        if not (1 <= count <= 240 and 1 <= fps <= 60):
            raise BadInputError(f"text_to_video needs 1-240 frames and 1-60 fps; got {count} frames, {fps} fps")
        output = self.pipe(
            **self.conditioning(call), num_frames=count, num_inference_steps=steps,
            guidance_scale=float(call.args.get("guidance", 9.0)), height=call.args.get("height"),
            width=call.args.get("width"), generator=self.generator(call), output_type="np",
            **self.progress_kwargs(call, steps, "denoising"))
        frames = np.clip(np.rint(np.asarray(output.frames[0]) * 255), 0, 255).astype(np.uint8)
        return ExpertResult(videos=[VideoClip(frames, fps)],
                            text=f"generated {len(frames)} frames of {frames.shape[2]}x{frames.shape[1]} at {fps:g} fps")
