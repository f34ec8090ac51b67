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
            return Availability(True, weights_path=str(folder))
        return Availability(False, f"{folder} has no {marker}", "Point weights at a save_pretrained folder")
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(weights, marker)
    except Exception:  # not a valid repo id, or the hub library missing
        cached = None
    if isinstance(cached, str):
        return Availability(True, weights_path=str(Path(cached).parent))
    return Availability(
        False, f"weights {weights!r} for {expert} are not on disk",
        f"Download them where a network is available (huggingface-cli download {weights}) or pass a local folder",
    )
