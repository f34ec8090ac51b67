"""The eval runner: end to end through the agent and one expert directly, with seeds that reach the expert."""

from __future__ import annotations

import numpy as np

from vitron_agent.eval import Runner
from vitron_agent.experts.base import Expert, ExpertCall, ExpertResult, ExpertSpec

CUP_BOX = [172, 18, 410, 300]


class SeededNoise(Expert):
    """Generates a 16x16 image of noise drawn with ``args.seed``: equal seeds give equal images."""

    spec = ExpertSpec(name="seeded_noise", tasks=("generate_image",), description="Noise from a seed.",
                      input_kinds=("text",), outputs=("image",), quality=100)

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        self.loaded = True

    def run(self, call: ExpertCall) -> ExpertResult:
        rng = np.random.default_rng(int(call.args.get("seed", 0)))
        return ExpertResult(images=[rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)])


def test_seeds_reach_the_generator_end_to_end_and_directly(make_agent):
    agent = make_agent()
    agent.add_expert(SeededNoise)
    expected = {seed: np.random.default_rng(seed).integers(0, 256, (16, 16, 3), dtype=np.uint8) for seed in (0, 7)}
    for runner in (Runner(agent=agent), Runner(agent=agent, expert="seeded_noise")):
        for seed in (0, 7):
            out = runner.run("generate_image", "generate an image of a red square", seed=seed)
            assert out.error is None and len(out.images) == 1
            assert (out.images[0] == expected[seed]).all()


def test_one_expert_directly_gives_the_agents_mask_for_the_same_box(tmp_path, make_agent):
    from PIL import Image
    from skimage import data

    photo = tmp_path / "coffee-small.png"
    Image.fromarray(data.coffee()).resize((300, 200)).save(photo)
    box = [c / 2 for c in CUP_BOX]
    agent = make_agent()
    turn = agent.invoke("segment the object in the box", images=[photo], region=box)
    mask_file = next(a.path for a in turn.artifacts if a.kind == "mask" and not a.preview)
    through_agent = np.array(Image.open(mask_file).convert("L")) > 127
    direct = Runner(expert="grabcut").run("segment", "the cup", images=[photo], region={"box": box})
    assert direct.error is None and direct.masks[0].shape == (200, 300)
    assert (direct.masks[0] == through_agent).all() and through_agent.sum() > 2_000


def test_a_failing_run_is_an_error_not_an_exception(photos):
    out = Runner(expert="grabcut").run("generate_image", "a cat")
    assert out.error is not None and "does not do generate_image" in out.error
    out = Runner(expert="no_such_expert").run("segment", "x", images=[photos["coffee"]])
    assert out.error is not None and "no_such_expert" in out.error
