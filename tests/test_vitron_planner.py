"""VitronPlanner and VitronChatModel on a tiny random VITRON checkpoint, through the graph with SQLite.

The random model's text is fixed by constraining decoding (``ForceText``); generation, the hidden
states at the signal tokens, the heads and the experts all run for real.
"""

from __future__ import annotations

import base64
import io
from typing import Annotated, TypedDict

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("diffusers")
pytest.importorskip("segment_anything")

from langchain_core.messages import HumanMessage  # noqa: E402
from langgraph.graph.message import add_messages  # noqa: E402

from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.model import GenerationSettings, build_tiny_vitron, render_reply  # noqa: E402
from vitron_agent.model.tokens import IMAGE, REGION, signal_tokens  # noqa: E402
from vitron_agent.planners.base import MediaInfo, PlannerInput  # noqa: E402
from vitron_agent.planners.scripted import ScriptedPlanner  # noqa: E402
from vitron_agent.planners.vitron import VitronPlanner  # noqa: E402
from vitron_agent.protocol import Invocation, Region  # noqa: E402
from vitron_agent.tools.grabcut import GrabCutExpert  # noqa: E402
from vitron_agent.tools.sam import SamExpert  # noqa: E402
from vitron_agent.tools.stable_diffusion import StableDiffusionExpert  # noqa: E402

from .tiny_models import tiny_sd_pipeline  # noqa: E402
from .vitron_helpers import forcing, tiny_sam_dir  # noqa: E402

CUP = (172.0, 18.0, 410.0, 300.0)  # the cup in scikit-image's coffee photo (600 x 400), pixels
SIZES = {"u0": (600, 400)}
REPLY = "Segmenting the cup and drawing one."
PLAN = [
    Invocation(module="sam", task="segment", command="the cup", region=Region(box=CUP), signal="x"),
    Invocation(module="stable_diffusion", task="generate_image", command="a cup of coffee", args={"steps": 2},
               signal="x"),
]
TARGET = render_reply(REPLY, PLAN, SIZES, k=4, default_input="u0")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("vitron")
    return {"vitron": build_tiny_vitron(root / "vitron"), "sam": tiny_sam_dir(root / "sam"),
            "sd": tiny_sd_pipeline(root / "sd")}


@pytest.fixture(scope="module")
def planner(folders):
    return VitronPlanner.from_pretrained(folders["vitron"])


@pytest.fixture
def registry(folders):
    registry = ExpertRegistry()
    registry.register(SamExpert, weights=str(folders["sam"]))
    registry.register(StableDiffusionExpert, weights=str(folders["sd"]))
    registry.register(GrabCutExpert)
    return registry


@pytest.fixture(scope="module")
def experts(folders):
    sam, sd = SamExpert(weights=str(folders["sam"])), StableDiffusionExpert(weights=str(folders["sd"]))
    sam.load("cpu")
    sd.load("cpu")
    return {"sam": sam, "sd": sd}


def _input(image: np.ndarray, registry: ExpertRegistry, text: str = "segment the cup") -> PlannerInput:
    """One turn as the graph builds it: an image, a box drawn on it, the installed experts."""
    region = {"box": list(CUP)}
    human = HumanMessage(content=text, additional_kwargs={"media": ["u0"], "region": region, "region_media": "u0"})
    height, width = image.shape[:2]
    return PlannerInput(text=text, messages=[human], media=[MediaInfo("u0", "image", width, height)],
                        new_media=["u0"], region=Region(**region), region_media="u0",
                        catalogue={n: registry.spec(n) for n in registry.names()}, pixels={"u0": image}.__getitem__)


def test_image_region_text_turn_runs_end_to_end_with_signals(planner, registry, make_agent, photos):
    agent = make_agent(planner=forcing(planner, TARGET), registry=registry)
    result = agent.invoke("segment the cup and draw one like it", images=[photos["coffee"]], region=list(CUP))
    assert result.errors == []
    assert result.reply.startswith(REPLY)
    assert [(i.module, i.task, i.command) for i in result.invocations] == [
        ("sam", "segment", "the cup"), ("stable_diffusion", "generate_image", "a cup of coffee")]
    assert result.invocations[0].region.box == pytest.approx(CUP, abs=0.5)
    _, store = agent.context.stores(result.thread)
    sam_signal, sd_signal = (store.get_all(i.signal) for i in result.invocations)
    assert sam_signal["features"].shape == (4, 32) and sd_signal["features"].shape == (77, 16)
    assert sam_signal["specific"].shape == sam_signal["invariant"].shape == (4, 32)
    assert sorted(a.kind for a in result.artifacts if not a.preview) == ["image", "mask"]
    # the signal ids are checkpointed (SQLite): a new agent on the same state dir resumes the thread
    resumed = make_agent(planner=planner, registry=registry)
    calls = [r["invocation"] for r in resumed.state(result.thread)["calls"].values()]
    assert [c["signal"] for c in calls] == [i.signal for i in result.invocations]
    assert all(c["signal"] in resumed.context.stores(result.thread)[1] for c in calls)


def test_the_reply_streams_token_by_token_through_the_graph_before_the_experts_run(planner, registry, make_agent,
                                                                                   photos):
    agent = make_agent(planner=forcing(planner, TARGET), registry=registry)
    events = list(agent.stream("segment the cup and draw one like it", thread="t", images=[photos["coffee"]],
                               region=list(CUP)))
    custom = [e for mode, e in events if mode == "custom"]
    tokens = [e["text"] for e in custom if e["type"] == "token"]
    assert len(tokens) >= 3 and "".join(tokens) == REPLY  # the reply only: the tags after it are not sent
    first_expert = next(i for i, e in enumerate(custom) if e["type"] == "expert_start")
    assert all(e["type"] != "token" for e in custom[first_expert:])
    assert agent.result("t").reply.startswith(REPLY) and agent.result("t").errors == []


def test_signals_come_from_the_model_and_change_what_experts_make(planner, registry, experts):
    from skimage import data

    coffee = data.coffee()
    planner = forcing(planner, TARGET)
    first, flipped, again = (planner.plan(_input(img, registry)) for img in (coffee, coffee[:, ::-1].copy(), coffee))
    assert [i.command for i in first.invocations] == [i.command for i in flipped.invocations]  # same text
    assert first.invocations[0].signal is None  # signals travel beside the invocations; the graph stores them
    sd_one, sd_two = first.signals["c2"]["features"], flipped.signals["c2"]["features"]
    assert sd_one.shape == (77, 16) and not np.allclose(sd_one, sd_two)  # they depend on the image seen
    assert np.array_equal(again.signals["c2"]["features"], sd_one)

    def generate(signal):
        call = ExpertCall(Invocation(id="c2", task="generate_image", command="a cup of coffee", args={"steps": 2}),
                          signal=signal)
        return experts["sd"].run(call).images[0]

    one, two, text = generate(sd_one), generate(sd_two), generate(None)
    assert not np.array_equal(one, two) and not np.array_equal(one, text) and not np.array_equal(two, text)
    assert np.array_equal(generate(sd_one), one)

    def segment(signal):
        call = ExpertCall(Invocation(id="c1", task="segment"), images=[coffee], boxes=[CUP], signal=signal)
        result = experts["sam"].run(call)
        return result.masks[0], result.data["scores"][0]

    (mask_one, score_one), (mask_two, score_two), (mask_box, score_box) = (
        segment(first.signals["c1"]["features"]), segment(flipped.signals["c1"]["features"]), segment(None))
    assert score_one != score_two or not np.array_equal(mask_one, mask_two)
    assert score_one != score_box or not np.array_equal(mask_one, mask_box)


def test_auto_modules_take_the_best_expert_with_a_head_and_others_the_text_path(planner, registry):
    from skimage import data

    text = ("Here you go.\n<module>auto</module> <instruction>generate_image: a boat</instruction> <SP>"
            + "".join(signal_tokens(4)) + "</SP>\n<module>grabcut</module> <instruction>segment: the cup</instruction>"
            " <region>(0.287, 0.045, 0.683, 0.750)</region> <SP>" + "".join(signal_tokens(4)) + "</SP>")
    out = forcing(planner, text).plan(_input(data.coffee(), registry))
    assert [i.module for i in out.invocations] == ["stable_diffusion", "grabcut"]
    assert set(out.signals) == {"c1"}  # grabcut has no head: its invocation keeps to its words
    assert all(i.signal is None for i in out.invocations)


def test_malformed_output_becomes_feedback_and_the_thread_goes_on(planner, registry, make_agent, photos):
    agent = make_agent(planner=forcing(planner, "Sure.\n<module>sam</module> <bogus>x</bogus>"), registry=registry)
    bad = agent.invoke("segment the cup", images=[photos["coffee"]])
    assert bad.invocations == []
    assert any("outside the invocation grammar" in e["message"] and "unknown tag '<bogus>'" in e["message"]
               for e in bad.errors)
    assert planner.constraint.calls == 1 + agent.config.max_planner_retries  # the error went back as feedback
    forcing(planner, "All done.")
    good = agent.invoke("thanks", thread=bad.thread)
    assert good.errors == [] and good.reply == "All done."


def test_history_keeps_media_regions_calls_and_results(planner, registry, make_agent, photos):
    seen = []
    recorder = ScriptedPlanner(fn=lambda inp: (seen.append(inp), planner.plan(inp))[1])
    recorder.can_revise = True
    agent = make_agent(planner=recorder, registry=registry)
    forcing(planner, TARGET, "It is brown.")
    first = agent.invoke("segment the cup and draw one like it", images=[photos["coffee"]], region=list(CUP))
    agent.invoke("what colour is it?", thread=first.thread)
    prompt, batch = planner.prepare(seen[-1])
    text = prompt.text
    assert text.count(IMAGE) == 1 and f"region on u0: {REGION} (0.287, 0.045, 0.683, 0.750)" in text
    assert "segment the cup and draw one like it<|end|>" in text  # the graph's [u0: ...] notes are dropped
    assert "<|assistant|>\n" + REPLY + "\n<module>sam</module>" in text and "".join(signal_tokens(4)) in text
    assert "<|tool|>\nc1 segment by sam; segmented 1 region(s)" in text
    assert text.endswith("<|user|>\nwhat colour is it?<|end|>\n<|assistant|>\n")
    ids = batch["input_ids"][0].tolist()
    assert ids.count(planner.processor.image_id) == planner.processor.image_tokens
    assert ids.count(planner.processor.region_id) == 1 and tuple(batch["pixel_values"].shape) == (1, 3, 32, 32)


def test_a_video_turn_with_a_region_on_a_chosen_frame(planner, registry, make_agent, tmp_path):
    from skimage import data

    from vitron_agent.stores.media_io import encode_video

    from .synthetic_media import pan_clip

    frames, _ = pan_clip(data.rocket(), frames=12, step=4, size=(96, 72))
    path = tmp_path / "pan.mp4"
    path.write_bytes(encode_video(frames, 12.0))
    seen = []
    recorder = ScriptedPlanner(fn=lambda inp: (seen.append(inp), planner.plan(inp))[1])
    agent = make_agent(planner=recorder, registry=registry)
    forcing(planner, "A rocket, standing still while the camera pans.")
    result = agent.invoke("what is in the box?", videos=[path], region={"box": [50, 20, 70, 70], "frames": [9, 9]})
    assert result.errors == [] and result.reply == "A rocket, standing still while the camera pans."
    prompt, batch = planner.prepare(seen[-1])
    assert "u0: <|video|>" in prompt.text and "(0.521, 0.278, 0.729, 0.972) | 9, 9" in prompt.text
    assert tuple(batch["video_values"].shape) == (1, 4, 3, 32, 32)  # 4 of 12 frames, frame 9 among them
    assert batch["region_frames"].tolist() == [3]  # picks 1, 4, 7, 9 -> 10 moved to the annotated 9


def test_greedy_and_seeded_sampling(folders):
    from skimage import data

    greedy = VitronPlanner.from_pretrained(folders["vitron"], settings=GenerationSettings(max_new_tokens=6))
    _, batch = greedy.prepare(_input(data.coffee(), ExpertRegistry()))
    first = greedy.generate(batch)
    assert len(first.ids) == 6 and not first.finished and greedy.generate(batch).ids == first.ids

    def sample(seed):
        greedy.settings = GenerationSettings(max_new_tokens=12, do_sample=True, temperature=1.0, seed=seed)
        return greedy.generate(batch).ids

    assert sample(3) == sample(3) and sample(3) != sample(4)
    greedy.settings = GenerationSettings(stop=("</module>",))
    stopped = forcing(greedy, TARGET).generate(batch)
    assert greedy.processor.decode(stopped.ids) == REPLY + "\n<module>sam</module>" and stopped.finished


def test_the_cli_takes_a_vitron_checkpoint_as_planner(folders):
    from vitron_agent.planners.spec import planner_from_spec

    chosen = planner_from_spec(f"vitron:{folders['vitron']}")
    assert isinstance(chosen, VitronPlanner) and chosen.processor.num_signal_tokens == 4


def _image_block(image: np.ndarray) -> dict:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return {"type": "image", "base64": base64.b64encode(buffer.getvalue()).decode(), "mime_type": "image/png"}


def _merge(old: dict | None, new: dict | None) -> dict:
    return {**(old or {}), **(new or {})}


class HostState(TypedDict):
    """A host agent's state: its messages, and the signal ids its model sent (tool call id -> signal id)."""

    messages: Annotated[list, add_messages]
    signals: Annotated[dict, _merge]


@pytest.fixture
def host(registry, make_agent, photos):
    """A thread of an agent whose experts serve as LangChain tools, with the coffee photo as u0."""
    from vitron_agent.experts.langchain_tools import expert_tools

    agent = make_agent(registry=registry)
    thread = "host"
    agent.attach(thread, images=[photos["coffee"]])
    return agent, thread, expert_tools(agent, thread, names=["sam", "stable_diffusion"])


def test_chat_model_yields_tool_calls_and_streams_tokens(planner, host):
    from skimage import data

    from vitron_agent.planners.vitron_chat import VitronChatModel

    agent, thread, tools = host
    chat = VitronChatModel(planner=forcing(planner, TARGET), signal_store=agent.context.stores(thread)[1])
    bound = chat.bind_tools(tools)
    message = HumanMessage(content=[{"type": "text", "text": "segment the cup"}, _image_block(data.coffee())])
    ai = bound.invoke([message])
    assert ai.content == REPLY and [c["name"] for c in ai.tool_calls] == ["sam", "stable_diffusion"]
    assert ai.tool_calls[0]["args"]["region"]["box"] == pytest.approx(CUP, abs=0.5)
    assert ai.tool_calls[1]["args"] == {"task": "generate_image", "command": "a cup of coffee", "inputs": [],
                                        "args": {"steps": 2}}
    assert set(ai.additional_kwargs["signals"]) == {c["id"] for c in ai.tool_calls}
    chunks = list(bound.stream([message]))
    assert len([c for c in chunks if c.content]) >= 3  # the reply arrives token by token
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.content == REPLY and [c["name"] for c in merged.tool_calls] == ["sam", "stable_diffusion"]
    assert merged.tool_calls[1]["args"] == ai.tool_calls[1]["args"]


def test_chat_model_drives_our_tools_in_a_plain_tool_loop_with_signals(planner, host):
    """A host graph: model node -> ToolNode -> model, with the signal ids kept in state for the tools."""
    from langgraph.graph import END, START, StateGraph
    from langgraph.prebuilt import ToolNode, tools_condition
    from skimage import data

    from vitron_agent.planners.vitron_chat import VitronChatModel

    agent, thread, tools = host
    chat = VitronChatModel(planner=forcing(planner, TARGET, "Done: a mask and a picture."),
                           signal_store=agent.context.stores(thread)[1]).bind_tools(tools)

    def model(state: HostState) -> dict:
        ai = chat.invoke(state["messages"])
        return {"messages": [ai], "signals": ai.additional_kwargs.get("signals", {})}

    graph = StateGraph(HostState)
    graph.add_node("model", model)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition, {"tools": "tools", END: END})
    graph.add_edge("tools", "model")
    message = HumanMessage(content=[{"type": "text", "text": "segment the cup"}, _image_block(data.coffee())])
    final = graph.compile().invoke({"messages": [message], "signals": {}})
    results = [m for m in final["messages"] if m.type == "tool"]
    assert [(m.name, m.status) for m in results] == [("sam", "success"), ("stable_diffusion", "success")]
    assert final["messages"][-1].content == "Done: a mask and a picture."
    assert "from signal embeddings" in results[1].content  # the signal reached the tool through the state
    made = results[1].artifact[0]
    text_only = tools[1].invoke({**final["messages"][1].tool_calls[1], "id": "text-only"}).artifact[0]  # no state
    from PIL import Image

    assert not np.array_equal(np.asarray(Image.open(made["path"])), np.asarray(Image.open(text_only["path"])))
