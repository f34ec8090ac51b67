"""Loading weights safely, and assembling a VITRON model from base weights.

A checkpoint folder is read from safetensors; pickle files (``.bin``, ``.pt``) can run code when
unpickled, so they are refused unless the caller passes ``allow_pickle=True``, and even then are read
with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..errors import BadInputError
from .config import VitronConfig
from .modeling import PICKLE_SUFFIXES

if TYPE_CHECKING:
    from .modeling import VitronModel
    from .processor import VitronProcessor

__all__ = ["checked_weights", "load_pickled", "assemble", "from_base", "load_vitron", "save_vitron"]


def checked_weights(path: str | Path, allow_pickle: bool) -> str:
    """``safetensors``, ``pickle`` (allowed) or ``hub`` (not a local folder); refuses pickle-only folders."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        return "hub"
    if any(folder.glob("*.safetensors")) or (folder / "model.safetensors.index.json").exists():
        return "safetensors"
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if not pickles:
        raise BadInputError(f"{folder} holds no weights (expected model.safetensors)")
    if not allow_pickle:
        raise BadInputError(f"{folder} holds only pickle weights ({', '.join(pickles)}), which can run code when "
                            "loaded; convert them to safetensors, or pass allow_pickle=True to read them with "
                            "torch.load(weights_only=True)")
    return "pickle"


def load_pickled(cls: type[VitronModel], folder: Path, dtype: Any = None) -> VitronModel:
    """Build from ``config.json`` and read every pickle file with ``weights_only=True`` (tensors only)."""
    model = cls(VitronConfig.from_pretrained(folder))
    state: dict[str, torch.Tensor] = {}
    for file in sorted(p for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES):
        try:
            state.update(torch.load(file, map_location="cpu", weights_only=True))
        except Exception as exc:
            raise BadInputError(f"refused {file.name}: not a plain tensor checkpoint ({type(exc).__name__}); "
                                "only weights, never pickled code, are loaded") from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k not in model.all_tied_weights_keys]
    if missing or unexpected:
        raise BadInputError(f"{folder} does not fit its config: {len(missing)} missing tensors "
                            f"({', '.join(missing[:3])}) and {len(unexpected)} unexpected "
                            f"({', '.join(unexpected[:3])})")
    model.tie_weights()
    if dtype is not None:
        model.to(dtype)
    return model.eval()


def assemble(vision_tower: torch.nn.Module, language_model: torch.nn.Module, tokenizer: Any, *,
             vision_model_id: str | None = None, text_model_id: str | None = None, image_mean: Any = None,
             image_std: Any = None, **options: Any) -> tuple[VitronModel, VitronProcessor]:
    """A VITRON model around a vision tower and a causal LM (their weights kept), and its processor.

    Adds the special tokens to ``tokenizer`` and grows the LM's embeddings to fit; the projector,
    region encoder and heads start random. ``options``: ``VitronConfig`` fields (``num_signal_tokens``,
    ``signal_dim``, ``expert_heads``, ``video_frames``...).
    """
    from .modeling import VitronModel
    from .processor import VitronProcessor
    from .tokens import END, IMAGE, REGION, VIDEO, signal_tokens, special_tokens

    k = int(options.get("num_signal_tokens", VitronConfig.num_signal_tokens))
    tokenizer.add_tokens(special_tokens(k), special_tokens=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = END
    language_model.resize_token_embeddings(len(tokenizer))
    ids = tokenizer.convert_tokens_to_ids
    config = VitronConfig(
        vision_config=vision_tower.config.to_dict(), text_config=language_model.config.to_dict(),
        vision_model_id=vision_model_id, text_model_id=text_model_id,
        image_token_id=ids(IMAGE), video_token_id=ids(VIDEO), region_token_id=ids(REGION), end_token_id=ids(END),
        signal_token_ids=[ids(t) for t in signal_tokens(k)], **options)
    with torch.device("meta"):  # the vision tower and LM are replaced below: allocate nothing for them
        model = VitronModel(config)
    model.vision_tower, model.language_model = vision_tower, language_model
    for part in (model.projector, model.region_encoder, model.signal_heads, model.expert_heads):
        part.to_empty(device=next(language_model.parameters()).device)
        part.apply(model._init_weights)
    processor = VitronProcessor(tokenizer, config, image_mean=image_mean, image_std=image_std)
    return model, processor


def from_base(vision: str, text: str, *, local_files_only: bool = True, allow_pickle: bool = False,
              dtype: Any = None, **options: Any) -> tuple[VitronModel, VitronProcessor]:
    """Assemble from base weights: a CLIP vision model and a causal LM, each a local folder or a hub id
    (from the local cache unless ``local_files_only=False``). Stage 1 of fine-tuning starts here."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, CLIPImageProcessor, CLIPVisionModel

    safe = {"use_safetensors": None if allow_pickle else True, "local_files_only": local_files_only}
    for source in (vision, text):
        if Path(source).expanduser().is_dir():
            checked_weights(source, allow_pickle)
    tower = CLIPVisionModel.from_pretrained(vision, dtype=dtype, **safe)
    lm = AutoModelForCausalLM.from_pretrained(text, dtype=dtype, **safe)
    tokenizer = AutoTokenizer.from_pretrained(text, local_files_only=local_files_only)
    try:
        stats = CLIPImageProcessor.from_pretrained(vision, local_files_only=local_files_only)
        norm = {"image_mean": stats.image_mean, "image_std": stats.image_std}
    except OSError:  # no preprocessor_config.json: CLIP's defaults
        norm = {}
    return assemble(tower, lm, tokenizer, vision_model_id=str(vision), text_model_id=str(text), **norm, **options)


def load_vitron(path: str | Path, *, device: str = "cpu", dtype: Any = None, allow_pickle: bool = False,
                local_files_only: bool = True) -> tuple[VitronModel, VitronProcessor]:
    """A saved VITRON checkpoint (``save_vitron``'s folder, or a hub id in the local cache) and its
    processor, in eval mode on ``device``."""
    from .modeling import VitronModel
    from .processor import VitronProcessor

    model = VitronModel.from_pretrained(path, allow_pickle=allow_pickle, dtype=dtype,
                                        local_files_only=local_files_only)
    processor = VitronProcessor.from_pretrained(path, local_files_only=local_files_only)
    return model.to(device).eval(), processor


def save_vitron(model: VitronModel, processor: VitronProcessor, path: str | Path) -> Path:
    """Write a checkpoint folder: ``config.json``, ``model.safetensors``, the tokenizer and processor settings."""
    folder = Path(path)
    model.save_pretrained(folder, safe_serialization=True)
    processor.save_pretrained(folder)
    return folder
