"""Object removal and moving by OpenCV inpainting: the embedded, weight-free ``edit_image`` expert.

Remove: the mask, grown a little to cover edges and soft shadows, is filled from its surroundings
(``cv2.inpaint``, Telea's method). Move: the object is cut out, its hole inpainted, and the object
pasted back shifted. Large images are inpainted on a crop around the mask, which keeps a call fast.
"""

from __future__ import annotations

import numpy as np

from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import OpenCVExpert, input_image, move_object, region_mask

__all__ = ["OpenCVInpaintExpert"]

class OpenCVInpaintExpert(OpenCVExpert):
    """Removes or moves the masked object; needs no weights.

    Options: ``grow`` (fraction of the shorter side the mask is dilated by, default 0.01),
    ``radius`` (inpainting neighbourhood in pixels, default 5). Move reads ``args.direction``
    (left, right, up, down) and ``args.distance`` (fraction of the image side, default 0.2).
    """

    spec = ExpertSpec(
        name="opencv_inpaint",
        tasks=("edit_image",),
        edit_ops=("remove", "move"),
        description=(
            "Removes the object in a mask by filling it from its surroundings, or moves it "
            "left/right/up/down (OpenCV inpainting, no weights). Best on small objects and plain backgrounds."
        ),
        input_kinds=("image",),
        region_kinds=("mask",),  # a box is segmented first, so only the object changes
        region_required=True,
        outputs=("image", "mask"),  # a move also gives the object's mask where it now is
        requires=("cv2",),
        quality=1,
    )

    def __init__(self, weights: str | None = None, grow: float = 0.01, radius: int = 5, **options: object) -> None:
        super().__init__(weights, **options)
        self.grow, self.radius = float(grow), int(radius)


    def run(self, call: ExpertCall) -> ExpertResult:
        image = input_image(call, self.spec.name)
        mask = region_mask(call, image.shape[:2], self.spec.name)
        if call.invocation.op == "move":
            return self._move(image, mask, call)
        out = self._fill(image, mask)
        share = 100.0 * mask.mean()
        return ExpertResult(images=[out], text=f"removed the region ({share:.1f}% of the image)")

    def _fill(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``image`` with the (grown) mask filled from around it; pixels far from the mask unchanged."""
        import cv2

        height, width = mask.shape
        grow = max(1, round(self.grow * min(height, width)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        hole = cv2.dilate(mask.astype(np.uint8), kernel)
        ys, xs = np.nonzero(hole)
        margin = 4 * (grow + self.radius)
        y1, y2 = max(0, ys.min() - margin), min(height, ys.max() + 1 + margin)
        x1, x2 = max(0, xs.min() - margin), min(width, xs.max() + 1 + margin)
        crop = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_RGB2BGR)
        filled = cv2.inpaint(crop, hole[y1:y2, x1:x2], self.radius, cv2.INPAINT_TELEA)
        out = image.copy()
        out[y1:y2, x1:x2] = cv2.cvtColor(filled, cv2.COLOR_BGR2RGB)
        return out

    def _move(self, image: np.ndarray, mask: np.ndarray, call: ExpertCall) -> ExpertResult:
        return move_object(image, mask, call, self._fill)
