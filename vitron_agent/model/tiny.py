"""A tiny random VITRON checkpoint, built offline in about a second: for tests, benchmarks and
fine-tuning smoke runs. It loads through the same ``load_vitron`` path as a real checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["build_tiny_vitron", "TINY_EXPERT_HEADS", "tiny_tokenizer"]

TINY_EXPERT_HEADS: dict[str, list[int]] = {"stable_diffusion": [77, 16], "sam": [4, 32]}
"""Heads matching the tiny test experts: a 16-d CLIP text encoder (SD) and a 32-d SAM prompt encoder."""

_SAMPLES = [
    "Sure, segmenting the cup.",
    "<module>sam</module> <instruction>segment: the cup</instruction> <region>(0.120, 0.040, 0.580, 0.750)</region>",
    "<module>stable_diffusion</module> <instruction>generate_image: a red fox in the snow</instruction> <SP></SP>",
    "<module>auto</module> <instruction>edit_image.remove: the cat</instruction> <input>u0</input> <after>c1</after>",
    "<module>B</module> <instruction>segmentation: zebra farthest from you</instruction>",
    "<args>{\"new\": \"a dog\", \"op\": \"replace\"}</args> | 0, 12 (0.5, 0.5)+; (0.1, 0.9)-",
    "0 1 2 3 4 5 6 7 8 9 0.000 0.125 0.250 0.375 0.500 0.625 0.750 0.875 1.000",
]


def tiny_tokenizer(vocab_size: int) -> Any:
    """A byte-level BPE (any text encodes) trained in-process on the prompts, the built-in experts'
    catalogue lines and the invocation form, so a planning prompt takes few tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from vitron_agent.experts.registry import ExpertRegistry
    from vitron_agent.experts.tool_schema import describe_expert
    from vitron_agent.prompts import load_prompt

    specs = ExpertRegistry.default(entry_points_too=False).specs()
    catalogue = [f"- {name}: {describe_expert(spec)}" for name, spec in specs.items()]
    corpus = [load_prompt("system"), load_prompt("grammar"), *catalogue, *_SAMPLES]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|pad|>"], show_progress=False)
    bpe.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<|pad|>", model_max_length=8192)


def build_tiny_vitron(path: str | Path, *, seed: int = 0, num_signal_tokens: int = 4,
                      expert_heads: dict[str, list[int]] | None = None, vocab_size: int = 1024,
                      text_hidden: int = 64, **options: Any) -> Path:
    """Save a tiny random VITRON (32x32 images -> 16 tokens, a 2-layer 64-d Qwen2-style LM with tied
    embeddings, 4 signal tokens) with its tokenizer to ``path``; returns the folder.

    ``expert_heads``: name -> [tokens, width], default ``TINY_EXPERT_HEADS``. ``options``: other
    ``VitronConfig`` fields (``video_frames``, ``signal_dim``...).
    """
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModel, Qwen2Config, Qwen2ForCausalLM

    from .loading import assemble, save_vitron

    torch.manual_seed(seed)
    tokenizer = tiny_tokenizer(vocab_size)
    tower = CLIPVisionModel(CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                             num_attention_heads=2, image_size=32, patch_size=8))
    lm = Qwen2ForCausalLM(Qwen2Config(
        hidden_size=text_hidden, intermediate_size=2 * text_hidden, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=8192, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=None, eos_token_id=None))
    heads = TINY_EXPERT_HEADS if expert_heads is None else expert_heads
    options = {"video_frames": 4, "signal_dim": 32, "head_width": 32, **options}
    model, processor = assemble(tower, lm, tokenizer, num_signal_tokens=num_signal_tokens, expert_heads=heads,
                                **options)
    return save_vitron(model, processor, path)
