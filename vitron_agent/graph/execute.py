"""Running one invocation: resolve ids to arrays, run the pooled expert, store what it made.

Shared by the graph's ``run_expert`` node and the LangChain tool wrappers, so both behave alike.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ExpertFailure, RegionError, VitronError
from ..experts.base import ExpertCall, ExpertResult, VideoClip
from ..experts.pool import ModelPool, _is_out_of_memory
from ..protocol.invocation import Invocation, is_invocation_id
from ..stores.media import MediaRef, MediaStore
from ..stores.signals import SignalStore

__all__ = ["Outcome", "execute", "build_call", "store_result"]


@dataclass
class Outcome:
    """What one run produced: new media refs, the primary output id, a summary, or an error."""

    media: dict[str, MediaRef] = field(default_factory=dict)
    output: str | None = None
    summary: str = ""
    error: dict[str, str] | None = None
    seconds: float = 0.0

    @property
    def artifacts(self) -> list[str]:
        return list(self.media)


def execute(
    inv: Invocation,
    expert_name: str,
    output_id: str,
    media: dict[str, MediaRef],
    outputs_of: dict[str, str],
    pool: ModelPool,
    store: MediaStore,
    signals: SignalStore,
    progress: Callable[[float, str], None] = lambda f, m: None,
    timeout: float | None = None,
) -> Outcome:
    """Run ``inv`` on ``expert_name``; errors come back in ``Outcome.error``, never raised.

    ``outputs_of``: invocation id -> primary output media id, for ``c1``-style references.
    ``timeout``: seconds the expert may take (loading included); past it the turn goes on with an error
    while the expert finishes in the background (a thread cannot be stopped), still counted as in use.
    """
    start = time.perf_counter()
    try:
        video_ok = "video" in pool.registry.spec(expert_name).input_kinds
        call = build_call(inv, media, outputs_of, store, signals, progress, video_ok)

        def work() -> ExpertResult:
            with pool.use(expert_name) as expert:
                return expert.run(call)

        result = _within(work, timeout, expert_name)
        outcome = store_result(inv, expert_name, output_id, result, call, store)
    except VitronError as exc:
        outcome = Outcome(error={"category": exc.category, "message": f"{expert_name}: {exc}"})
    except MemoryError:
        outcome = Outcome(error=_oom(expert_name))
    except Exception as exc:  # an expert crash must not crash the graph
        if _is_out_of_memory(exc):
            outcome = Outcome(error=_oom(expert_name))
        else:
            message = f"{expert_name} failed on {inv.label}: {type(exc).__name__}: {exc}"
            outcome = Outcome(error={"category": ExpertFailure.category, "message": message[:500]})
    outcome.seconds = time.perf_counter() - start
    return outcome


def _within(work: Callable[[], ExpertResult], timeout: float | None, expert_name: str) -> ExpertResult:
    """``work()``, or an ``ExpertFailure`` once ``timeout`` seconds have passed."""
    if timeout is None:
        return work()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    # the node's context goes with it: progress events reach LangGraph's stream writer only from inside it
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(target,), name=f"vitron-expert-{expert_name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ExpertFailure(f"did not finish within {timeout:g} s (the expert time limit); try a smaller input "
                            "or raise AgentConfig.expert_timeout")
    if "error" in box:
        raise box["error"]
    return box["result"]


def _oom(expert_name: str) -> dict[str, str]:
    return {
        "category": ExpertFailure.category,
        "message": f"{expert_name} ran out of memory; try a smaller input, fp16, CPU offload or a lower pool budget",
    }


def _resolve(media_id: str, media: dict[str, MediaRef], outputs_of: dict[str, str]) -> MediaRef:
    if is_invocation_id(media_id):
        if media_id not in outputs_of:
            raise RegionError(f"{media_id} produced no output to use")
        media_id = outputs_of[media_id]
    try:
        return media[media_id]
    except KeyError:
        raise RegionError(f"{media_id} is not in this thread's media") from None


def build_call(
    inv: Invocation,
    media: dict[str, MediaRef],
    outputs_of: dict[str, str],
    store: MediaStore,
    signals: SignalStore,
    progress: Callable[[float, str], None],
    video_ok: bool = True,
) -> ExpertCall:
    """Load the inputs, region and signal an invocation refers to.

    An image expert given a video (``video_ok`` False) gets its keyframe: the first frame of the
    region's span, else frame 0.
    """
    call = ExpertCall(invocation=inv, progress=progress)
    keyframe = inv.region.frames[0] if inv.region is not None and inv.region.frames else 0
    for media_id in inv.inputs:
        ref = _resolve(media_id, media, outputs_of)
        if ref.kind == "video" and video_ok:
            frames, fps = store.load_video(ref)
            call.video = VideoClip(frames, fps)
        elif ref.kind == "video":
            frames, _ = store.load_video(ref, max_frames=keyframe + 1)
            call.images.append(frames[min(keyframe, len(frames) - 1)])
        else:
            call.images.append(store.load_image(ref))
    region = inv.region
    if region is not None:
        call.frames = region.frames
        if region.box is not None:
            call.boxes = [region.box]
        elif region.points is not None:
            call.points = list(region.points)
        elif region.ref is not None:
            _load_region_ref(call, _resolve(region.ref, media, outputs_of), store)
    if inv.signal is not None:
        call.signal = signals.get(inv.signal)
    return call


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
    inv: Invocation, expert_name: str, output_id: str, result: ExpertResult, call: ExpertCall, store: MediaStore
) -> Outcome:
    """Write the result's arrays to the media store; the primary output gets ``output_id``."""
    from ..visualize import draw_detections, overlay_mask, overlay_masks_on_video

    parents = tuple(inv.inputs)
    base = call.images[0] if call.images else None
    pending: list[tuple[str, Callable[[str], MediaRef]]] = []
    if inv.task == "ground" or (result.detections and not result.masks):
        h, w = base.shape[:2] if base is not None else (0, 0)
        detections = [d.to_json() for d in result.detections]
        pending.append(("boxes", lambda i: store.put_boxes(detections, i, width=w, height=h, source=expert_name,
                                                           parents=parents)))
    union = np.logical_or.reduce([np.asarray(m, dtype=bool) for m in result.masks]) if result.masks else None
    if union is not None and union.ndim == 3:  # one mask per frame of a video
        fps = call.video.fps if call.video is not None else 25.0
        pending.append(("mask", lambda i: store.put_mask_video(union, fps, i, source=expert_name, parents=parents)))
    elif union is not None:
        pending.append(("mask", lambda i: store.put_mask(union, i, source=expert_name, parents=parents)))
    for image in result.images:
        pending.append(("image", lambda i, a=image: store.put_image(a, i, source=expert_name, parents=parents)))
    for clip in result.videos:
        pending.append(("video", lambda i, c=clip: store.put_video(c.frames, c.fps, i, source=expert_name,
                                                                   parents=parents)))
    pending.sort(key=lambda item: item[0] != _PRIMARY.get(inv.task))  # the task's main output gets output_id
    made = [write(output_id if n == 0 else f"{output_id}.{n}") for n, (_, write) in enumerate(pending)]
    preview_id = f"{output_id}.{len(made)}"
    if union is not None and union.ndim == 3 and call.video is not None:
        overlay = overlay_masks_on_video(call.video.frames, union)
        ref = store.put_video(overlay, call.video.fps, preview_id, source=expert_name, parents=parents)
        made.append(ref.model_copy(update={"data": {"preview": True}}))
    elif base is not None and (result.masks or result.detections):
        preview = overlay_mask(base, union) if union is not None else base
        if result.detections:
            preview = draw_detections(preview, result.detections)
        made.append(store.put_image(preview, preview_id, source=expert_name, parents=parents, preview=True))
    outcome = Outcome(media={ref.id: ref for ref in made}, output=made[0].id if made else None)
    outcome.summary = _summary(inv, expert_name, result, made)
    return outcome


_PRIMARY = {"ground": "boxes", "segment": "mask", "track": "mask", "edit_image": "image", "edit_video": "video",
            "generate_image": "image", "generate_video": "video", "animate_image": "video"}
"""Which output of each task is its primary one (the id that later steps refer to)."""


def _summary(inv: Invocation, expert_name: str, result: ExpertResult, made: list[MediaRef]) -> str:
    parts = [f"{inv.id} {inv.label} by {expert_name}"]
    if result.text:
        parts.append(result.text)
    described = [f"{ref.id} ({'preview' if ref.data.get('preview') else ref.kind})" for ref in made]
    if described:
        parts.append("outputs: " + ", ".join(described))
    return "; ".join(parts)


def json_safe(value: Any) -> Any:
    """Convert numpy scalars and tuples so LangGraph's serializer accepts the value."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
