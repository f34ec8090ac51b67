"""Adding your own expert: one class with a spec, ``load`` and ``run``, then one registration.

    python examples/custom_expert.py

``PixelateExpert`` hides what is inside a region (faces, number plates) by pixelating it. The spec tells the
planner and the validator what it does and needs; the pool loads it once; its outputs are stored, previewed
and checkpointed like any built-in expert's. To ship it as a package instead, declare an entry point:

    [project.entry-points."vitron_agent.experts"]
    pixelate = "my_package.pixelate:PixelateExpert"
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from vitron_agent import AgentConfig, Invocation, VitronAgent
from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import Expert, ExpertCall, ExpertResult, ExpertSpec


class PixelateExpert(Expert):
    """Pixelates the region (a mask or box), or the whole image; ``args.block``: block size in pixels (16)."""

    spec = ExpertSpec(
        name="pixelate",
        tasks=("edit_image",),
        edit_ops=("restyle",),
        description="Pixelates a region (e.g. faces) so it cannot be recognised; no weights.",
        input_kinds=("image",),
        region_kinds=("mask", "box"),
        outputs=("image",),
    )

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        self.loaded = True  # nothing to load; a model would be read here, once

    def run(self, call: ExpertCall) -> ExpertResult:
        image = call.images[0]
        block = int(call.args.get("block", 16))
        if not 2 <= block <= 256:
            raise BadInputError(f"args.block must be 2-256 pixels, got {block}")
        height, width = image.shape[:2]
        small = image[::block, ::block]
        coarse = np.repeat(np.repeat(small, block, axis=0), block, axis=1)[:height, :width]
        region = np.ones((height, width), bool)
        if call.mask is not None:
            region = call.mask
        elif call.boxes:
            region = np.zeros((height, width), bool)
            for x1, y1, x2, y2 in call.boxes:
                region[int(y1):int(y2), int(x1):int(x2)] = True
        out = np.where(region[..., None], coarse, image)
        return ExpertResult(images=[out], text=f"pixelated {region.mean():.0%} of the image in {block}px blocks")


def main() -> None:
    from PIL import Image
    from skimage import data

    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "astronaut.png"
        Image.fromarray(data.astronaut()).save(photo)
        with VitronAgent(AgentConfig(state_dir=Path(scratch) / "state")) as agent:
            agent.add_expert(PixelateExpert)
            # ground the faces with the built-in detector, then pixelate them with the new expert
            result = agent.invoke(images=[photo], invocations=[
                Invocation(id="c1", task="ground", command="faces", inputs=["u0"]),
                Invocation(id="c2", module="pixelate", task="edit_image", command="the faces", inputs=["u0"],
                           region={"ref": "c1"}, args={"op": "restyle", "block": 12}),
            ])
            print(result.reply)
            for artifact in result.artifacts:
                print(f"  {artifact.kind} {artifact.id}: {artifact.path}")


if __name__ == "__main__":
    main()
