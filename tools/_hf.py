"""Finding Hugging Face-style weights without touching the network: a local folder or the hub cache."""

from __future__ import annotations

from pathlib import Path

from vitron_agent.experts.base import Availability

__all__ = ["find_pretrained"]


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
        f"Download them where a network is available (huggingface-cli download {weights}) or pass a local folder",
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
