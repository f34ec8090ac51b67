"""The turn used as users use it: each test reproduces one failure found from outside (a host graph, LangChain
tools, the Python API, tiny-weight SAM/SD/GLIGEN) and checks the fix against known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from vitron_agent import AgentConfig, Invocation, VitronAgent
from vitron_agent.experts.base import Detection, Expert, ExpertCall, ExpertResult, ExpertSpec
from vitron_agent.experts.registry import ExpertRegistry
from vitron_agent.planners.base import PlannerOutput
from vitron_agent.planners.scripted import ScriptedPlanner
from vitron_agent.stores.media import MediaRef
from vitron_agent.stores.media_io import encode_video

from .conftest import save_png
from .synthetic_experts import BoxMaskExpert
from .synthetic_media import pan_clip

CUP = (172, 18, 410, 300)  # the coffee cup in scikit-image's coffee photo, saucer excluded, drawn by eye
ROCKET = (308, 127, 336, 360)  # the rocket (with its umbilical tower) in scikit-image's rocket photo, by eye


def _load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else None


def _box_iou(a, b) -> float:
    if a is None or b is None:
        return 0.0
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _media(agent: VitronAgent, thread: str, media_id: str) -> MediaRef:
    return MediaRef(**agent.state(thread)["media"][media_id])


# --- 1. two calls to one expert in a turn -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_sam_dir(tmp_path_factory):
    pytest.importorskip("segment_anything")
    from .tiny_models import tiny_sam

    return tiny_sam(tmp_path_factory.mktemp("sam") / "tiny-sam")


@pytest.fixture(scope="module")
def tiny_sd_dir(tmp_path_factory):
    pytest.importorskip("diffusers")
    from .tiny_models import tiny_sd_pipeline

    return tiny_sd_pipeline(tmp_path_factory.mktemp("sd") / "tiny-sd")


def _registry_with(expert: type[Expert], **options) -> ExpertRegistry:
    registry = ExpertRegistry.default()
    registry.register(expert, **options)
    return registry


def _file_bytes(result, kind: str) -> list[bytes]:
    return [Path(a.path).read_bytes() for a in result.artifacts if a.kind == kind and not a.preview]


def test_two_sam_calls_in_one_turn_give_the_masks_each_gives_alone(tiny_sam_dir, make_agent, photos):
    from vitron_agent.tools.sam import SamExpert

    agent = make_agent(registry=_registry_with(SamExpert, weights=str(tiny_sam_dir)))
    face, cup = [175, 55, 265, 170], list(CUP)  # astronaut 512x512 and coffee 600x400: different sizes
    calls = [{"module": "sam", "task": "segment", "inputs": ["u0"], "region": {"box": face}},
             {"module": "sam", "task": "segment", "inputs": ["u1"], "region": {"box": cup}}]
    alone = [agent.invoke("", images=[photos[name]], invocations=[{**call, "inputs": ["u0"]}])
             for name, call in zip(("astronaut", "coffee"), calls)]
    expected = [_file_bytes(result, "mask")[0] for result in alone]
    for _ in range(3):  # parallel branches interleave differently each time; every run must match
        together = agent.invoke("", images=[photos["astronaut"], photos["coffee"]], invocations=calls)
        assert together.errors == []
        assert _file_bytes(together, "mask") == expected


def test_two_sd_calls_with_different_step_counts_give_the_images_each_gives_alone(tiny_sd_dir, make_agent):
    from vitron_agent.tools.stable_diffusion import StableDiffusionExpert

    agent = make_agent(registry=_registry_with(StableDiffusionExpert, weights=str(tiny_sd_dir)))
    calls = [{"module": "stable_diffusion", "task": "generate_image", "command": "a red fox", "args": {"steps": 2}},
             {"module": "stable_diffusion", "task": "generate_image", "command": "a red fox", "args": {"steps": 7}}]
    expected = [_file_bytes(agent.invoke("", invocations=[call]), "image")[0] for call in calls]
    assert expected[0] != expected[1]
    for _ in range(2):
        together = agent.invoke("", invocations=calls)
        assert together.errors == [] and _file_bytes(together, "image") == expected


# --- 2. referring segmentation: one object for a singular phrase, instances for a plural one -----------------


class _ThreeCupsGrounder(Expert):
    """A grounder that finds what it is told to in fixed places: three cups (the middle one most sure) and a
    1-px sliver of noise, as open-vocabulary grounders return them."""

    spec = ExpertSpec(name="three_cups", tasks=("ground",), description="Finds cups.", outputs=("boxes",), quality=50)
    found = [Detection((20.0, 30.0, 60.0, 70.0), "cup", 0.7), Detection((120.0, 20.0, 180.0, 90.0), "cup", 0.9),
             Detection((230.0, 40.0, 260.0, 80.0), "cup", 0.6), Detection((100.0, 10.0, 100.8, 95.0), "cup", 0.95)]

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        pass

    def run(self, call: ExpertCall) -> ExpertResult:
        return ExpertResult(detections=list(self.found), text=f"found {len(self.found)}")


def _rect(box, shape=(100, 300)) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[int(box[1]):int(np.ceil(box[3])), int(box[0]):int(np.ceil(box[2]))] = True
    return mask


@pytest.fixture
def three_cups(make_agent, tmp_path):
    registry = ExpertRegistry()
    registry.register(_ThreeCupsGrounder)
    registry.register(BoxMaskExpert)
    image = save_png(data.coffee()[:100, :300].copy(), tmp_path / "cups.png")
    return make_agent(registry=registry), image


@pytest.mark.parametrize("text, expected", [
    ("segment the cup", (120.0, 20.0, 180.0, 90.0)),  # the best-scoring box, not the union of all
    ("segment the cup on the left", (20.0, 30.0, 60.0, 70.0)),
    ("segment the rightmost cup", (230.0, 40.0, 260.0, 80.0)),
])
def test_a_singular_phrase_segments_one_object(three_cups, text, expected):
    agent, image = three_cups
    result = agent.invoke(text, images=[image])
    assert [i.task for i in result.invocations] == ["ground", "segment"] and result.errors == []
    assert result.invocations[0].args["instances"] == "one"  # visible in the plan
    (mask,) = [_load(a.path) > 127 for a in result.artifacts if a.kind == "mask"]
    assert np.array_equal(mask, _rect(expected))


def test_a_plural_phrase_keeps_every_instance_apart_and_drops_degenerate_boxes(three_cups):
    agent, image = three_cups
    result = agent.invoke("segment all the cups", images=[image])
    assert result.errors == [] and result.invocations[0].args["instances"] == "all"
    masks = {a.id: _load(a.path) > 127 for a in result.artifacts if a.kind == "mask"}
    union = masks.pop("o2")
    instances = _media(agent, result.thread, "o2").instances
    assert sorted(instances) == sorted(masks) and len(masks) == 3  # the 0.8-px sliver is gone
    truth = [_rect(d.box) for d in _ThreeCupsGrounder.found[:3]]
    for mask in masks.values():
        assert any(np.array_equal(mask, one) for one in truth)
    assert np.array_equal(union, np.logical_or.reduce(truth))
    boxes = _media(agent, result.thread, "o1").data["detections"]
    assert len(boxes) == 3 and all(d["box"][2] - d["box"][0] >= 2 for d in boxes)


class _ThreeCupsSegmenter(_ThreeCupsGrounder):
    """A segmenter that finds its targets by words, as YOLO does: a mask and a box for each cup it sees."""

    spec = ExpertSpec(name="three_cup_masks", tasks=("segment",), description="Segments cups by name.",
                      outputs=("mask",), region_kinds=("box",), quality=60)

    def run(self, call: ExpertCall) -> ExpertResult:
        return ExpertResult(masks=[_rect(d.box) for d in self.found], detections=list(self.found))


@pytest.mark.parametrize("text, count", [("segment the cup", 1), ("segment the cups", 3)])
def test_an_expert_that_segments_by_words_keeps_what_the_phrase_refers_to(make_agent, tmp_path, text, count):
    registry = ExpertRegistry()
    registry.register(_ThreeCupsSegmenter)
    agent = make_agent(registry=registry)
    image = save_png(data.coffee()[:100, :300].copy(), tmp_path / "cups.png")
    result = agent.invoke(text, images=[image])
    assert [i.task for i in result.invocations] == ["segment"] and result.errors == []
    union = _load(next(a.path for a in result.artifacts if a.id == "o1")) > 127
    assert len(_media(agent, result.thread, "o1").instances) == (0 if count == 1 else 3)
    expected = _ThreeCupsGrounder.found[1:2] if count == 1 else _ThreeCupsGrounder.found[:3]
    assert np.array_equal(union, np.logical_or.reduce([_rect(d.box) for d in expected]))


# --- 3. a region on frame 10 of a video ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pan(tmp_path_factory):
    """A pan across the real rocket photo (2 px left per frame) and where the rocket truly is on each frame."""
    frames, offsets = pan_clip(data.rocket(), frames=40, step=2)
    path = tmp_path_factory.mktemp("pan") / "pan.mp4"
    path.write_bytes(encode_video(frames, 12.0))
    truth = [(ROCKET[0] - dx, ROCKET[1], ROCKET[2] - dx, ROCKET[3]) for dx in offsets]
    return path, truth


def _track_ious(agent: VitronAgent, thread: str, mask_id: str, truth) -> list[float]:
    store, _ = agent.context.stores(thread)
    masks = store.load_mask_video(_media(agent, thread, mask_id))
    assert masks.shape[0] == len(truth)
    return [_box_iou(_bbox(mask), box) for mask, box in zip(masks, truth)]


def test_a_box_drawn_on_frame_10_is_tracked_from_frame_10_over_the_whole_clip(make_agent, pan):
    path, truth = pan
    agent = make_agent()
    x1, y1, x2, y2 = truth[10]
    drawn = [x1 - 12, y1 - 8, x2 + 12, 360]  # a loose box around the rocket as it is on frame 10
    result = agent.invoke("track the object in the box", videos=[path], region=drawn, frame=10)
    assert result.errors == []
    segment, track = result.invocations
    assert segment.region.frames == (10, 10) and track.region.frames == (10, 10)
    keyframe_mask = next(a for a in result.artifacts if a.kind == "mask")
    assert _media(agent, result.thread, keyframe_mask.id).keyframe == 10
    tracked = next(a for a in result.artifacts if a.kind == "mask_video")
    ious = _track_ious(agent, result.thread, tracked.id, truth)
    assert min(ious) >= 0.5, [round(v, 2) for v in ious]  # frames before 10 too (tracked backwards)


def test_a_video_edit_on_a_frame_10_box_edits_the_object_on_every_frame(make_agent, pan):
    path, truth = pan
    agent = make_agent()
    x1, y1, x2, y2 = truth[10]
    result = agent.invoke("make the object in the box red", videos=[path], region=[x1 - 12, y1 - 8, x2 + 12, 360],
                          frame=10)
    assert result.errors == [] and [i.task for i in result.invocations] == ["segment", "track", "edit_video"]
    edited = next(a for a in result.artifacts if a.kind == "video")
    store, _ = agent.context.stores(result.thread)
    frames, _ = store.load_video(_media(agent, result.thread, edited.id))
    import cv2

    for t in (0, 10, 39):  # redder on the rocket where it is on that frame
        a = cv2.cvtColor(frames[t], cv2.COLOR_RGB2LAB)[..., 1].astype(float)
        bx1, by1, bx2, by2 = truth[t]
        on_rocket = a[by1 + 20:by2 - 20, bx1 + 8:bx2 - 8].mean()
        beside = a[by1 + 20:by2 - 20, bx1 - 30:bx1 - 15].mean()
        assert on_rocket > beside + 15, (t, on_rocket, beside)


def test_a_video_only_turn_segments_the_keyframe_of_the_video(make_agent, pan):
    path, truth = pan
    agent = make_agent()
    x1, y1, x2, y2 = truth[5]
    segment = {"task": "segment", "region": {"box": [x1 - 12, y1 - 8, x2 + 12, 360], "frames": [5, 5]}}
    result = agent.invoke("", videos=[path], invocations=[segment])
    assert result.errors == [] and result.invocations[0].inputs == ["u0"]
    mask = next(a for a in result.artifacts if a.kind == "mask")
    assert _media(agent, result.thread, mask.id).keyframe == 5
    assert _box_iou(_bbox(_load(mask.path) > 127), truth[5]) >= 0.5


# --- 4. edits stack --------------------------------------------------------------------------------------------


def test_recolour_then_move_then_restyle_make_one_image_with_all_three(make_agent, photos):
    import cv2

    agent = make_agent()
    first = agent.invoke("make the object in the box red", images=[photos["coffee"]], region=list(CUP))
    second = agent.invoke("now move it to the right", thread=first.thread)
    assert first.errors == [] and second.errors == []
    recoloured = next(a for a in first.artifacts if a.kind == "image" and not a.preview)
    moved = next(a for a in second.artifacts if a.kind == "image" and not a.preview)
    assert second.invocations[-1].inputs == [recoloured.id]  # the move acts on the red cup, not the original
    restyle = {"task": "edit_image", "region": {"ref": "o1"}, "args": {"op": "restyle", "style": "watercolor painting"}}
    third = agent.invoke("", thread=first.thread, invocations=[restyle])  # "o1": the cup as first segmented
    assert third.errors == [] and third.invocations[0].inputs == [moved.id]
    final = _load(next(a.path for a in third.artifacts if a.kind == "image" and not a.preview))
    original, after_move = _load(str(photos["coffee"])), _load(moved.path)
    cup = _load(next(a.path for a in first.artifacts if a.kind == "mask" and not a.preview)) > 127
    shift = 120  # the move's default distance: 0.2 of the 600 px width
    now = np.zeros_like(cup)
    now[:, shift:] = cup[:, :-shift]
    assert np.array_equal(_load(next(a.path for a in second.artifacts if a.kind == "mask")) > 127, now)
    lab_final = cv2.cvtColor(final, cv2.COLOR_RGB2LAB).astype(float)
    lab_original = cv2.cvtColor(original, cv2.COLOR_RGB2LAB).astype(float)
    assert lab_final[now, 1].mean() > lab_original[cup, 1].mean() + 20  # recoloured red, where the cup now is
    around = (cv2.dilate(cup.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0) & ~cup
    left_behind = lab_final[cup & ~now].mean(axis=0)  # moved away: its old place looks like what was around it
    assert np.linalg.norm(left_behind - lab_original[around].mean(axis=0)) < 15
    assert np.linalg.norm(left_behind - lab_final[now].mean(axis=0)) > 30
    assert not np.array_equal(final[now], after_move[now])  # restyled inside the moved cup ...
    assert np.array_equal(final[~now], after_move[~now])  # ... and only there
    chain = [_media(agent, first.thread, i) for i in (recoloured.id, moved.id)]
    assert [ref.version_of for ref in chain] == ["u0", recoloured.id]


# --- 5. LangChain tools run through the graph ---------------------------------------------------------------------


def test_a_tool_call_with_a_box_gets_its_segmentation_step_in_create_agent(make_agent, photos):
    pytest.importorskip("langchain")
    from langchain.agents import create_agent
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    from vitron_agent import expert_tools

    class ScriptedChatModel(FakeMessagesListChatModel):  # a tool-calling chat model that says what it is told
        def bind_tools(self, tools, **kwargs):
            return self

    agent = make_agent()
    image_id = agent.attach("tools", images=[photos["coffee"]])[0]
    call = {"name": "opencv_inpaint", "id": "call_1", "type": "tool_call",
            "args": {"task": "edit_image", "inputs": [image_id], "args": {"op": "remove"}, "region": {"box": list(CUP)}}}
    model = ScriptedChatModel(responses=[AIMessage("", tool_calls=[call]), AIMessage("Removed.")])
    final = create_agent(model, tools=expert_tools(agent, "tools")).invoke({"messages": [HumanMessage("remove it")]})
    message = next(m for m in final["messages"] if isinstance(m, ToolMessage))
    assert message.status == "success", message.content
    assert "segment by grabcut" in message.content and "edit_image.remove by opencv_inpaint" in message.content
    kinds = sorted(a["kind"] for a in message.artifact)
    assert kinds == ["image", "image", "mask"]  # the inserted step's mask and preview, the edited image
    edited = _load(next(a["path"] for a in message.artifact if a["kind"] == "image" and a["id"] == "o2"))
    original = _load(str(photos["coffee"]))
    x1, y1, x2, y2 = CUP
    assert np.abs(edited[y1:y2, x1:x2].astype(int) - original[y1:y2, x1:x2]).mean() > 10
    assert np.array_equal(edited[:, :120], original[:, :120])  # far from the cup nothing changed


# --- 6. signals and arguments reach the expert -------------------------------------------------------------------


def test_sam_with_a_signal_and_no_region_decodes_the_signal(tiny_sam_dir, make_agent, photos):
    from vitron_agent.tools.sam import SamExpert

    signal = np.random.default_rng(0).standard_normal((2, 32)).astype(np.float32) * 3
    planner = ScriptedPlanner([PlannerOutput(invocations=[Invocation(id="c1", module="sam", task="segment",
                                                                     command="the cup")], signals={"c1": signal})])
    agent = make_agent(registry=_registry_with(SamExpert, weights=str(tiny_sam_dir)), planner=planner)
    result = agent.invoke("segment the cup", images=[photos["coffee"]])
    assert result.errors == [] and [i.task for i in result.invocations] == ["segment"]  # no grounding inserted
    mask = _load(next(a.path for a in result.artifacts if a.kind == "mask")) > 127
    direct = SamExpert(weights=str(tiny_sam_dir))
    direct.load("cpu")
    (expected,) = direct.run(ExpertCall(invocation=Invocation(task="segment"), images=[data.coffee()],
                                        signal=signal)).masks
    assert np.array_equal(mask, expected)


def test_sd_with_a_signal_keeps_the_negative_prompt(tiny_sd_dir, make_agent):
    import torch
    from diffusers import StableDiffusionPipeline

    from vitron_agent.tools.stable_diffusion import StableDiffusionExpert

    signal = np.random.default_rng(1).standard_normal((77, 16)).astype(np.float32)
    outputs = [PlannerOutput(invocations=[Invocation(id="c1", task="generate_image", args=args)], signals={"c1": signal})
               for args in ({"steps": 3, "negative": "blurry, dark"}, {"steps": 3})]
    agent = make_agent(registry=_registry_with(StableDiffusionExpert, weights=str(tiny_sd_dir)),
                       planner=ScriptedPlanner(outputs))
    with_negative = _load(next(a.path for a in agent.invoke("draw").artifacts if a.kind == "image"))
    without = _load(next(a.path for a in agent.invoke("draw").artifacts if a.kind == "image"))
    pipe = StableDiffusionPipeline.from_pretrained(str(tiny_sd_dir), safety_checker=None)
    pipe.set_progress_bar_config(disable=True)
    direct = pipe(prompt_embeds=torch.as_tensor(signal)[None], negative_prompt="blurry, dark", num_inference_steps=3,
                  guidance_scale=7.5, generator=torch.Generator("cpu").manual_seed(0), output_type="np").images[0]
    assert np.array_equal(with_negative, np.clip(np.rint(direct * 255), 0, 255).astype(np.uint8))
    assert not np.array_equal(with_negative, without)


def test_boxes_for_generation_go_to_the_box_grounded_expert_or_are_refused(tiny_sd_dir, tmp_path, make_agent):
    from vitron_agent.tools.gligen import GligenExpert
    from vitron_agent.tools.stable_diffusion import StableDiffusionExpert

    from .tiny_models import tiny_sd_pipeline

    layout = {"phrases": ["a dog", "a ball"], "boxes": [[0, 0, 16, 16], [16, 16, 32, 32]], "steps": 2}
    plain = _registry_with(StableDiffusionExpert, weights=str(tiny_sd_dir))
    refused = make_agent(registry=plain).invoke("", invocations=[{"task": "generate_image", "command": "a park",
                                                                   "args": layout}])
    (error,) = refused.errors
    assert "no installed expert can do generate_image with args.phrases and args.boxes" in error["message"]
    assert "gligen" in error["message"] and not refused.artifacts
    plain.register(GligenExpert, weights=str(tiny_sd_pipeline(tmp_path / "gligen", gligen=True)))
    agent = make_agent(registry=plain)
    made = agent.invoke("", invocations=[{"task": "generate_image", "command": "a park", "args": layout}])
    assert made.errors == [] and made.invocations[0].module == "gligen"
    plain_prompt = agent.invoke("", invocations=[{"task": "generate_image", "command": "a park", "args": {"steps": 2}}])
    assert plain_prompt.invocations[0].module == "stable_diffusion"  # no boxes: the plain generator
    explicit = agent.invoke("", invocations=[{"module": "stable_diffusion", "task": "generate_image",
                                              "command": "a park", "args": layout}])
    assert "stable_diffusion ignores args.phrases and args.boxes" in explicit.errors[0]["message"]


# --- 7. human in the loop asks for a region it cannot find ----------------------------------------------------------


def test_a_target_nothing_can_find_is_asked_for_and_the_turn_goes_on(tmp_path, photos):
    config = AgentConfig(state_dir=tmp_path / "state", human_in_the_loop=True)
    with VitronAgent(config) as agent:
        paused = agent.invoke("remove the cup", images=[photos["coffee"]])
        assert paused.interrupt["type"] == "region" and "cup" in paused.interrupt["message"]
        approval = agent.resume(paused.thread, {"box": list(CUP)})
        assert approval.interrupt["type"] == "approve"  # then, as for every edit, it asks before changing pixels
        done = agent.resume(paused.thread, True)
    assert done.errors == [] and [i.task for i in done.invocations] == ["segment", "edit_image"]
    edited = _load(next(a.path for a in done.artifacts if a.kind == "image"))
    original = _load(str(photos["coffee"]))
    x1, y1, x2, y2 = CUP
    assert np.abs(edited[y1:y2, x1:x2].astype(int) - original[y1:y2, x1:x2]).mean() > 10
    without = VitronAgent(AgentConfig(state_dir=tmp_path / "plain"))
    with without:
        refused = without.invoke("remove the cup", images=[photos["coffee"]])
    assert refused.interrupt is None and "Draw a box around it" in refused.errors[0]["message"]


class _FindsNothing(Expert):
    spec = ExpertSpec(name="finds_nothing", tasks=("ground",), description="Never finds anything.",
                      outputs=("boxes",), quality=50)

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        pass

    def run(self, call: ExpertCall) -> ExpertResult:
        return ExpertResult(text="found nothing")


def test_a_grounding_that_finds_nothing_asks_for_the_region(tmp_path, photos):
    registry = ExpertRegistry.default()
    registry.register(_FindsNothing)
    config = AgentConfig(state_dir=tmp_path / "state", human_in_the_loop=True)
    with VitronAgent(config, registry=registry) as agent:
        paused = agent.invoke("segment the cup", images=[photos["coffee"]])
        assert paused.interrupt["type"] == "region" and "could not find 'the cup'" in paused.interrupt["message"]
        done = agent.resume(paused.thread, {"box": list(CUP)})
    assert [(c.invocation.task, c.status) for c in done.calls] == [("ground", "done"), ("segment", "done")]
    mask = _load(next(a.path for a in done.artifacts if a.kind == "mask")) > 127
    x1, y1, x2, y2 = CUP
    assert _box_iou(_bbox(mask), CUP) > 0.5 and mask.sum() == mask[y1:y2, x1:x2].sum()  # segmented in the drawn box


# --- 11. memory per thread ----------------------------------------------------------------------------------------


def test_many_new_threads_keep_a_bounded_set_of_stores_and_one_decode_cache(tmp_path):
    rng = np.random.default_rng(0)
    registry = ExpertRegistry()
    registry.register(BoxMaskExpert)
    config = AgentConfig(state_dir=tmp_path / "state", decode_cache_bytes=16 * 2**20)  # 5 decoded 1024² images
    with VitronAgent(config, registry=registry) as agent:
        agent.context.max_open_threads = 8
        for n in range(30):  # a different 1024x1024 photo-sized image in each new thread
            big = save_png(rng.integers(0, 255, (1024, 1024, 3), dtype=np.uint8), tmp_path / f"big{n}.png")
            result = agent.invoke("", images=[big], thread=f"t{n}",
                                  invocations=[{"task": "segment", "region": {"box": [0, 0, 512, 512]}}])
            assert result.errors == []
        assert agent.context.open_threads() == [f"t{n}" for n in range(22, 30)]
        assert 0 < agent.context.decode_cache.nbytes <= 16 * 2**20
        again = agent.invoke("", thread="t0", invocations=[{"task": "segment", "region": {"box": [0, 0, 8, 8]},
                                                             "inputs": ["u0"]}])
        assert again.errors == []  # a closed thread's store reopens from disk
    with VitronAgent(config, registry=registry) as agent:
        for n in range(10):  # the same image in ten new threads: one cache entry, as files are content-addressed
            agent.invoke("", images=[tmp_path / "big0.png"], thread=f"same{n}",
                         invocations=[{"task": "segment", "region": {"box": [0, 0, 8, 8]}}])
        assert agent.context.decode_cache.nbytes == 1024 * 1024 * 3


def test_a_tool_call_that_needs_approval_pauses_the_host_graph(tmp_path, photos):
    from langchain_core.messages import AIMessage, ToolMessage
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode
    from langgraph.types import Command

    from vitron_agent import expert_tools

    with VitronAgent(AgentConfig(state_dir=tmp_path / "state", human_in_the_loop=True)) as agent:
        image_id = agent.attach("tools", images=[photos["coffee"]])[0]
        host = StateGraph(MessagesState)
        host.add_node("tools", ToolNode(expert_tools(agent, "tools", names=["opencv_inpaint"])))
        host.add_edge(START, "tools")
        host.add_edge("tools", END)
        app = host.compile(checkpointer=InMemorySaver())
        call = {"name": "opencv_inpaint", "id": "call_1", "type": "tool_call",
                "args": {"task": "edit_image", "inputs": [image_id], "args": {"op": "remove"},
                         "region": {"box": list(CUP)}}}
        config = {"configurable": {"thread_id": "host"}}
        paused = app.invoke({"messages": [AIMessage("", tool_calls=[call])]}, config)
        (question,) = paused["__interrupt__"]
        assert question.value["type"] == "approve" and question.value["calls"][0]["expert"] == "opencv_inpaint"
        done = app.invoke(Command(resume=True), config)
        message = done["messages"][-1]
        assert isinstance(message, ToolMessage) and message.status == "success", message.content
        assert "edit_image.remove by opencv_inpaint" in message.content
        outside = VitronAgent(AgentConfig(state_dir=tmp_path / "other", human_in_the_loop=True))
        with outside:
            outside.attach("t", images=[photos["coffee"]])
            (tool,) = expert_tools(outside, "t", names=["opencv_inpaint"])
            answer = tool.invoke({**call, "args": {**call["args"], "inputs": ["u0"]}})
        assert answer.status == "error" and "paused for the user" in answer.content and "agent.resume" in answer.content
