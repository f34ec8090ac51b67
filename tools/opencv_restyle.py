"""Restyling with OpenCV's non-photorealistic filters: the embedded ``edit_image.restyle`` expert.

The style words pick the filter: painting/watercolour/cartoon -> ``stylization``; sketch/pencil/
drawing -> ``pencilSketch`` (grey, or colour with "colour"); smooth/soft/airbrush ->
``edgePreservingFilter``; sharp/detail/hdr -> ``detailEnhance``; black and white/grayscale/sepia ->
greyscale. With a region only it is restyled.
"""

from __future__ import annotations

import re

import numpy as np

from vitron_agent.errors import BadInputError
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec

from ._common import OpenCVExpert, input_image, region_mask

__all__ = ["OpenCVRestyleExpert", "STYLES"]

STYLES: dict[str, tuple[str, ...]] = {
    "painting": ("paint", "painting", "watercolor", "watercolour", "oil", "cartoon", "comic", "artistic", "art"),
    "sketch": ("sketch", "pencil", "drawing", "drawn", "charcoal"),
    "smooth": ("smooth", "soft", "airbrush", "dreamy", "blur"),
    "detail": ("sharp", "sharpen", "detail", "detailed", "hdr", "crisp"),
    "mono": ("black", "grayscale", "greyscale", "monochrome", "grey", "gray", "sepia"),
}


def _style_of(text: str) -> str | None:
    words = set(re.findall(r"[a-z]+", text.lower()))
    return next((style for style, keys in STYLES.items() if words & set(keys)), None)


class OpenCVRestyleExpert(OpenCVExpert):
    """Applies a photo filter chosen by ``args.style`` (or the command) to the image or a region; no weights."""

    spec = ExpertSpec(
        name="opencv_restyle",
        tasks=("edit_image",),
        edit_ops=("restyle",),
        description=("Restyles the image (or a masked region) as a painting, pencil sketch, smooth, detailed, "
                     "black-and-white or sepia photo with OpenCV's photo filters (no weights)."),
        input_kinds=("image",),
        region_kinds=("mask", "box"),
        region_required=False,
        outputs=("image",),
        requires=("cv2",),
        quality=1,
    )


    def run(self, call: ExpertCall) -> ExpertResult:
        import cv2

        image = input_image(call, self.spec.name)
        wanted = f"{call.args.get('style', '')} {call.command}"
        style = _style_of(wanted)
        if style is None:
            raise BadInputError(f"restyle knows these styles: {', '.join(STYLES)} (e.g. 'a watercolor painting', "
                                f"'a pencil sketch'); got {wanted.strip()!r}")
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        if style == "painting":
            styled = cv2.stylization(bgr, sigma_s=60, sigma_r=0.45)
        elif style == "sketch":
            grey, colour = cv2.pencilSketch(bgr, sigma_s=60, sigma_r=0.07, shade_factor=0.05)
            styled = colour if re.search(r"colou?r", wanted.lower()) else cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
        elif style == "smooth":
            styled = cv2.edgePreservingFilter(bgr, flags=cv2.RECURS_FILTER, sigma_s=60, sigma_r=0.4)
        elif style == "detail":
            styled = cv2.detailEnhance(bgr, sigma_s=10, sigma_r=0.15)
        else:
            styled = cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
            if "sepia" in wanted.lower():
                styled = cv2.transform(styled, np.float32([[0.272, 0.534, 0.131], [0.349, 0.686, 0.168],
                                                           [0.393, 0.769, 0.189]]))  # rows B, G, R
        out = cv2.cvtColor(styled, cv2.COLOR_BGR2RGB)
        mask = region_mask(call, image.shape[:2], self.spec.name, required=False)
        if mask is not None:
            out = np.where(mask[..., None], out, image)
        return ExpertResult(images=[out], text=f"restyled {'the region' if mask is not None else 'the image'} "
                                               f"as {style}")
