"""Train LitePlanner's heads on generated requests, the encoder frozen (CPU, a few minutes).

    python -m vitron_agent.finetune.lite --out vitron_agent/planners/lite_weights

1. generate requests from templates (``lite_data``), every task, edit op and region source, and add the
   development sets' clauses (``lite_dev_data``: requests written by people, labelled by their expectations);
2. encode them once with the frozen all-MiniLM-L6-v2 encoder (``planners.lite_model.MiniLM``; the states
   are kept in memory);
3. label each token with its BIO tag from the example's character spans;
4. train the heads (task, op, region source, tags) with AdamW, 10 % of the requests held out;
5. save ``heads.safetensors`` and ``config.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from vitron_agent.planners.lite_model import (
    CHAR_BUCKETS,
    N_FLAGS,
    OP_LABELS,
    REGION_LABELS,
    TAGS,
    TASK_LABELS,
    UNSEEN_CHAR,
    WEIGHTS_DIR,
    MiniLM,
    flags,
)

from .lite_data import generate_examples

__all__ = ["LAYERS", "LiteHeads", "token_tags", "feature_tensors", "train", "main"]

LAYERS = (3, 4, 5, 6)
"""The encoder layers whose outputs the heads read, side by side."""


class LiteHeads(nn.Module):
    """The trainable heads; ``planners.lite_model.heads_forward`` is the same maths in numpy for inference."""

    def __init__(self, layers: tuple[int, ...] = LAYERS, width: int = 256, tagger: int = 96, char_dim: int = 32) -> None:
        super().__init__()
        hidden = 384 * len(layers)
        self.config = {"layers": list(layers), "width": width, "tagger": tagger, "char_dim": char_dim,
                       "char_buckets": CHAR_BUCKETS}
        self.chars = nn.Embedding(CHAR_BUCKETS, char_dim, padding_idx=0)
        self.register_buffer("seen", torch.zeros(CHAR_BUCKETS, dtype=torch.uint8))
        self.trunk = nn.Sequential(nn.Linear(hidden + char_dim + N_FLAGS, width), nn.GELU(), nn.Dropout(0.1))
        self.task = nn.Linear(width, len(TASK_LABELS))
        self.op = nn.Linear(width, len(OP_LABELS))
        self.region = nn.Linear(width, len(REGION_LABELS))
        self.gru = nn.GRU(hidden + char_dim + N_FLAGS + width, tagger, batch_first=True, bidirectional=True)
        self.tags = nn.Linear(2 * tagger, len(TAGS))

    def forward(self, states: torch.Tensor, mask: torch.Tensor, chars: torch.Tensor,
                flags: torch.Tensor) -> dict[str, torch.Tensor]:
        m = mask.unsqueeze(-1).float()
        chars = torch.where((chars == 0) | (self.seen[chars] > 0), chars, UNSEEN_CHAR)
        per_char = self.chars(chars)
        count = m.sum(1).clamp(min=1.0)
        pooled = torch.cat([(states * m).sum(1) / count, (per_char * m).sum(1) / count, flags], -1)
        h = self.trunk(pooled)
        length = states.shape[1]
        per_token = torch.cat([states, per_char, flags[:, None].expand(-1, length, -1),
                               h[:, None].expand(-1, length, -1)], -1) * m
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(per_token, lengths, batch_first=True, enforce_sorted=False)
        tagged, _ = nn.utils.rnn.pad_packed_sequence(self.gru(packed)[0], batch_first=True, total_length=length)
        return {"task": self.task(h), "op": self.op(h), "region": self.region(h), "tags": self.tags(tagged)}

    def save(self, folder: str | Path, **meta) -> None:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        half = {k: (v.half() if v.is_floating_point() else v).detach().contiguous() for k, v in self.state_dict().items()}
        save_file(half, str(folder / "heads.safetensors"))  # float16 on disk: half the size, same predictions
        config = {**self.config, "tasks": TASK_LABELS, "ops": OP_LABELS, "regions": REGION_LABELS, "tags": TAGS,
                  **meta}
        (folder / "config.json").write_text(json.dumps(config, indent=1))


def token_tags(spans: dict[str, tuple[int, int]], offsets: list[tuple[int, int]]) -> list[int]:
    """Tag ids (``TAGS``) per token from character spans; -100 (ignored) for special and padding tokens."""

    out, started = [], set()
    for a, b in offsets:
        if b <= a:
            out.append(-100)
            continue
        name = next((f for f, (s, e) in spans.items() if a >= s and b <= e), None)
        if name is None:
            out.append(0)
            continue
        out.append(TAGS.index(("I-" if name in started else "B-") + name))
        started.add(name)
    return out


def feature_tensors(examples: list, encoder, batch: int = 128, layers: tuple[int, ...] = LAYERS) -> dict:
    """Token states, masks, flags and labels of ``examples``, padded to one length."""
    states, masks, chars, tags = [], [], [], []
    for i in range(0, len(examples), batch):
        chunk = examples[i:i + batch]
        enc = encoder.encode([e.text for e in chunk], layers)
        states += list(torch.from_numpy(enc.states))
        masks += list(torch.from_numpy(enc.mask))
        chars += list(torch.from_numpy(enc.chars))
        tags += [torch.tensor(token_tags(e.spans, off) if e.tagged else [-100] * len(off))
                 for e, off in zip(chunk, enc.offsets, strict=True)]
    pad = torch.nn.utils.rnn.pad_sequence
    return {
        "states": pad(states, batch_first=True), "mask": pad(masks, batch_first=True),
        "chars": pad(chars, batch_first=True),
        "tags": pad(tags, batch_first=True, padding_value=-100),
        "flags": torch.tensor([flags(e.has_box, e.has_output, e.on_video) for e in examples]),
        "task": torch.tensor([TASK_LABELS.index(e.task) for e in examples]),
        "op": torch.tensor([OP_LABELS.index(e.op) for e in examples]),
        "region": torch.tensor([REGION_LABELS.index(e.region) for e in examples]),
    }


def _accuracy(heads: LiteHeads, data: dict) -> dict[str, float]:
    with torch.no_grad():
        out = heads(data["states"], data["mask"], data["chars"], data["flags"])
    acc = {k: float((out[k].argmax(-1) == data[k]).float().mean()) for k in ("task", "op", "region")}
    tagged = data["tags"] != -100
    right = ((out["tags"].argmax(-1) == data["tags"]) | ~tagged).all(1)
    acc["tags (whole request)"] = float(right.float().mean())
    return acc


def train(out: Path, examples: int = 12000, epochs: int = 25, batch: int = 64, lr: float = 2e-3, seed: int = 0,
          char_dropout: float = 0.15, dev_sets: tuple[tuple[Path, Path], ...] = (), dev_repeat: int = 2) -> dict:
    """Train and save the heads; returns held-out accuracies and the seconds taken. ``char_dropout``: the
    share of CJK characters shown as ``UNSEEN_CHAR`` in training, so that unseen ones read as such;
    ``dev_sets``: (requests, dialogues) files whose clauses (``lite_dev_data``) join the training requests,
    each ``dev_repeat`` times (the held-out tenth stays template requests)."""
    from .lite_dev_data import dev_examples

    start = time.time()
    torch.manual_seed(seed)
    encoder = MiniLM()
    generated = generate_examples(examples, seed=seed)
    n_eval = len(generated) // 10
    written = dev_examples(dev_sets) * dev_repeat
    data = feature_tensors(generated + written, encoder)
    held = {k: v[:n_eval] for k, v in data.items()}
    train_set = {k: v[n_eval:] for k, v in data.items()}
    print(f"encoded {examples} requests and {len(written)} written clauses in {time.time() - start:.0f}s; "
          f"training on {len(train_set['task'])}")
    heads = LiteHeads()
    heads.seen[train_set["chars"].unique()] = 1  # the buckets the training requests use
    opt = torch.optim.AdamW(heads.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(train_set["task"]) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    for epoch in range(epochs):
        heads.train()
        order, total = torch.randperm(len(train_set["task"])), 0.0
        for i in range(0, len(order), batch):
            b = {k: v[order[i:i + batch]] for k, v in train_set.items()}
            dropped = (b["chars"] > UNSEEN_CHAR) & (torch.rand(b["chars"].shape) < char_dropout)
            b["chars"] = torch.where(dropped, UNSEEN_CHAR, b["chars"])
            o = heads(b["states"], b["mask"], b["chars"], b["flags"])
            loss = sum(F.cross_entropy(o[k], b[k]) for k in ("task", "op", "region"))
            loss = loss + F.cross_entropy(o["tags"].flatten(0, 1), b["tags"].flatten(), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b["task"])
        heads.eval()
        if epoch % 5 == 4 or epoch == epochs - 1:
            acc = _accuracy(heads, held)
            print(f"epoch {epoch + 1}: loss {total / len(order):.4f}; held out: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()))
    seconds = time.time() - start
    heads.save(out, trained_on=examples, written_clauses=len(written) // max(dev_repeat, 1), dev_repeat=dev_repeat,
               epochs=epochs, seed=seed, held_out=acc, seconds=round(seconds))
    print(f"saved to {out} after {seconds:.0f}s")
    return {**acc, "seconds": seconds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="folder for heads.safetensors and config.json "
                        "(default: the package's shipped weights)")
    data = parser.add_argument_group("data")
    data.add_argument("--examples", type=int, default=12000, help="generated requests (10%% held out)")
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--no-dev", action="store_true", help="train on the template requests alone")
    data.add_argument("--hold-out", nargs="*", default=[], metavar="NAME",
                      help="development sets (file stems, e.g. lite_unseen_probe29) left out of training")
    data.add_argument("--dev-repeat", type=int, default=2, help="times each written clause is shown per epoch")
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--epochs", type=int, default=25)
    optim.add_argument("--batch", type=int, default=64)
    optim.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args(argv)
    from .blind_eval import DEV_SETS

    dev = () if args.no_dev else tuple(pair for pair in DEV_SETS if pair[0].stem not in args.hold_out)
    train(args.out, args.examples, args.epochs, args.batch, args.lr, args.seed, dev_sets=dev, dev_repeat=args.dev_repeat)


if __name__ == "__main__":
    main()
