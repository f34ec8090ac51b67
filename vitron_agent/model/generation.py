"""Generation for planning: decode a reply, and keep the LM's last-layer states at signal tokens.

The state of a generated token is computed when that token is fed back in, one step later; generate
returns those states (``output_hidden_states``), so no second pass over the sequence is needed.
Only a signal token that ends the output (cut by ``max_new_tokens``) needs one more step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from .modeling import VitronModel

__all__ = ["GenerationSettings", "Generated", "generate"]

MEDIA_INPUTS = ("pixel_values", "video_values", "region_masks", "region_boxes", "region_frames")


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings. Greedy by default; ``do_sample`` uses ``temperature``, ``top_p``, ``top_k``
    (0: off), seeded by ``seed`` when given. Generation ends at ``<|end|>`` (the end of the tags), the
    LM's own end-of-sequence token, any ``stop`` string, or ``max_new_tokens``."""

    max_new_tokens: int = 256
    do_sample: bool = False
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass
class Generated:
    """New token ids (the stop token dropped), whether a stop token or string ended them, and the (n, hidden)
    last-layer states at the n signal tokens among them (``signal_positions``, indices into ``ids``)."""

    ids: list[int]
    finished: bool
    signal_positions: list[int]
    signal_states: torch.Tensor | None


@torch.no_grad()
def generate(model: VitronModel, batch: dict[str, torch.Tensor], settings: GenerationSettings,
             tokenizer: Any = None, streamer: Any = None, constraint: Any = None) -> Generated:
    """Run the LM on ``batch`` (a ``VitronProcessor`` output). ``tokenizer`` is needed for ``stop``
    strings; ``streamer`` gets token ids as they are made (transformers' ``BaseStreamer``);
    ``constraint``: logits processors (transformers ``LogitsProcessor`` or a list) applied at every
    step, e.g. a grammar constraint; they see the generated ids only."""
    from transformers import GenerationConfig

    device = model.device
    batch = {k: v.to(device) for k, v in batch.items()}
    embeds = model.embed(batch["input_ids"], **{k: batch[k] for k in MEDIA_INPUTS if k in batch})
    lm = model.language_model
    stops = [model.config.end_token_id, *_as_list(lm.config.eos_token_id)]
    stops = [s for s in dict.fromkeys(stops) if s is not None]
    config = GenerationConfig(
        max_new_tokens=settings.max_new_tokens, do_sample=settings.do_sample,
        temperature=settings.temperature if settings.do_sample else None,
        top_p=settings.top_p if settings.do_sample else None,
        top_k=(settings.top_k or None) if settings.do_sample else None,
        repetition_penalty=settings.repetition_penalty, eos_token_id=stops, pad_token_id=stops[0],
        output_hidden_states=True, return_dict_in_generate=True, stop_strings=list(settings.stop) or None)
    extra: dict[str, Any] = {"tokenizer": tokenizer} if settings.stop else {}
    if constraint is not None:
        from transformers import LogitsProcessorList

        extra["logits_processor"] = LogitsProcessorList(constraint if isinstance(constraint, list) else [constraint])
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        if settings.seed is not None:
            torch.manual_seed(settings.seed)
        out = lm.generate(inputs_embeds=embeds, attention_mask=batch["attention_mask"], generation_config=config,
                          streamer=streamer, **extra)
    ids = out.sequences[0].tolist()
    finished = bool(ids) and ids[-1] in stops
    if finished:
        ids = ids[:-1]
    elif settings.stop and tokenizer is not None:  # a stop string ended it (and stays in the text)
        finished = tokenizer.decode(ids[-16:]).endswith(tuple(settings.stop))
    signal_set = set(model.config.signal_token_ids or ())
    positions = [j for j, token in enumerate(ids) if token in signal_set]
    if not positions:
        return Generated(ids, finished, [], None)
    states = [_state_after(model, out, ids, j, batch["attention_mask"]) for j in positions]
    return Generated(ids, finished, positions, torch.stack(states))


def _state_after(model: VitronModel, out: Any, ids: list[int], j: int, prompt_mask: torch.Tensor) -> torch.Tensor:
    """Last-layer state of generated token ``j`` (computed at step j + 1; one extra step if it was last)."""
    if j + 1 < len(out.hidden_states):
        return out.hidden_states[j + 1][-1][0, -1]
    lm = model.language_model
    token = torch.tensor([[ids[j]]], device=prompt_mask.device)
    mask = torch.ones(1, prompt_mask.shape[1] + j + 1, dtype=prompt_mask.dtype, device=prompt_mask.device)
    step = lm(inputs_embeds=lm.get_input_embeddings()(token), attention_mask=mask,
              past_key_values=out.past_key_values, output_hidden_states=True)
    return step.hidden_states[-1][0, -1]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]
