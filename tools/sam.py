"""Segment Anything (``segment_anything``): masks from boxes, clicks or a mask hint, and from signal embeddings.

Weights: an official checkpoint (``sam_vit_b_01ec64.pth``, ``vit_l``, ``vit_h``; read with
``torch.load(weights_only=True)``, so a pickle cannot run code) or a directory holding ``config.json``
and ``model.safetensors`` (what ``save_sam`` writes; the tests build tiny random ones this way).
A bare file name is looked up in ``$VITRON_WEIGHTS_DIR``. Each image is embedded once and then
prompted as often as asked. Signal embeddings of shape (k, prompt_dim) join the prompt as extra sparse
tokens of the mask decoder (the LISA path).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from vitron_agent.config import weights_dir
from vitron_agent.errors import BadInputError, RegionError, UnavailableError
from vitron_agent.experts.base import Availability, Expert, ExpertCall, ExpertResult, ExpertSpec, resolve_device

from ._common import input_image, torch_dtype, torch_memory

__all__ = ["SamExpert", "SAM_CONFIGS", "build_sam_model", "save_sam"]

SAM_CONFIGS: dict[str, dict[str, Any]] = {
    name: {"encoder_embed_dim": dim, "encoder_depth": depth, "encoder_num_heads": heads,
           "global_attn_indexes": list(glob), "image_size": 1024, "patch_size": 16, "prompt_embed_dim": 256,
           "decoder_mlp_dim": 2048, "decoder_num_heads": 8, "window_size": 14}
    for name, dim, depth, heads, glob in (
        ("vit_b", 768, 12, 12, (2, 5, 8, 11)),
        ("vit_l", 1024, 24, 16, (5, 11, 17, 23)),
        ("vit_h", 1280, 32, 16, (7, 15, 23, 31)),
    )
}
"""The three released model sizes, in the keys ``build_sam_model`` reads."""


def build_sam_model(config: dict[str, Any]) -> Any:
    """A ``segment_anything`` ``Sam`` with random weights, shaped by ``config`` (see ``SAM_CONFIGS``)."""
    from functools import partial

    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    size, patch, dim = config["image_size"], config["patch_size"], config["prompt_embed_dim"]
    encoder = ImageEncoderViT(
        img_size=size, patch_size=patch, embed_dim=config["encoder_embed_dim"], depth=config["encoder_depth"],
        num_heads=config["encoder_num_heads"], mlp_ratio=4, out_chans=dim, qkv_bias=True,
        norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), use_rel_pos=True, window_size=config["window_size"],
        global_attn_indexes=tuple(config["global_attn_indexes"]),
    )
    prompts = PromptEncoder(embed_dim=dim, image_embedding_size=(size // patch, size // patch),
                            input_image_size=(size, size), mask_in_chans=16)
    decoder = MaskDecoder(
        num_multimask_outputs=3, transformer_dim=dim, iou_head_depth=3, iou_head_hidden_dim=dim,
        transformer=TwoWayTransformer(depth=2, embedding_dim=dim, mlp_dim=config["decoder_mlp_dim"],
                                      num_heads=config["decoder_num_heads"]),
    )
    return Sam(image_encoder=encoder, prompt_encoder=prompts, mask_decoder=decoder,
               pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375]).eval()


def save_sam(model: Any, config: dict[str, Any], directory: str | Path) -> Path:
    """Write ``config.json`` and ``model.safetensors``: a checkpoint ``SamExpert(weights=directory)`` loads."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(directory / "model.safetensors"))
    return directory


class SamExpert(Expert):
    """Segment Anything as an expert. Options: ``model_type`` (vit_b/vit_l/vit_h for ``.pth`` files whose
    name does not say). ``AgentConfig.dtype`` reaches ``load`` (see ``_precision``)."""

    spec = ExpertSpec(
        name="sam",
        tasks=("segment",),
        description=("Segments an object precisely from a box, clicks or a rough mask; also takes signal "
                     "embeddings as prompt tokens (Segment Anything)."),
        input_kinds=("image",),
        region_kinds=("box", "points", "mask"),
        region_required=True,
        outputs=("mask",),
        embedding_space="sam-sparse kx256",
        weights="sam_vit_b_01ec64.pth",
        extra="sam",
        requires=("torch", "segment_anything", "safetensors"),
        quality=10,
    )

    def __init__(self, weights: str | None = None, model_type: str | None = None, **options: Any) -> None:
        super().__init__(weights, **options)
        self.model_type = model_type
        self.model: Any = None
        self.predictor: Any = None
        self._embedded: str | None = None
        self.images_embedded = 0

    def _path(self) -> Path:
        path = Path(self.weights or "").expanduser()
        return path if path.exists() or path.is_absolute() else weights_dir() / path

    def check_weights(self) -> Availability:
        path = self._path()
        if path.exists():
            return Availability(True, weights_path=str(path))
        return Availability(False, f"SAM weights not found at {path}",
                            "Download sam_vit_b_01ec64.pth from the segment-anything release into "
                            f"{weights_dir()} (or $VITRON_WEIGHTS_DIR), or pass weights=<file or directory>",
                            weights_path=str(path))

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        from segment_anything import SamPredictor

        path = self._path()
        if not path.exists():
            state = self.check_weights()
            raise UnavailableError(f"{state.reason}. {state.fix}")
        config, weights = self._read(path)
        model = build_sam_model(config)
        missing, unexpected = model.load_state_dict(weights, strict=False)
        if missing or unexpected:
            raise UnavailableError(f"{path} does not fit SAM {config['encoder_embed_dim']}-d: "
                                   f"{len(missing)} missing and {len(unexpected)} unexpected tensors")
        self.device = resolve_device(device)
        self.precision = self._precision(dtype)
        model.to(self.device, dtype=self.precision)
        self.model, self.predictor = model, SamPredictor(model)
        self._embedded, self.loaded = None, True

    def _read(self, path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        import torch

        if path.is_dir():
            from safetensors.torch import load_file

            return json.loads((path / "config.json").read_text()), load_file(str(path / "model.safetensors"))
        kind = self.model_type or next((k for k in SAM_CONFIGS if k in path.name), "vit_b")
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise UnavailableError(f"refused to load {path.name}: it is not a plain tensor checkpoint "
                                   f"({type(exc).__name__}); only weights, never pickled code, are loaded") from None
        return SAM_CONFIGS[kind], state

    def _precision(self, dtype: str | None) -> Any:
        """The weights' torch dtype: ``AgentConfig.dtype`` as resolved, except that bfloat16 becomes float16 on a
        GPU and float32 on a CPU (the predictor hands scores to numpy, which has no bfloat16)."""
        import torch

        chosen = torch_dtype(dtype, self.device)
        if chosen == torch.bfloat16:
            return torch.float16 if self.device.startswith("cuda") else torch.float32
        return chosen

    def _autocast(self) -> Any:
        """Half-precision weights take float32 inputs from the predictor: autocast casts them per operation."""
        import torch

        half = self.precision != torch.float32
        return torch.autocast(self.device.split(":")[0], dtype=self.precision, enabled=half)

    def unload(self) -> None:
        self.model = self.predictor = None
        self._embedded = None
        super().unload()

    def memory_bytes(self) -> dict[str, int]:
        return torch_memory([self.model], self.device)

    def run(self, call: ExpertCall) -> ExpertResult:
        with self._autocast():
            return self._run(call)

    def _run(self, call: ExpertCall) -> ExpertResult:
        image = input_image(call, self.spec.name)
        self._embed(image)
        boxes = list(call.boxes)
        if call.mask is not None and not boxes and not call.points:
            ys, xs = np.nonzero(call.mask)
            if not len(xs):
                raise RegionError("sam: the mask hint is empty")
            boxes = [(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))]
        if not boxes and not call.points and call.signal is None:
            raise RegionError("sam needs a box, clicks, a mask hint or signal embeddings")
        masks, scores = [], []
        if call.signal is not None:
            for box in boxes or [None]:
                mask, score = self._decode_with_signal(call.signal, box)
                masks.append(mask)
                scores.append(score)
        else:
            for box in boxes:
                found, quality, _ = self.predictor.predict(box=np.asarray(box, dtype=np.float32), multimask_output=False)
                masks.append(found[0])
                scores.append(float(quality[0]))
            if call.points:
                coords = np.asarray([[p.x, p.y] for p in call.points], dtype=np.float32)
                labels = np.asarray([1 if p.positive else 0 for p in call.points])
                found, quality, _ = self.predictor.predict(point_coords=coords, point_labels=labels,
                                                           multimask_output=True)
                best = int(np.argmax(quality))
                masks.append(found[best])
                scores.append(float(quality[best]))
        masks = [np.asarray(m, dtype=bool) for m in masks]
        share = 100.0 * float(np.logical_or.reduce(masks).mean())
        return ExpertResult(masks=masks, text=f"segmented {len(masks)} region(s), {share:.1f}% of the image",
                            data={"scores": scores})

    def _embed(self, image: np.ndarray) -> None:
        """Run the image encoder only when the image changed since the last call."""
        digest = hashlib.sha1(image.tobytes()).hexdigest() + str(image.shape)
        if digest != self._embedded:
            self.predictor.set_image(image)
            self._embedded = digest
            self.images_embedded += 1

    def _decode_with_signal(self, signal: np.ndarray, box: tuple[float, ...] | None) -> tuple[np.ndarray, float]:
        """Decode a mask whose sparse prompt is the signal tokens (plus the box's tokens, if any)."""
        import torch

        model, predictor = self.model, self.predictor
        width = model.prompt_encoder.embed_dim
        tokens = np.asarray(signal, dtype=np.float32).reshape(-1, signal.shape[-1])
        if tokens.shape[-1] != width:
            raise BadInputError(f"sam takes signal embeddings of shape (k, {width}); got {tuple(signal.shape)}. "
                                "Project them with the VITRON model's sam head first")
        with torch.inference_mode():
            boxes = None
            if box is not None:
                scaled = predictor.transform.apply_boxes(np.asarray([box], dtype=np.float32), predictor.original_size)
                boxes = torch.as_tensor(scaled, device=self.device)
            sparse, dense = model.prompt_encoder(points=None, boxes=boxes, masks=None)
            extra = torch.as_tensor(tokens, device=self.device, dtype=sparse.dtype)[None]
            sparse = torch.cat([sparse, extra], dim=1)
            low_res, quality = model.mask_decoder(
                image_embeddings=predictor.features, image_pe=model.prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=False)
            masks = model.postprocess_masks(low_res, predictor.input_size, predictor.original_size)
        return (masks[0, 0] > model.mask_threshold).cpu().numpy(), float(quality[0, 0])

