"""SAM 2 (Segment Anything 2 / 2.1, transformers ``Sam2Model`` and ``Sam2VideoModel``): masks on images and tracking.

Two registry entries, one checkpoint: ``sam2`` segments images from boxes, clicks or a mask hint, and ``sam2_video``
follows objects through a video from a prompt on one frame, with SAM 2's memory of earlier frames carrying them
through occlusions. Weights: ``facebook/sam2.1-hiera-large`` by default (also ``-base-plus``, ``-small``,
``-tiny``): a ``save_pretrained`` folder or a cached hub id, safetensors only, never downloaded. The release is a
video checkpoint; ``Sam2Model`` reads its image part and ignores the memory weights.

``sam2``: each image is embedded once and then prompted as often as asked (same pixels -> no second encoder run).
``sam2_video``: tracks forward from the region's frame (the keyframe) to the end, then backward to frame 0. What a
long clip keeps is bounded: frames are preprocessed when the model asks for them and only ``frames_held`` stay
(the library's session would keep every frame, 12 MB each at 1024 px), the vision-feature cache holds one frame,
and after each frame the per-frame outputs the memory will not read again are dropped (``memory_window``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import input_image, torch_dtype
from ._hf import TransformersExpert

__all__ = ["Sam2Expert", "Sam2VideoExpert", "SAM2_WEIGHTS", "MASK_LOGIT"]

SAM2_WEIGHTS = "facebook/sam2.1-hiera-large"
MASK_LOGIT = 10.0
"""A mask hint becomes logits of +-10 (what SAM 2 itself uses for a mask taken as given: sigmoid(10) ~ 1)."""


@dataclass
class _Prompts:
    """The region as SAM 2 prompts, one object per entry: ``boxes`` [x1, y1, x2, y2] pixels, ``points`` [[x, y]]
    clicks with ``labels`` (1 object, 0 background), or a ``mask`` (H, W) bool; ``count`` objects in all."""

    boxes: list[list[float]] = field(default_factory=list)
    points: list[list[list[float]]] = field(default_factory=list)
    labels: list[list[int]] = field(default_factory=list)
    mask: np.ndarray | None = None

    @property
    def count(self) -> int:
        return max(len(self.boxes), len(self.points), 1 if self.mask is not None else 0)

    def processor_args(self) -> dict[str, Any]:
        """Boxes and clicks in the nesting the SAM 2 processors read (image, object, point, xy)."""
        args: dict[str, Any] = {}
        if self.boxes:
            args["input_boxes"] = [self.boxes]
        if self.points:
            args["input_points"], args["input_labels"] = [self.points], [self.labels]
        return args


def _read_prompts(call: ExpertCall, shape: tuple[int, int], expert: str, mask: np.ndarray | None) -> _Prompts:
    """Boxes -> one object each; clicks -> one object (or they refine the one box they come with); ``mask``: the
    region's mask on the prompted frame (H, W), checked against ``shape`` (H, W)."""
    height, width = shape
    prompts = _Prompts()
    for box in call.boxes:
        x1, y1, x2, y2 = (float(c) for c in box)
        if not (x1 < x2 and y1 < y2) or x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:
            raise RegionError(f"{expert}: box {[x1, y1, x2, y2]} is empty or outside the {width}x{height} frame; "
                              "boxes are pixels [x1, y1, x2, y2] with x1<x2, y1<y2")
        prompts.boxes.append([x1, y1, x2, y2])
    if call.points:
        if len(prompts.boxes) > 1:
            raise RegionError(f"{expert}: clicks refine one box, but {len(prompts.boxes)} boxes came with them; "
                              "give one box with its clicks, or boxes alone")
        if not prompts.boxes and not any(p.positive for p in call.points):
            raise RegionError(f"{expert}: every click is a background click; click on the object at least once")
        prompts.points = [[[float(p.x), float(p.y)] for p in call.points]]
        prompts.labels = [[1 if p.positive else 0 for p in call.points]]
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (height, width):
            raise RegionError(f"{expert}: the mask is {mask.shape[1]}x{mask.shape[0]} but the frame is {width}x{height}")
        if not mask.any():
            raise RegionError(f"{expert}: the region's mask is empty; nothing to segment")
        prompts.mask = mask
    if not prompts.count:
        raise RegionError(f"{expert} needs a region: a box, clicks or a mask on the object")
    return prompts


def _mask_box(mask: np.ndarray) -> list[float]:
    """The (x1, y1, x2, y2) pixel box around a non-empty (H, W) mask."""
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


class Sam2Expert(TransformersExpert):
    """SAM 2 on images: one mask per box, one for the clicks (a single click: the best of SAM 2's three guesses), a
    mask hint as SAM 2's dense prompt (with its bounding box when nothing else is given). ``data["scores"]``: the
    predicted IoU of each mask."""

    spec = ExpertSpec(
        name="sam2",
        tasks=("segment",),
        description="Segments objects precisely from boxes, clicks or a rough mask; one mask per box (SAM 2.1).",
        input_kinds=("image",),
        region_kinds=("box", "points", "mask"),
        region_required=True,
        outputs=("mask",),
        weights=SAM2_WEIGHTS,
        extra="sam2",
        requires=("torch", "transformers"),
        quality=20,
    )

    def __init__(self, weights: str | None = None, **options: Any) -> None:
        super().__init__(weights, **options)
        self._embedded: tuple[str, Any] | None = None  # (digest of the image, its embeddings)
        self.images_embedded = 0

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        from transformers import Sam2Model, Sam2Processor

        folder = self.weights_folder(device)
        self.processor = Sam2Processor.from_pretrained(folder, local_files_only=True)
        self.model = Sam2Model.from_pretrained(folder, local_files_only=True, use_safetensors=True,
                                               dtype=torch_dtype(dtype, self.device)).to(self.device).eval()
        self._embedded, self.loaded = None, True

    def unload(self) -> None:
        self._embedded = None
        super().unload()

    def run(self, call: ExpertCall) -> ExpertResult:
        import torch

        image = input_image(call, self.spec.name)
        height, width = image.shape[:2]
        prompts = _read_prompts(call, (height, width), self.spec.name, call.mask)
        if prompts.mask is not None and not prompts.boxes and not prompts.points:
            prompts.boxes = [_mask_box(prompts.mask)]
        embeddings = self._embed(image)
        encoded = self.processor(original_sizes=[[height, width]], return_tensors="pt", **prompts.processor_args())
        dtype = self.model.dtype  # clicks and boxes stay float32: bfloat16 pixels would be off by up to 4 px
        inputs = {key: encoded[key].to(self.device) for key in ("input_boxes", "input_points", "input_labels")
                  if key in encoded}
        if prompts.mask is not None:
            hint = torch.from_numpy(prompts.mask.astype(np.float32) * 2 * MASK_LOGIT - MASK_LOGIT)
            inputs["input_masks"] = hint[None, None].to(self.device, dtype=dtype)
        one_click = not prompts.boxes and len(prompts.labels[0]) == 1
        with torch.inference_mode():
            out = self.model(image_embeddings=embeddings, multimask_output=one_click, **inputs)
        scores = out.iou_scores[0].float()  # (objects, guesses)
        best = scores.argmax(dim=-1)
        chosen = out.pred_masks[0][torch.arange(len(best)), best].float()  # (objects, h, w) logits
        masks = self.processor.post_process_masks([chosen[:, None]], [[height, width]])[0][:, 0].cpu().numpy()
        found = [np.asarray(m, dtype=bool) for m in masks]
        share = 100.0 * float(np.logical_or.reduce(found).mean())
        return ExpertResult(masks=found, text=f"segmented {len(found)} region(s), {share:.1f}% of the image",
                            data={"scores": [round(float(s), 4) for s in scores.gather(1, best[:, None])[:, 0]]})

    def _embed(self, image: np.ndarray) -> Any:
        """The image's embeddings, computed only when the pixels differ from the last image's."""
        import torch

        digest = hashlib.sha1(image.tobytes()).hexdigest() + str(image.shape)
        if self._embedded is None or self._embedded[0] != digest:
            pixels = self.processor(images=image.copy(), return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                embeddings = self.model.get_image_embeddings(pixels.to(self.device, dtype=self.model.dtype))
            self._embedded = (digest, embeddings)
            self.images_embedded += 1
        return self._embedded[1]


class _FrameWindow(Mapping):
    """A clip's frames as the SAM 2 session reads them (``processed_frames``): each preprocessed when first asked
    for, and only the last ``keep`` held, so a long clip costs a few frames of memory, not all of them. Its length
    is the clip's, as the model reads it to bound its memory of object pointers."""

    def __init__(self, frames: np.ndarray, video_processor: Any, device: str, dtype: Any, keep: int = 2) -> None:
        self.frames, self.video_processor, self.device, self.dtype = frames, video_processor, device, dtype
        self.keep = max(1, int(keep))
        self.held: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.frames)))

    def __getitem__(self, index: int) -> Any:
        if index not in self.held:
            if not 0 <= index < len(self.frames):
                raise KeyError(index)
            processed = self.video_processor(videos=self.frames[index:index + 1].copy(), device=self.device,
                                             return_tensors="pt")
            self.held[index] = processed.pixel_values_videos[0][0].to(self.device, dtype=self.dtype)
            while len(self.held) > self.keep:
                self.held.pop(next(iter(self.held)))
        return self.held[index]


class Sam2VideoExpert(TransformersExpert):
    """SAM 2 tracking: a box (one object each), clicks or a mask on the keyframe (``call.frames[0]``, the frame
    the region was drawn on; else frame 0) -> one (T, H, W) mask per object. Frames after the keyframe are tracked
    forward, frames before it backward, so every frame is covered.

    Options: ``memory_window`` (frames of per-frame outputs kept on each side of the current frame and of the
    keyframe; default: the most the model reads, ``max(num_maskmem, max_object_pointers_in_encoder) - 1``, which
    gives exactly the unpruned result; smaller saves memory and shortens what the model remembers),
    ``frames_held`` (preprocessed frames kept, 2). ``cpu_offload`` on CUDA keeps the session's state on the CPU.
    ``session``: the library's inference session while a call runs (None otherwise), for inspection.
    """

    spec = ExpertSpec(
        name="sam2_video",
        tasks=("track",),
        description=("Follows objects through a video from a box, clicks or a mask on one frame, through "
                     "occlusions, forward and backward; one mask video per object (SAM 2.1)."),
        input_kinds=("video",),
        region_kinds=("box", "points", "mask"),
        region_required=True,
        outputs=("mask",),
        weights=SAM2_WEIGHTS,
        extra="sam2",
        requires=("torch", "transformers"),
        quality=20,
    )

    def __init__(self, weights: str | None = None, memory_window: int | None = None, frames_held: int = 2,
                 **options: Any) -> None:
        super().__init__(weights, **options)
        self.memory_window = None if memory_window is None else max(1, int(memory_window))
        self.frames_held = int(frames_held)
        self.session: Any = None

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        from transformers import Sam2VideoModel, Sam2VideoProcessor

        folder = self.weights_folder(device)
        self.processor = Sam2VideoProcessor.from_pretrained(folder, local_files_only=True)
        self.model = Sam2VideoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True,
                                                    dtype=torch_dtype(dtype, self.device)).to(self.device).eval()
        self.loaded = True

    def window(self) -> int:
        """Frames of outputs kept on each side (see the class docstring)."""
        config = self.model.config
        return self.memory_window or max(config.num_maskmem, config.max_object_pointers_in_encoder) - 1

    def run(self, call: ExpertCall) -> ExpertResult:
        if call.video is None:
            raise BadInputError(f"{self.spec.name} needs a video input")
        frames = np.asarray(call.video.frames)
        if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8 or not len(frames):
            raise BadInputError(f"{self.spec.name} needs (T, H, W, 3) uint8 RGB frames, got {frames.shape} {frames.dtype}")
        count, height, width = frames.shape[:3]
        keyframe = call.frames[0] if call.frames else 0
        if not 0 <= keyframe < count:
            raise RegionError(f"keyframe {keyframe} is outside the video's {count} frames (0-{count - 1})")
        region_mask = None
        if call.mask is not None and call.mask.ndim == 3:
            if len(call.mask) != count:
                raise RegionError(f"the region's mask video has {len(call.mask)} frames but the video has {count}")
            region_mask = call.mask[keyframe]
        elif call.mask is not None:
            region_mask = call.mask
        if region_mask is not None and (call.boxes or call.points):
            raise RegionError(f"{self.spec.name} takes a mask or boxes and clicks on the keyframe, not both")
        prompts = _read_prompts(call, (height, width), self.spec.name, region_mask)
        self.session = self._open_session(frames)
        try:
            masks, kept = self._track(call, prompts, keyframe)
        finally:
            self.session = None
        lost = [[t for t in range(count) if not track[t].any()] for track in masks]
        text = f"tracked {len(masks)} object(s) over {count} frames from frame {keyframe}"
        text += "".join(f"; object {n} lost on {len(gone)} frame(s)" for n, gone in enumerate(lost, 1) if gone)
        return ExpertResult(masks=list(masks), text=text,
                            data={"keyframe": keyframe, "object_ids": list(range(1, len(masks) + 1)),
                                  "lost_frames": [gone[:50] for gone in lost], "memory_frames_peak": kept})

    def _open_session(self, frames: np.ndarray) -> Any:
        """A session whose frames are a ``_FrameWindow`` (bounded) and whose state sits on the CPU when offloading."""
        dtype = self.model.dtype
        state = "cpu" if self.cpu_offload and self.device.startswith("cuda") else self.device
        session = self.processor.init_video_session(inference_device=self.device, inference_state_device=state,
                                                    video_storage_device=state, dtype=dtype)
        session.video_height, session.video_width = frames.shape[1:3]
        session.processed_frames = _FrameWindow(frames, self.processor.video_processor, state, dtype, self.frames_held)
        return session

    def _track(self, call: ExpertCall, prompts: _Prompts, keyframe: int) -> tuple[np.ndarray, int]:
        """(objects, T, H, W) bool masks, and the most per-frame outputs the session held at once."""
        import torch

        session, count = self.session, len(self.session.processed_frames)
        height, width = session.video_height, session.video_width
        ids = list(range(1, prompts.count + 1))
        if prompts.mask is not None:
            self.processor.add_inputs_to_inference_session(session, frame_idx=keyframe, obj_ids=ids,
                                                           input_masks=[prompts.mask])
        else:
            self.processor.add_inputs_to_inference_session(session, frame_idx=keyframe, obj_ids=ids,
                                                           **prompts.processor_args())
        masks = np.zeros((len(ids), count, height, width), bool)
        done: set[int] = set()
        peak = 0
        with torch.inference_mode():
            for reverse in (False, True):
                for output in self.model.propagate_in_video_iterator(session, start_frame_idx=keyframe,
                                                                     reverse=reverse):
                    index = output.frame_idx
                    found = self.processor.post_process_masks([output.pred_masks.float()], [[height, width]])[0]
                    masks[:, index] = found[:, 0].cpu().numpy()
                    peak = max(peak, _prune_memory(session, index, keyframe, self.window()))
                    if index not in done:
                        done.add(index)
                        call.progress(len(done) / count, f"frame {len(done)}/{count}")
        return masks, peak


def _prune_memory(session: Any, current: int, keyframe: int, window: int) -> int:
    """Drop what SAM 2's memory will not read again and return the per-frame outputs left (all objects).

    Tracking frame ``t`` reads the outputs of the ``window`` frames before it (after it, going backward) and of the
    prompted frames; the backward pass starts at the keyframe, so frames near it stay too. Full-size mask logits
    (``high_res_masks``) are only read on the frame that made them."""
    left = 0
    for obj_idx, outputs in session.output_dict_per_obj.items():
        tracked = outputs["non_cond_frame_outputs"]
        for index in list(tracked):
            if abs(index - current) > window and abs(index - keyframe) > window:
                del tracked[index]
                session.frames_tracked_per_obj[obj_idx].pop(index, None)
        for kept in (*tracked.values(), *outputs["cond_frame_outputs"].values()):
            kept.pop("high_res_masks", None)
        left += len(tracked) + len(outputs["cond_frame_outputs"])
    return left
