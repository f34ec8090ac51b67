"""Metrics of the generation and editing benchmarks, and the local feature models they need.

- FID and FVD: the Frechet distance between the feature statistics of real and generated sets, computed by
  torchmetrics' ``FrechetInceptionDistance`` over features extracted here (Inception-v3 for images, I3D for
  clips), so one maintained implementation serves both.
- CLIP score (``100 * max(cos, 0)``, image vs caption), CLIPSIM (mean per-frame cosine, clip vs caption), CLIP-I
  (image vs image cosine), CLIP-T (image vs caption cosine), DINO (image vs image cosine of DINO ViT class tokens)
  and MagicBrush's L1 / L2 (mean absolute / squared difference of [0, 1] pixels, the output resized to the
  target's size, as MagicBrush's ``image_eval.py`` computes them).

torchmetrics 1.9's ``CLIPScore`` expects transformers 4's ``get_image_features`` (a tensor; transformers 5
returns a model output), so the CLIP embeddings are taken here from ``CLIPModel`` and the scores computed by
their definitions. Feature models load from local files only (no network): ``FeatureModels`` says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .base import DataError

__all__ = [
    "FEATURE_MODELS", "FeatureModelSpec", "FeatureModels", "TorchScriptFeatures", "ClipEncoder", "DinoEncoder",
    "frechet_distance", "cosine", "clip_score", "clipsim", "pixel_distances", "square", "clip_frames",
    "stack_features", "FVD_FRAMES",
]

FVD_FRAMES = 16
"""Frames per clip that FVD's I3D reads (the first 16, as FVD on UCF-101 is usually computed)."""


@dataclass(frozen=True)
class FeatureModelSpec:
    """One feature model: the names it may have in the feature folder, what it is, and how to get it."""

    names: tuple[str, ...]
    what: str
    get: str


FEATURE_MODELS: dict[str, FeatureModelSpec] = {
    "inception": FeatureModelSpec(
        ("inception-2015-12-05.pt", "inception.pt"), "the FID Inception-v3 network as TorchScript",
        "wget https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt"),
    "i3d": FeatureModelSpec(
        ("i3d_torchscript.pt", "i3d.pt"), "the FVD I3D network (Kinetics-400) as TorchScript",
        "wget -O i3d_torchscript.pt 'https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1'"),
    "clip": FeatureModelSpec(
        ("clip",), "a CLIP checkpoint folder (transformers CLIPModel + CLIPProcessor)",
        "huggingface-cli download openai/clip-vit-large-patch14 --local-dir clip   "
        "(MagicBrush and CLIPSIM are usually reported with openai/clip-vit-base-patch32)"),
    "dino": FeatureModelSpec(
        ("dino",), "a DINO ViT checkpoint folder (transformers ViTModel + image processor)",
        "huggingface-cli download facebook/dino-vits16 --local-dir dino"),
}
"""The feature models metrics need, by kind, each found under ``--feature-model DIR``."""


@dataclass(frozen=True)
class FeatureModels:
    """The folder of local feature models (``EvalOptions.feature_model``): ``DIR/inception-2015-12-05.pt``,
    ``DIR/i3d_torchscript.pt``, ``DIR/clip/``, ``DIR/dino/`` (``FEATURE_MODELS`` lists the accepted names).
    ``DIR`` may also be a CLIP checkpoint folder itself, for benchmarks that need only CLIP."""

    root: Path | None

    def path(self, kind: str, metric: str) -> Path:
        """Where the ``kind`` model is; a ``DataError`` naming what to download when it is absent."""
        spec = FEATURE_MODELS[kind]
        if self.root is not None:
            root = Path(self.root).expanduser()
            for name in spec.names:
                if (root / name).exists():
                    return root / name
            if kind == "clip" and _model_type(root).startswith("clip"):
                return root
        where = f"in {self.root}" if self.root is not None else "(no --feature-model folder was given)"
        raise DataError(f"{metric} needs {spec.what}, as {spec.names[0]} {where}. Get it with: {spec.get} "
                        f"(run inside the folder you pass as --feature-model)")


def _model_type(folder: Path) -> str:
    import json

    config = folder / "config.json"
    return str(json.loads(config.read_text(encoding="utf-8")).get("model_type", "")) if config.exists() else ""


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def square(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` (H, W, 3) uint8 centre-cropped to a square and resized to ``size`` x ``size`` (PIL bicubic)."""
    from PIL import Image

    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = Image.fromarray(np.ascontiguousarray(image[top:top + side, left:left + side]))
    return np.asarray(crop.resize((size, size), Image.BICUBIC))


def clip_frames(video: np.ndarray, frames: int = FVD_FRAMES) -> np.ndarray:
    """The first ``frames`` frames of ``video`` (T, H, W, 3), the last one repeated when the clip is shorter."""
    index = np.minimum(np.arange(frames), len(video) - 1)
    return video[index]


class TorchScriptFeatures:
    """A TorchScript feature network (loaded once) that maps a numpy batch to (N, D) float64 features.

    ``kind`` ``"inception"``: FID's Inception-v3 (NVIDIA's ``inception-2015-12-05.pt``) on (N, H, W, 3) uint8
    images, called ``net(images, return_features=True)`` with (N, 3, H, W) uint8 input (it resizes to 299 itself):
    2048 pool features. ``kind`` ``"i3d"``: FVD's I3D (``i3d_torchscript.pt``) on (N, T, 224, 224, 3) uint8 clips,
    called ``net(clips, rescale=False, resize=False, return_features=True)`` with (N, 3, T, H, W) input in [-1, 1]:
    400 logits-layer features.
    """

    def __init__(self, path: Path, kind: str) -> None:
        import torch

        if kind not in ("inception", "i3d"):
            raise ValueError(f"kind is 'inception' or 'i3d', not {kind!r}")
        self.kind = kind
        self.device = _device()
        self.net = torch.jit.load(str(path), map_location=self.device).eval()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.array(batch)).to(self.device)  # a writable copy
        with torch.no_grad():
            if self.kind == "inception":
                out = self.net(x.permute(0, 3, 1, 2), return_features=True)
            else:
                clips = (x.float() / 127.5 - 1.0).permute(0, 4, 1, 2, 3)
                out = self.net(clips, rescale=False, resize=False, return_features=True)
        return out.detach().double().cpu().numpy()


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """The Frechet distance between Gaussians fitted to two feature sets, (N, D) and (M, D), by torchmetrics'
    ``FrechetInceptionDistance`` (features passed through as they are). NaN when either set has under 2 rows."""
    import torch
    from torchmetrics.image.fid import FrechetInceptionDistance

    if len(real) < 2 or len(fake) < 2:
        return float("nan")
    passthrough = torch.nn.Identity()
    passthrough.num_features = int(real.shape[1])
    metric = FrechetInceptionDistance(feature=passthrough, normalize=True)
    metric.update(torch.from_numpy(np.asarray(real, np.float64)), real=True)
    metric.update(torch.from_numpy(np.asarray(fake, np.float64)), real=False)
    return float(metric.compute())


class ClipEncoder:
    """A local CLIP checkpoint: unit-norm image and text embeddings (float64 numpy rows)."""

    def __init__(self, folder: Path) -> None:
        from transformers import CLIPModel, CLIPProcessor

        self.device = _device()
        self.model = CLIPModel.from_pretrained(str(folder), local_files_only=True).to(self.device).eval()
        self.processor = CLIPProcessor.from_pretrained(str(folder), local_files_only=True)

    def images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, D) embeddings of (H, W, 3) uint8 images (CLIP's own resize and centre crop)."""
        import torch

        inputs = self.processor(images=list(images), return_tensors="pt")
        with torch.no_grad():
            out = self.model.get_image_features(pixel_values=inputs["pixel_values"].to(self.device))
        return _unit(_tensor(out))

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        """(N, D) embeddings of captions, cut at the text encoder's length (77 tokens for OpenAI's CLIP)."""
        import torch

        length = self.model.config.text_config.max_position_embeddings
        inputs = self.processor(text=list(texts), return_tensors="pt", padding=True, truncation=True,
                                max_length=length)
        with torch.no_grad():
            out = self.model.get_text_features(input_ids=inputs["input_ids"].to(self.device),
                                               attention_mask=inputs["attention_mask"].to(self.device))
        return _unit(_tensor(out))


class DinoEncoder:
    """A local DINO ViT checkpoint: unit-norm class-token features of the last layer (float64 numpy rows)."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoImageProcessor, AutoModel

        self.device = _device()
        self.model = AutoModel.from_pretrained(str(folder), local_files_only=True).to(self.device).eval()
        self.processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)

    def images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        inputs = self.processor(images=list(images), return_tensors="pt")
        with torch.no_grad():
            out = self.model(pixel_values=inputs["pixel_values"].to(self.device))
        return _unit(out.last_hidden_state[:, 0])


def _tensor(out: Any) -> Any:
    """transformers 5 returns a model output from ``get_*_features`` (the projected embedding in
    ``pooler_output``); transformers 4 returned the tensor."""
    return out if hasattr(out, "norm") else out.pooler_output


def _unit(rows: Any) -> np.ndarray:
    array = rows.detach().float().cpu().numpy().astype(np.float64)
    return array / np.linalg.norm(array, axis=-1, keepdims=True)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def clip_score(image_embedding: np.ndarray, text_embedding: np.ndarray) -> float:
    """CLIP score of one image and its caption: ``100 * max(cos, 0)`` (torchmetrics' scale)."""
    return 100.0 * max(cosine(image_embedding, text_embedding), 0.0)


def clipsim(frame_embeddings: np.ndarray, text_embedding: np.ndarray) -> float:
    """CLIPSIM of one clip: the mean over its frames of the frame-caption cosine similarity."""
    return float(np.mean([cosine(frame, text_embedding) for frame in frame_embeddings]))


def pixel_distances(output: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """MagicBrush's (L1, L2) of an edited image against the target: ``output`` resized to the target's size
    (PIL bicubic), both as [0, 1] pixels; L1 the mean absolute difference, L2 the mean squared difference."""
    from PIL import Image

    if output.shape[:2] != target.shape[:2]:
        output = np.asarray(Image.fromarray(output).resize((target.shape[1], target.shape[0]), Image.BICUBIC))
    diff = output.astype(np.float64) / 255.0 - target.astype(np.float64) / 255.0
    return float(np.abs(diff).mean()), float((diff ** 2).mean())


def stack_features(rows: Iterable[np.ndarray]) -> np.ndarray:
    """Feature rows stacked into an (N, D) array (empty (0, 0) when there are none)."""
    rows = [np.asarray(r, np.float64).ravel() for r in rows]
    return np.stack(rows) if rows else np.zeros((0, 0))
