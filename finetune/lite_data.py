"""Training requests for LitePlanner, generated from templates with varied wording.

Each ``LiteExample`` is one clause as the planner sees it (text plus three context flags) and what it
should predict: the task (``chat`` = no tool), the edit op, where the region comes from, and character
spans of the text for the target, replacement, colour, style, direction and prompt.

    examples = generate_examples(6000, seed=0)   # every task, op and region source, seeded

A template is a list of parts: plain strings, or ``{field}`` slots filled from the word lists below and
recorded as spans. Typos are added to the plain words only, so the spans stay exact.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

__all__ = ["LiteExample", "generate_examples"]


@dataclass
class LiteExample:
    """``spans``: field -> (start, end) character range of ``text``; flags as in ``planners.lite_model``."""

    text: str
    task: str
    op: str = "none"
    region: str = "none"
    has_box: bool = False
    has_output: bool = False
    on_video: bool = False
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)


_NOUNS = ("cat", "dog", "car", "mug", "cup", "coffee cup", "man", "woman", "person", "child", "tree", "lamp", "boat",
          "bottle", "laptop", "clock", "sign", "chair", "plant", "bicycle", "bird", "horse", "zebra", "table", "phone",
          "bag", "umbrella", "hat", "window", "door", "flower", "vase", "building", "bus", "truck", "plate", "spoon",
          "book", "sofa", "bench", "kite", "cow", "sheep", "rocket", "motorcycle", "face", "guitar", "pizza", "cake",
          "traffic light", "fire hydrant", "teddy bear", "coffee table", "parking meter", "tennis racket", "baseball bat",
          "cell phone", "dining table", "street sign", "ice cream", "water bottle", "sports car", "soccer ball",
          "picture frame", "tool box", "bowl of soup", "stack of books", "box of chocolates", "pair of shoes",
          "fruit basket", "wine bottle", "teacup", "backpack", "skateboard", "surfboard", "giraffe", "elephant",
          "microwave", "toaster", "remote", "keyboard", "mouse", "scissors", "toothbrush", "handbag", "suitcase")
_ADJ = ("", "", "", "red ", "small ", "big ", "white ", "black ", "old ", "blue ", "wooden ", "little ", "tall ")
_DET = ("the ", "the ", "the ", "that ", "this ", "my ", "the ")
_AFTER = ("", "", "", "", " on the left", " on the right", " in the back", " in front", " near the window",
          " on the table", " farthest from you", " in the middle", " next to the door")
_PLURAL = ("the faces", "the people", "all the cars", "those birds", "the dogs", "the cups", "the flowers",
           "all the people", "the two cats", "the trees")
_NEW = ("a dog", "a cat", "a red balloon", "a vase of flowers", "an old bicycle", "a small boat", "a hat", "sunglasses",
        "a rainbow", "a tiger", "some clouds", "a teapot", "a golden retriever", "a potted plant", "a lamp", "a bird",
        "a pumpkin", "a horse", "a robot", "a blue car", "a glass of wine", "a candle", "a tree", "snow", "a moon")
_COLORS = ("red", "blue", "green", "yellow", "orange", "purple", "pink", "black", "white", "gray", "grey", "brown",
           "gold", "silver", "cyan", "magenta", "teal", "navy", "beige", "light blue", "dark green", "dark red")
_STYLES = ("a watercolor painting", "an oil painting", "a cartoon", "a pencil sketch", "black and white", "sepia",
           "anime", "a comic book", "a charcoal drawing", "pop art", "van gogh", "pixel art", "watercolour",
           "an impressionist painting", "grayscale", "a manga drawing", "a vintage photo")
_DIRS = ("left", "right", "up", "down", "top", "bottom", "center", "centre")
_SUBJECTS = ("a cat", "a red fox", "an old man", "two kids", "a robot", "a dragon", "a sailboat", "a lighthouse",
             "a panda", "a vintage car", "a wolf", "a ballerina", "an astronaut", "a bowl of fruit", "a castle",
             "a golden retriever", "a city skyline", "waves", "a hot air balloon", "a tiny house", "three horses",
             "a plate of sushi", "a pile of autumn leaves", "a cup of tea", "a field of sunflowers", "a street market",
             "a knight in armor", "an owl", "a steam train", "a jellyfish", "a mountain lake", "fireflies")
_SCENES = ("sleeping on a sofa", "running through a field", "at sunset", "in the rain", "on the moon",
           "under a starry sky", "in a snowy forest", "walking on the beach", "flying over mountains",
           "eating noodles", "crashing on rocks", "in the style of a watercolor", "wearing a hat", "on a hill at night",
           "next to a pile of books", "at the edge of a cliff", "glowing in the dark", "during a thunderstorm",
           "drifting down a river", "in a bowl of cereal", "on top of a skyscraper", "surrounded by butterflies",
           "", "", "made of glass", "in a cyberpunk city", "riding a horse", "floating in space")
_QUESTIONS = ("what is in this picture?", "what's in the image", "how many {n}s are there?", "describe this image",
              "describe the photo in detail", "what color is the {n}?", "is there a {n} in the image?",
              "caption this photo", "tell me about this picture", "what is the {n} doing?", "who is in this photo?",
              "what does the sign say?", "where was this taken?", "count the {n}s", "what kind of {n} is this",
              "does this image contain a {n}?", "which {n} is bigger?", "why is the {n} there?", "what is happening here",
              "can you tell me what this is?", "what breed is the dog?", "what's the weather like in the photo?")
_CHAT = ("hi", "hello", "hello there", "hey", "thanks", "thank you", "thanks a lot!", "thank you so much", "ok", "okay",
         "cool", "great, thanks", "nice", "good job", "bye", "goodbye", "that's perfect", "awesome", "lol",
         "good morning", "never mind", "sounds good", "perfect, thank you", "wow", "hmm", "yes", "no")
_PREFIX = ("", "", "", "", "please ", "can you ", "could you ", "now ", "ok ", "hey, ", "i'd like you to ",
           "would you ", "next, ", "also ", "and ", "pls ", "then ", "help me ", "i want you to ", "now please ",
           "could you please ", "let's ")
_SUFFIX = ("", "", "", "", " please", " for me", ".", "!", " thanks", ", thank you", " in this image",
           " from the photo", " in the picture", " please.", " asap", " here")
_PRONOUNS = ("it", "it", "that", "this", "them", "the result", "the mask", "the selection", "those")
_BOX = (" in the box", " inside the box", " in the region i drew", " in my box", " within the rectangle",
        " in the selection", " inside the rectangle i drew", " in the marked area", " in the box i drew")
_BOX_WORDS = ("the object in the box", "the thing in the box", "the selected object", "the region", "the selection",
              "what i selected", "the boxed object", "the object i marked", "the area i drew", "the box")

_VERBS = {
    "segment": ("segment", "cut out", "mask out", "mask", "isolate", "extract", "select", "outline", "separate",
                "give me a mask of", "pick out", "make a mask for", "create a segmentation of", "carve out", "cut"),
    "ground": ("find", "detect", "locate", "where is", "show me where", "point out", "spot", "look for", "search for",
               "highlight", "draw a box around", "put a box on", "mark", "can you see", "identify", "ground"),
    "track": ("track", "follow", "keep track of", "trace", "track the movement of", "follow the motion of"),
    "remove": ("remove", "delete", "erase", "get rid of", "take out", "eliminate", "clear", "wipe out", "drop",
               "clean up", "strip out", "erase away"),
}
_GEN_IMAGE = ("generate an image of", "create a picture of", "draw", "paint", "make me a photo of", "i want a picture of",
              "make a picture of", "show me an image of", "imagine", "sketch", "render an image of",
              "produce an illustration of", "give me a picture of", "create an image showing", "draw me",
              "generate a photo of", "make an illustration of", "design an image of", "i'd like an image of",
              "can you make me a picture of", "paint me a picture of", "generate a drawing of")
_GEN_VIDEO = ("generate a video of", "make a short clip of", "create an animation of", "render a video showing",
              "i want a movie of", "make a video of", "produce a clip of", "generate a short video of",
              "create a video where", "film", "make a clip showing", "give me a video of")
_ANIMATE = (["animate this image"], ["animate it"], ["bring this picture to life"], ["make ", "{target}", " move"],
            ["turn this photo into a video"], ["make a video from this image"], ["animate ", "{target}"],
            ["bring ", "{target}", " to life"], ["make this picture move"], ["animate the photo"],
            ["convert this image into a clip"], ["make ", "{target}", " come alive"], ["animate the picture"])


def _target(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return rng.choice(_PLURAL)
    adjectives = "".join(rng.sample(_ADJ, rng.choice((1, 1, 2))))
    return rng.choice(_DET) + adjectives + rng.choice(_NOUNS) + rng.choice(_AFTER)


def _new(rng: random.Random) -> str:
    """A replacement or added thing: a listed one, or an article, zero to two adjectives and a noun."""
    if rng.random() < 0.5:
        return rng.choice(_NEW)
    words = [a.strip() for a in rng.sample(_ADJ, rng.choice((0, 1, 1, 2))) if a.strip()] + [rng.choice(_NOUNS)]
    return ("an " if words[0][0] in "aeiou" else "a ") + " ".join(words)


def _prompt(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_SCENES)}".strip()


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    return rng.choice((word[:i] + word[i + 1:], word[:i] + word[i + 1] + word[i] + word[i + 2:], word[:i] + word[i] + word[i:]))


def _assemble(parts: list[str], fill: dict[str, str], rng: random.Random, typos: float) -> tuple[str, dict]:
    """Join ``parts``; ``{name}`` parts take ``fill[name]`` and are recorded as spans (empty ones skipped)."""
    text, spans = "", {}
    for part in parts:
        slot = re.fullmatch(r"\{(\w+)\}", part)
        if slot:
            value = fill[slot.group(1)]
            if value and slot.group(1) != "skip":
                spans[slot.group(1)] = (len(text), len(text) + len(value))
            text += value
        else:
            text += " ".join(_typo(w, rng) if rng.random() < typos else w for w in part.split(" "))
    return text, spans


def _reference(rng: random.Random, kind: str) -> tuple[list[str], dict[str, str], dict]:
    """The object part of a request: a named target, a target in the user's box, the box itself, or "it"."""
    if kind == "named":
        return ["{target}"], {"target": _target(rng)}, {}
    if kind == "in_box":
        return ["{target}", rng.choice(_BOX)], {"target": _target(rng)}, {"has_box": True, "region": "box"}
    if kind == "box":
        return [rng.choice(_BOX_WORDS + _PRONOUNS)], {}, {"has_box": True, "region": "box"}
    return [rng.choice(_PRONOUNS)], {}, {"has_output": True, "region": "output"}


def _edit(rng: random.Random, op: str, ref: list[str]) -> list[str]:
    new, color, style, d = "{new}", "{color}", "{style}", "{direction}"
    forms = {
        "remove": [[rng.choice(_VERBS["remove"]) + " ", *ref], ["make ", *ref, " disappear"], ["i don't want ", *ref],
                   ["remove ", *ref, " from the picture"], ["can you erase ", *ref, "?"]],
        "replace": [["replace ", *ref, " with ", new], ["swap ", *ref, " for ", new], ["swap ", *ref, " with ", new],
                    ["turn ", *ref, " into ", new], ["change ", *ref, " to ", new], ["substitute ", new, " for ", *ref],
                    ["replace ", *ref, " by ", new], ["put ", new, " instead of ", *ref], ["make ", *ref, " into ", new],
                    ["exchange ", *ref, " for ", new], ["transform ", *ref, " into ", new]],
        "add": [["add ", new], ["add ", new, " to ", *ref], ["put ", new, " on ", *ref], ["insert ", new, " in ", *ref],
                ["place ", new, " next to ", *ref], ["add ", new, " on ", *ref], ["put ", new, " in the picture"],
                ["include ", new], ["draw ", new, " on ", *ref], ["add in ", new]],
        "recolor": [["make ", *ref, " ", color], ["color ", *ref, " ", color], ["recolor ", *ref, " to ", color],
                    ["paint ", *ref, " ", color], ["change the color of ", *ref, " to ", color], ["turn ", *ref, " ", color],
                    ["make ", *ref, " ", color, " too"], ["change ", *ref, " to ", color], ["recolour ", *ref, " ", color],
                    ["i want ", *ref, " in ", color], ["dye ", *ref, " ", color], ["can ", *ref, " be ", color, "?"]],
        "restyle": [["make it look like ", style], ["restyle the image as ", style], ["turn this photo into ", style],
                    ["convert the picture to ", style], ["apply a ", style, " style"], ["make it ", style],
                    ["stylize this as ", style], ["render the image in ", style, " style"], ["make the photo ", style],
                    ["give it a ", style, " look"], ["transform the image into ", style], ["restyle it as ", style]],
        "move": [["move ", *ref, " to the ", d], ["shift ", *ref, " ", d], ["drag ", *ref, " to the ", d],
                 ["push ", *ref, " a bit to the ", d], ["move ", *ref, " ", d], ["slide ", *ref, " over to the ", d],
                 ["put ", *ref, " on the ", d], ["relocate ", *ref, " to the ", d]],
    }
    return rng.choice(forms[op])


def _example(rng: random.Random, task: str, op: str = "none") -> LiteExample:
    fill = {"new": _new(rng), "color": rng.choice(_COLORS), "style": rng.choice(_STYLES),
            "direction": rng.choice(_DIRS), "prompt": _prompt(rng)}
    meta: dict = {}
    if task in ("segment", "track", "edit_image") and op not in ("restyle",):
        kind = rng.choices(("named", "in_box", "box", "it"), (5, 2, 1.5, 2.5))[0]
        if op == "add" and kind in ("box", "it"):
            kind = "named"
        ref, more, meta = _reference(rng, kind)
        fill.update(more)
        parts = [rng.choice(_VERBS[task]) + " ", *ref] if task != "edit_image" else _edit(rng, op, ref)
    elif task == "edit_image":
        parts = _edit(rng, op, [])
    elif task == "ground":
        kind = rng.choices(("named", "in_box"), (5, 1))[0]
        ref, more, meta = _reference(rng, kind)
        fill.update(more)
        parts = [rng.choice(_VERBS["ground"]) + " ", *ref] + (["?"] if rng.random() < 0.2 else [])
    elif task in ("generate_image", "generate_video"):
        parts = [rng.choice(_GEN_IMAGE if task == "generate_image" else _GEN_VIDEO) + " ", "{prompt}"]
    elif task == "animate_image":
        fill["target"] = _target(rng)
        parts = list(rng.choice(_ANIMATE))
    elif task == "answer":
        parts = [rng.choice(_QUESTIONS).replace("{n}", rng.choice(_NOUNS))]
    else:
        parts = [rng.choice(_CHAT)]
    if task not in ("chat", "answer"):
        parts = [rng.choice(_PREFIX), *parts, rng.choice(_SUFFIX)]
    text, spans = _assemble(parts, fill, rng, typos=0.1)
    ex = LiteExample(text=text, task=task, op=op, spans=spans, **meta)
    # context the request did not use: a box drawn anyway, an earlier output, a video
    ex.has_box = ex.has_box or (ex.region == "none" and rng.random() < 0.2 and task not in ("ground",))
    ex.has_output = ex.has_output or rng.random() < 0.3
    ex.on_video = task in ("track",) or (task in ("segment", "edit_image", "answer", "ground") and rng.random() < 0.15)
    if ex.region == "output" and ex.has_box:
        ex.region = "box"  # a box drawn this turn wins over the history
    if ex.region == "none" and ex.has_box and task != "ground" and "target" not in spans and op != "restyle" \
            and task in ("segment", "track", "edit_image"):
        ex.region = "box"
    return ex


_PLAN = [("segment", "none", 6), ("ground", "none", 5), ("track", "none", 3), ("answer", "none", 4), ("chat", "none", 2),
         ("generate_image", "none", 4), ("generate_video", "none", 3), ("animate_image", "none", 3),
         *((("edit_image", op, 3) for op in ("remove", "replace", "add", "recolor", "restyle", "move")))]


def generate_examples(count: int, seed: int = 0) -> list[LiteExample]:
    """``count`` examples in the proportions of ``_PLAN``, each from its own seeded RNG."""
    weights = [w for *_, w in _PLAN]
    out = []
    for i in range(count):
        rng = random.Random(f"lite:{seed}:{i}")
        task, op, _ = _PLAN[i] if i < len(_PLAN) else rng.choices(_PLAN, weights)[0]
        out.append(_example(rng, task, op))
    return out
