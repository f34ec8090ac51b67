"""``AgentConfig.dtype`` and ``cpu_offload`` reach the experts through the pool, on tiny random models saved the
way real checkpoints are, and half-precision experts still give the float32 answer's shape and sense."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from vitron_agent import AgentConfig, ExpertRegistry, Invocation, VitronAgent  # noqa: E402
from vitron_agent.experts.base import ExpertCall, resolve_dtype  # noqa: E402

from .tiny_models import tiny_owlv2, tiny_sam  # noqa: E402


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("precision")
    return {"owlv2": str(tiny_owlv2(root / "owl")), "sam": str(tiny_sam(root / "sam"))}


def agent_with(tmp_path, weights, **config):
    registry = ExpertRegistry.default()
    registry.register("vitron_agent.tools.owlv2:Owlv2Expert", weights=weights["owlv2"])
    registry.register("vitron_agent.tools.sam:SamExpert", weights=weights["sam"])
    return VitronAgent(AgentConfig(state_dir=tmp_path / "state", device="cpu", **config), registry=registry)


def test_auto_is_float32_on_cpu_and_an_explicit_choice_is_kept():
    assert resolve_dtype("auto", "cpu") == "float32"
    assert resolve_dtype(None, "cpu") == "float32"
    assert resolve_dtype("bfloat16", "cpu") == "bfloat16"
    assert resolve_dtype("float16", "cuda") == "float16"
    with pytest.raises(ValueError, match="dtype must be one of"):
        AgentConfig(dtype="fp8")


def test_the_configured_dtype_reaches_a_transformers_expert_and_it_still_runs(tmp_path, weights):
    import torch
    from skimage import data

    call = ExpertCall(invocation=Invocation(id="c1", task="ground", command="the cup",
                                            args={"threshold": 0.0, "top_k": 3}), images=[data.coffee()])
    found = {}
    for dtype in ("auto", "bfloat16"):
        with agent_with(tmp_path / dtype, weights, dtype=dtype) as agent:
            with agent.pool.use("owlv2") as expert:
                found[dtype] = {p.dtype for p in expert.model.parameters()}
                result = expert.run(call)
            assert len(result.detections) == 3
            assert all(0 <= d.box[0] < d.box[2] <= 600 and 0 <= d.box[1] < d.box[3] <= 400 for d in result.detections)
    assert found == {"auto": {torch.float32}, "bfloat16": {torch.bfloat16}}


def test_half_precision_sam_gives_nearly_the_float32_mask(tmp_path, weights):
    import torch
    from skimage import data

    image = data.coffee()
    call = ExpertCall(invocation=Invocation(id="c1", task="segment"), images=[image], boxes=[(172, 18, 410, 300)])
    masks = {}
    for dtype in ("float32", "float16"):
        with agent_with(tmp_path / dtype, weights, dtype=dtype) as agent:
            with agent.pool.use("sam") as expert:
                assert {p.dtype for p in expert.model.parameters()} == {getattr(torch, dtype)}
                masks[dtype] = expert.run(call).masks[0]
    assert masks["float16"].shape == (400, 600) and masks["float16"].dtype == bool
    agreement = (masks["float16"] == masks["float32"]).mean()
    assert agreement > 0.97, agreement


def test_cpu_offload_reaches_every_expert_the_pool_loads(tmp_path, weights):
    with agent_with(tmp_path, weights, cpu_offload=True) as agent:
        with agent.pool.use("owlv2") as owl, agent.pool.use("grabcut") as grabcut:
            assert owl.cpu_offload and grabcut.cpu_offload
    with agent_with(tmp_path / "off", weights) as agent:
        with agent.pool.use("owlv2") as owl:
            assert not owl.cpu_offload


def test_a_turn_runs_with_half_precision_experts(tmp_path, weights, photos):
    with agent_with(tmp_path, weights, dtype="float16") as agent:
        result = agent.invoke("", images=[photos["coffee"]], invocations=[
            Invocation(module="sam", task="segment", region={"box": [172, 18, 410, 300]})])
    assert not result.errors
    masks = [a for a in result.artifacts if a.kind == "mask"]
    assert masks
    from PIL import Image

    assert np.asarray(Image.open(masks[0].path)).shape == (400, 600)
