"""Video editing with Stable Diffusion inpainting, frame by frame inside the tracked masks, without training.

Inpainting each frame on its own flickers: every frame starts from different noise and its self-attention
only sees itself, so the model invents a new object each time. Two training-free changes from
Text2Video-Zero (Khachatryan et al., 2023) and the tune-free editors after it keep the frames consistent:

1. **Fixed noise.** Every frame starts from the same initial latent. The sampler is a deterministic function
   of (noise, conditioning), so similar frames with the same prompt are carried to similar results.
2. **Cross-frame attention.** In the UNet's self-attention layers (``attn1``) each frame's queries attend to
   the anchor frame's keys and values (the first edited frame) as well as its own, so texture and colour
   are copied from the anchor instead of being drawn afresh. The weights are unchanged; the processors are
   swapped in for the call only.

Frames run in batches through one pipeline call; later batches carry the anchor again in slot 0 (its output
is dropped), so every batch attends to the same anchor. Only the masked pixels change (feathered edge),
frames whose mask is empty are returned untouched and never diffused, and the source frame rate is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec, VideoClip

from ._common import feathered_blend, target_words, tracked_masks, work_size
from ._diffusers import DiffusersExpert
from .sd_inpaint import SDInpaintExpert

__all__ = ["DiffusionVideoEditExpert", "CrossFrameAttention", "FrameLayout", "masked_edit_prompts"]


class DiffusionVideoEditExpert(DiffusersExpert):
    """Replaces, adds, removes, recolours or restyles an object across a video by SD inpainting.

    ``args``: ``new`` (replace/add), ``color`` (recolor), ``style`` (restyle), ``steps`` (30), ``guidance``
    (7.5), ``seed`` (0). Strength is always 1: the masked region is painted from the shared noise.
    Options: ``max_side`` (512), ``batch_frames`` (8 frames per pipeline call, anchor included),
    ``cross_frame`` (True; False inpaints each frame with plain self-attention, for comparison), ``cpu_offload``.
    """

    spec = ExpertSpec(
        name="video_inpaint",
        tasks=("edit_video",),
        edit_ops=("replace", "add", "remove", "recolor", "restyle"),
        description=("Edits an object across a video: replaces, adds, removes, recolours or restyles it inside "
                     "its tracked masks (restyle also whole frames), kept consistent by shared noise and "
                     "cross-frame attention (Stable Diffusion inpainting on every frame)."),
        input_kinds=("video",),
        region_kinds=("mask",),
        region_required=True,
        region_free_ops=("restyle",),
        outputs=("video",),
        weights="stable-diffusion-v1-5/stable-diffusion-inpainting",
        extra="diffusion",
        requires=("torch", "diffusers", "transformers"),
        quality=10,
        costly=True,
    )

    pipeline_class = "StableDiffusionInpaintPipeline"
    pipeline_options = {"safety_checker": None, "requires_safety_checker": False}

    def __init__(self, weights: str | None = None, batch_frames: int = 8, cross_frame: bool = True,
                 **options: Any) -> None:
        super().__init__(weights, **options)
        self.batch_frames, self.cross_frame = int(batch_frames), bool(cross_frame)
        if self.batch_frames < (2 if self.cross_frame else 1):
            raise BadInputError(f"batch_frames must be at least 2 with cross_frame (the anchor and one frame), "
                                f"got {batch_frames}")

    def run(self, call: ExpertCall) -> ExpertResult:
        frames, fps = _video(call, self.spec.name)
        op = call.invocation.op or ""
        if op not in self.spec.edit_ops:
            raise BadInputError(f"{self.spec.name} does {', '.join(self.spec.edit_ops)}, not {op!r}")
        masks = tracked_masks(call, op, frames.shape[:3], self.spec)
        prompt, negative = masked_edit_prompts(op, call)
        todo = [t for t in range(len(frames)) if masks is None or masks[t].any()]
        if not todo:
            raise RegionError(f"{self.spec.name}: the masks are empty on every frame; track the object first")
        steps = self.steps(call, 30)
        edited = frames.copy()
        layout = FrameLayout()
        with self._attention(layout):
            done = 0
            for batch in self._batches(todo):
                skip = 1 if done and self.cross_frame else 0  # slot 0 of later batches: the anchor again
                new = batch[skip:]
                layout.frames = len(batch)
                painted = self._paint(_share_of(call, done, len(new), len(todo)), frames[batch],
                                      None if masks is None else masks[batch], prompt, negative, steps)
                for index, image in zip(new, painted[skip:]):
                    edited[index] = image if masks is None else feathered_blend(image, frames[index], masks[index])
                done += len(new)
        return ExpertResult(videos=[VideoClip(edited, fps)],
                            text=f"{op}: painted {prompt!r} into {len(todo)} of {len(frames)} frames at {fps:g} fps",
                            data={"edited_frames": len(todo), "cross_frame": self.cross_frame})

    def _batches(self, todo: list[int]) -> Iterator[list[int]]:
        """Frame indices per pipeline call; with cross-frame attention later batches start with the anchor."""
        if not self.cross_frame:
            yield from (todo[i:i + self.batch_frames] for i in range(0, len(todo), self.batch_frames))
            return
        yield todo[:self.batch_frames]
        step = self.batch_frames - 1
        for i in range(self.batch_frames, len(todo), step):
            yield [todo[0], *todo[i:i + step]]

    def _paint(self, call: ExpertCall, frames: np.ndarray, masks: np.ndarray | None, prompt: str,
               negative: str | None, steps: int) -> np.ndarray:
        """Inpaint ``frames`` (N, H, W, 3) uint8 inside ``masks`` (N, H, W) bool (None: whole frames) in one
        pipeline call from one shared initial latent; (N, H, W, 3) uint8 at full size."""
        import cv2
        import torch
        from PIL import Image

        count, height, width = frames.shape[:3]
        size = work_size(height, width, self.max_side)
        scale = self.pipe.vae_scale_factor
        shape = (1, self.pipe.vae.config.latent_channels, size[1] // scale, size[0] // scale)
        noise = torch.randn(shape, generator=self.generator(call), dtype=torch.float32)
        holes = np.ones((count, height, width), bool) if masks is None else masks
        output = self.pipe(
            prompt=[prompt] * count, negative_prompt=[negative] * count if negative else None,
            image=[Image.fromarray(f).resize(size) for f in frames],
            mask_image=[Image.fromarray(m.astype(np.uint8) * 255).resize(size) for m in holes],
            width=size[0], height=size[1], num_inference_steps=steps,
            guidance_scale=float(call.args.get("guidance", 7.5)),
            latents=noise.to(self.pipe.unet.dtype).repeat(count, 1, 1, 1),
            generator=[self.generator(call) for _ in range(count)],  # the same VAE sampling noise per frame
            output_type="np", **self.progress_kwargs(call, steps, "inpainting"))
        images = np.clip(np.rint(output.images * 255), 0, 255).astype(np.uint8)
        return np.stack([cv2.resize(i, (width, height), interpolation=cv2.INTER_CUBIC) for i in images])

    @contextmanager
    def _attention(self, layout: FrameLayout) -> Iterator[None]:
        """Cross-frame processors on every ``attn1`` of the UNet while inside; the originals back after."""
        if not self.cross_frame:
            yield
            return
        unet = self.pipe.unet
        originals = dict(unet.attn_processors)
        unet.set_attn_processor({name: CrossFrameAttention(proc, layout) if name.endswith("attn1.processor")
                                 else proc for name, proc in originals.items()})
        try:
            yield
        finally:
            unet.set_attn_processor(dict(originals))  # set_attn_processor empties the dict it is given



@dataclasses.dataclass
class FrameLayout:
    """Frames per classifier-free-guidance half of the UNet batch in the current pipeline call."""

    frames: int = 1


class CrossFrameAttention:
    """Self-attention whose keys and values are the anchor frame's tokens followed by the frame's own.

    The UNet batch is blocks of ``layout.frames`` frames ([uncond frames..., cond frames...] under
    classifier-free guidance) and frame 0 of each block is its anchor. Calls it cannot read that way
    (cross-attention, attention masks) go to the layer's original processor.
    """

    def __init__(self, original: Any, layout: FrameLayout) -> None:
        self.original, self.layout = original, layout

    def __call__(self, attn: Any, hidden_states: Any, encoder_hidden_states: Any = None, attention_mask: Any = None,
                 temb: Any = None, **kwargs: Any) -> Any:
        import torch.nn.functional as F

        frames = self.layout.frames
        if (encoder_hidden_states is not None or attention_mask is not None or hidden_states.ndim != 3
                or frames < 2 or hidden_states.shape[0] % frames):
            return self.original(attn, hidden_states, encoder_hidden_states=encoder_hidden_states,
                                 attention_mask=attention_mask, temb=temb, **kwargs)
        residual = hidden_states
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        batch = hidden_states.shape[0]
        query = attn.to_q(hidden_states)
        key = _with_anchor(attn.to_k(hidden_states), frames)
        value = _with_anchor(attn.to_v(hidden_states), frames)
        heads, head_dim = attn.heads, key.shape[-1] // attn.heads
        query, key, value = (x.view(batch, -1, heads, head_dim).transpose(1, 2) for x in (query, key, value))
        if getattr(attn, "norm_q", None) is not None:
            query = attn.norm_q(query)
        if getattr(attn, "norm_k", None) is not None:
            key = attn.norm_k(key)
        out = F.scaled_dot_product_attention(query, key, value, scale=attn.scale)
        out = out.transpose(1, 2).reshape(batch, -1, heads * head_dim).to(query.dtype)
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


def _with_anchor(tokens: Any, frames: int) -> Any:
    """(B, L, C) -> (B, 2L, C): each frame's tokens after those of frame 0 of its block of ``frames``."""
    import torch

    batch, length, dim = tokens.shape
    blocks = tokens.view(batch // frames, frames, length, dim)
    anchor = blocks[:, :1].expand(-1, frames, -1, -1)
    return torch.cat([anchor, blocks], dim=2).reshape(batch, 2 * length, dim)


def _share_of(call: ExpertCall, done: int, count: int, total: int) -> ExpertCall:
    """``call`` whose progress reports for frames ``done + 1 .. done + count`` count as that share of ``total``."""
    def progress(fraction: float, message: str) -> None:
        call.progress((done + fraction * count) / total, f"frames {done + 1}-{done + count} of {total}: {message}")

    return dataclasses.replace(call, progress=progress)


def _video(call: ExpertCall, expert: str) -> tuple[np.ndarray, float]:
    """The video input's (T, H, W, 3) uint8 RGB frames and fps, or a ``BadInputError`` saying what arrived."""
    if call.video is None:
        raise BadInputError(f"{expert} needs a video input; none was given")
    frames = np.asarray(call.video.frames)
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8 or not len(frames):
        raise BadInputError(f"{expert} needs (T, H, W, 3) uint8 RGB frames, got {frames.shape} {frames.dtype}")
    return frames, call.video.fps


def masked_edit_prompts(op: str, call: ExpertCall) -> tuple[str, str | None]:
    """(prompt, negative prompt) of a masked video edit; all but restyle as in ``sd_inpaint``."""
    subject = target_words(call.command)
    if op == "restyle":
        style = str(call.args.get("style") or "").strip()
        if not (style or subject):
            raise BadInputError("restyle needs args.style: the look to paint, e.g. 'a watercolor painting'")
        return ", ".join(part for part in (subject, style) if part), None
    return SDInpaintExpert._prompts(op, call)
