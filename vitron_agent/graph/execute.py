"""Running one call: resolve ids to arrays, run the pooled expert, store what it made.

The graph's ``run_expert`` node is the one caller: the LangChain tools and scripted pipelines run
through the graph too, so every path validates, schedules and stores alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import workers
from ..errors import ExpertFailure, RegionError, VitronError
from ..experts.base import ExpertCall, ExpertResult, VideoClip
from ..experts.pool import ExpertPool, is_out_of_memory
from ..protocol.invocation import Invocation
from ..protocol.referring import refer
from ..protocol.tasks import task_spec
from ..stores.media import MediaRef, MediaStore
from ..stores.signals import SignalStore
from .calls import CallError, part_id, resolve_medium

__all__ = ["Outcome", "Resolved", "execute", "resolve_call", "store_result"]


@dataclass
class Outcome:
    """What one run produced: new media refs (the primary output first), a summary, or an error."""

    media: dict[str, MediaRef] = field(default_factory=dict)
    output: str | None = None
    text: str = ""
    summary: str = ""
    error: CallError | None = None
    seconds: float = 0.0


@dataclass
class Resolved:
    """An invocation resolved for its expert: the ``ExpertCall`` (arrays), the media it read, and the frame
    of a video an image expert ran on (``keyframe``; None when it saw the whole medium)."""

    call: ExpertCall
    inputs: list[MediaRef]
    region: MediaRef | None = None
    keyframe: int | None = None


def execute(
    inv: Invocation,
    expert_name: str,
    output: str,
    media: dict[str, MediaRef],
    outputs_of: dict[str, str],
    pool: ExpertPool,
    store: MediaStore,
    signals: SignalStore,
    progress: Callable[[float, str], None] = lambda f, m: None,
    timeout: float | None = None,
) -> Outcome:
    """Run ``inv`` on ``expert_name``; errors come back in ``Outcome.error``, never raised.

    ``output``: the id reserved for the primary output (``o3``); the others are ``o3.1``, ``o3.2``, ...
    ``outputs_of``: invocation id -> primary output media id, for ``c1``-style references.
    ``timeout``: seconds the expert may take (loading included); past it the turn goes on with an error
    while the expert finishes in the background (a thread cannot be stopped), still counted as in use.
    """
    start = time.perf_counter()
    try:
        video_ok = "video" in pool.registry.spec(expert_name).input_kinds
        resolved = resolve_call(inv, media, outputs_of, store, signals, progress, video_ok)

        def work() -> ExpertResult:
            with pool.use(expert_name) as expert:
                return expert.run(resolved.call)

        result = _within(work, timeout, expert_name)
        outcome = store_result(inv, expert_name, output, result, resolved, store)
    except VitronError as exc:
        outcome = Outcome(error=CallError(category=exc.category, message=f"{expert_name}: {exc}"))
    except MemoryError:
        outcome = Outcome(error=_oom(expert_name))
    except Exception as exc:  # an expert crash must not crash the graph
        if is_out_of_memory(exc):
            outcome = Outcome(error=_oom(expert_name))
        else:
            message = f"{expert_name} failed on {inv.label}: {type(exc).__name__}: {exc}"
            outcome = Outcome(error=CallError(category=ExpertFailure.category, message=message[:500]))
    outcome.seconds = time.perf_counter() - start
    return outcome


def _within(work: Callable[[], ExpertResult], timeout: float | None, expert_name: str) -> ExpertResult:
    """``work()``, or an ``ExpertFailure`` once ``timeout`` seconds have passed."""
    if timeout is None:
        return work()
    # on a kept worker thread, with the node's context: progress events reach LangGraph's stream writer from it
    job = workers.start(work, f"vitron-expert-{expert_name}")
    if not job.wait(timeout):
        raise ExpertFailure(f"did not finish within {timeout:g} s (the expert time limit); try a smaller input "
                            "or raise AgentConfig.expert_timeout")
    return job.result()


def _oom(expert_name: str) -> CallError:
    return CallError(category=ExpertFailure.category,
                     message=f"{expert_name} ran out of memory; try a smaller input, fp16, CPU offload or a lower "
                             "pool budget")


def resolve_call(
    inv: Invocation,
    media: dict[str, MediaRef],
    outputs_of: dict[str, str],
    store: MediaStore,
    signals: SignalStore,
    progress: Callable[[float, str], None],
    video_ok: bool = True,
) -> Resolved:
    """Load the inputs, region and signal an invocation refers to.

    The frame a region lies on (its ``frames`` span, else the keyframe its mask was made on) goes to the
    expert as ``call.frames``; an image expert given a video (``video_ok`` False) gets that frame, else frame 0.
    """
    call = ExpertCall(invocation=inv, progress=progress)
    region = inv.region
    region_ref = resolve_medium(region.ref, media, outputs_of) if region is not None and region.ref else None
    span = region.frames if region is not None and region.frames else None
    if span is None and region_ref is not None and region_ref.keyframe is not None:
        span = (region_ref.keyframe, region_ref.keyframe)
    inputs = [resolve_medium(media_id, media, outputs_of) for media_id in inv.inputs]
    keyframe = None
    for ref in inputs:
        if ref.kind == "video" and video_ok:
            frames, fps = store.load_video(ref)
            call.video = VideoClip(frames, fps)
        elif ref.kind == "video":
            keyframe = span[0] if span else 0
            frames, _ = store.load_video(ref, max_frames=keyframe + 1)
            keyframe = min(keyframe, len(frames) - 1)
            call.images.append(frames[keyframe])
        else:
            call.images.append(store.load_image(ref))
    call.frames = span
    if region is not None:
        if region.box is not None:
            call.boxes = [region.box]
        elif region.points is not None:
            call.points = list(region.points)
        elif region_ref is not None:
            _load_region_ref(call, region_ref, store)
    if inv.signal is not None:
        call.signal = signals.get(inv.signal)
    return Resolved(call, inputs, region_ref, keyframe)


def _load_region_ref(call: ExpertCall, ref: MediaRef, store: MediaStore) -> None:
    if ref.kind == "boxes":
        detections = ref.data.get("detections", [])
        if not detections:
            raise RegionError(f"{ref.id} holds no boxes (its grounding found nothing); draw a box instead")
        call.boxes = [tuple(d["box"]) for d in detections]
    elif ref.kind in ("mask", "mask_video"):
        mask = store.load_mask(ref) if ref.kind == "mask" else store.load_mask_video(ref)
        if not mask.any():
            raise RegionError(f"{ref.id} is an empty mask; nothing to act on")
        call.mask = mask
    else:
        raise RegionError(f"{ref.id} is a {ref.kind}, not a mask or boxes")
    first = call.images[0] if call.images else call.video.frames[0] if call.video is not None else None
    if first is not None and (ref.height, ref.width) != first.shape[:2]:
        raise RegionError(
            f"{ref.id} is {ref.width}x{ref.height} but the input is {first.shape[1]}x{first.shape[0]}; "
            "use a region drawn on the same image"
        )


def store_result(
    inv: Invocation, expert_name: str, output: str, result: ExpertResult, resolved: Resolved,
    store: MediaStore,
) -> Outcome:
    """Write the result's arrays to the media store: the task's primary output as ``output`` (``o3``), the rest
    as ``o3.1``, ... (instances of a several-object mask, the mask an edit carried along, a preview last)."""

    call, task = resolved.call, task_spec(inv.task)
    parents = tuple(ref.id for ref in resolved.inputs)
    base = call.images[0] if call.images else None
    height, width = base.shape[:2] if base is not None else (0, 0)
    notes = [result.text] if result.text else []
    _keep_referred(inv, result, call, width, height, notes)
    # (kind, write(id, primary id, instance ids)): ids are known only once every output is listed
    pending: list[tuple[str, Callable[[str, str, list[str]], MediaRef]]] = []
    if inv.task == "ground" or (result.detections and not result.masks):
        detections = [d.to_json() for d in result.detections]
        pending.append(("boxes", lambda i, primary, parts: store.put_boxes(detections, i, width=width, height=height,
                                                                source=expert_name, parents=parents)))
    masks = [np.asarray(m, dtype=bool) for m in result.masks]
    union = (masks[0] if len(masks) == 1 else np.logical_or.reduce(masks)) if masks else None
    if union is not None and not task.is_edit:
        fps = call.video.fps if call.video is not None else 25.0
        several = len(masks) > 1

        def put(mask: np.ndarray, i: str, **lineage: Any) -> MediaRef:
            if mask.ndim == 3:  # one mask per frame of a video
                return store.put_mask_video(mask, fps, i, source=expert_name, parents=parents, **lineage)
            return store.put_mask(mask, i, source=expert_name, parents=parents, keyframe=resolved.keyframe, **lineage)

        pending.append(("mask", lambda i, primary, parts: put(union, i, instances=tuple(parts))))
        for one in masks if several else ():
            pending.append(("instance", lambda i, primary, parts, m=one: put(m, i)))
    edited = resolved.inputs[0].id if task.is_edit and resolved.inputs else None
    for image in result.images:
        pending.append(("image", lambda i, primary, parts, a=image: store.put_image(a, i, source=expert_name, parents=parents,
                                                                         version_of=edited)))
    for clip in result.videos:
        pending.append(("video", lambda i, primary, parts, c=clip: store.put_video(c.frames, c.fps, i, source=expert_name,
                                                                        parents=parents, version_of=edited)))
    carried = _carried_mask(inv, result, call)
    if carried is not None and edited is not None and resolved.region is not None and (result.images or result.videos):
        fps = result.videos[0].fps if result.videos else 25.0
        pending.append(("carried", lambda i, primary, parts: _put_carried(store, carried, i, primary, resolved.region, fps,
                                                               expert_name)))
    pending.sort(key=lambda item: item[0] != task.primary_output)  # the task's main output gets ``output``
    ids = [part_id(output, n) for n in range(len(pending))]
    instance_ids = [i for i, (kind, _) in zip(ids, pending) if kind == "instance"]
    drawing = None
    if store.previews and not task.is_edit and (masks or result.detections):
        # drawn on a worker while this thread writes the outputs: the overlays, the encoders and the mask's
        # compression let go of the GIL, so on a video most of the preview hides behind the mask's write
        drawing = workers.start(lambda: _put_preview(store, call, base, union, result.detections,
                                                     part_id(output, len(pending)), expert_name, parents),
                                "vitron-preview")
    try:
        made = [write(i, ids[0], instance_ids) for i, (_, write) in zip(ids, pending)]
    finally:  # a write that failed still waits: no preview is left being written after the call
        if drawing is not None:
            drawing.wait(None)
    if drawing is not None:
        preview = drawing.result()
        made += [preview] if preview is not None else []
    outcome = Outcome(media={ref.id: ref for ref in made}, output=made[0].id if made else None, text=result.text)
    outcome.summary = _summary(inv, expert_name, [n for n in notes if n], made)
    return outcome


def _put_preview(store: MediaStore, call: ExpertCall, base: np.ndarray | None, union: np.ndarray | None,
                 detections: list, preview_id: str, expert_name: str, parents: tuple[str, ...]) -> MediaRef | None:
    """The overlay people look at, at display size (``AgentConfig.preview_size``), not at the input's: the mask
    over each frame of a video, or the mask and boxes over the image."""
    from ..visualize import draw_detections, overlay_mask, preview_scale, shrink_detections, shrink_image, shrink_mask

    if union is not None and union.ndim == 3 and call.video is not None:
        scale = preview_scale(*union.shape[1:], store.preview_video_size)
        overlays = (overlay_mask(shrink_image(frame, scale), shrink_mask(mask, scale))
                    for frame, mask in zip(call.video.frames, union, strict=True))  # one frame at a time
        return store.put_video(overlays, call.video.fps, preview_id, source=expert_name, parents=parents, preview=True)
    if base is None:
        return None
    scale = preview_scale(*base.shape[:2], store.preview_size)
    preview = shrink_image(base, scale)
    if union is not None:
        preview = overlay_mask(preview, shrink_mask(union, scale))
    if detections:
        preview = draw_detections(preview, shrink_detections(detections, scale))
    return store.put_image(preview, preview_id, source=expert_name, parents=parents, preview=True)


def _keep_referred(inv: Invocation, result: ExpertResult, call: ExpertCall, width: int, height: int,
                   notes: list[str]) -> None:
    """Keep only what the target phrase refers to when an expert located it by words: one object for "the cat",
    every instance for "the cats" (``args.instances`` says which when the plan decided); degenerate boxes go."""
    by_words = call.mask is None and not call.boxes and not call.points
    paired = inv.task == "segment" and len(result.masks) == len(result.detections) > 0
    if not by_words or not (inv.task == "ground" or paired):
        return
    instances = inv.args.get("instances") if inv.args.get("instances") in ("one", "all") else None
    kept, how = refer(result.detections, inv.command, width, height, instances)
    result.detections = [result.detections[i] for i in kept]
    if paired:
        result.masks = [result.masks[i] for i in kept]
    if how:
        notes.append(how)


def _carried_mask(inv: Invocation, result: ExpertResult, call: ExpertCall) -> np.ndarray | None:
    """The edited object's mask in the edit's output: the one the expert returns (a move shifts it), else the
    region's own mask when the object stays where it was; None when the object is gone or moved unreported."""
    if not task_spec(inv.task).is_edit:
        return None
    if result.masks:
        return np.asarray(result.masks[0], dtype=bool)
    if call.mask is not None and inv.op not in ("remove", "move"):
        return np.asarray(call.mask, dtype=bool)
    return None


def _put_carried(store: MediaStore, mask: np.ndarray, media_id: str, edited: str, region: MediaRef, fps: float,
                 expert_name: str) -> MediaRef:
    """The carried mask, lying on the edited output ``edited`` and continuing ``region``."""
    if mask.ndim == 3:
        return store.put_mask_video(mask, fps, media_id, source=expert_name, parents=(edited,),
                                    carried_from=region.id)
    return store.put_mask(mask, media_id, source=expert_name, parents=(edited,), carried_from=region.id,
                          keyframe=region.keyframe)


def _summary(inv: Invocation, expert_name: str, notes: list[str], made: list[MediaRef]) -> str:
    parts = [f"{inv.id} {inv.label} by {expert_name}", *notes]
    described = [f"{ref.id} ({'preview' if ref.preview else 'instance' if _is_instance(ref, made) else ref.kind})"
                 for ref in made]
    if described:
        parts.append("outputs: " + ", ".join(described))
    return "; ".join(parts)


def _is_instance(ref: MediaRef, made: list[MediaRef]) -> bool:
    return any(ref.id in other.instances for other in made)
