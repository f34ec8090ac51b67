"""Recolouring inside a mask: the embedded, weight-free ``edit_image.recolor`` expert.

Works in CIELAB: each pixel keeps its own lightness (so shading and texture stay) and takes the
target colour's chroma; the mask's edge is feathered so the change blends in.
"""

from __future__ import annotations

import numpy as np

from vitron_agent.colors import NAMED_COLORS, parse_color
from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import OpenCVExpert, feathered_blend, input_image, region_mask

__all__ = ["OpenCVRecolorExpert"]


class OpenCVRecolorExpert(OpenCVExpert):
    """Recolours the masked object to ``args.color`` (a colour name or ``#rrggbb``); needs no weights.

    Options: ``lightness`` (share of the target's lightness mixed in, default 0.35; 0 keeps the
    original shading exactly), ``feather`` (edge blur as a fraction of the shorter side, default 0.004).
    """

    spec = ExpertSpec(
        name="opencv_recolor",
        tasks=("edit_image",),
        edit_ops=("recolor",),
        description="Recolours the object in a mask to a named colour, keeping its shading (no weights).",
        input_kinds=("image",),
        region_kinds=("mask",),  # a box is segmented first, so only the object changes
        region_required=True,
        outputs=("image",),
        requires=("cv2",),
        quality=1,
    )

    def __init__(self, weights: str | None = None, lightness: float = 0.35, feather: float = 0.004,
                 **options: object) -> None:
        super().__init__(weights, **options)
        self.lightness, self.feather = float(lightness), float(feather)


    def run(self, call: ExpertCall) -> ExpertResult:
        import cv2

        image = input_image(call, self.spec.name)
        mask = region_mask(call, image.shape[:2], self.spec.name)
        wanted = str(call.args.get("color") or call.args.get("new") or "")
        target = parse_color(wanted)
        if target is None:
            raise BadInputError(f"recolor needs args.color: a colour name ({', '.join(list(NAMED_COLORS)[:8])}, ...) "
                                f"or #rrggbb; got {wanted!r}")
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
        goal = cv2.cvtColor(np.uint8([[target]]), cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]
        recoloured = lab.copy()
        recoloured[..., 0] = (1 - self.lightness) * lab[..., 0] + self.lightness * goal[0]
        recoloured[..., 1:] = goal[1:]
        rgb = cv2.cvtColor(np.clip(recoloured, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB).astype(np.float32)
        out = feathered_blend(rgb, image, mask, self.feather)  # fully recoloured inside, feathered just outside
        return ExpertResult(images=[out], text=f"recoloured the region to {wanted}")
