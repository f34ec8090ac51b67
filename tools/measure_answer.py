"""Answers from what OpenCV and numpy can measure: the embedded, weight-free ``answer`` expert.

It cannot see what a picture shows, and says so; it answers what it can measure exactly: how many faces or
upright people there are and where (their boxes become a ``boxes`` output), the colour, size and position of
the object in a box, clicks or a mask (an earlier result), the image's size, a video's length, frame count
and frame rate. Any other question gets those facts and the way to full answers (a vision-language expert).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from vitron_agent.colors import NAMED_COLORS
from vitron_agent.experts.base import Expert, ExpertCall, ExpertResult, ExpertSpec

from ._common import region_mask

__all__ = ["MeasureAnswerExpert", "colour_name", "position_words"]

_PEOPLE = re.compile(r"\b(?:faces?|people|persons?|man|men|woman|women|anyone|anybody|someone|somebody|human|"
                     r"humans|kids?|child|children)\b|人|脸")
_COLOUR = re.compile(r"\bcolou?rs?\b|颜色")
_SIZE = re.compile(r"\b(?:how (?:big|large|small|wide|tall)|size|area|dimensions?|resolution|how many pixels)\b|多大")
_WHERE = re.compile(r"\b(?:where|position|located|location)\b|哪里|位置")
_VIDEO = re.compile(r"\b(?:how long|length|duration|seconds?|frames?|fps|frame rate)\b|多长|几秒|帧")
_INSTALL = ('a vision-language expert answers it: install one with pip install "vitron-agent[vlm]" and its weights '
            "(`vitron-agent experts` says which)")


class MeasureAnswerExpert(Expert):
    """Answers questions from measurements; needs no weights. Counting runs the ``opencv_detect`` detectors."""

    spec = ExpertSpec(
        name="measure_answer",
        tasks=("answer",),
        description=("Answers what can be measured without a vision-language model: how many faces or people and "
                     "where; the colour, size and position of the object in a box or mask; image size; video "
                     "length, frames and fps. Says honestly what it cannot see (no weights)."),
        input_kinds=("image", "video"),
        region_kinds=("box", "points", "mask"),
        outputs=("text", "boxes"),
        requires=("cv2",),
        quality=0,
    )

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        from vitron_agent.experts.registry import ExpertRegistry

        self.detector = ExpertRegistry.default(entry_points_too=False).create("opencv_detect")
        self.detector.load(device, dtype)
        self.loaded = True

    def run(self, call: ExpertCall) -> ExpertResult:
        question = call.command.lower()
        video = call.video
        frame = call.images[0] if call.images else video.frames[call.frames[0] if call.frames else 0] if video else None
        if frame is None:
            return ExpertResult(text=f"There is no image or video to look at; {_INSTALL} once one is attached.")
        asks = {"count": bool(_PEOPLE.search(question)), "colour": bool(_COLOUR.search(question)),
                "size": bool(_SIZE.search(question)), "where": bool(_WHERE.search(question)),
                "video": video is not None and bool(_VIDEO.search(question))}
        facts: dict[str, Any] = {"width": int(frame.shape[1]), "height": int(frame.shape[0])}
        sentences: list[str] = []
        if video is not None:
            count, fps = len(video.frames), float(video.fps)
            facts.update(frames=count, fps=fps, seconds=round(count / fps, 2) if fps else None)
            medium = (f"The video is {count} frames of {frame.shape[1]}x{frame.shape[0]} at {fps:g} fps"
                      + (f", {count / fps:.1f} s long." if fps else "."))
        else:
            medium = f"The image is {frame.shape[1]}x{frame.shape[0]} pixels."
        detections = []
        if asks["count"]:
            found = self.detector.run(ExpertCall(invocation=call.invocation, images=[frame]))
            detections = found.detections
            facts["count"] = len(detections)
            sentences.append(_counted(detections, found.data.get("looked_for", ["face", "person"])))
        region = _region(call, frame.shape[:2])
        if region is not None:
            facts.update(_describe_region(frame, region))
            sentences.append(_region_sentence(facts))
        elif asks["colour"]:
            facts["colour"] = colour_name(frame.reshape(-1, 3).mean(axis=0))
            sentences.append(f"On average its pixels are {facts['colour']}.")
        answered = asks["count"] or asks["size"] or asks["video"] or (asks["colour"] or asks["where"]) and (
            region is not None or asks["colour"])
        if asks["size"] or asks["video"]:  # the medium's facts are the answer: say them first
            sentences.insert(0, medium)
        else:
            sentences.append(medium)
        if not answered:
            sentences.insert(0, f"I cannot see what it shows without a vision-language model; {_INSTALL}. "
                                "What I can measure:")
        return ExpertResult(text=" ".join(sentences), detections=detections, data=facts)


def _counted(detections: list, looked_for: list[str]) -> str:
    """``I count 1 face (at [...])`` / ``I find no upright person`` for the kinds the detector looked for."""
    words = {"face": ("face", "faces"), "person": ("upright person", "upright people")}
    counts = [(sum(d.label == kind for d in detections), *words[kind]) for kind in looked_for if kind in words]
    parts = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
    where = "; ".join(f"{d.label} at [{', '.join(f'{c:.0f}' for c in d.box)}]" for d in detections[:6])
    if parts:
        return f"I count {' and '.join(parts)} ({where})."
    return "I find no " + " and no ".join(one for _, one, _ in counts) + "."


def _region(call: ExpertCall, shape: tuple[int, int]) -> np.ndarray | None:
    """The region as an (H, W) bool mask of the frame (a mask, the union of boxes, or small patches under the
    positive clicks), or None without one."""
    height, width = shape
    if call.mask is not None and call.mask.ndim == 3:  # masks on every frame: the one on the region's frame
        return np.asarray(call.mask[call.frames[0] if call.frames else 0], dtype=bool)
    if call.mask is not None or call.boxes:
        return region_mask(call, shape, MeasureAnswerExpert.spec.name)
    if call.points:
        mask = np.zeros(shape, bool)
        for point in call.points:
            if point.positive:
                y, x = int(min(max(point.y, 0), height - 1)), int(min(max(point.x, 0), width - 1))
                mask[max(0, y - 2):y + 3, max(0, x - 2):x + 3] = True
        return mask if mask.any() else None
    return None


def _describe_region(frame: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    return {"colour": colour_name(frame[mask].mean(axis=0)), "mean_rgb": [round(float(c)) for c in frame[mask].mean(axis=0)],
            "box": box, "area_px": int(mask.sum()), "share": round(float(mask.mean()), 4),
            "position": position_words((xs.mean() / width, ys.mean() / height))}


def _region_sentence(facts: dict[str, Any]) -> str:
    x1, y1, x2, y2 = facts["box"]
    return (f"The object in the region is mostly {facts['colour']} (mean RGB {tuple(facts['mean_rgb'])}), "
            f"{x2 - x1}x{y2 - y1} px at [{x1}, {y1}, {x2}, {y2}], {100 * facts['share']:.1f}% of the frame, "
            f"in the {facts['position']}.")


def colour_name(rgb: Any) -> str:
    """The named colour nearest to an RGB triple, in CIELAB (how far apart colours look)."""
    import cv2

    names = [n for n in NAMED_COLORS if n != "grey"]
    table = np.asarray([NAMED_COLORS[n] for n in names], np.uint8)[None]
    lab = cv2.cvtColor(table, cv2.COLOR_RGB2LAB)[0].astype(float)
    target = cv2.cvtColor(np.clip(np.asarray(rgb, float), 0, 255).astype(np.uint8)[None, None], cv2.COLOR_RGB2LAB)
    return names[int(np.argmin(np.linalg.norm(lab - target[0, 0].astype(float), axis=1)))]


def position_words(centre: tuple[float, float]) -> str:
    """``top left`` ... ``centre`` ... ``bottom right`` for a centre given as fractions of width and height."""
    column = ("left", "centre", "right")[min(2, int(centre[0] * 3))]
    row = ("top", "middle", "bottom")[min(2, int(centre[1] * 3))]
    return "centre" if (row, column) == ("middle", "centre") else f"{row} {column}".replace("middle ", "")
