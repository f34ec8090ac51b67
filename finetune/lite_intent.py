"""Train LitePlanner's intent head on the development sets' English requests (CPU, seconds).

    python -m vitron_agent.finetune.lite_intent [--out FILE] [--hold-out NAME ...] [--c 10]

1. read the requests of every development set (``blind_eval.DEV_SETS``: the single requests and the first turn of
   each dialogue, which has no history), English only (the encoder does not read Chinese);
2. label each with ``planners.intent.intent_label`` of its expected calls (``task`` or ``task:op``, ``multi``,
   ``none``);
3. embed them once with the frozen encoder (``planners.intent.intent_features``);
4. fit a softmax regression with an L2 penalty of ``1 / (2 C)`` on the weights (full batch, L-BFGS);
5. save ``weight``, ``bias`` and the labels to ``--out`` (default: the package's shipped
   ``lite_weights/intent.safetensors``).

Sets named with ``--hold-out`` are left out of training and scored after it: how often the head's label is the
expected one (their requests must never have been read to fix the planner for the figure to mean anything).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from vitron_agent.planners.intent import INTENT_FILE, intent_features, intent_label
from vitron_agent.planners.lite_model import CJK, MiniLM

from .blind_eval import DEV_SETS
from .lite_eval import load_rows

__all__ = ["requests_of", "fit", "save_head", "main"]


def requests_of(requests: Path, dialogues: Path) -> list[dict[str, Any]]:
    """The English single requests of a set and the first turns of its dialogues, as rows of ``text``, ``media``,
    ``box`` and ``label``."""
    rows = [{"text": r["text"], "media": tuple(r["media"]), "box": r.get("box") is not None, "expect": r["expect"]}
            for r in load_rows(requests)]
    if dialogues.exists():
        rows += [{"text": d["turns"][0]["text"], "media": tuple(d["media"]), "box": d["turns"][0].get("box") is not None,
                  "expect": d["turns"][0]["expect"]} for d in load_rows(dialogues) if d.get("turns")]
    return [{**row, "label": intent_label([(e["task"], (e.get("args") or {}).get("op")) for e in row["expect"]])}
            for row in rows if not CJK.search(row["text"])]


def fit(features: np.ndarray, labels: list[str], c: float = 10.0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Softmax regression: the summed cross-entropy plus ``||W||^2 / (2 c)`` (the bias is not penalised)."""
    import torch

    names = sorted(set(labels))
    x = torch.from_numpy(features).double()
    y = torch.tensor([names.index(label) for label in labels])
    weight = torch.zeros(x.shape[1], len(names), dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(len(names), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=500, tolerance_grad=1e-9, tolerance_change=1e-12,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weight + bias, y, reduction="sum") + (weight ** 2).sum() / (2 * c)
        loss.backward()
        return loss

    for _ in range(4):
        opt.step(closure)
    return weight.detach().float().numpy(), bias.detach().float().numpy(), names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=INTENT_FILE, help="where to write the head (safetensors)")
    parser.add_argument("--hold-out", nargs="*", default=[], metavar="NAME",
                        help="development sets (e.g. lite_unseen_probe21) to leave out and score")
    parser.add_argument("--c", type=float, default=10.0, help="inverse L2 strength (as scikit-learn's C)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    encoder = MiniLM()
    train: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for requests, dialogues in DEV_SETS:
        name = requests.name.removesuffix(".jsonl")
        (held if name in args.hold_out else train).extend(requests_of(requests, dialogues))

    def features(rows: list[dict[str, Any]]) -> np.ndarray:
        return np.concatenate([intent_features(encoder, [r["text"] for r in rows[i:i + 64]],
                                               [r["media"] for r in rows[i:i + 64]], [r["box"] for r in rows[i:i + 64]])
                               for i in range(0, len(rows), 64)])

    weight, bias, names = fit(features(train), [r["label"] for r in train], args.c)
    print(f"trained on {len(train)} requests, {len(names)} labels, {time.perf_counter() - start:.1f} s")
    if held:
        logits = features(held) @ weight + bias
        right = sum(names[int(i)] == r["label"] for i, r in zip(logits.argmax(1), held, strict=True))
        print(f"held-out sets {', '.join(args.hold_out)}: {right}/{len(held)} = {100 * right / len(held):.1f} %")
    save_head(args.out, weight, bias, names, trained_on=len(train), c=args.c)
    print(f"wrote {args.out}")


def save_head(path: Path, weight: np.ndarray, bias: np.ndarray, labels: list[str], **meta: Any) -> None:
    """The head as ``planners.intent.IntentHead`` reads it: ``weight``, ``bias`` and the labels in the metadata."""
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"weight": np.ascontiguousarray(weight, dtype=np.float32), "bias": np.asarray(bias, dtype=np.float32)},
              str(path), metadata={"labels": json.dumps(labels), **{k: str(v) for k, v in meta.items()}})


if __name__ == "__main__":
    main()
