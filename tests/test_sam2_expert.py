"""SAM 2 on images and video through the real loading path, on tiny random models the test builds, seeds and saves;
every mask is checked against a direct transformers call on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from skimage import data  # noqa: E402

from vitron_agent.errors import BadInputError, RegionError  # noqa: E402
from vitron_agent.experts.base import ExpertCall, VideoClip  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation, Point  # noqa: E402
from vitron_agent.tools.sam2 import MASK_LOGIT, Sam2Expert, Sam2VideoExpert  # noqa: E402

from .synthetic_media import iou, pan_clip  # noqa: E402
from .tiny_sam2 import tiny_sam2  # noqa: E402

CUP = (172.0, 18.0, 410.0, 300.0)  # the coffee cup in skimage's coffee photo (600x400)
SAUCER_EDGE = (10.0, 200.0, 200.0, 390.0)
HEAD = (60.0, 10.0, 130.0, 80.0)  # the astronaut's head in the first 160x120 window of the pan


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    return tiny_sam2(tmp_path_factory.mktemp("sam2") / "image", video=False)


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    """A video checkpoint, as facebook/sam2.1-hiera-* are: both experts load it."""
    return tiny_sam2(tmp_path_factory.mktemp("sam2") / "release", seed=1)


@pytest.fixture(scope="module")
def sam2(image_dir):
    expert = Sam2Expert(weights=str(image_dir))
    assert expert.availability().ok
    expert.load("cpu")
    return expert


@pytest.fixture(scope="module")
def clip():
    frames, _ = pan_clip(data.astronaut(), frames=24, step=4, size=(160, 120))
    return frames


def _segment(image, **region) -> ExpertCall:
    return ExpertCall(invocation=Invocation(id="c1", task="segment"), images=[image], **region)


def _track(frames, keyframe=0, **region) -> ExpertCall:
    return ExpertCall(invocation=Invocation(id="c1", task="track"), video=VideoClip(frames, 10.0),
                      frames=(keyframe, keyframe), **region)


def direct_image_masks(folder, image, multimask=False, **prompts) -> list[np.ndarray]:
    """SAM 2 as its model card shows it: processor, model, post-processing; the best guess of each object."""
    from transformers import Sam2Model, Sam2Processor

    model = Sam2Model.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()
    processor = Sam2Processor.from_pretrained(folder, local_files_only=True)
    hint = prompts.pop("mask", None)
    inputs = processor(images=image, return_tensors="pt", **prompts)
    if hint is not None:
        inputs["input_masks"] = torch.from_numpy(np.where(hint, MASK_LOGIT, -MASK_LOGIT).astype(np.float32))[None, None]
    with torch.inference_mode():
        out = model(**inputs, multimask_output=multimask)
    masks = processor.post_process_masks(out.pred_masks, inputs["original_sizes"])[0]  # (objects, guesses, H, W)
    best = out.iou_scores[0].argmax(-1)
    return [masks[i, int(b)].numpy() for i, b in enumerate(best)]


def direct_video_masks(folder, frames, keyframe, **prompts) -> np.ndarray:
    """SAM 2 video as its model card shows it (the whole clip in the session, nothing dropped): forward from the
    keyframe, then backward; (objects, T, H, W)."""
    from transformers import Sam2VideoModel, Sam2VideoProcessor

    model = Sam2VideoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()
    processor = Sam2VideoProcessor.from_pretrained(folder, local_files_only=True)
    session = processor.init_video_session(video=frames, inference_device="cpu", dtype=torch.float32)
    count = prompts.pop("objects")
    processor.add_inputs_to_inference_session(session, frame_idx=keyframe, obj_ids=list(range(1, count + 1)), **prompts)
    out = np.zeros((count, *frames.shape[:3]), bool)
    for reverse in (False, True):
        for step in model.propagate_in_video_iterator(session, start_frame_idx=keyframe, reverse=reverse):
            found = processor.post_process_masks([step.pred_masks], [list(frames.shape[1:3])])[0]
            out[:, step.frame_idx] = found[:, 0].numpy()
    assert len(session.output_dict_per_obj[0]["non_cond_frame_outputs"]) == len(frames) - 1  # it keeps them all
    return out


def test_boxes_clicks_and_a_mask_hint_give_the_direct_calls_masks(sam2, image_dir):
    image = data.coffee()
    by_boxes = sam2.run(_segment(image, boxes=[CUP, SAUCER_EDGE]))
    assert [m.shape for m in by_boxes.masks] == [(400, 600)] * 2 and by_boxes.masks[0].dtype == bool
    expected = direct_image_masks(image_dir, image, input_boxes=[[list(CUP), list(SAUCER_EDGE)]])
    assert all(np.array_equal(a, b) for a, b in zip(by_boxes.masks, expected))
    assert len(by_boxes.data["scores"]) == 2

    click = sam2.run(_segment(image, points=[Point(x=290, y=150)]))  # one click: the best of three guesses
    (expected,) = direct_image_masks(image_dir, image, multimask=True, input_points=[[[[290, 150]]]],
                                     input_labels=[[[1]]])
    assert np.array_equal(click.masks[0], expected)

    clicks = [Point(x=290, y=150), Point(x=50, y=350, positive=False)]
    refined = sam2.run(_segment(image, boxes=[CUP], points=clicks))  # clicks refine the one box
    (expected,) = direct_image_masks(image_dir, image, input_boxes=[[list(CUP)]],
                                     input_points=[[[[290, 150], [50, 350]]]], input_labels=[[[1, 0]]])
    assert len(refined.masks) == 1 and np.array_equal(refined.masks[0], expected)

    hint = np.zeros((400, 600), bool)
    hint[40:280, 190:400] = True
    by_hint = sam2.run(_segment(image, mask=hint))  # the hint, and its box
    (expected,) = direct_image_masks(image_dir, image, mask=hint, input_boxes=[[[190.0, 40.0, 400.0, 280.0]]])
    assert np.array_equal(by_hint.masks[0], expected)
    assert sam2.images_embedded == 1  # one image, embedded once, prompted four times
    sam2.run(_segment(data.chelsea(), boxes=[CUP]))
    assert sam2.images_embedded == 2


def test_regions_sam2_cannot_use_are_refused_with_the_reason(sam2, release_dir, clip):
    image = data.coffee()
    with pytest.raises(RegionError, match="outside the 600x400 frame"):
        sam2.run(_segment(image, boxes=[(700.0, 10.0, 800.0, 50.0)]))
    with pytest.raises(RegionError, match="clicks refine one box"):
        sam2.run(_segment(image, boxes=[CUP, SAUCER_EDGE], points=[Point(x=1, y=1)]))
    with pytest.raises(RegionError, match="background click"):
        sam2.run(_segment(image, points=[Point(x=1, y=1, positive=False)]))
    with pytest.raises(RegionError, match="mask is 10x10"):
        sam2.run(_segment(image, mask=np.ones((10, 10), bool)))
    with pytest.raises(RegionError, match="needs a region"):
        sam2.run(_segment(image))
    with pytest.raises(BadInputError, match="needs an image"):
        sam2.run(ExpertCall(invocation=Invocation(id="c1", task="segment")))
    tracker = Sam2VideoExpert(weights=str(release_dir))
    tracker.load("cpu")
    with pytest.raises(RegionError, match="keyframe 30 is outside the video's 24 frames"):
        tracker.run(_track(clip, keyframe=30, boxes=[HEAD]))
    with pytest.raises(RegionError, match="not both"):
        tracker.run(_track(clip, boxes=[HEAD], mask=np.ones(clip.shape[1:3], bool)))
    with pytest.raises(BadInputError, match="needs a video"):
        tracker.run(ExpertCall(invocation=Invocation(id="c1", task="track"), boxes=[HEAD]))


def test_tracking_from_a_middle_keyframe_covers_every_frame_as_the_direct_call_does(release_dir, clip):
    frames = clip[:10]
    tracker = Sam2VideoExpert(weights=str(release_dir))
    tracker.load("cpu")
    seen = []
    call = _track(frames, keyframe=4, boxes=[HEAD, (20.0, 60.0, 90.0, 115.0)])
    call.progress = lambda fraction, message: seen.append(fraction)
    result = tracker.run(call)
    assert [m.shape for m in result.masks] == [(10, 120, 160)] * 2 and result.masks[0].dtype == bool
    assert result.data["keyframe"] == 4 and result.data["object_ids"] == [1, 2] and "from frame 4" in result.text
    expected = direct_video_masks(release_dir, frames, 4, objects=2, input_boxes=[[list(HEAD), [20, 60, 90, 115]]])
    assert np.array_equal(np.stack(result.masks), expected)
    assert len(seen) == 10 and seen[-1] == 1.0 and seen == sorted(seen)  # each frame once, keyframe included

    clicks = tracker.run(_track(frames, keyframe=9, points=[Point(x=95, y=45), Point(x=5, y=5, positive=False)]))
    expected = direct_video_masks(release_dir, frames, 9, objects=1, input_points=[[[[95, 45], [5, 5]]]],
                                  input_labels=[[[1, 0]]])
    assert np.array_equal(np.stack(clicks.masks), expected)  # last frame: everything tracked backward

    region = np.zeros(frames.shape[1:3], bool)
    region[20:70, 50:110] = True
    by_mask = tracker.run(_track(frames, keyframe=0, mask=region))
    expected = direct_video_masks(release_dir, frames, 0, objects=1, input_masks=[region])
    assert np.array_equal(np.stack(by_mask.masks), expected)
    assert iou(by_mask.masks[0][0], region) > 0.8, iou(by_mask.masks[0][0], region)  # taken as given (at 16x16)


def test_what_the_session_stores_stays_bounded_as_the_clip_grows(release_dir, clip):
    """Window 4 covers all the tiny model reads (3 memory frames, 4 pointers): the masks equal the direct call's,
    which keeps all 23 frame outputs of a 24-frame clip; the expert keeps at most 2 x 4 + 1 + the keyframe."""
    tracker = Sam2VideoExpert(weights=str(release_dir), memory_window=4)
    tracker.load("cpu")
    peaks = {}
    for length in (8, 24):
        held: list[tuple[int, int, int]] = []

        def look(fraction: float, message: str, held: list[tuple[int, int, int]] = held) -> None:
            session = tracker.session
            outputs = session.output_dict_per_obj[0]
            entries = [*outputs["non_cond_frame_outputs"].values(), *outputs["cond_frame_outputs"].values()]
            assert not any("high_res_masks" in entry for entry in entries)
            held.append((len(entries), len(session.processed_frames.held), len(session.frames_tracked_per_obj[0])))

        call = _track(clip[:length], boxes=[HEAD])
        call.progress = look
        result = tracker.run(call)
        peaks[length] = tuple(max(column) for column in zip(*held))
        assert result.data["memory_frames_peak"] == peaks[length][0]
        expected = direct_video_masks(release_dir, clip[:length], 0, objects=1, input_boxes=[[list(HEAD)]])
        assert np.array_equal(result.masks[0], expected[0])
    assert peaks[8] == (8, 2, 7) and peaks[24] == (10, 2, 9)  # 24 frames: 10 outputs, 2 frames, 9 step records
    assert tracker.session is None  # nothing is kept once the call is done


def test_bfloat16_loads_bfloat16_weights_and_still_runs(image_dir, release_dir, clip):
    image_expert = Sam2Expert(weights=str(image_dir))
    image_expert.load("cpu", dtype="bfloat16")
    assert {p.dtype for p in image_expert.model.parameters()} == {torch.bfloat16}
    (mask,) = image_expert.run(_segment(data.coffee(), boxes=[CUP])).masks
    assert mask.shape == (400, 600) and mask.dtype == bool
    tracker = Sam2VideoExpert(weights=str(release_dir))
    tracker.load("cpu", dtype="bfloat16")
    assert {p.dtype for p in tracker.model.parameters()} == {torch.bfloat16}
    (track,) = tracker.run(_track(clip[:4], keyframe=1, boxes=[HEAD])).masks
    assert track.shape == (4, 120, 160) and track.dtype == bool


def test_sam2_outranks_sam_and_grabcut_once_its_weights_are_present(release_dir):
    registry = ExpertRegistry.default()
    state = registry.availability("sam2")
    assert not state.ok and "facebook/sam2.1-hiera-large" in state.reason
    registry.register(Sam2Expert, weights=str(release_dir))
    registry.register(Sam2VideoExpert, weights=str(release_dir))
    assert registry.best_for("segment") == "sam2" and registry.best_for("track", input_kind="video") == "sam2_video"


def test_segment_a_photo_through_the_agent(make_agent, photos, release_dir):
    from skimage.io import imread

    from vitron_agent.stores import MediaRef

    registry = ExpertRegistry.default()
    registry.register(Sam2Expert, weights=str(release_dir))
    agent = make_agent(registry=registry)
    result = agent.invoke("", images=[photos["coffee"]], invocations=[
        Invocation(module="sam2", task="segment", command="the cup", region={"box": list(CUP)})])
    assert result.errors == [] and result.invocations[0].module == "sam2"
    mask_artifact = next(a for a in result.artifacts if a.kind == "mask")
    assert (mask_artifact.width, mask_artifact.height) == (600, 400)
    store, _ = agent.context.stores(result.thread)
    stored = store.load_mask(MediaRef(**agent.state(result.thread)["media"][mask_artifact.id]))
    (expected,) = direct_image_masks(release_dir, imread(photos["coffee"]), input_boxes=[[list(CUP)]])
    assert np.array_equal(stored, expected)


def test_track_from_the_frame_the_box_was_drawn_on_through_the_agent(make_agent, clip, release_dir, tmp_path):
    from vitron_agent.stores import MediaRef
    from vitron_agent.stores.media_io import encode_video

    path = tmp_path / "pan.mp4"
    path.write_bytes(encode_video(clip[:8], 10.0))
    registry = ExpertRegistry.default()
    registry.register(Sam2VideoExpert, weights=str(release_dir))
    agent = make_agent(registry=registry)
    result = agent.invoke("", videos=[path], invocations=[
        Invocation(module="sam2_video", task="track", command="the head", region={"box": list(HEAD), "frames": [3, 3]})])
    assert result.errors == [] and result.invocations[0].module == "sam2_video"
    tracked = next(a for a in result.artifacts if a.kind == "mask_video")
    assert (tracked.frames, tracked.width, tracked.height) == (8, 160, 120)
    assert "from frame 3" in next(c.text for c in result.calls if c.expert == "sam2_video")
    store, _ = agent.context.stores(result.thread)
    media = agent.state(result.thread)["media"]
    masks = store.load_mask_video(MediaRef(**media[tracked.id]))
    decoded, _ = store.load_video(MediaRef(**next(m for m in media.values() if m["kind"] == "video")))
    expected = direct_video_masks(release_dir, decoded, 3, objects=1, input_boxes=[[list(HEAD)]])
    assert np.array_equal(masks, expected[0])


@pytest.mark.weights
def test_real_sam2_segments_the_cup_and_follows_it_through_a_pan():
    expert, tracker = Sam2Expert(), Sam2VideoExpert()
    if not expert.availability().ok:
        pytest.skip(f"no SAM 2.1 weights: {expert.availability().reason}")
    expert.load("auto")
    (cup,) = expert.run(_segment(data.coffee(), boxes=[CUP])).masks
    inside = np.zeros_like(cup)
    inside[18:300, 172:410] = True
    assert cup[inside].mean() > 0.4 and cup[~inside].mean() < 0.02  # the cup fills its box, little outside
    tracker.load("auto")
    frames, offsets = pan_clip(data.coffee(), frames=12, step=8, size=(480, 400))
    (track,) = tracker.run(_track(frames, keyframe=6, boxes=[(CUP[0] - 48, CUP[1], CUP[2] - 48, CUP[3])])).masks
    centres = [np.nonzero(m.any(axis=0))[0].mean() for m in track]
    assert abs((centres[0] - centres[11]) - (offsets[11] - offsets[0])) < 12  # the mask moves with the pan
