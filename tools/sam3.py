"""SAM 3 (transformers ``Sam3Model`` / ``Sam3VideoModel``): every instance of a concept named in words, segmented
in an image or tracked through a video, in one call (no grounding step first).

Weights: ``facebook/sam3`` (one release holds the detector and the tracker; ``Sam3Model`` reads the detector
part of it), or any ``save_pretrained`` folder of the model and its processor; safetensors only, never downloaded.

- ``sam3`` (segment and ground, images): "every person", "the red car" -> one mask, box and score per instance,
  best first, masks and ``Detection``s in the same order (so the graph keeps one for "the cat" and all for "the
  cats"); ``ground`` gives the boxes alone (the processor's detection post-processing, no masks). A box region is
  also an exemplar prompt, and picks the instance that overlaps it most.
- ``sam3_video`` (track, videos): the detector runs on every frame and the tracker follows what it found, so
  objects that enter mid-clip are picked up; one (T, H, W) mask per tracked object. A box or mask region on the
  keyframe keeps the object that overlaps it. Frames are preprocessed one at a time as the model asks for them and
  the session forgets per-frame memories the tracker can no longer read, so memory stays flat on long clips.

Options (constructor) and ``args`` (per call, same names): ``threshold`` (detection score, image 0.5; video: the
checkpoint's ``score_threshold_detection``), ``mask_threshold`` (image, 0.5), ``new_threshold`` (video: the score
that starts a new track, the checkpoint's ``new_det_thresh``); ``args.instances``: ``one`` keeps only the
best-scoring tracked object. ``cpu_offload`` on a GPU: the image model is placed by ``device_map="auto"``, the video
session keeps its state in RAM.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from vitron_agent.errors import BadInputError, RegionError
from vitron_agent.experts.base import Detection, ExpertCall, ExpertResult, ExpertSpec

from ._common import box_iou, clip_box, input_image, torch_dtype
from ._hf import TransformersExpert

__all__ = ["Sam3Expert", "Sam3VideoExpert", "concept_phrase", "bound_session", "session_bytes"]

WEIGHTS = "facebook/sam3"

_LEAD = re.compile(r"^(?:(?:segment|track|find|detect|mask|locate|select|follow|highlight)\b\s*)?"
                   r"(?:(?:all|every|each|both)\b\s*(?:of\b\s*)?)?(?:(?:the|a|an|this|that|these|those)\b\s*)?", re.I)


def concept_phrase(command: str) -> str:
    """The concept words SAM 3 is prompted with: 'segment every person' -> 'person', 'the red cars' -> 'red cars'."""
    return _LEAD.sub("", command.strip()).strip(" .,;:!?")


class Sam3Expert(TransformersExpert):
    """Boxes (ground) or instance masks and boxes (segment) for a concept phrase on an image (see the module
    docstring for options)."""

    spec = ExpertSpec(
        name="sam3",
        tasks=("ground", "segment"),
        description=("Finds and segments every instance of anything named in words ('every person', 'the red "
                     "car') in one step: a box, score and mask per instance; a box picks the instance in it (SAM 3)."),
        input_kinds=("image",),
        region_kinds=("box",),
        outputs=("mask", "boxes"),
        weights=WEIGHTS,
        extra="sam3",
        requires=("torch", "torchvision", "transformers"),
        quality=20,
    )

    def __init__(self, weights: str | None = None, threshold: float = 0.5, mask_threshold: float = 0.5,
                 **options: Any) -> None:
        super().__init__(weights, **options)
        self.threshold, self.mask_threshold = float(threshold), float(mask_threshold)

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        from transformers import Sam3Model, Sam3Processor

        folder = self.weights_folder(device)
        self.processor = Sam3Processor.from_pretrained(folder, local_files_only=True)
        placement = {"device_map": "auto"} if self.cpu_offload and self.device.startswith("cuda") else {}
        model = Sam3Model.from_pretrained(folder, local_files_only=True, use_safetensors=True,
                                          dtype=torch_dtype(dtype, self.device), **placement)
        self.model = (model if placement else model.to(self.device)).eval()
        self.loaded = True

    def run(self, call: ExpertCall) -> ExpertResult:
        import torch

        image = input_image(call, self.spec.name)
        phrase = concept_phrase(call.command)
        if not phrase and not call.boxes:
            raise BadInputError("sam3 needs the words of what to find (e.g. 'every person') or a box around one")
        threshold = float(call.args.get("threshold", self.threshold))
        boxes = [[list(map(float, box)) for box in call.boxes]] if call.boxes else None
        inputs = self.processor(images=image.copy(), text=phrase or None, input_boxes=boxes, return_tensors="pt")
        inputs = inputs.to(self.model.device, dtype=self.model.dtype)
        with torch.inference_mode():
            outputs = self.model(**inputs)
        sizes = inputs["original_sizes"].tolist()
        if call.task == "ground":
            found = self.processor.post_process_object_detection(outputs, threshold=threshold, target_sizes=sizes)[0]
        else:
            found = self.processor.post_process_instance_segmentation(
                outputs, threshold=threshold, target_sizes=sizes,
                mask_threshold=float(call.args.get("mask_threshold", self.mask_threshold)))[0]
        scores = found["scores"].float().cpu().numpy()
        order = [int(i) for i in np.argsort(-scores, kind="stable")]  # best first
        height, width = image.shape[:2]
        label = phrase or "object in the box"
        detections = [Detection(clip_box(found["boxes"][i].float().tolist(), width, height), label, float(scores[i]))
                      for i in order]
        masks = [found["masks"][i].cpu().numpy().astype(bool) for i in order] if "masks" in found else []
        if call.boxes:
            picked = _best_overlaps(detections, call.boxes, threshold)
            detections, masks = [detections[i] for i in picked], [masks[i] for i in picked if masks]
        data = {"scores": [round(d.score, 4) for d in detections]}
        if call.task == "ground":
            return ExpertResult(detections=detections, text=f"found {len(detections)} '{label}'", data=data)
        if not masks:
            raise RegionError(f"sam3 found no {label!r} scoring above {threshold}; lower args.threshold to see "
                              "weaker matches, or name the object differently")
        return ExpertResult(masks=masks, detections=detections, text=f"segmented {len(masks)} '{label}'", data=data)


def _best_overlaps(detections: list[Detection], boxes: list[tuple[float, float, float, float]],
                   threshold: float) -> list[int]:
    """Per region box, the detection that overlaps it most (each kept once); a box nothing overlaps is an error."""
    picked: list[int] = []
    for box in boxes:
        overlaps = [box_iou(d.box, box) for d in detections]
        if not overlaps or max(overlaps) <= 0.0:
            raise RegionError(f"sam3 found nothing scoring above {threshold} in the box {[round(v) for v in box]}; "
                              "lower args.threshold or draw the box around the object")
        best = int(np.argmax(overlaps))
        picked += [best] if best not in picked else []
    return picked


class _FramesOnDemand(Mapping):
    """A video session's ``processed_frames``: frame ``t`` preprocessed only when the model reads it, and only the
    latest one kept, so the session never holds the whole clip at model resolution (1008x1008 float each)."""

    def __init__(self, frames: np.ndarray, processor: Any, device: str, dtype: Any) -> None:
        self.frames, self.processor, self.device, self.dtype = frames, processor, device, dtype
        self.latest = -1
        self.pixels: Any = None

    def __getitem__(self, index: int) -> Any:
        if not 0 <= index < len(self.frames):
            raise KeyError(index)
        if index != self.latest:
            batch = self.processor.video_processor(videos=[self.frames[index]], device=self.device, return_tensors="pt")
            self.pixels = batch.pixel_values_videos[0][0].to(self.device, dtype=self.dtype)
            self.latest = index
        return self.pixels

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.frames)))


def bound_session(session: Any, latest: int, tracker: Any) -> None:
    """Forget what the tracker can no longer read once frame ``latest`` is processed (tracking forward).

    ``tracker``: the tracker's config. The next frames read full memories of the last ``num_maskmem`` frames and
    of the ``max_cond_frame_num`` latest conditioning frames, and object pointers of the last
    ``max_object_pointers_in_encoder`` frames and of every conditioning frame (kept: a few hundred floats each);
    older memories, frame-keyed scores and mask inputs go. Results are the same as with nothing forgotten.
    """
    memory_from = latest - tracker.num_maskmem
    pointer_from = latest - tracker.max_object_pointers_in_encoder
    for outputs in session.output_dict_per_obj.values():
        recent = outputs["non_cond_frame_outputs"]
        for frame in [t for t in recent if t < memory_from]:
            if frame < pointer_from:
                del recent[frame]
            else:
                recent[frame] = {"object_pointer": recent[frame]["object_pointer"]}
        conditioning = outputs["cond_frame_outputs"]
        if tracker.max_cond_frame_num > 0:
            keep = sorted(conditioning)[-tracker.max_cond_frame_num:]
            for frame in [t for t in conditioning if t < memory_from and t not in keep]:
                conditioning[frame] = {"object_pointer": conditioning[frame]["object_pointer"]}
    for per_object in (*session.frames_tracked_per_obj.values(), *session.mask_inputs_per_obj.values()):
        for frame in [t for t in per_object if t < latest]:
            del per_object[frame]
    for per_frame in (session.obj_id_to_tracker_score_frame_wise, session.suppressed_obj_ids):
        for frame in [t for t in per_frame if t < latest]:
            del per_frame[frame]


def session_bytes(session: Any) -> int:
    """Bytes of the tensors a video session holds per frame and object: outputs, mask inputs, preprocessed frames
    (its feature cache holds one frame, ``max_vision_features_cache_size``)."""
    import torch

    def size(value: Any) -> int:
        if isinstance(value, torch.Tensor):
            return value.numel() * value.element_size()
        if isinstance(value, Mapping):
            return sum(size(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return sum(size(v) for v in value)
        return 0

    frames = session.processed_frames
    stored = [frames.pixels] if isinstance(frames, _FramesOnDemand) else list((frames or {}).values())
    return sum(size(part) for part in (session.output_dict_per_obj, session.mask_inputs_per_obj, stored))


class Sam3VideoExpert(TransformersExpert):
    """One mask video per tracked instance of a concept phrase (see the module docstring for options)."""

    spec = ExpertSpec(
        name="sam3_video",
        tasks=("track",),
        description=("Tracks every instance of anything named in words ('the red car', 'all people') through a "
                     "video, picking up ones that enter later; a box or mask on one frame keeps the one it marks "
                     "(SAM 3)."),
        input_kinds=("video",),
        region_kinds=("box", "mask"),
        outputs=("mask",),
        weights=WEIGHTS,
        extra="sam3",
        requires=("torch", "torchvision", "transformers"),
        quality=20,
    )

    def __init__(self, weights: str | None = None, threshold: float | None = None,
                 new_threshold: float | None = None, bound_memory: bool = True, **options: Any) -> None:
        super().__init__(weights, **options)
        self.threshold, self.new_threshold, self.bound_memory = threshold, new_threshold, bool(bound_memory)

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        from transformers import Sam3VideoModel, Sam3VideoProcessor

        folder = self.weights_folder(device)
        self.processor = Sam3VideoProcessor.from_pretrained(folder, local_files_only=True)
        self.model = Sam3VideoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True,
                                                    dtype=torch_dtype(dtype, self.device)).to(self.device).eval()
        self.loaded = True

    def session(self, frames: np.ndarray, phrase: str) -> Any:
        """A fresh inference session over ``frames`` (T, H, W, 3) uint8 prompted with ``phrase``."""
        offload = self.cpu_offload and self.device.startswith("cuda")
        session = self.processor.init_video_session(inference_device=self.device, dtype=self.model.dtype,
                                                    inference_state_device="cpu" if offload else None)
        session.processed_frames = _FramesOnDemand(frames, self.processor, self.device, self.model.dtype)
        session.video_height, session.video_width = frames.shape[1:3]
        return self.processor.add_text_prompt(session, phrase)

    def run(self, call: ExpertCall) -> ExpertResult:
        if call.video is None:
            raise BadInputError("sam3_video needs a video input")
        phrase = concept_phrase(call.command)
        if not phrase:
            raise BadInputError("sam3_video tracks what the words name, e.g. 'the red car'; none were given")
        frames = np.asarray(call.video.frames)
        count, height, width = frames.shape[:3]
        keyframe = call.frames[0] if call.frames else 0
        if not 0 <= keyframe < count:
            raise RegionError(f"keyframe {keyframe} is outside the video's {count} frames")
        masks, scores, held = self._track(call, frames, phrase)
        present = {obj: mask.any(axis=(1, 2)) for obj, mask in masks.items() if mask.any()}
        chosen = sorted(present, key=lambda obj: (int(np.argmax(present[obj])), obj))  # in order of appearance
        if not chosen:
            raise RegionError(f"sam3_video found no {phrase!r} in the video; lower args.threshold and "
                              "args.new_threshold to see weaker matches")
        target = _region_box(call, keyframe)
        if target is not None:
            chosen = _overlapping(chosen, masks, keyframe, target)
        elif call.args.get("instances") == "one":
            chosen = [max(chosen, key=lambda obj: scores[obj])]
        text = f"tracked {len(chosen)} '{phrase}' over {count} frames"
        return ExpertResult(masks=[masks[obj] for obj in chosen], text=text, data={
            "object_ids": chosen, "scores": [round(scores[obj], 4) for obj in chosen],
            "first_frames": [int(np.argmax(present[obj])) for obj in chosen],
            "frames_present": [int(present[obj].sum()) for obj in chosen], "keyframe": keyframe,
            "session_bytes": held})

    def _track(self, call: ExpertCall, frames: np.ndarray,
               phrase: str) -> tuple[dict[int, np.ndarray], dict[int, float], int]:
        """Object id -> (T, H, W) bool mask and its best detection score over the whole clip, and the most bytes of
        tensors the session held at once (checked after each frame)."""
        count, height, width = frames.shape[:3]
        model, config = self.model, self.model.config
        before = model.score_threshold_detection, model.new_det_thresh
        threshold = config.score_threshold_detection if self.threshold is None else self.threshold
        new_threshold = config.new_det_thresh if self.new_threshold is None else self.new_threshold
        model.score_threshold_detection = float(call.args.get("threshold", threshold))
        model.new_det_thresh = float(call.args.get("new_threshold", new_threshold))
        masks: dict[int, np.ndarray] = {}
        scores: dict[int, float] = {}
        held = 0
        try:
            session = self.session(frames, phrase)
            for output in model.propagate_in_video_iterator(session):
                found = self.processor.postprocess_outputs(session, output)
                for obj, mask, score in zip(found["object_ids"].tolist(), found["masks"].cpu().numpy(),
                                            found["scores"].float().tolist()):
                    if obj not in masks:
                        masks[obj] = np.zeros((count, height, width), bool)
                    masks[obj][output.frame_idx] = mask
                    scores[obj] = max(scores.get(obj, 0.0), score)
                if self.bound_memory:
                    bound_session(session, session.processed_frames.latest, config.tracker_config)
                held = max(held, session_bytes(session))
                call.progress((output.frame_idx + 1) / count, f"frame {output.frame_idx + 1}/{count}")
        finally:
            model.score_threshold_detection, model.new_det_thresh = before
        return masks, scores, held


def _region_box(call: ExpertCall, keyframe: int) -> tuple[float, float, float, float] | None:
    """The region on the keyframe as an (x1, y1, x2, y2) box (a mask's bounding box), or None."""
    if call.boxes:
        x1, y1, x2, y2 = call.boxes[0]
        return float(x1), float(y1), float(x2), float(y2)
    if call.mask is None:
        return None
    mask = call.mask[keyframe] if call.mask.ndim == 3 else call.mask
    ys, xs = np.nonzero(mask)
    if not len(xs):
        raise RegionError(f"the region's mask is empty on frame {keyframe}")
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def _overlapping(chosen: list[int], masks: dict[int, np.ndarray], keyframe: int,
                 target: tuple[float, float, float, float]) -> list[int]:
    """The one tracked object whose box on the keyframe overlaps the region most (IoU above 0.1)."""
    overlaps = {}
    for obj in chosen:
        ys, xs = np.nonzero(masks[obj][keyframe])
        if len(xs):
            overlaps[obj] = box_iou((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), target)
    best = max(overlaps, key=lambda obj: overlaps[obj], default=None)
    if best is None or overlaps[best] <= 0.1:
        raise RegionError(f"none of the {len(chosen)} tracked object(s) lies in the region on frame {keyframe}")
    return [best]
