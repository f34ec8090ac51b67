"""What a whole English request asks for, read from its meaning: one task (with its edit op), several actions, or
none.

Why: LitePlanner's rules split and rewrite a request clause by clause, and fresh wordings keep finding sentence
shapes they lack ("what breed is the dog sitting next to the kayak" is a question, not a location; "I lost my
sunglasses on this blanket. Can you find them?" is a location, not a question). A softmax classifier over the
sentence embedding of the whole request (the mean of MiniLM's last-layer token states, normalised, as
sentence-transformers pools all-MiniLM-L6-v2) and four media flags reads the intent from what the sentence means
rather than from the words a rule names. It is trained on requests written by people who never saw the templates
(``python -m vitron_agent.finetune.lite_intent``), and LitePlanner follows it only where it is sure and the
rules' plan disagrees.

The encoder reads CJK characters as unknown tokens, so Chinese requests are not read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .lite_model import CJK, WEIGHTS_DIR

__all__ = ["INTENT_FILE", "MULTI", "NONE", "Intent", "IntentHead", "intent_label", "intent_features"]

INTENT_FILE = WEIGHTS_DIR / "intent.safetensors"
"""The shipped classifier: ``weight`` (features x labels), ``bias`` and the labels in its metadata."""
MULTI = "multi"
"""The label of a request with several actions (planned by the rules' split, never by this head)."""
NONE = "none"
"""The label of a request that calls no expert."""


@dataclass(frozen=True)
class Intent:
    """The head's reading: ``label`` is ``task`` or ``task:op`` (``MULTI``, ``NONE``), ``p`` its probability."""

    label: str
    p: float

    @property
    def task(self) -> str:
        return self.label.split(":")[0]

    @property
    def op(self) -> str | None:
        return self.label.split(":")[1] if ":" in self.label else None


def intent_label(tasks: list[tuple[str, str | None]]) -> str:
    """The label of a plan or an expectation given as (task, op) pairs."""
    if not tasks:
        return NONE
    if len(tasks) > 1:
        return MULTI
    task, op = tasks[0]
    return f"{task}:{op}" if op else task


def intent_features(encoder: Any, texts: list[str], media: list[tuple[str, ...]], drawn: list[bool]) -> np.ndarray:
    """(N, 384 + 4) features: the normalised mean of the last layer's token states, then whether a video, an image,
    no medium at all, and a drawn box come with the request."""
    encoded = encoder.encode(list(texts))
    mask = encoded.mask[..., None].astype(np.float32)
    pooled = (encoded.states * mask).sum(1) / np.maximum(mask.sum(1), 1.0)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    flags = np.array([["video" in kinds, "image" in kinds, not kinds, box] for kinds, box in zip(media, drawn,
                                                                                                   strict=True)],
                     dtype=np.float32)
    return np.concatenate([pooled.astype(np.float32), flags], axis=1)


class IntentHead:
    """The trained classifier, run in numpy."""

    def __init__(self, path: str | Path = INTENT_FILE) -> None:
        from safetensors import safe_open

        with safe_open(str(path), framework="np") as f:
            self.weight = f.get_tensor("weight")
            self.bias = f.get_tensor("bias")
            self.labels: tuple[str, ...] = tuple(json.loads((f.metadata() or {})["labels"]))
        if self.weight.shape != (384 + 4, len(self.labels)):
            raise ValueError(f"{path}: weight {self.weight.shape} does not fit {len(self.labels)} labels")

    def read(self, encoder: Any, text: str, media: tuple[str, ...], drawn: bool) -> Intent | None:
        """The most likely label of ``text``, or None for a Chinese request."""
        if CJK.search(text):
            return None
        logits = intent_features(encoder, [text], [media], [drawn])[0] @ self.weight + self.bias
        p = np.exp(logits - logits.max())
        p /= p.sum()
        best = int(p.argmax())
        return Intent(self.labels[best], float(p[best]))
