"""Objects outlined by hand on scikit-image's real photos: exact masks and boxes to score experts against.

Each outline was traced by eye along the object's visible edge (rim, body and handle of the cup), not produced by
any method of this project, so scores against it are scores against the truth.
"""

from __future__ import annotations

import numpy as np

COFFEE_CUP = [(240, 22), (290, 19), (340, 22), (370, 37), (390, 60), (400, 85), (402, 110), (400, 145), (392, 175),
              (385, 200), (375, 225), (360, 250), (340, 270), (305, 280), (275, 282), (262, 280), (255, 300), (230, 306),
              (205, 300), (197, 280), (199, 245), (207, 230), (195, 210), (185, 180), (177, 150), (174, 115), (177, 85),
              (187, 60), (205, 40), (222, 27)]
"""The espresso cup in ``skimage.data.coffee()`` (600x400): rim, red body and handle; the spoon and saucer are out."""

COFFEE_CUP_DRAWN = (172.0, 18.0, 410.0, 300.0)
"""The box a user draws around the cup (the README's example)."""

DRAWN_BOXES = {
    "the mission patch": ("astronaut", (128.0, 345.0, 215.0, 432.0), (135.0, 352.0, 208.0, 426.0)),
    "the helmet": ("astronaut", (270.0, 335.0, 511.0, 511.0), (277.0, 343.0, 504.0, 512.0)),
    "the cat's left eye": ("chelsea", (126.0, 80.0, 212.0, 154.0), (133.0, 87.0, 205.0, 147.0)),
}
"""Objects in other scikit-image photos, boxed by hand twice: name -> (photo, the box a user draws, a few pixels
loose, and the object's true box, read off enlarged crops with a 5 px grid), (x1, y1, x2, y2) pixels."""


def polygon_mask(polygon: list[tuple[int, int]], size: tuple[int, int]) -> np.ndarray:
    """(h, w) bool mask of the filled ``polygon`` (x, y vertices) on an image of ``size`` (w, h)."""
    import cv2

    mask = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillPoly(mask, [np.array(polygon, np.int32)], 1)
    return mask.astype(bool)


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) of ``mask``'s pixels, x2 and y2 exclusive."""
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1

