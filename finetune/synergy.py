"""Stage 5, cross-task synergy: the signal features split into task-specific ``v_p`` and task-invariant
``v_s``; a task discriminator reads ``v_s`` through a gradient-reversal layer and learns to tell the
task, while the reversed gradient teaches the invariant head to hide it; the experts' losses (NLL and
decoder alignment, as in stage 3) use ``[v_p; v_s]``: the loss is ``sum_k L_k + L_syn``. The log shows
the discriminator's accuracy beside ``chance`` (the majority task's share of the data).

    python -m vitron_agent.finetune.synergy --config finetune/configs/synergy.yaml
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vitron_agent.errors import BadInputError

from .cli import stage_main
from .decoder_align import DecoderAlignConfig

if TYPE_CHECKING:
    from .trainer import Callback, TrainResult

__all__ = ["SynergyConfig", "CONFIG", "run", "main"]


@dataclass
class SynergyConfig(DecoderAlignConfig):
    """Stage 3's data and encoders (two tasks at least), plus: ``adversarial_weight`` (of the
    discriminator's loss), ``reversal_peak`` (the reversed gradient's final scale; DANN's ramp from 0
    after ``discriminator_warmup`` steps in which the discriminator learns alone), the discriminator's
    ``discriminator_width`` and ``discriminator_lr`` (0: ``lr``). ``probe_examples`` > 0: before and after
    training, a fresh linear probe reads the task from ``v_s`` and from ``v_p`` of that many examples
    (held-out half scored), written to ``probe.json``: a second opinion on invariance that does not
    depend on the discriminator's own state."""

    adversarial_weight: float = 1.0
    reversal_peak: float = 1.0
    discriminator_warmup: int = 0
    discriminator_width: int = 64
    discriminator_lr: float = 0.0
    probe_examples: int = 0
    output_dir: str = "runs/synergy"


CONFIG = SynergyConfig


def run(config: SynergyConfig, callbacks: Sequence[Callback] = ()) -> TrainResult:
    from .adversarial import SynergyObjective
    from .decoder_align import aligned_model, signal_examples
    from .stage import run_stage

    model, processor = aligned_model(config)
    data = signal_examples(config, processor.num_signal_tokens, model.config.expert_heads)
    counts = Counter(t.task for ex in data for t in ex.signals)
    if len(counts) < 2:
        raise BadInputError(f"cross-task synergy needs signals of two tasks at least; the data has {dict(counts)}")
    tasks = sorted(counts)
    objective = SynergyObjective(model, list(config.encoders), tasks, max(counts.values()) / sum(counts.values()),
                                 config.nll_weight, config.adversarial_weight, config.reversal_peak,
                                 config.discriminator_warmup, config.discriminator_width)
    rest = [p for name, p in objective.named_parameters() if p.requires_grad and not name.startswith("discriminator.")]
    groups = [{"params": rest}, {"params": list(objective.discriminator.parameters()),
                                 "lr": config.discriminator_lr or config.lr}]
    before = _probe(model, processor, data, tasks, config) if config.probe_examples else None
    result = run_stage(config, model, processor, objective, data, callbacks, tasks, groups)
    if before is not None:
        probe = {"chance": objective.chance, "before": before, "after": _probe(model, processor, data, tasks, config)}
        (Path(config.output_dir) / "probe.json").write_text(json.dumps(probe, indent=2))
        result.extra["probe"] = probe
    return result


def _probe(model: Any, processor: Any, data: list[Any], tasks: list[str], config: SynergyConfig) -> dict[str, float]:
    """Held-out accuracy of fresh linear probes on ``v_s`` and ``v_p`` of the first ``probe_examples``."""
    from .adversarial import collect_signals, probe_accuracy
    from .batching import Collator, ExampleDataset

    dataset = ExampleDataset(data[: config.probe_examples], processor, config.max_length)
    collate = Collator(processor.tokenizer.pad_token_id, processor.video_frames, tasks)
    batches = (collate([dataset[i] for i in range(s, min(s + config.batch_size, len(dataset)))])
               for s in range(0, len(dataset), config.batch_size))
    found = collect_signals(model, batches, tasks)
    return {part: probe_accuracy(found[part], found["task"], seed=config.seed) for part in ("invariant", "specific")}


def main(argv: Sequence[str] | None = None) -> int:
    return stage_main("synergy", argv)


if __name__ == "__main__":
    raise SystemExit(main())
