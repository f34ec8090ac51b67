"""The invocation-dialogue generator: every recipe once, then recipes drawn at random, each dialogue
from its own seeded RNG (the same seed and count give the same dialogues, in any process).

    dialogues = generate_dialogues(500, seed=0, scenes=scenes_from_referring(records))
    coverage(dialogues)  # {"task:segment": 61, "op:remove": 12, "region:points": 9, "multi_turn": 40, ...}
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence

from .dialogues import Dialogue, Scene
from .recipes import RECIPES, Context

__all__ = ["SIGNAL_MODULES", "generate_dialogues", "coverage"]

SIGNAL_MODULES = ("sam", "stable_diffusion", "text_to_video", "gligen")
"""Experts whose invocations carry signal tokens by default: those with a VITRON projection head."""


def generate_dialogues(count: int, seed: int = 0, scenes: Iterable[Scene] = (),
                       signal_modules: Sequence[str] = SIGNAL_MODULES,
                       recipes: Sequence[str] | None = None) -> list[Dialogue]:
    """``count`` dialogues. ``scenes``: user images and videos with known objects (without them,
    media of common sizes and invented boxes); ``recipes``: names from ``RECIPES`` (default all).
    With ``count >= len(recipes)`` every recipe appears at least once."""
    names = list(recipes) if recipes is not None else list(RECIPES)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        raise ValueError(f"unknown recipes {unknown}; known: {', '.join(RECIPES)}")
    pool = list(scenes)
    images = [s for s in pool if s.medium.kind == "image"]
    videos = [s for s in pool if s.medium.kind == "video"]
    out = []
    for i in range(count):
        rng = random.Random(f"{seed}:{i}")
        name = names[i] if i < len(names) else rng.choice(names)
        out.append(RECIPES[name](Context(rng, images, videos, tuple(signal_modules))))
    return out


def coverage(dialogues: Iterable[Dialogue]) -> Counter[str]:
    """How many dialogues carry each tag (task, op, region form, ``multi_turn``, ``no_tool``...)."""
    return Counter(tag for d in dialogues for tag in d.tags)
