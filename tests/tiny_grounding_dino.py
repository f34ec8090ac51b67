"""Tiny random Grounding DINO and MM-Grounding-DINO detectors with their real processor, built offline.

The tokenizer is a real ``BertTokenizer`` over a small vocabulary written here. Grounding DINO reads BERT's ids
of ``[CLS]`` (101), ``[SEP]`` (102), ``.`` (1012) and ``?`` (1029) as the phrase delimiters (hard-coded in
transformers), so the vocabulary keeps those ids and fills the gaps with ``[unused]`` tokens.
"""

from __future__ import annotations

import string
from pathlib import Path

__all__ = ["tiny_bert_tokenizer", "tiny_grounding_dino"]

WORDS = ("the", "a", "cat", "cats", "dog", "remote", "control", "spoon", "red", "car", "person", "face", "cup")
VOCAB_SIZE = 1040


def tiny_bert_tokenizer():
    """A lower-casing WordPiece ``BertTokenizer`` with BERT's special and delimiter ids; any word splits into letters."""
    from transformers import BertTokenizer

    fixed = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103, ".": 1012, "?": 1029}
    pieces = [*WORDS, *string.ascii_lowercase, *(f"##{c}" for c in string.ascii_lowercase), ",", "!"]
    vocab: dict[str, int] = dict(fixed)
    free = (i for i in range(VOCAB_SIZE) if i not in fixed.values())
    for piece in pieces:
        vocab[piece] = next(free)
    for i in free:
        vocab[f"[unused{i}]"] = i
    return BertTokenizer(vocab=vocab, do_lower_case=True)


def tiny_grounding_dino(folder: Path, seed: int = 0, mm: bool = False) -> Path:
    """Save a tiny random detector (Swin backbone, 1-layer BERT, 1 encoder and 2 decoder layers, d_model 32,
    20 queries) and its ``GroundingDinoProcessor`` (images resized to a 64-96 px side) to ``folder``.

    ``mm``: an MM-Grounding-DINO (``MMGroundingDinoForObjectDetection``, model type ``mm-grounding-dino``) instead.
    """
    import torch
    from transformers import (
        BertConfig,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
        MMGroundingDinoConfig,
        MMGroundingDinoForObjectDetection,
        SwinConfig,
    )

    torch.manual_seed(seed)
    backbone = SwinConfig(image_size=64, patch_size=4, embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2],
                          window_size=2, out_indices=[2, 3, 4])
    text = BertConfig(vocab_size=VOCAB_SIZE, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=64)
    sizes = dict(backbone_config=backbone, text_config=text, d_model=32, num_queries=20, encoder_layers=1,
                 decoder_layers=2, encoder_ffn_dim=32, decoder_ffn_dim=32, encoder_attention_heads=2,
                 decoder_attention_heads=2, encoder_n_points=2, decoder_n_points=2, max_text_len=32)
    if mm:
        model = MMGroundingDinoForObjectDetection(MMGroundingDinoConfig(**sizes)).eval()
    else:
        model = GroundingDinoForObjectDetection(GroundingDinoConfig(**sizes)).eval()
    image_processor = GroundingDinoImageProcessor(size={"shortest_edge": 64, "longest_edge": 96})
    processor = GroundingDinoProcessor(image_processor=image_processor, tokenizer=tiny_bert_tokenizer())
    model.save_pretrained(folder, safe_serialization=True)
    processor.save_pretrained(folder)
    return folder
