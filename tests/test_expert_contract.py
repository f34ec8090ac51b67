"""The contract every registered expert keeps, checked by one battery generated from each expert's spec.

For each built-in expert: its spec is coherent; without weights it says what is missing and how to get it;
with weights (tiny random ones, built here through the same loading path users run) every task and edit
op it declares runs on a real photo or clip and returns the output kinds its spec promises, in the
input's frame.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vitron_agent.errors import UnavailableError, VitronError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec, VideoClip
from vitron_agent.experts.registry import BUILTIN_EXPERTS, ExpertRegistry
from vitron_agent.protocol.invocation import EDIT_OPS, TASKS, Invocation

REGISTRY = ExpertRegistry.default(entry_points_too=False)
NAMES = sorted(BUILTIN_EXPERTS)
EXTRAS = set(re.findall(r"^(\w+) = \[", (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(), re.M))
def _tiny_weights(name: str, folder: Path) -> tuple[Path, dict[str, Any]]:
    """Tiny random weights for a full expert, saved the way its users' checkpoints are, and its options."""
    from . import tiny_models as tiny
    from .tiny_flux import tiny_flux_pipeline
    from .tiny_grounding_dino import tiny_grounding_dino
    from .tiny_sam2 import tiny_sam2
    from .tiny_sam3 import tiny_sam3, tiny_sam3_video
    from .tiny_wan import tiny_wan_i2v_pipeline, tiny_wan_t2v_pipeline, tiny_wan_vace_pipeline

    if name == "sam":
        return tiny.tiny_sam(folder), {}
    if name in ("yolo", "yolo_track"):
        from vitron_agent.tools.yolo import build_yolo, save_yolo

        return save_yolo(build_yolo("yolo11n-seg.yaml"), folder), {"imgsz": 96, "conf": 0.0}
    builders = {
        "stable_diffusion": (lambda: tiny.tiny_sd_pipeline(folder), {}),
        "sd_inpaint": (lambda: tiny.tiny_sd_pipeline(folder, inpaint=True), {"max_side": 64}),
        "video_inpaint": (lambda: tiny.tiny_sd_pipeline(folder, inpaint=True), {"max_side": 32}),
        "gligen": (lambda: tiny.tiny_sd_pipeline(folder, gligen=True), {}),
        "gligen_edit": (lambda: tiny.tiny_sd_pipeline(folder, gligen="edit"), {"max_side": 64}),
        "instruct_pix2pix": (lambda: tiny.tiny_sd_pipeline(folder, pix2pix=True), {"max_side": 64}),
        "text_to_video": (lambda: tiny.tiny_t2v_pipeline(folder), {}),
        "image_to_video": (lambda: tiny.tiny_i2v_pipeline(folder), {"max_side": 32}),
        "owlv2": (lambda: tiny.tiny_owlv2(folder), {}),
        "qwen_vl": (lambda: tiny.tiny_qwen_vl(folder), {}),
        "grounding_dino": (lambda: tiny_grounding_dino(folder), {"box_threshold": 0.01}),
        "flux": (lambda: tiny_flux_pipeline(folder, "flux"), {"max_side": 32}),
        "flux_kontext": (lambda: tiny_flux_pipeline(folder, "kontext"), {"max_side": 64, "auto_resize": False}),
        "flux_fill": (lambda: tiny_flux_pipeline(folder, "fill"), {"max_side": 64}),
        "sam2": (lambda: tiny_sam2(folder), {}),
        "sam2_video": (lambda: tiny_sam2(folder), {}),
        "sam3": (lambda: tiny_sam3(folder), {"threshold": 0.0}),
        "sam3_video": (lambda: tiny_sam3_video(folder), {"threshold": 0.0, "new_threshold": 0.0}),
        "wan_t2v": (lambda: tiny_wan_t2v_pipeline(folder), {"width": 32, "height": 32}),
        "wan_i2v": (lambda: tiny_wan_i2v_pipeline(folder), {"max_area": 32 * 32}),
        "wan_vace": (lambda: tiny_wan_vace_pipeline(folder), {}),
    }
    build, options = builders[name]
    return build(), options


def _runnable(name: str) -> bool:
    return not REGISTRY.create(name).missing_modules()


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    import cv2
    from skimage import data

    return cv2.resize(data.coffee(), (96, 64), interpolation=cv2.INTER_AREA)  # (64, 96, 3): cup at the centre


@pytest.fixture(scope="module")
def clip(photo) -> VideoClip:
    return VideoClip(np.stack([np.roll(photo, 2 * t, axis=1) for t in range(4)]), 8.0)


@pytest.mark.parametrize("name", NAMES)
def test_the_spec_is_coherent(name):
    spec: ExpertSpec = REGISTRY.spec(name)
    assert spec.name == name and spec.description.strip()
    assert set(spec.tasks) <= set(TASKS) and set(spec.edit_ops) <= set(EDIT_OPS)
    assert bool(spec.edit_ops) == any(t.startswith("edit_") for t in spec.tasks)
    assert set(spec.region_free_ops) <= set(spec.edit_ops)
    assert set(spec.region_kinds) <= {"box", "points", "mask"}
    assert set(spec.input_kinds) <= {"image", "video", "text"}
    assert set(spec.outputs) <= {"text", "boxes", "mask", "image", "video"}
    assert spec.outputs, "an expert must say what it returns"
    if spec.region_required:
        assert spec.region_kinds
    if spec.extra is not None:
        assert spec.extra in EXTRAS and spec.extra in spec.install_hint()
    if spec.weights is not None:
        assert spec.extra is not None, "an expert with weights comes with an extra for its library"


@pytest.mark.parametrize("name", NAMES)
def test_missing_weights_name_the_expert_and_the_fix(name, tmp_path):
    spec = REGISTRY.spec(name)
    expert = REGISTRY.create(name) if spec.weights is None else type(REGISTRY.create(name))(
        weights=str(tmp_path / "absent"))
    state = expert.availability()
    if spec.weights is None and not expert.missing_modules():
        assert state.ok  # embedded experts need nothing but their library
        return
    assert not state.ok and state.reason.strip() and state.fix.strip()
    if not expert.missing_modules():
        with pytest.raises(UnavailableError) as refused:
            expert.load("cpu")
        assert state.fix.split()[0] in str(refused.value)


def _cases(spec: ExpertSpec) -> list[tuple[str, str | None]]:
    return [(task, op) for task in spec.tasks for op in (spec.edit_ops if task.startswith("edit_") else (None,))]


CASES = [(name, task, op) for name in NAMES for task, op in _cases(REGISTRY.spec(name))]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Each expert loaded once, with tiny weights when it has weights."""
    cache: dict[str, Any] = {}

    def get(name: str):
        if name not in cache:
            spec = REGISTRY.spec(name)
            if spec.weights is None:
                expert = REGISTRY.create(name)
            else:
                folder, options = _tiny_weights(name, tmp_path_factory.mktemp(name) / "weights")
                expert = type(REGISTRY.create(name))(weights=str(folder), **options)
            expert.load("cpu")
            cache[name] = expert
        return cache[name]

    return get


ARGS = {"replace": {"new": "a red ball"}, "add": {"new": "a red ball"}, "recolor": {"color": "red"},
        "restyle": {"style": "sketch"}, "move": {"direction": "right", "distance": 0.1}, "remove": {}}


def _call(spec: ExpertSpec, task: str, op: str | None, photo: np.ndarray, clip: VideoClip) -> ExpertCall:
    """The simplest complete call the spec allows: its input kind, a region if it takes one, the op's args."""
    video = "video" in spec.input_kinds and "image" not in spec.input_kinds
    height, width = photo.shape[:2]
    box = (24.0, 8.0, 72.0, 56.0)
    mask = np.zeros((height, width), bool)
    mask[8:56, 24:72] = True
    args: dict[str, Any] = {"steps": 2, **(ARGS.get(op, {}) if op else {}), **({"op": op} if op else {})}
    if spec.name == "gligen":
        args.update(phrases=["a cup"], boxes=[[0.2, 0.2, 0.8, 0.8]])
    command = "the cup" if task != "ground" else "the person"
    call = ExpertCall(invocation=Invocation(id="c1", module=spec.name, task=task, command=command, args=args))
    if set(spec.input_kinds) & {"image", "video"}:
        if video:
            call.video = clip
        else:
            call.images = [photo]
    if spec.region_kinds and (spec.needs_region(task, op) or spec.name in ("yolo_track",)):
        if "mask" in spec.region_kinds:
            call.mask = np.broadcast_to(mask, (len(clip.frames), height, width)).copy() if video else mask
        elif "box" in spec.region_kinds:
            call.boxes = [box]
        else:
            from vitron_agent.protocol.invocation import Point

            call.points = [Point(x=48, y=32)]
    return call


@pytest.mark.parametrize("name, task, op", CASES, ids=[f"{n}-{t}{'-' + o if o else ''}" for n, t, o in CASES])
def test_every_declared_task_returns_what_the_spec_promises(name, task, op, loaded, photo, clip):
    if not _runnable(name):
        pytest.skip(f"{name} needs the {REGISTRY.spec(name).extra} extra")
    if name == "yolo_track" and importlib.util.find_spec("lap") is None:
        pytest.skip("yolo_track needs lap")
    spec, expert = REGISTRY.spec(name), loaded(name)
    call = _call(spec, task, op, photo, clip)
    try:
        result: ExpertResult = expert.run(call)
    except VitronError as exc:  # a random tiny detector may find nothing in the region: a clear error is fine
        assert name.startswith("yolo") and "found no" in str(exc), exc
        return
    height, width = photo.shape[:2]
    produced = {kind for kind, present in (("mask", result.masks), ("boxes", result.detections),
                                            ("image", result.images), ("video", result.videos)) if present}
    assert produced <= set(spec.outputs) | {"boxes"}, f"{name} returned {produced}, its spec says {spec.outputs}"
    assert produced or (task in ("ground", "answer") and result.text), f"{name} returned nothing for {task}"
    frames = len(clip.frames)
    for mask in result.masks:
        assert mask.dtype == bool and mask.shape[-2:] == (height, width)
        if call.video is not None:
            assert mask.shape == (frames, height, width)
    for det in result.detections:
        x1, y1, x2, y2 = det.box
        assert 0 <= x1 <= x2 <= width and 0 <= y1 <= y2 <= height and 0.0 <= det.score <= 1.0 and det.label
    for image in result.images:
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        if task.startswith("edit_"):
            assert image.shape == photo.shape  # edits keep the input's frame
    for made in result.videos:
        assert made.frames.dtype == np.uint8 and made.frames.ndim == 4 and made.fps > 0
        if task == "edit_video":
            assert made.frames.shape == clip.frames.shape and made.fps == clip.fps
