"""Wan 2.1 video experts on diffusers: text-to-video, image-to-video, and VACE masked video editing.

Weights (a cached hub id or a ``save_pretrained`` folder; safetensors only, never downloaded):

- ``wan_t2v``: ``Wan-AI/Wan2.1-T2V-1.3B-Diffusers`` (``WanPipeline``): a clip from a prompt.
- ``wan_i2v``: ``Wan-AI/Wan2.1-I2V-14B-480P-Diffusers`` (``WanImageToVideoPipeline``): animates a still; a CLIP
  vision encoder reads the image, and its first frame conditions every latent.
- ``wan_vace``: ``Wan-AI/Wan2.1-VACE-1.3B-diffusers`` (``WanVACEPipeline``): regenerates a video inside its
  per-frame masks (white = regenerate) from a prompt, all frames of a window denoised together, so the edit
  stays consistent in time. Outside the masks the source pixels are kept (composited back, feathered edge).

Wan's VAE packs the first frame alone and every 4 frames after it into one latent, so Wan makes 4k+1 frames:
a generated clip's count is rounded up to that, and an edited clip is padded (its last frame repeated) and cut
back. Sizes are multiples of 16 (8x VAE, 2x2 patches). The pipelines call ``ftfy`` on every prompt.
Common ``args``: ``steps`` (50), ``guidance`` (5.0), ``seed`` (0), ``negative``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec, VideoClip

from ._common import feathered_blend, input_image, tracked_masks
from ._diffusers import DiffusersExpert
from .video_diffusion_edit import masked_edit_prompts

__all__ = ["WanTextToVideoExpert", "WanImageToVideoExpert", "WanVACEExpert"]

REQUIRES = ("torch", "diffusers", "transformers", "ftfy")
WAN_AREA = 480 * 832
"""Pixels per frame of Wan 2.1's 480P releases (the 1.3B models and I2V-14B-480P)."""
REPAINT_OPS = ("replace", "add", "remove")
"""Edits that paint something new: the masked source pixels are greyed out first (VACE's inpainting input),
so the model does not copy the old object back. Recolour and restyle keep them, to keep its shape."""


class _WanExpert(DiffusersExpert):
    """What the three Wan experts share: prompts, Wan's frame counts and sizes, frames as uint8."""

    abstract = True

    def prompts(self, call: ExpertCall, default: str = "") -> tuple[str, str | None]:
        """(prompt, negative prompt) from the command and ``args.negative``."""
        prompt = call.command.strip() or default
        if not prompt:
            raise BadInputError(f"{self.spec.name} needs a prompt (the command) describing the video")
        return prompt, call.args.get("negative")

    def frame_count(self, call: ExpertCall, default: int) -> tuple[int, float]:
        """(frames rounded up to Wan's 4k+1, fps) from ``args.frames`` and ``args.fps`` (16, Wan's rate)."""
        count, fps = int(call.args.get("frames", default)), float(call.args.get("fps", 16))
        if not (1 <= count <= 241 and 1 <= fps <= 60):
            raise BadInputError(f"{self.spec.name} needs 1-241 frames and 1-60 fps; got {count} frames, {fps:g} fps")
        return _wan_length(count, self.pipe.vae_scale_factor_temporal), fps

    def size_multiple(self) -> int:
        """Frame sides must be multiples of this: the VAE's downsampling times the transformer's patch."""
        return self.pipe.vae_scale_factor_spatial * self.pipe.transformer.config.patch_size[1]

    def generate(self, call: ExpertCall, steps: int, **inputs: Any) -> np.ndarray:
        """One seeded pipeline call; (T, H, W, 3) uint8 frames."""
        output = self.pipe(**inputs, num_inference_steps=steps, guidance_scale=float(call.args.get("guidance", 5.0)),
                           generator=self.generator(call), output_type="np",
                           **self.progress_kwargs(call, steps, "denoising"))
        return np.clip(np.rint(np.asarray(output.frames[0]) * 255), 0, 255).astype(np.uint8)


class WanTextToVideoExpert(_WanExpert):
    """Generates a clip from the prompt. ``args``: ``frames`` (81), ``fps`` (16), ``width``, ``height``, ``steps``,
    ``guidance``, ``seed``, ``negative``. Options: ``width`` (832) and ``height`` (480), the size made when the
    call names none (Wan 2.1's 480P landscape)."""

    spec = ExpertSpec(
        name="wan_t2v",
        tasks=("generate_video",),
        description="Generates a short video clip from a prompt (Wan 2.1 text-to-video diffusion transformer).",
        input_kinds=("text",),
        outputs=("video",),
        weights="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        extra="diffusion",
        requires=REQUIRES,
        quality=20,
        costly=True,
    )
    pipeline_class = "WanPipeline"

    def __init__(self, weights: str | None = None, width: int = 832, height: int = 480, **options: Any) -> None:
        super().__init__(weights, **options)
        self.width, self.height = int(width), int(height)

    def run(self, call: ExpertCall) -> ExpertResult:
        prompt, negative = self.prompts(call)
        steps = self.steps(call, 50)
        count, fps = self.frame_count(call, 81)
        width, height = int(call.args.get("width", self.width)), int(call.args.get("height", self.height))
        multiple = self.size_multiple()
        if not (width % multiple == height % multiple == 0 and 0 < width <= 2048 and 0 < height <= 2048):
            raise BadInputError(f"wan_t2v makes frames whose sides are multiples of {multiple} up to 2048; "
                                f"got {width}x{height}")
        frames = self.generate(call, steps, prompt=prompt, negative_prompt=negative, height=height, width=width,
                               num_frames=count)
        call.progress(1.0, "done")
        return ExpertResult(videos=[VideoClip(frames, fps)],
                            text=f"generated {len(frames)} frames of {width}x{height} at {fps:g} fps")


class WanImageToVideoExpert(_WanExpert):
    """Animates the input image; the command says how it moves. ``args``: ``frames`` (81), ``fps`` (16),
    ``steps``, ``guidance``, ``seed``, ``negative``. Options: ``max_area`` (480x832 pixels: the video keeps the
    image's aspect ratio at about this many pixels per frame)."""

    spec = ExpertSpec(
        name="wan_i2v",
        tasks=("animate_image",),
        description="Turns a still image into a short video, guided by a prompt about the motion "
                    "(Wan 2.1 image-to-video diffusion transformer).",
        input_kinds=("image",),
        outputs=("video",),
        weights="Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        extra="diffusion",
        requires=REQUIRES,
        quality=20,
        costly=True,
    )
    pipeline_class = "WanImageToVideoPipeline"

    def __init__(self, weights: str | None = None, max_area: int = WAN_AREA, **options: Any) -> None:
        super().__init__(weights, **options)
        self.max_area = int(max_area)

    def run(self, call: ExpertCall) -> ExpertResult:
        from PIL import Image

        image = input_image(call, self.spec.name)
        prompt, negative = self.prompts(call, default="natural motion")
        steps = self.steps(call, 50)
        count, fps = self.frame_count(call, 81)
        width, height = area_size(*image.shape[:2], self.max_area, self.size_multiple(), upscale=True)
        frames = self.generate(call, steps, image=Image.fromarray(image), prompt=prompt, negative_prompt=negative,
                               height=height, width=width, num_frames=count)
        call.progress(1.0, "done")
        return ExpertResult(videos=[VideoClip(frames, fps)],
                            text=f"animated the image: {len(frames)} frames of {width}x{height} at {fps:g} fps")


class WanVACEExpert(_WanExpert):
    """Replaces, adds, removes, recolours or restyles an object across a video inside its tracked masks.

    ``args``: ``new`` (replace/add), ``color`` (recolor), ``style`` (restyle), ``steps``, ``guidance``, ``seed``,
    ``negative``. Options: ``max_area`` (480x832: larger clips are edited downscaled, then composited back at
    full size), ``window_frames`` (81, Wan's training length; longer clips go in windows, each starting on the
    previous window's last edited frame, kept, so the edit continues across them).
    """

    spec = ExpertSpec(
        name="wan_vace",
        tasks=("edit_video",),
        edit_ops=("replace", "add", "remove", "recolor", "restyle"),
        description=("Edits an object across a video: replaces, adds, removes, recolours or restyles it inside its "
                     "tracked masks (restyle also whole frames); all frames are denoised together, so the edit "
                     "stays consistent (Wan 2.1 VACE)."),
        input_kinds=("video",),
        region_kinds=("mask",),
        region_required=True,
        region_free_ops=("restyle",),
        outputs=("video",),
        weights="Wan-AI/Wan2.1-VACE-1.3B-diffusers",
        extra="diffusion",
        requires=REQUIRES,
        quality=20,
        costly=True,
    )
    pipeline_class = "WanVACEPipeline"

    def __init__(self, weights: str | None = None, max_area: int = WAN_AREA, window_frames: int = 81,
                 **options: Any) -> None:
        super().__init__(weights, **options)
        self.max_area, self.window_frames = int(max_area), int(window_frames)
        if self.window_frames < 5 or self.window_frames % 4 != 1:
            raise BadInputError(f"window_frames must be 4k+1 and at least 5 (Wan's frame counts), got {window_frames}")

    def run(self, call: ExpertCall) -> ExpertResult:
        if call.video is None:
            raise BadInputError(f"{self.spec.name} needs a video input; none was given")
        frames, fps = np.asarray(call.video.frames), call.video.fps
        if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8 or not len(frames):
            raise BadInputError(f"{self.spec.name} needs (T, H, W, 3) uint8 RGB frames, got {frames.shape} {frames.dtype}")
        op = call.invocation.op or ""
        if op not in self.spec.edit_ops:
            raise BadInputError(f"{self.spec.name} does {', '.join(self.spec.edit_ops)}, not {op!r}")
        masks = tracked_masks(call, op, frames.shape[:3], self.spec)
        if masks is not None and not masks.any():
            raise RegionError(f"{self.spec.name}: the masks are empty on every frame; track the object first")
        prompt, negative = edit_prompts(op, call)
        steps = self.steps(call, 50)
        size = area_size(*frames.shape[1:3], self.max_area, self.size_multiple(), upscale=False)
        sources = _resize(frames, size)
        holes = np.ones(sources.shape[:3], bool) if masks is None else _resize_masks(masks, size)
        edited = frames.copy()
        windows = _windows(len(frames), self.window_frames)
        carry: np.ndarray | None = None  # the last edited frame of the previous window, at the work size
        for number, (start, stop) in enumerate(windows):
            clip, hole = sources[start:stop].copy(), holes[start:stop].copy()
            if op in REPAINT_OPS:
                clip[hole] = 128
            if carry is not None:  # continue from the edit already made: kept, not regenerated
                clip[0], hole[0] = carry, False
            painted = self._paint(_share_of(call, number, len(windows)), clip, hole, prompt, negative, steps)
            carry = np.where(holes[stop - 1][..., None], painted[-1], sources[stop - 1])
            for t in range(start + (1 if start else 0), stop):
                full = _resize(painted[t - start][None], frames.shape[2:0:-1])[0]
                if masks is None:
                    edited[t] = full
                elif masks[t].any():
                    edited[t] = feathered_blend(full, frames[t], masks[t])
        edited_count = len(frames) if masks is None else int(masks.any(axis=(1, 2)).sum())
        return ExpertResult(
            videos=[VideoClip(edited, fps)],
            text=f"{op}: painted {prompt!r} into {edited_count} of {len(frames)} frames at {fps:g} fps",
            data={"edited_frames": edited_count, "windows": len(windows), "work_size": list(size)})

    def _paint(self, call: ExpertCall, clip: np.ndarray, hole: np.ndarray, prompt: str, negative: str | None,
               steps: int) -> np.ndarray:
        """VACE on ``clip`` (N, h, w, 3) uint8 inside ``hole`` (N, h, w) bool, padded to 4k+1 frames by repeating
        the last; (N, h, w, 3) uint8."""
        from PIL import Image

        count = len(clip)
        pad = _wan_length(count, self.pipe.vae_scale_factor_temporal) - count
        clip = np.concatenate([clip, np.repeat(clip[-1:], pad, axis=0)])
        hole = np.concatenate([hole, np.repeat(hole[-1:], pad, axis=0)])
        frames = self.generate(
            call, steps, video=[Image.fromarray(f) for f in clip],
            mask=[Image.fromarray(m.astype(np.uint8) * 255) for m in hole], prompt=prompt, negative_prompt=negative,
            height=clip.shape[1], width=clip.shape[2], num_frames=len(clip))
        return frames[:count]



def edit_prompts(op: str, call: ExpertCall) -> tuple[str, str | None]:
    """(prompt, negative prompt) of a masked edit, as the other video editors paint (``args.new``, ``args.color``,
    ``args.style``; a removal paints background and avoids the target), plus ``args.negative`` to avoid."""
    prompt, negative = masked_edit_prompts(op, call)
    avoid = ", ".join(part for part in (negative and negative.strip(), call.args.get("negative")) if part)
    return prompt, avoid or None


def area_size(height: int, width: int, max_area: int, multiple: int, upscale: bool) -> tuple[int, int]:
    """(w, h) with the aspect ratio of ``height`` x ``width`` at about ``max_area`` pixels (at most the input's
    size unless ``upscale``), each side a multiple of ``multiple``."""
    scale = math.sqrt(max_area / (height * width))
    scale = scale if upscale else min(1.0, scale)
    return (max(multiple, round(width * scale) // multiple * multiple),
            max(multiple, round(height * scale) // multiple * multiple))


def _wan_length(count: int, temporal: int) -> int:
    """The smallest frame count Wan makes (k * ``temporal`` + 1) that holds ``count`` frames."""
    return count + (-(count - 1)) % temporal


def _windows(count: int, length: int) -> list[tuple[int, int]]:
    """[start, stop) frame windows of at most ``length`` covering ``count`` frames; each after the first starts
    on the last frame of the one before."""
    windows = [(0, min(count, length))]
    while windows[-1][1] < count:
        start = windows[-1][1] - 1
        windows.append((start, min(count, start + length)))
    return windows


def _resize(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N, H, W, 3) uint8 frames at ``size`` (w, h); the same array when it already is."""
    import cv2

    if frames.shape[2:0:-1] == tuple(size):
        return frames
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA if f.shape[1] > size[0] else cv2.INTER_CUBIC)
                     for f in frames])


def _resize_masks(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(T, h, w) bool at ``size`` (w, h): a work pixel is regenerated when any source pixel under it is masked."""
    import cv2

    if masks.shape[:0:-1] == tuple(size):
        return np.array(masks)
    return np.stack([cv2.resize(m.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0 for m in masks])


def _share_of(call: ExpertCall, window: int, windows: int) -> ExpertCall:
    """``call`` whose progress reports count as window ``window``'s share of ``windows``."""
    def progress(fraction: float, message: str) -> None:
        call.progress((window + fraction) / windows, f"window {window + 1}/{windows}: {message}")

    return dataclasses.replace(call, progress=progress) if windows > 1 else call
