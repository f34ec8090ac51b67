"""FLUX text-to-image, Kontext and Fill through their real loading path, on tiny random pipelines, each checked
against a direct call of the diffusers pipeline on the same inputs and seed."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from vitron_agent.errors import BadInputError  # noqa: E402
from vitron_agent.experts.base import ExpertCall  # noqa: E402
from vitron_agent.experts.registry import ExpertRegistry  # noqa: E402
from vitron_agent.protocol import Invocation  # noqa: E402
from vitron_agent.tools._common import feathered_blend  # noqa: E402
from vitron_agent.tools.flux import FluxExpert, FluxFillExpert, FluxKontextExpert  # noqa: E402

from .tiny_flux import tiny_flux_pipeline  # noqa: E402


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("flux")
    return {kind: tiny_flux_pipeline(root / kind, kind) for kind in ("flux", "kontext", "fill")}


@pytest.fixture(scope="module")
def pipes(folders):
    """The same saved pipelines loaded directly with diffusers, for the reference calls."""
    import diffusers

    classes = {"flux": "FluxPipeline", "kontext": "FluxKontextPipeline", "fill": "FluxFillPipeline"}
    loaded = {}
    for kind, folder in folders.items():
        pipe = getattr(diffusers, classes[kind]).from_pretrained(folder, local_files_only=True, use_safetensors=True)
        pipe.set_progress_bar_config(disable=True)
        loaded[kind] = pipe
    return loaded


@pytest.fixture(scope="module")
def experts(folders):
    made = {"flux": FluxExpert(weights=str(folders["flux"]), max_side=32),
            "kontext": FluxKontextExpert(weights=str(folders["kontext"]), max_side=64, auto_resize=False),
            "fill": FluxFillExpert(weights=str(folders["fill"]), max_side=64)}
    for expert in made.values():
        assert expert.availability().ok
        expert.load("cpu")
    return made


def _generator(seed: int = 0):
    import torch

    return torch.Generator("cpu").manual_seed(seed)


def _uint8(output) -> np.ndarray:
    return np.clip(np.rint(output.images[0] * 255), 0, 255).astype(np.uint8)


def _direct_generate(pipe, prompt: str, width: int, height: int, steps: int, seed: int = 0) -> np.ndarray:
    """schnell's defaults: no guidance, 256 text tokens."""
    return _uint8(pipe(prompt=prompt, width=width, height=height, num_inference_steps=steps, guidance_scale=0.0,
                       max_sequence_length=256, generator=_generator(seed), output_type="np"))


def _direct_kontext(pipe, image: np.ndarray, instruction: str, size: tuple[int, int], steps: int) -> np.ndarray:
    import cv2
    from PIL import Image

    out = pipe(image=Image.fromarray(image).resize(size), prompt=instruction, width=size[0], height=size[1],
               max_area=size[0] * size[1], _auto_resize=False, num_inference_steps=steps, guidance_scale=2.5,
               max_sequence_length=512, generator=_generator(), output_type="np")
    return cv2.resize(_uint8(out), image.shape[1::-1], interpolation=cv2.INTER_CUBIC)


def _direct_fill(pipe, image: np.ndarray, mask: np.ndarray, prompt: str, size: tuple[int, int], steps: int):
    import cv2
    from PIL import Image

    out = pipe(prompt=prompt, image=Image.fromarray(image).resize(size),
               mask_image=Image.fromarray(mask.astype(np.uint8) * 255).resize(size), width=size[0], height=size[1],
               num_inference_steps=steps, guidance_scale=30.0, strength=1.0, max_sequence_length=512,
               generator=_generator(), output_type="np")
    painted = cv2.resize(_uint8(out), image.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    return feathered_blend(painted, image, mask)


def _edit(op: str, command: str = "", image=None, mask=None, **args) -> ExpertCall:
    inv = Invocation(id="c1", task="edit_image", command=command, args={"op": op, "steps": 2, **args})
    return ExpertCall(invocation=inv, images=[image], mask=mask)


def test_generation_equals_the_pipeline_and_defaults_to_schnell_settings(experts, pipes):
    flux = experts["flux"]
    call = ExpertCall(invocation=Invocation(id="c1", task="generate_image", command="a red fox in the snow",
                                            args={"steps": 2, "width": 48, "height": 32, "seed": 3}))
    (image,) = flux.run(call).images
    assert image.shape == (32, 48, 3) and image.dtype == np.uint8
    assert np.array_equal(image, _direct_generate(pipes["flux"], "a red fox in the snow", 48, 32, 2, seed=3))
    call.invocation.args["seed"] = 4
    assert not np.array_equal(flux.run(call).images[0], image)
    seen = []  # no steps, no size given: schnell's 4 steps at max_side x max_side
    default = ExpertCall(invocation=Invocation(id="c2", task="generate_image", command="a boat"),
                         progress=lambda fraction, message: seen.append(fraction))
    assert flux.run(default).images[0].shape == (32, 32, 3) and seen == [0.25, 0.5, 0.75, 1.0]
    for bad in ({"width": 2}, {"height": "tall"}, {"steps": 0}):
        with pytest.raises(BadInputError):
            flux.run(ExpertCall(invocation=Invocation(id="c3", task="generate_image", command="a boat", args=bad)))
    with pytest.raises(BadInputError, match="prompt"):
        flux.run(ExpertCall(invocation=Invocation(id="c4", task="generate_image")))


def test_kontext_edits_as_the_pipeline_does_and_keeps_pixels_outside_a_region(experts, pipes):
    from skimage import data

    kontext, image = experts["kontext"], data.chelsea()  # 451x300
    whole = kontext.run(_edit("restyle", image=image, style="make it a watercolor")).images[0]
    assert whole.shape == image.shape and np.abs(whole.astype(int) - image).mean() > 5
    assert kontext.flux_size(*image.shape[:2]) == (64, 40)
    assert np.array_equal(whole, _direct_kontext(pipes["kontext"], image, "make it a watercolor", (64, 40), 2))
    mask = np.zeros(image.shape[:2], bool)
    mask[50:200, 100:300] = True
    part = kontext.run(_edit("restyle", "make it a watercolor", image=image, mask=mask)).images[0]
    assert np.array_equal(part, feathered_blend(whole, image, mask))
    far = np.ones_like(mask)
    far[40:210, 90:310] = False
    assert np.array_equal(part[far], image[far])
    with pytest.raises(BadInputError, match="instruction"):
        kontext.run(_edit("restyle", image=image))


def test_fill_paints_only_the_mask_as_the_pipeline_does(experts, pipes):
    from skimage import data

    fill, image = experts["fill"], data.coffee()  # 600x400
    mask = np.zeros(image.shape[:2], bool)
    mask[100:250, 200:380] = True
    out = fill.run(_edit("replace", "the cup", image=image, mask=mask, new="a blue bowl")).images[0]
    assert out.shape == image.shape and np.abs(out[mask].astype(int) - image[mask]).mean() > 5
    size = fill.flux_size(*image.shape[:2])
    assert size == (64, 40)
    assert np.array_equal(out, _direct_fill(pipes["fill"], image, mask, "a blue bowl", size, 2))
    far = np.ones_like(mask)
    far[80:270, 180:400] = False
    assert np.array_equal(out[far], image[far])
    removed = fill.run(_edit("remove", "the cup", image=image, mask=mask)).images[0]
    assert np.array_equal(removed[far], image[far]) and not np.array_equal(removed, out)
    moved = fill.run(_edit("move", "the cup", image=image, mask=mask, direction="left", distance=0.25))
    shift = round(0.25 * image.shape[1])
    assert np.array_equal(moved.images[0][100:250, 200 - shift:380 - shift], image[100:250, 200:380])
    assert moved.masks[0][100:250, 200 - shift:380 - shift].all() and moved.masks[0].sum() == mask.sum()
    for op, args, words in (("add", {}, "args.new"), ("replace", {"new": "a bowl", "strength": 0}, "strength")):
        with pytest.raises(BadInputError, match=words):
            fill.run(_edit(op, "the cup", image=image, mask=mask, **args))


def test_bfloat16_loads_bfloat16_weights_and_still_runs(folders):
    import torch

    expert = FluxExpert(weights=str(folders["flux"]), max_side=32)
    expert.load("cpu", dtype="bfloat16")
    assert {p.dtype for p in expert.pipe.transformer.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in expert.pipe.text_encoder_2.parameters()} == {torch.bfloat16}
    call = ExpertCall(invocation=Invocation(id="c1", task="generate_image", command="a fox", args={"steps": 1}))
    image = expert.run(call).images[0]
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8


def test_missing_weights_say_how_to_get_them():
    registry = ExpertRegistry.default()  # the built-in entries, with their default hub ids
    for name, hub_id in (("flux", "black-forest-labs/FLUX.1-schnell"),
                         ("flux_kontext", "black-forest-labs/FLUX.1-Kontext-dev"),
                         ("flux_fill", "black-forest-labs/FLUX.1-Fill-dev")):
        assert registry.spec(name).quality == 20
        state = registry.availability(name)
        assert not state.ok and f"huggingface-cli download {hub_id}" in state.fix


def _stored(artifact) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(artifact.path).convert("RGB"))


def test_generate_restyle_and_fill_through_the_agent(folders, pipes, experts, make_agent, photos):
    from skimage import data

    registry = ExpertRegistry.default()
    registry.register(FluxExpert, weights=str(folders["flux"]), max_side=32)
    registry.register(FluxKontextExpert, weights=str(folders["kontext"]), max_side=64, auto_resize=False)
    registry.register(FluxFillExpert, weights=str(folders["fill"]), max_side=64)
    agent = make_agent(registry=registry)

    made = agent.invoke("", invocations=[Invocation(module="flux", task="generate_image", command="a lighthouse",
                                                    args={"steps": 2, "width": 32, "height": 48})])
    assert made.errors == [] and [i.module for i in made.invocations] == ["flux"]
    (image,) = [a for a in made.artifacts if a.kind == "image"]
    assert (image.width, image.height) == (32, 48)
    assert np.array_equal(_stored(image), _direct_generate(pipes["flux"], "a lighthouse", 32, 48, 2))

    chelsea = data.chelsea()
    styled = agent.invoke("", images=[photos["chelsea"]], invocations=[Invocation(
        module="flux_kontext", task="edit_image", command="make it a watercolor", args={"op": "restyle", "steps": 2})])
    assert styled.errors == [] and [i.module for i in styled.invocations] == ["flux_kontext"]
    (edited,) = [a for a in styled.artifacts if a.kind == "image" and a.id != "u0"]
    assert (edited.width, edited.height) == (451, 300)
    assert np.array_equal(_stored(edited), _direct_kontext(pipes["kontext"], chelsea, "make it a watercolor",
                                                           (64, 40), 2))

    coffee, box = data.coffee(), [200, 100, 380, 250]
    filled = agent.invoke("", images=[photos["coffee"]], invocations=[Invocation(
        module="flux_fill", task="edit_image", command="a teapot", region={"box": box},
        args={"op": "add", "new": "a teapot", "steps": 2})])
    assert filled.errors == [] and [i.module for i in filled.invocations] == ["flux_fill"]
    (painted,) = [a for a in filled.artifacts if a.kind == "image" and a.id != "u0"]
    mask = np.zeros(coffee.shape[:2], bool)
    mask[100:250, 200:380] = True
    assert (painted.width, painted.height) == (600, 400)
    assert np.array_equal(_stored(painted), _direct_fill(pipes["fill"], coffee, mask, "a teapot", (64, 40), 2))


def test_auto_routing_prefers_flux_when_its_weights_are_present(folders, make_agent, photos):
    registry = ExpertRegistry.default()
    registry.register(FluxFillExpert, weights=str(folders["fill"]), max_side=64)
    agent = make_agent(registry=registry)
    result = agent.invoke("replace the object in the box with a teapot", images=[photos["coffee"]],
                          region=[172, 18, 410, 300])
    assert [(i.task, i.module) for i in result.invocations] == [("segment", "grabcut"), ("edit_image", "flux_fill")]
    assert result.errors == [] and result.invocations[1].args["new"] == "a teapot"
    segmented, carried = (_stored(a)[..., 0] > 127 for a in result.artifacts if a.kind == "mask")
    assert np.array_equal(carried, segmented)  # the replaced object's mask, carried onto the edited image
