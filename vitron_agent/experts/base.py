"""The expert interface: a declared spec, then ``load`` and ``run``.

An expert declares before it computes: the router validates every invocation against
``ExpertSpec`` and the same specs render the catalogue in the planner's prompt.
"""

from __future__ import annotations

import importlib.util
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import UnavailableError
from ..protocol.invocation import EDIT_OPS, TASKS, Invocation, Point
from ..protocol.tasks import TASK_TABLE

__all__ = [
    "ExpertSpec",
    "Availability",
    "Detection",
    "VideoClip",
    "ExpertCall",
    "ExpertResult",
    "Expert",
    "INPUT_KINDS",
    "REGION_KINDS",
    "OUTPUT_KINDS",
    "resolve_device",
    "resolve_dtype",
    "DTYPES",
]

INPUT_KINDS = ("image", "video", "text")
REGION_KINDS = ("box", "points", "mask")
OUTPUT_KINDS = ("text", "boxes", "mask", "image", "video")


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; call it inside ``load`` (imports torch)."""
    if device != "auto":
        return device
    if importlib.util.find_spec("torch") is None:
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


DTYPES = ("auto", "float32", "float16", "bfloat16")
"""The precisions an agent can ask its experts to load in (``AgentConfig.dtype``)."""


def resolve_dtype(dtype: str | None, device: str) -> str:
    """The precision to load in on ``device`` (already resolved): ``auto`` or None is float32 on CPU (half
    precision there is slow and some CPU kernels lack it) and, on a GPU, bfloat16 where the card has it (no
    overflow) else float16; an explicit choice is kept as it is."""
    if dtype not in (None, "auto"):
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        return dtype
    if not device.startswith("cuda"):
        return "float32"
    import torch

    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"


@dataclass(frozen=True)
class ExpertSpec:
    """What an expert does and needs, checked when the class is defined.

    ``vocabulary``: the only target phrases a closed-set expert understands (``None`` = any words).
    ``weights``: default weights id or path (``None`` for experts that need none).
    ``extra``: the pip extra that installs ``requires`` (import names).
    ``embedding_space``: conditioning space of signal embeddings it accepts, e.g. ``clip-text 77x768``.
    ``quality``: higher wins when several installed experts can do a task.
    ``costly``: slow or destructive enough to ask for approval in human-in-the-loop mode.
    ``region_free_ops``: edit ops that need no region although ``region_required`` (restyle a whole video).
    ``reads_args``: the task table's routing args it reads and needs (``phrases``/``boxes`` for GLIGEN):
    an invocation carrying them goes only to an expert that reads them, one without them never does.
    """

    name: str
    tasks: tuple[str, ...]
    description: str
    input_kinds: tuple[str, ...] = ("image",)
    region_kinds: tuple[str, ...] = ()
    region_required: bool = False
    region_free_ops: tuple[str, ...] = ()
    edit_ops: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    vocabulary: tuple[str, ...] | None = None
    embedding_space: str | None = None
    weights: str | None = None
    extra: str | None = None
    requires: tuple[str, ...] = ()
    quality: int = 0
    costly: bool = False
    reads_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not self.name.isidentifier() or self.name != self.name.lower():
            problems.append(f"name {self.name!r} must be a lowercase identifier")
        problems += [f"unknown task {t!r}" for t in self.tasks if t not in TASKS]
        problems += [f"unknown input kind {k!r}" for k in self.input_kinds if k not in INPUT_KINDS]
        problems += [f"unknown region kind {k!r}" for k in self.region_kinds if k not in REGION_KINDS]
        problems += [f"unknown edit op {o!r}" for o in (*self.edit_ops, *self.region_free_ops) if o not in EDIT_OPS]
        problems += [f"unknown output kind {o!r}" for o in self.outputs if o not in OUTPUT_KINDS]
        if not self.tasks:
            problems.append("declares no task")
        if self.region_required and not self.region_kinds:
            problems.append("requires a region but accepts no region kind")
        routing = {arg for task in self.tasks if task in TASK_TABLE for arg in TASK_TABLE[task].routing_args}
        problems += [f"reads_args {a!r} is no routing arg of its tasks" for a in self.reads_args if a not in routing]
        if problems:
            raise ValueError(f"ExpertSpec {self.name!r}: " + "; ".join(problems))

    def needs_region(self, task: str, op: str | None = None, signal: bool = False) -> bool:
        """Whether ``task`` (and edit ``op``) needs a region here; generating from text never does, nor does
        a call with a ``signal`` to an expert that takes embeddings (the signal says where)."""
        if TASK_TABLE[task].from_text or (signal and self.embedding_space is not None):
            return False
        return self.region_required and (op is None or op not in self.region_free_ops)

    def takes_args(self, task: str, args: dict[str, Any]) -> bool:
        """Whether the routing args in ``args`` are exactly those this expert reads for ``task``."""
        routing = TASK_TABLE[task].routing_args
        return {a for a in routing if args.get(a)} == {a for a in routing if a in self.reads_args}

    def takes_signal(self, space: str | None) -> bool:
        """Whether it takes signal embeddings (in ``space``, when the signal says which)."""
        return self.embedding_space is not None and (space is None or space == self.embedding_space)

    def does(self, task: str, op: str | None = None) -> bool:
        """Whether this expert handles ``task`` (and edit ``op`` for edit tasks)."""
        if task not in self.tasks:
            return False
        return op is None or not TASK_TABLE[task].is_edit or op in self.edit_ops

    def knows(self, phrase: str) -> bool:
        """Whether a closed-set expert's vocabulary covers a target phrase (whole words, plurals too)."""
        if self.vocabulary is None:
            return True
        words = phrase.lower()
        return any(re.search(rf"\b{re.escape(term)}(?:s|es)?\b", words) for term in self.vocabulary)

    def install_hint(self) -> str:
        """The pip command that installs ``requires``: the extra, or the core package for core needs."""
        return f'pip install "vitron-agent[{self.extra}]"' if self.extra else 'pip install --force-reinstall "vitron-agent"'



@dataclass(frozen=True)
class Availability:
    """Whether an expert can run here; ``reason`` and ``fix`` say why not and what to do."""

    ok: bool
    reason: str = ""
    fix: str = ""
    weights_path: str | None = None


@dataclass(frozen=True)
class Detection:
    """One grounded object: ``box`` is ``(x1, y1, x2, y2)`` pixels of the input frame."""

    box: tuple[float, float, float, float]
    label: str
    score: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {"box": [float(c) for c in self.box], "label": self.label, "score": float(self.score)}


@dataclass
class VideoClip:
    """Decoded video: ``frames`` (T, H, W, 3) uint8 RGB, ``fps`` frames per second."""

    frames: np.ndarray
    fps: float


@dataclass
class ExpertCall:
    """Everything an expert needs, resolved from ids to arrays.

    ``images``: (H, W, 3) uint8 RGB, one per image input, in input order.
    ``video``: the video input, if any.
    ``boxes``: region boxes ``(x1, y1, x2, y2)`` in pixels of the first input.
    ``points``: region clicks in pixels of the first input.
    ``mask``: region mask (H, W) bool, same H, W as the first input; (T, H, W) for a mask video.
    ``frames``: on video, the frame span the region was drawn on.
    ``signal``: signal embeddings (float32) for embedding-conditioned experts.
    ``progress``: call with (fraction in [0, 1], message) to stream progress.

    Input arrays may be read-only (decoded images are shared, not copied, between calls): an expert that
    changes pixels in place copies first, and one that hands them to ``torch.from_numpy`` passes a copy.
    """

    invocation: Invocation
    images: list[np.ndarray] = field(default_factory=list)
    video: VideoClip | None = None
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    mask: np.ndarray | None = None
    frames: tuple[int, int] | None = None
    signal: np.ndarray | None = None
    progress: Callable[[float, str], None] = lambda fraction, message: None

    @property
    def task(self) -> str:
        return self.invocation.task

    @property
    def command(self) -> str:
        return self.invocation.command

    @property
    def args(self) -> dict[str, Any]:
        return self.invocation.args


@dataclass
class ExpertResult:
    """What an expert produced; the graph stores arrays as files and keeps ids in state.

    ``masks``: (H, W) bool each, same H, W as the input image; on a video input (T, H, W), one per frame.
    ``detections``: grounded boxes in pixels of the input.
    ``images``: (H, W, 3) uint8 RGB outputs (generated or edited).
    ``videos``: generated or edited clips.
    ``text``: a short answer or summary for the planner and the user.
    ``data``: extra JSON-safe facts (counts, timings).
    """

    text: str = ""
    masks: list[np.ndarray] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)
    images: list[np.ndarray] = field(default_factory=list)
    videos: list[VideoClip] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


class Expert(ABC):
    """Base class: subclasses set ``spec`` and implement ``load`` and ``run``.

    Heavy imports belong in ``load``; ``run`` never loads weights. The model pool calls
    ``load`` once and keeps the instance warm.
    """

    spec: ClassVar[ExpertSpec]

    abstract: ClassVar[bool] = True
    """Set ``abstract = True`` in a shared base class that declares no spec itself."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("abstract", False) and not isinstance(getattr(cls, "spec", None), ExpertSpec):
            raise TypeError(f"{cls.__name__} must declare spec = ExpertSpec(...)")

    def __init__(self, weights: str | None = None, **options: Any) -> None:
        self.weights = weights if weights is not None else self.spec.weights
        self.options = options
        self.device = "cpu"  # set by load() to where the models live
        self.cpu_offload = bool(options.pop("cpu_offload", False))
        """Keep weights in RAM and move each part to the GPU only while it runs (set by the pool from
        ``AgentConfig.cpu_offload``, or per expert when registered); experts that cannot offload ignore it."""
        self.loaded = False

    @classmethod
    def missing_modules(cls) -> list[str]:
        """Import names from ``spec.requires`` that are not installed."""
        return [m for m in cls.spec.requires if importlib.util.find_spec(m) is None]

    def availability(self) -> Availability:
        """Checks extras and weights without loading anything."""
        missing = self.missing_modules()
        if missing:
            return Availability(
                False,
                f"{type(self).__name__} needs {', '.join(repr(m) for m in missing)}",
                f"Install it with: {self.spec.install_hint()}",
            )
        return self.check_weights()

    def check_weights(self) -> Availability:
        """Override for experts with weights; the default needs none."""
        return Availability(True)

    def require_modules(self) -> None:
        """Raise a clear ``UnavailableError`` naming the extra when an import is missing."""
        state = self.availability()
        if not state.ok:
            raise UnavailableError(f"{state.reason}. {state.fix}")

    def weights_on_disk(self) -> Availability:
        """Helper for experts whose weights are a local path or a cached Hugging Face id."""
        if not self.weights:
            return Availability(False, f"{self.spec.name} has no weights configured", "Pass weights=<path or HF id>")
        if os.path.exists(self.weights):
            return Availability(True, weights_path=self.weights)
        return Availability(
            False,
            f"weights {self.weights!r} for {self.spec.name} are not on disk",
            f"Download them first (e.g. huggingface-cli download {self.weights}) or pass a local path",
        )

    @abstractmethod
    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        """Load models onto ``device`` in ``dtype`` (one of ``DTYPES`` or None; ``resolve_dtype`` says what
        ``auto`` means there, and ``tools._common.torch_dtype`` gives the torch dtype); called once by the pool."""

    @abstractmethod
    def run(self, call: ExpertCall) -> ExpertResult:
        """Compute the result for one resolved call."""

    def unload(self) -> None:
        """Drop models so their memory can be reclaimed (pool eviction)."""
        self.loaded = False

    def memory_bytes(self) -> dict[str, int]:
        """Estimated memory held while loaded, by device kind: ``{"ram": n, "vram": n}``."""
        return {"ram": 0, "vram": 0}
