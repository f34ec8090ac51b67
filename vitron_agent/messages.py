"""Media in LangChain messages: the image and video content blocks a host's ``HumanMessage`` carries.

Read forms: LangChain's standard blocks (``{"type": "image" | "video", "base64" | "url", "mime_type"}``), the
earlier ``{"type": "image", "source_type": "base64" | "url", "data" | "url"}``, and OpenAI's
``{"type": "image_url", "image_url": {"url": ...}}``. A URL is a ``data:`` URL (base64), a ``file://`` URL or a
local path; nothing is fetched from the network. Pixels never go into graph state: the graph stores the media
and keeps the message as text plus ids.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from .errors import MediaError

__all__ = ["Attached", "read_content", "decode_data_url"]

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*;base64,(?P<data>.*)$", re.S)
_KINDS = {"image": "image", "image_url": "image", "video": "video", "video_url": "video"}


@dataclass(frozen=True)
class Attached:
    """One medium a message carries: its bytes (base64 blocks) or a local path; ``kind`` as the block says;
    ``error``: why the block cannot be used (then neither bytes nor path)."""

    kind: Literal["image", "video"]
    data: bytes | None = None
    path: str | None = None
    name: str = "attachment"
    error: str | None = None


def read_content(content: str | list[Any], max_bytes: int) -> tuple[str, list[Attached]]:
    """A message's text (its text blocks joined by new lines) and the media its blocks carry, in order.

    ``max_bytes``: the largest medium accepted (checked before decoding base64). A block that cannot be used
    comes back with its ``error``, saying which form would work; the others are read all the same."""
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    media: list[Attached] = []
    for position, block in enumerate(content):
        if isinstance(block, str):
            texts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif isinstance(block, dict) and block.get("type") in _KINDS:
            kind, name = _KINDS[block["type"]], f"block {position}"
            try:
                media.append(_attached(block, kind, name, max_bytes))
            except MediaError as exc:
                media.append(Attached(kind, name=name, error=str(exc)))
    return "\n".join(t for t in texts if t), media


def _attached(block: dict[str, Any], kind: Any, name: str, max_bytes: int) -> Attached:
    if block.get("base64") or (block.get("source_type") == "base64" and block.get("data")):
        raw = block.get("base64") or block.get("data")
        return Attached(kind, data=_b64(str(raw), name, max_bytes), name=name)
    nested = block.get("image_url") or block.get("video_url")
    url = block.get("url") or (nested.get("url") if isinstance(nested, dict) else nested)
    if isinstance(url, str) and url:
        if url.startswith("data:"):
            return Attached(kind, data=decode_data_url(url, max_bytes, name)[1], name=name)
        parsed = urlparse(url)
        if parsed.scheme in ("", "file"):
            path = unquote(parsed.path) if parsed.scheme == "file" else url
            return Attached(kind, path=path, name=path.rsplit("/", 1)[-1] or name)
        raise MediaError(f"{name}: {parsed.scheme} URLs are not fetched (no network); send the {kind} as base64, a "
                         "data: URL or a local file path")
    if block.get("file_id"):
        raise MediaError(f"{name}: a provider's file id cannot be read here; send the {kind} as base64 or a path")
    raise MediaError(f"{name}: an {kind} block needs base64 data, a data: URL or a file path")


def decode_data_url(url: str, max_bytes: int, name: str = "a data URL") -> tuple[str | None, bytes]:
    """``data:<mime>;base64,<data>`` -> (mime type, bytes); ``MediaError`` for other forms or a size over the cap."""
    match = _DATA_URL.match(url)
    if match is None:
        raise MediaError(f"{name}: data URLs must be base64, as in data:image/png;base64,...")
    return match["mime"], _b64(match["data"], name, max_bytes)


def _b64(text: str, name: str, max_bytes: int) -> bytes:
    if len(text) * 3 // 4 > max_bytes:
        raise MediaError(f"{name} is larger than the limit of {max_bytes / 2**20:g} MiB; send a smaller file")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MediaError(f"{name} holds invalid base64") from None
