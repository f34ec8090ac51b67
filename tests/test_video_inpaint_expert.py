"""SD-inpainting video edits (shared noise + cross-frame attention) through the real loading path, on a tiny
random inpainting pipeline and pans of a real photo."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from vitron_agent.errors import BadInputError, RegionError  # noqa: E402
from vitron_agent.experts.base import ExpertCall, VideoClip  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.video_diffusion_edit import DiffusionVideoEditExpert  # noqa: E402

from .synthetic_media import pan_clip  # noqa: E402
from .tiny_models import tiny_sd_pipeline  # noqa: E402

FPS = 12.0


@pytest.fixture(scope="module")
def inpaint_dir(tmp_path_factory):
    return tiny_sd_pipeline(tmp_path_factory.mktemp("vinp") / "tiny-inpaint", inpaint=True)


@pytest.fixture(scope="module")
def coffee_small():
    """scikit-image's coffee photo at 120x80."""
    import cv2
    from skimage import data

    return cv2.resize(data.coffee(), (120, 80), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def moving(coffee_small):
    """5 frames of 64x48 panning 3 px per frame, each with the mask of one patch of the scene (frame 2: none)."""
    frames, offsets = pan_clip(coffee_small, frames=5, step=3, size=(64, 48))
    masks = np.zeros(frames.shape[:3], bool)
    for t, x in enumerate(offsets):
        masks[t, 10:38, 30 - x:54 - x] = True
    masks[2] = False  # the object left the frame
    return frames, masks


def _expert(weights, **options) -> DiffusionVideoEditExpert:
    expert = DiffusionVideoEditExpert(weights=str(weights), max_side=32, **options)
    expert.load("cpu")
    return expert


def _call(frames, masks, op, command="the cup", progress=None, **args) -> ExpertCall:
    inv = Invocation(id="c1", task="edit_video", command=command, args={"op": op, "steps": 2, **args})
    call = ExpertCall(invocation=inv, video=None if frames is None else VideoClip(frames, FPS), mask=masks)
    if progress is not None:
        call.progress = progress
    return call


def _far_from(mask, margin=4):
    import cv2

    return ~cv2.dilate(mask.astype(np.uint8), np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)).astype(bool)


def _processors(unet) -> dict[str, str]:
    return {name: type(proc).__name__ for name, proc in unet.attn_processors.items()}


def test_only_the_masked_pixels_change_and_the_fps_is_kept(inpaint_dir, moving):
    frames, masks = moving
    expert = _expert(inpaint_dir, batch_frames=3)  # 4 frames to edit: [0, 1, 3], then the anchor again with [4]
    reports = []
    result = expert.run(_call(frames, masks, "replace", new="a blue bowl",
                              progress=lambda fraction, message: reports.append(fraction)))
    clip = result.videos[0]
    assert clip.frames.shape == frames.shape and clip.frames.dtype == np.uint8 and clip.fps == FPS
    assert np.array_equal(clip.frames[2], frames[2])  # empty mask: untouched
    for t in (0, 1, 3, 4):
        inside, far = masks[t], _far_from(masks[t])
        assert np.abs(clip.frames[t][inside].astype(int) - frames[t][inside]).mean() > 5, t
        assert np.array_equal(clip.frames[t][far], frames[t][far]), t
    assert result.data["edited_frames"] == 4 and "a blue bowl" in result.text
    assert reports[-1] == pytest.approx(1.0) and reports == sorted(reports)


def test_shared_noise_and_cross_frame_attention_give_identical_frames_on_a_static_clip(inpaint_dir, coffee_small):
    frames = np.repeat(coffee_small[None, :48, :64], 5, axis=0)
    mask = np.zeros((48, 64), bool)
    mask[10:38, 20:44] = True
    expert = _expert(inpaint_dir, batch_frames=2)  # the anchor is re-run in every batch of two
    edited = expert.run(_call(frames, mask, "replace", new="a red teapot")).videos[0].frames
    assert np.abs(edited[0][mask].astype(int) - frames[0][mask]).mean() > 5
    for t in range(1, 5):
        assert np.abs(edited[t].astype(int) - edited[0]).max() <= 1, t


def _sharpen_self_attention(unet, factor: float = 8.0) -> None:
    """A tiny random UNet attends almost uniformly (its attention logits are near 0), so which frame the keys
    come from barely shows; scaling the query weights makes its self-attention peaked, as a trained one is."""
    import torch

    with torch.no_grad():
        for name, module in unet.named_modules():
            if name.endswith("attn1"):
                module.to_q.weight.mul_(factor)


def test_cross_frame_keys_and_values_are_the_anchor_then_the_frame(inpaint_dir):
    import torch

    from vitron_agent.tools.video_diffusion_edit import CrossFrameAttention, FrameLayout

    expert = _expert(inpaint_dir)
    attn = next(m for n, m in expert.pipe.unet.named_modules() if n.endswith("attn1"))
    original = attn.processor
    tokens = torch.randn(6, 20, attn.to_q.in_features, generator=torch.Generator().manual_seed(0))
    attn.set_processor(CrossFrameAttention(original, FrameLayout(frames=3)))  # [uncond f0-f2, cond f0-f2]
    try:
        with torch.no_grad():
            out = attn(tokens)
    finally:
        attn.set_processor(original)
    with torch.no_grad():  # the reference: diffusers' own processor, told to attend to [anchor, frame]
        for index in range(6):
            anchor = index - index % 3
            context = torch.cat([tokens[anchor], tokens[index]])[None]
            expected = attn(tokens[index][None], encoder_hidden_states=context)
            torch.testing.assert_close(out[index][None], expected, rtol=1e-4, atol=1e-5)
        assert not torch.allclose(out[1], attn(tokens[1][None])[0], atol=1e-3)  # not plain self-attention


def test_cross_frame_attention_is_installed_for_the_call_only(inpaint_dir, moving):
    frames, masks = moving
    expert = _expert(inpaint_dir)
    unet = expert.pipe.unet
    _sharpen_self_attention(unet)
    before = dict(unet.attn_processors)
    seen: list[dict[str, str]] = []
    with_cf = expert.run(_call(frames, masks, "replace", new="a blue bowl",
                               progress=lambda f, m: seen.append(_processors(unet)))).videos[0].frames
    assert seen and all(name.endswith("attn1.processor") == (kind == "CrossFrameAttention")
                        for name, kind in seen[0].items())
    assert unet.attn_processors == before  # the very same processor objects are back

    expert.cross_frame = False
    seen.clear()
    plain = expert.run(_call(frames, masks, "replace", new="a blue bowl",
                             progress=lambda f, m: seen.append(_processors(unet)))).videos[0].frames
    assert "CrossFrameAttention" not in seen[0].values()
    # The anchor attends to itself twice over (same result); the other frames now also see the anchor.
    assert np.abs(with_cf[0].astype(int) - plain[0]).max() <= 1
    for t in (1, 3, 4):
        assert np.abs(with_cf[t][masks[t]].astype(int) - plain[t][masks[t]]).mean() > 0.2, t


def test_the_original_processors_come_back_when_the_call_fails(inpaint_dir, moving):
    frames, masks = moving
    expert = _expert(inpaint_dir)
    before = dict(expert.pipe.unet.attn_processors)

    def cancel(fraction, message):
        raise KeyboardInterrupt("user cancelled")

    with pytest.raises(KeyboardInterrupt):
        expert.run(_call(frames, masks, "replace", new="a blue bowl", progress=cancel))
    assert expert.pipe.unet.attn_processors == before


def test_restyle_without_a_mask_repaints_whole_frames_and_other_ops(inpaint_dir, moving):
    frames, masks = moving
    expert = _expert(inpaint_dir)
    styled = expert.run(_call(frames, None, "restyle", command="", style="a watercolor painting")).videos[0]
    assert styled.frames.shape == frames.shape and styled.fps == FPS
    for t in range(len(frames)):
        change = np.abs(styled.frames[t].astype(int) - frames[t]).mean(axis=2)
        assert (change > 5).mean() > 0.5 and change[:8, :8].mean() > 5, t  # corners too: no region
    recolored = expert.run(_call(frames, masks, "recolor", color="red")).videos[0].frames
    removed = expert.run(_call(frames, masks, "remove")).videos[0].frames
    assert not np.array_equal(recolored, removed)
    assert np.array_equal(removed[2], frames[2]) and np.array_equal(removed[0][_far_from(masks[0])],
                                                                    frames[0][_far_from(masks[0])])


def test_bad_calls_say_what_is_missing(inpaint_dir, moving):
    frames, masks = moving
    expert = _expert(inpaint_dir)
    with pytest.raises(BadInputError, match="args.new"):
        expert.run(_call(frames, masks, "replace"))
    with pytest.raises(BadInputError, match="args.color"):
        expert.run(_call(frames, masks, "recolor"))
    with pytest.raises(BadInputError, match="needs a video"):
        expert.run(_call(None, masks, "replace", new="a teapot"))
    with pytest.raises(RegionError, match="masks are"):
        expert.run(_call(frames, masks[:3], "replace", new="a teapot"))
    with pytest.raises(RegionError, match="track it first"):
        expert.run(_call(frames, None, "remove"))
    with pytest.raises(RegionError, match="empty on every frame"):
        expert.run(_call(frames, np.zeros_like(masks), "replace", new="a teapot"))
    with pytest.raises(BadInputError, match="batch_frames"):
        DiffusionVideoEditExpert(weights=str(inpaint_dir), batch_frames=1)


def test_replace_the_object_in_the_box_across_a_video_through_the_graph(inpaint_dir, coffee_small, make_agent,
                                                                        tmp_path):
    from vitron_agent.stores import MediaRef
    from vitron_agent.stores.media_io import encode_video

    frames, offsets = pan_clip(coffee_small, frames=6, step=2, size=(96, 80))
    path = tmp_path / "pan.mp4"
    path.write_bytes(encode_video(frames, FPS))
    registry = ExpertRegistry.default()
    registry.register(DiffusionVideoEditExpert, weights=str(inpaint_dir), max_side=32)
    agent = make_agent(registry=registry)
    result = agent.invoke("replace the object in the box with a teapot", videos=[path], region=[34, 4, 82, 60])
    assert [(i.task, i.module) for i in result.invocations] == [
        ("segment", "grabcut"), ("track", "flow_track"), ("edit_video", "video_inpaint")]
    assert result.invocations[2].args == {"op": "replace", "new": "a teapot"} and result.errors == []
    edited = next(a for a in result.artifacts if a.kind == "video" and not a.preview)
    assert (edited.frames, edited.width, edited.height) == (6, 96, 80)
    store, _ = agent.context.stores(result.thread)
    media = agent.state(result.thread)["media"]
    video, fps = store.load_video(MediaRef(**media[edited.id]))
    source, _ = store.load_video(MediaRef(**next(m for m in media.values() if m["source"] == "user")))
    masks = store.load_mask_video(MediaRef(**next(m for m in media.values() if m["kind"] == "mask_video")))
    assert fps == pytest.approx(FPS) and masks.any(axis=(1, 2)).all()
    inside = np.abs(video.astype(int) - source)[masks].mean()
    outside = np.abs(video.astype(int) - source)[~masks].mean()
    assert inside > 5 and inside > 3 * outside, (inside, outside)
