"""Finding Hugging Face-style weights without touching the network (a local folder or the hub cache), and the base
of the experts that wrap one transformers model and its processor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vitron_agent.errors import UnavailableError
from vitron_agent.experts.base import Availability, Expert, resolve_device

from ._common import torch_memory

__all__ = ["find_pretrained", "TransformersExpert"]


class TransformersExpert(Expert):
    """Base for an expert on one transformers model (``model``) and its ``processor``: weights are a
    ``save_pretrained`` folder or a cached hub id, safetensors only, never downloaded."""

    abstract = True

    def __init__(self, weights: str | None = None, **options: Any) -> None:
        super().__init__(weights, **options)
        self.model: Any = None
        self.processor: Any = None

    def check_weights(self) -> Availability:
        return find_pretrained(self.weights, "config.json", self.spec.name)

    def weights_folder(self, device: str) -> str:
        """The folder to load from (raising ``UnavailableError`` with the fix when there is none); sets ``device``."""
        state = self.check_weights()
        if not state.ok:
            raise UnavailableError(f"{state.reason}. {state.fix}")
        self.device = resolve_device(device)
        return str(state.weights_path)

    def unload(self) -> None:
        self.model = self.processor = None
        super().unload()

    def memory_bytes(self) -> dict[str, int]:
        return torch_memory([self.model], self.device)


def find_pretrained(weights: str | None, marker: str, expert: str) -> Availability:
    """Whether ``weights`` (a folder, or a hub id already in the local cache) holds ``marker``.

    Never downloads: with no network here, a missing id must say how to fetch it instead.
    """
    if not weights:
        return Availability(False, f"{expert} has no weights configured", "Pass weights=<folder or Hugging Face id>")
    folder = Path(weights).expanduser()
    if folder.is_dir():
        if (folder / marker).exists():
            return _tensor_files(folder, expert)
        return Availability(False, f"{folder} has no {marker}", "Point weights at a save_pretrained folder")
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(weights, marker)
    except Exception:  # not a valid repo id, or the hub library missing
        cached = None
    if isinstance(cached, str):
        return _tensor_files(Path(cached).parent, expert)
    return Availability(
        False, f"weights {weights!r} for {expert} are not on disk",
        f"Download them where a network is available (vitron-agent weights pull {expert}, or huggingface-cli download "
        f"{weights}) or pass a local folder",
    )


_PICKLES = ("*.bin", "*.pt", "*.pth", "*.ckpt")


def _tensor_files(folder: Path, expert: str) -> Availability:
    """Available when ``folder`` holds safetensors weights; a folder of pickles only is refused here, before
    any loading, with the way out (experts read safetensors only: a pickle can run code when loaded)."""
    if next(folder.rglob("*.safetensors"), None) is not None:
        return Availability(True, weights_path=str(folder))
    if any(next(folder.rglob(pattern), None) is not None for pattern in _PICKLES):
        return Availability(
            False, f"{folder} holds only pickle weights (.bin/.pt/.ckpt) for {expert}, and experts read safetensors only",
            "Convert them where you trust the files (from_pretrained(...).save_pretrained(folder, "
            "safe_serialization=True)) or use a safetensors revision of the same model")
    return Availability(False, f"{folder} has no weight files for {expert}", "Point weights at a save_pretrained folder")
