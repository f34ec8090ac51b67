"""Wan 2.1 text-to-video, image-to-video and VACE masked video editing through the real loading path, on tiny
random pipelines saved to disk; every clip is checked against a direct call of the same diffusers pipeline."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("ftfy")

from vitron_agent.errors import BadInputError, RegionError  # noqa: E402
from vitron_agent.experts.base import ExpertCall, VideoClip  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools.wan import WanImageToVideoExpert, WanTextToVideoExpert, WanVACEExpert  # noqa: E402

from .synthetic_media import pan_clip  # noqa: E402
from .tiny_wan import tiny_wan_i2v_pipeline, tiny_wan_t2v_pipeline, tiny_wan_vace_pipeline  # noqa: E402

FPS = 12.0


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def wan_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("wan")
    return {"t2v": tiny_wan_t2v_pipeline(root / "t2v"), "i2v": tiny_wan_i2v_pipeline(root / "i2v"),
            "vace": tiny_wan_vace_pipeline(root / "vace")}


@pytest.fixture(scope="module")
def experts(wan_dirs):
    made = {"t2v": WanTextToVideoExpert(weights=str(wan_dirs["t2v"])),
            "i2v": WanImageToVideoExpert(weights=str(wan_dirs["i2v"]), max_area=32 * 32),
            "vace": WanVACEExpert(weights=str(wan_dirs["vace"]))}
    for expert in made.values():
        expert.load("cpu")
    return made


@pytest.fixture(scope="module")
def clip():
    """7 frames of 32x32 panning 2 px a frame across scikit-image's coffee photo, each with the mask of one patch
    of the scene (frame 2: none, the object left the frame)."""
    import cv2
    from skimage import data

    coffee = cv2.resize(data.coffee(), (72, 48), interpolation=cv2.INTER_AREA)
    frames, offsets = pan_clip(coffee, frames=7, step=2, size=(32, 32))
    masks = np.zeros(frames.shape[:3], bool)
    for t, x in enumerate(offsets):
        masks[t, 6:24, max(0, 20 - x):30 - x] = True
    masks[2] = False
    return frames, masks


def _generator(seed: int = 0):
    import torch

    return torch.Generator("cpu").manual_seed(seed)


def _uint8(output) -> np.ndarray:
    return np.clip(np.rint(np.asarray(output.frames[0]) * 255), 0, 255).astype(np.uint8)


def _direct_vace(pipe, frames, masks, prompt, negative=None, grey=True, steps=2):
    """The reference: ``WanVACEPipeline`` itself on (T, 32, 32, 3) frames (4k+1 of them) whose masked pixels are
    greyed for a repaint, then the source kept outside the masks (feathered edge)."""
    from PIL import Image

    from vitron_agent.tools._common import feathered_blend

    source = frames.copy()
    if grey:
        source[masks] = 128
    out = _uint8(pipe(video=[Image.fromarray(f) for f in source],
                      mask=[Image.fromarray(m.astype(np.uint8) * 255) for m in masks], prompt=prompt,
                      negative_prompt=negative, height=frames.shape[1], width=frames.shape[2], num_frames=len(frames),
                      num_inference_steps=steps, guidance_scale=5.0, generator=_generator(), output_type="np"))
    return out, np.stack([feathered_blend(o, f, m) if m.any() else f for o, f, m in zip(out, frames, masks)])


def _call(task, command="", images=(), video=None, mask=None, progress=None, **args) -> ExpertCall:
    call = ExpertCall(invocation=Invocation(id="c1", task=task, command=command, args={"steps": 2, **args}),
                      images=list(images), video=video, mask=mask)
    if progress is not None:
        call.progress = progress
    return call


def test_text_to_video_equals_the_pipeline_and_rounds_to_4k_plus_1(experts):
    expert = experts["t2v"]
    reports = []
    clip = expert.run(_call("generate_video", "a red kite in the wind", frames=5, fps=8, width=32, height=32,
                            progress=lambda fraction, message: reports.append(fraction))).videos[0]
    direct = _uint8(expert.pipe(prompt="a red kite in the wind", height=32, width=32, num_frames=5,
                                num_inference_steps=2, guidance_scale=5.0, generator=_generator(), output_type="np"))
    assert clip.frames.shape == (5, 32, 32, 3) and clip.fps == 8 and np.array_equal(clip.frames, direct)
    assert reports == [0.5, 1.0, 1.0]
    longer = expert.run(_call("generate_video", "a red kite", frames=6, width=48, height=32)).videos[0]
    assert longer.frames.shape == (9, 32, 48, 3) and longer.fps == 16  # Wan makes 4k+1 frames, at 16 fps
    with pytest.raises(BadInputError, match="multiples of 16"):
        expert.run(_call("generate_video", "a red kite", width=40, height=32))
    with pytest.raises(BadInputError, match="needs a prompt"):
        expert.run(_call("generate_video", ""))


def test_image_to_video_equals_the_pipeline_on_a_real_photo(experts):
    from PIL import Image
    from skimage import data

    expert = experts["i2v"]
    photo = data.astronaut()
    clip = expert.run(_call("animate_image", "she waves", images=[photo], frames=5)).videos[0]
    direct = _uint8(expert.pipe(image=Image.fromarray(photo), prompt="she waves", height=32, width=32, num_frames=5,
                                num_inference_steps=2, guidance_scale=5.0, generator=_generator(),
                                output_type="np"))
    assert clip.frames.shape == (5, 32, 32, 3) and np.array_equal(clip.frames, direct)
    mirrored = expert.run(_call("animate_image", "she waves", images=[photo[:, ::-1]], frames=5)).videos[0]
    assert not np.array_equal(mirrored.frames, clip.frames)  # the still conditions the clip
    wide = expert.run(_call("animate_image", "she waves", images=[data.coffee()], frames=5)).videos[0]
    assert wide.frames.shape == (5, 16, 32, 3)  # 600x400: the aspect ratio kept at about max_area, sides of 16
    with pytest.raises(BadInputError, match="needs an image"):
        expert.run(_call("animate_image", "she waves"))


def test_vace_edits_inside_the_masks_as_the_pipeline_does(experts, clip):
    frames, masks = clip[0][:5], clip[1][:5]
    expert = experts["vace"]
    result = expert.run(_call("edit_video", "the cup", video=VideoClip(frames, FPS), mask=masks, op="replace",
                              new="a blue teapot"))
    edited = result.videos[0]
    raw, direct = _direct_vace(expert.pipe, frames, masks, "a blue teapot")
    assert edited.fps == FPS and np.array_equal(edited.frames, direct)
    assert np.array_equal(edited.frames[2], frames[2])  # no mask on this frame: the source frame itself
    far = ~_grown(masks, 3)
    assert np.array_equal(edited.frames[far], frames[far])  # outside the masks (past the feathered edge): kept
    assert np.abs(edited.frames[masks].astype(int) - frames[masks]).mean() > 5
    assert np.abs(raw[far].astype(int) - frames[far]).mean() > 1  # VACE alone changes more than the masks
    assert result.data == {"edited_frames": 4, "windows": 1, "work_size": [32, 32]} and "a blue teapot" in result.text


def test_vace_longer_clips_go_in_windows_that_continue_the_edit(wan_dirs, clip):
    frames, masks = clip
    expert = WanVACEExpert(weights=str(wan_dirs["vace"]), window_frames=5)
    expert.load("cpu")
    reports = []
    result = expert.run(_call("edit_video", "the cup", video=VideoClip(frames, FPS), mask=masks, op="replace",
                              new="a blue teapot", progress=lambda fraction, message: reports.append(fraction)))
    edited = result.videos[0].frames
    assert edited.shape == frames.shape and result.data["windows"] == 2
    raw_first, first = _direct_vace(expert.pipe, frames[:5], masks[:5], "a blue teapot")
    assert np.array_equal(edited[:5], first)
    # window 2: frames 4-6 with frame 4 as edited (kept: no mask), padded to 5 by repeating frame 6
    greyed = frames.copy()
    greyed[masks] = 128
    second = np.concatenate([np.where(masks[4][..., None], raw_first[4], frames[4])[None], greyed[5:7],
                             greyed[6:7], greyed[6:7]])
    hole = np.concatenate([np.zeros_like(masks[4:5]), masks[5:7], masks[6:7], masks[6:7]])
    rest, _ = _direct_vace(expert.pipe, second, hole, "a blue teapot", grey=False)
    from vitron_agent.tools._common import feathered_blend

    for t in (5, 6):
        assert np.array_equal(edited[t], feathered_blend(rest[t - 4], frames[t], masks[t])), t
    assert reports == sorted(reports) and reports[-1] == pytest.approx(1.0) and len(reports) == 4


def test_vace_ops_restyle_without_a_region_and_bad_calls(experts, clip):
    frames, masks = clip[0][:5], clip[1][:5]
    expert = experts["vace"]
    video = VideoClip(frames, FPS)
    styled = expert.run(_call("edit_video", "", video=video, op="restyle", style="a watercolor painting")).videos[0]
    raw, _ = _direct_vace(expert.pipe, frames, np.ones(masks.shape, bool), "a watercolor painting", grey=False)
    assert np.array_equal(styled.frames, raw)  # no region: whole frames, from the source's own pixels
    removed = expert.run(_call("edit_video", "the cup", video=video, mask=masks, op="remove")).videos[0].frames
    _, direct = _direct_vace(expert.pipe, frames, masks, "empty background, seamless, natural continuation of the "
                             "surroundings", negative="the cup")
    assert np.array_equal(removed, direct)
    recolored = expert.run(_call("edit_video", "the cup", video=video, mask=masks, op="recolor", color="red"))
    _, direct = _direct_vace(expert.pipe, frames, masks, "red cup", grey=False)  # the shape stays: not greyed
    assert np.array_equal(recolored.videos[0].frames, direct)
    one_mask = expert.run(_call("edit_video", "the cup", video=video, mask=masks[0], op="recolor", color="red"))
    assert one_mask.data["edited_frames"] == 5  # an (H, W) mask applies to every frame

    with pytest.raises(BadInputError, match="args.new"):
        expert.run(_call("edit_video", "the cup", video=video, mask=masks, op="replace"))
    with pytest.raises(BadInputError, match="args.color"):
        expert.run(_call("edit_video", "the cup", video=video, mask=masks, op="recolor"))
    with pytest.raises(BadInputError, match="needs a video"):
        expert.run(_call("edit_video", "the cup", mask=masks, op="replace", new="a teapot"))
    with pytest.raises(BadInputError, match="not 'move'"):
        expert.run(_call("edit_video", "the cup", video=video, mask=masks, op="move", direction="left"))
    with pytest.raises(RegionError, match="track it first"):
        expert.run(_call("edit_video", "the cup", video=video, op="remove"))
    with pytest.raises(RegionError, match="masks are"):
        expert.run(_call("edit_video", "the cup", video=video, mask=masks[:3], op="remove"))
    with pytest.raises(RegionError, match="empty on every frame"):
        expert.run(_call("edit_video", "the cup", video=video, mask=np.zeros_like(masks), op="remove"))
    with pytest.raises(BadInputError, match="window_frames"):
        WanVACEExpert(window_frames=8)


def _dtypes(pipe) -> set:
    """Parameter dtypes of the transformer's attention and feed-forward layers and of the text encoder and VAE
    (the transformer keeps its time embedder and norms in float32 by design: ``_keep_in_fp32_modules``)."""
    kept = tuple(pipe.transformer._keep_in_fp32_modules)
    layers = [p for n, p in pipe.transformer.named_parameters() if not any(k in n for k in kept)]
    return {p.dtype for p in (*layers, *pipe.text_encoder.parameters(), *pipe.vae.parameters())}


def test_bfloat16_loads_and_runs(wan_dirs, clip):
    import torch

    frames, masks = clip[0][:5], clip[1][:5]
    t2v = WanTextToVideoExpert(weights=str(wan_dirs["t2v"]))
    t2v.load("cpu", dtype="bfloat16")
    assert _dtypes(t2v.pipe) == {torch.bfloat16}
    assert t2v.run(_call("generate_video", "a kite", frames=5, width=32, height=32)).videos[0].frames.shape == \
        (5, 32, 32, 3)
    vace = WanVACEExpert(weights=str(wan_dirs["vace"]))
    vace.load("cpu", dtype="bfloat16")
    assert _dtypes(vace.pipe) == {torch.bfloat16}
    edited = vace.run(_call("edit_video", "the cup", video=VideoClip(frames, FPS), mask=masks, op="replace",
                            new="a teapot")).videos[0].frames
    far = ~_grown(masks, 3)
    assert edited.shape == frames.shape and np.array_equal(edited[far], frames[far])


def test_missing_weights_say_how_to_get_them(tmp_path):
    state = WanVACEExpert(weights=str(tmp_path / "nowhere")).availability()
    assert not state.ok and "nowhere" in state.reason
    assert WanTextToVideoExpert.spec.weights == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    assert not WanImageToVideoExpert().availability().ok  # the 14B release is not cached here


# -- outside in: the agent, explicit invocations, stored artifacts ---------------------------------------------


def _stored(agent, result, artifact_id):
    """(frames, fps) of a stored video, and the thread's media store."""
    from vitron_agent.stores import MediaRef

    store, _ = agent.context.stores(result.thread)
    media = agent.state(result.thread)["media"]
    return store.load_video(MediaRef(**media[artifact_id])), store, media


def _as_stored(store, frames, fps):
    """``frames`` through the same MP4 encoding the agent stores videos with."""
    return store.load_video(store.put_video(frames, fps, "reference", source="test"))[0]


def test_wan_is_preferred_to_zeroscope_and_i2vgen_when_both_are_installed(wan_dirs):
    registry = ExpertRegistry.default()
    registry.register("vitron_agent.tools.text_to_video:TextToVideoExpert", weights=str(wan_dirs["t2v"]))
    registry.register("vitron_agent.tools.image_to_video:ImageToVideoExpert", weights=str(wan_dirs["i2v"]))
    registry.register("vitron_agent.tools.video_diffusion_edit:DiffusionVideoEditExpert", weights=str(wan_dirs["vace"]))
    for expert, key in ((WanTextToVideoExpert, "t2v"), (WanImageToVideoExpert, "i2v"), (WanVACEExpert, "vace")):
        registry.register(expert, weights=str(wan_dirs[key]))
    assert registry.best_for("generate_video") == "wan_t2v"
    assert registry.best_for("animate_image", input_kind="image") == "wan_i2v"
    assert registry.best_for("edit_video", "replace", "video") == "wan_vace"


def test_generate_and_animate_through_the_agent(wan_dirs, experts, make_agent, photos):
    from PIL import Image

    registry = ExpertRegistry.default()
    registry.register(WanTextToVideoExpert, weights=str(wan_dirs["t2v"]), width=32, height=32)
    registry.register(WanImageToVideoExpert, weights=str(wan_dirs["i2v"]), max_area=32 * 32)
    agent = make_agent(registry=registry)
    args = {"steps": 2, "frames": 5, "fps": 8}
    made = agent.invoke("", invocations=[Invocation(task="generate_video", command="a red kite in the wind",
                                                    args=args)])
    assert made.errors == [] and made.invocations[0].module == "wan_t2v"
    video = next(a for a in made.artifacts if a.kind == "video")
    assert (video.frames, video.width, video.height) == (5, 32, 32) and video.path.endswith(".mp4")
    (frames, fps), store, _ = _stored(agent, made, video.id)
    direct = _uint8(experts["t2v"].pipe(prompt="a red kite in the wind", height=32, width=32, num_frames=5,
                                        num_inference_steps=2, guidance_scale=5.0, generator=_generator(),
                                        output_type="np"))
    assert fps == pytest.approx(8) and np.array_equal(frames, _as_stored(store, direct, 8))

    animated = agent.invoke("", images=[photos["astronaut"]],
                            invocations=[Invocation(task="animate_image", command="she waves", args=args)])
    assert animated.errors == [] and animated.invocations[0].module == "wan_i2v"
    video = next(a for a in animated.artifacts if a.kind == "video")
    assert (video.frames, video.width, video.height) == (5, 32, 32)
    (frames, _), store, _ = _stored(agent, animated, video.id)
    photo = np.asarray(Image.open(photos["astronaut"]).convert("RGB"))
    direct = _uint8(experts["i2v"].pipe(image=Image.fromarray(photo), prompt="she waves", height=32, width=32,
                                        num_frames=5, num_inference_steps=2, guidance_scale=5.0,
                                        generator=_generator(), output_type="np"))
    assert np.array_equal(frames, _as_stored(store, direct, 8))


class _RecordingVACE(WanVACEExpert):
    """The real expert, keeping the frames it returns (before the agent stores them as H.264)."""

    made: list[np.ndarray] = []

    def run(self, call: ExpertCall):
        result = super().run(call)
        self.made.append(result.videos[0].frames.copy())
        return result


def test_edit_the_object_in_a_box_across_a_video_through_the_agent(wan_dirs, experts, make_agent, tmp_path):
    import cv2
    from skimage import data

    from vitron_agent.stores import MediaRef
    from vitron_agent.stores.media_io import encode_video

    coffee = cv2.resize(data.coffee(), (120, 80), interpolation=cv2.INTER_AREA)
    source, _ = pan_clip(coffee, frames=5, step=2, size=(64, 48))
    path = tmp_path / "pan.mp4"
    path.write_bytes(encode_video(source, FPS))
    registry = ExpertRegistry.default()
    registry.register(_RecordingVACE, weights=str(wan_dirs["vace"]))
    agent = make_agent(registry=registry)
    result = agent.invoke("", videos=[path], invocations=[Invocation(
        task="edit_video", command="the cup", region={"box": [14, 6, 50, 42]},
        args={"op": "replace", "new": "a blue teapot", "steps": 2})])
    assert result.errors == []
    assert [(i.task, i.module) for i in result.invocations] == [
        ("segment", "grabcut"), ("track", "flow_track"), ("edit_video", "wan_vace")]
    edited = next(a for a in result.artifacts if a.kind == "video" and not a.preview)
    assert (edited.frames, edited.width, edited.height) == (5, 64, 48)
    (frames, fps), store, media = _stored(agent, result, edited.id)
    user = next(m for m in media.values() if m["source"] == "user")
    decoded, _ = store.load_video(MediaRef(**user))
    tracked = next(m for m in media.values() if m["kind"] == "mask_video" and not m.get("carried_from"))
    masks = store.load_mask_video(MediaRef(**tracked))
    assert fps == pytest.approx(FPS) and masks.any(axis=(1, 2)).all()
    _, direct = _direct_vace(experts["vace"].pipe, decoded, masks, "a blue teapot")  # the agent's very inputs
    assert np.array_equal(_RecordingVACE.made[-1], direct)  # what the agent's expert made, before storage
    # H.264 encodes of equal frames can differ by a few levels from run to run on a 64x48 clip, so the stored
    # clip is compared with the reference's encoding within that noise.
    assert np.abs(frames.astype(int) - _as_stored(store, direct, FPS)).mean() < 4.0
    carried = next(m for m in media.values() if m.get("carried_from") == tracked["id"])
    assert carried["parents"] == [edited.id] and np.array_equal(store.load_mask_video(MediaRef(**carried)), masks)


def _grown(masks: np.ndarray, margin: int) -> np.ndarray:
    """``masks`` (T, H, W) dilated by ``margin`` pixels: the feathered edge lies within."""
    import cv2

    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    return np.stack([cv2.dilate(m.astype(np.uint8), kernel).astype(bool) for m in masks])

