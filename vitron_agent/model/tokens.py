"""The VITRON model's special tokens, shared by the processor, the planner and fine-tuning data.

Every special token is written ``<|name|>``: the invocation grammar's tags are ``<name>``, so a
media or signal token can never be mistaken for a tag (``<region>`` is a tag, ``<|region|>`` a token).
"""

from __future__ import annotations

import re

__all__ = [
    "IMAGE",
    "VIDEO",
    "REGION",
    "END",
    "ROLES",
    "signal_tokens",
    "special_tokens",
    "signal_mark",
    "SIGNAL_MARK",
]

IMAGE = "<|image|>"
"""One per image; the processor expands it to the vision tower's patch count."""
VIDEO = "<|video|>"
"""One per video; expanded to patches (temporally pooled) + one token per sampled frame."""
REGION = "<|region|>"
"""One per user-drawn region; replaced by the region encoder's feature."""
END = "<|end|>"
"""Ends every turn; generation stops on it."""
ROLES = {"system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>", "tool": "<|tool|>"}
"""Turn openers, one per role."""

SIGNAL_MARK = re.compile(r"^sp(\d+)$")
"""Placeholder signal ids (``sp1``, ``sp2``...) that stand for the n-th run of signal tokens while the
text is parsed; never a signal-store id (those are ``s`` + 16 hex digits)."""


def signal_tokens(k: int) -> list[str]:
    """The ``k`` signal tokens ``<|sp_0|>`` ... ``<|sp_{k-1}|>``, written in order inside ``<SP>...</SP>``."""
    return [f"<|sp_{i}|>" for i in range(k)]


def special_tokens(k: int) -> list[str]:
    """Every token the model adds to its base tokenizer, in a fixed order."""
    return [*ROLES.values(), END, IMAGE, VIDEO, REGION, *signal_tokens(k)]


def signal_mark(n: int) -> str:
    """The placeholder id of the n-th (1-based) signal run."""
    return f"sp{n}"
