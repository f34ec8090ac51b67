"""Tiny real training data for the fine-tuning tests, written in the standard layouts the readers take:
scikit-image's photos with hand-measured boxes and hand-written captions, a video (a pan across the
rocket photo) as a frame folder with per-frame boxes, and tiny random expert encoders (a diffusers-style
CLIP text encoder folder, a SAM checkpoint) for the alignment targets."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

CAPTIONS = {
    "astronaut": ["a smiling astronaut in an orange suit", "a woman in a space suit in front of a flag"],
    "coffee": ["a cup of espresso on a red saucer", "coffee in a cup with a spoon"],
    "chelsea": ["a close up of a tabby cat", "a cat with green eyes"],
    "rocket": ["a rocket on the launch pad at dusk", "a rocket between launch towers"],
}
BOXES = {  # (x1, y1, x2, y2) pixels, measured on the photos
    "astronaut": {"the astronaut's face": (150, 15, 300, 190), "the helmet": (275, 340, 500, 512),
                  "the shuttle model": (350, 0, 470, 290)},
    "coffee": {"the cup": (172, 18, 410, 300), "the spoon": (325, 65, 425, 325), "the saucer": (75, 75, 480, 390)},
    "chelsea": {"the cat's left eye": (135, 85, 210, 145), "the cat's nose": (230, 220, 295, 265)},
    "rocket": {"the rocket": (300, 125, 340, 410), "the tower on the left": (0, 0, 90, 427)},
}


def write_photos(folder: Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """scikit-image's photos ``names`` (default: the captioned ones) as PNG files in ``folder``."""
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in CAPTIONS if names is None else names:
        paths[name] = folder / f"{name}.png"
        Image.fromarray(getattr(data, name)()).save(paths[name])
    return paths


def write_coco_captions(folder: Path, photos: dict[str, Path]) -> Path:
    images = [{"id": i, "file_name": photos[name].name} for i, name in enumerate(CAPTIONS)]
    annotations = [{"image_id": i, "caption": text} for i, name in enumerate(CAPTIONS) for text in CAPTIONS[name]]
    path = folder / "captions.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations}))
    return path


def write_referring(folder: Path, photos: dict[str, Path]) -> Path:
    records = []
    for name, boxes in BOXES.items():
        for phrase, (x1, y1, x2, y2) in boxes.items():  # COCO's [x, y, w, h] for half, [x1, y1, x2, y2] for the rest
            box = {"bbox": [x1, y1, x2 - x1, y2 - y1]} if len(records) % 2 else {"box": [x1, y1, x2, y2]}
            records.append({"image": photos[name].name, **box, "sentences": [{"sent": phrase}]})
    path = folder / "refs.json"
    path.write_text(json.dumps(records))
    return path


def write_llava(folder: Path, photos: dict[str, Path]) -> Path:
    records = [
        {"id": "a", "image": photos["coffee"].name, "conversations": [
            {"from": "human", "value": "<image>\nWhat is in the cup?"}, {"from": "gpt", "value": "Espresso."},
            {"from": "human", "value": "Is there a spoon?"}, {"from": "gpt", "value": "Yes, on the saucer."}]},
        {"id": "b", "image": photos["chelsea"].name, "bbox": [230, 220, 295, 265], "conversations": [
            {"from": "human", "value": "What is in the box?<image>"}, {"from": "gpt", "value": "The cat's nose."}]},
    ]
    path = folder / "llava.json"
    path.write_text(json.dumps(records))
    return path


def write_video(folder: Path, frames: int = 12) -> tuple[Path, list[tuple[int, int, int, int]]]:
    """A pan across the (half-size) rocket photo as frame files, ``boxes.json`` with the rocket's box on
    every third frame; returns the folder and every frame's box."""
    from PIL import Image
    from skimage import data

    from .synthetic_media import pan_clip

    video = folder / "rocket_pan"
    video.mkdir(parents=True, exist_ok=True)
    small = np.asarray(Image.fromarray(data.rocket()).resize((320, 214)))
    clip, offsets = pan_clip(small, frames=frames, step=6, size=(200, 214))
    boxes = [(150 - x, 62, 170 - x, 205) for x in offsets]
    for t, frame in enumerate(clip):
        Image.fromarray(frame).save(video / f"{t:05d}.png")
    annotated = {str(t): list(boxes[t]) for t in range(0, frames, 3)}
    (video / "boxes.json").write_text(json.dumps({"objects": [{"name": "the rocket", "boxes": annotated}]}))
    return video, boxes


def write_text_encoder(folder: Path) -> Path:
    """A diffusers-style folder with a tiny random CLIP text encoder (16-d) and its tokenizer."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    from .tiny_models import tiny_clip_tokenizer

    torch.manual_seed(0)
    encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=1, eos_token_id=2, pad_token_id=2, hidden_size=16, intermediate_size=32, num_attention_heads=2,
        num_hidden_layers=2, vocab_size=128, max_position_embeddings=77))
    encoder.save_pretrained(folder / "text_encoder")
    tiny_clip_tokenizer(folder / "tokenizer").save_pretrained(folder / "tokenizer")
    return folder
