"""Training requests for LitePlanner, generated from templates with varied wording.

Each ``LiteExample`` is one clause as the planner sees it (text plus three context flags) and what it
should predict: the task (``chat`` = no tool), the edit op, where the region comes from, and character
spans of the text for the target, replacement, colour, style, direction and prompt.

    examples = generate_examples(6000, seed=0)   # every task, op and region source, seeded

A template is a list of parts: plain strings, or ``{field}`` slots filled from the word lists below and
recorded as spans. Typos go into the plain words and, more rarely, into object phrases; spans are recorded after them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from vitron_agent.planners.lite_model import CJK

__all__ = ["LiteExample", "generate_examples", "assemble_request"]


@dataclass
class LiteExample:
    """``spans``: field -> (start, end) character range of ``text``; flags as in ``planners.lite_model``;
    ``tagged``: whether ``spans`` are all the phrases there are (else the clause trains no tags)."""

    text: str
    task: str
    op: str = "none"
    region: str = "none"
    has_box: bool = False
    has_output: bool = False
    on_video: bool = False
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    tagged: bool = True


_NOUNS = ("cat", "dog", "car", "mug", "cup", "coffee cup", "man", "woman", "person", "child", "tree", "lamp", "boat",
          "bottle", "laptop", "clock", "sign", "chair", "plant", "bicycle", "bird", "horse", "zebra", "table", "phone",
          "bag", "umbrella", "hat", "window", "door", "flower", "vase", "building", "bus", "truck", "plate", "spoon",
          "book", "sofa", "bench", "kite", "cow", "sheep", "rocket", "motorcycle", "face", "guitar", "pizza", "cake",
          "traffic light", "fire hydrant", "teddy bear", "coffee table", "parking meter", "tennis racket", "baseball bat",
          "cell phone", "dining table", "street sign", "ice cream", "water bottle", "sports car", "soccer ball",
          "picture frame", "tool box", "bowl of soup", "stack of books", "box of chocolates", "pair of shoes",
          "fruit basket", "wine bottle", "teacup", "backpack", "skateboard", "surfboard", "giraffe", "elephant",
          "microwave", "toaster", "remote", "keyboard", "mouse", "scissors", "toothbrush", "handbag", "suitcase",
          "stop sign", "pizza slice", "golden retriever", "drone", "photobomber", "watermark", "sky", "waterfall",
          "jacket", "shirt", "lady", "guy", "girl", "boy", "kid", "baby", "puppy", "kitten", "tent", "statue",
          "fountain", "bridge", "lighthouse", "mountain", "river", "road", "fence", "balloon", "candle", "pillow",
          "blanket", "painting", "poster", "mirror", "license plate", "helmet", "player", "goalkeeper", "cyclist",
          "skier", "surfer", "flag", "clouds", "sun", "logo", "power lines", "trash can", "shopping cart", "coffee mug",
          "laptop screen", "dress", "scarf", "shoe", "glasses", "sunglasses", "necklace", "tie", "car door", "wheel",
          "swan", "duck", "frog", "butterfly", "squirrel", "deer", "fox", "bear", "lion", "monkey", "airplane", "train",
          "van", "taxi", "scooter", "tractor", "ladder", "bucket", "lantern", "barrel", "crate", "trophy", "drum")
_ADJ = ("", "", "", "red ", "small ", "big ", "white ", "black ", "old ", "blue ", "wooden ", "little ", "tall ")
_DET = ("the ", "the ", "the ", "that ", "this ", "my ", "the ", "a ", "any ", "the ")
_AFTER = ("", "", "", "", "", "", " on the left", " on the right", " in the back", " in front", " near the window",
          " on the table", " farthest from you", " in the middle", " next to the door", " lying on the couch",
          " wearing a helmet", " wearing helmets", " with the red hat", " on the right side of the field",
          " across the street", " closest to the camera", " behind the fence", " by the window", " on the swing",
          " in the yellow raincoat", " in the blue shirt", " holding the umbrella", " next to the car",
          " at the bottom", " in the corner", " on the shelf", " under the tree", " on the far left",
          " in the foreground", " in the background", " sitting on the bench", " with the long hair")
_PLURAL = ("the faces", "the people", "all the cars", "those birds", "the dogs", "the cups", "the flowers",
           "all the people", "the two cats", "the trees")
_NEW = ("a hot air balloon", "a fire truck", "a palm tree", "a street lamp", "a park bench", "a snowman",
        "a teddy bear", "a traffic cone", "a cup of coffee", "an orange", "a lemon", "an apple", "a peach", "a sunflower", "a rose", "a penguin", "a dog", "a cat", "a red balloon", "a vase of flowers", "an old bicycle", "a small boat", "a hat", "sunglasses",
        "a rainbow", "a tiger", "some clouds", "a teapot", "a golden retriever", "a potted plant", "a lamp", "a bird",
        "a pumpkin", "a horse", "a robot", "a blue car", "a glass of wine", "a candle", "a tree", "snow", "a moon")
_COLORS = ("red", "blue", "green", "yellow", "orange", "purple", "pink", "black", "white", "gray", "grey", "brown",
           "gold", "silver", "cyan", "magenta", "teal", "navy", "beige", "light blue", "dark green", "dark red",
           "navy blue", "sky blue", "hot pink", "bright yellow", "pale green", "deep purple", "forest green",
           "baby blue", "bright red", "olive green", "lime green", "dark blue", "light grey", "maroon", "turquoise")
_STYLES = ("a watercolor painting", "an oil painting", "a cartoon", "a pencil sketch", "black and white", "sepia",
           "anime", "a comic book", "a charcoal drawing", "pop art", "van gogh", "pixel art", "watercolour",
           "an impressionist painting", "grayscale", "a manga drawing", "a vintage photo", "cyberpunk", "retro",
           "film noir", "vaporwave", "oil painting", "a pastel drawing", "ukiyo-e", "a stained glass window",
           "claymation", "a 1920s photograph", "low poly", "neon")
_DIRS = ("left", "right", "up", "down", "top", "bottom")
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
           "", "", "made of glass", "in a cyberpunk city", "riding a horse", "floating in space", "flying", "spinning",
           "dancing", "falling", "melting", "sleeping on a pile of gold", "wearing a tiny crown", "sharing an umbrella")
_QUESTIONS = ("what is in this picture?", "what's in the image", "how many {n}s are there?", "describe this image",
              "describe the photo in detail", "what color is the {n}?", "is there a {n} in the image?",
              "caption this photo", "tell me about this picture", "what is the {n} doing?", "who is in this photo?",
              "what does the sign say?", "where was this taken?", "count the {n}s", "what kind of {n} is this",
              "does this image contain a {n}?", "which {n} is bigger?", "why is the {n} there?", "what is happening here",
              "can you tell me what this is?", "what breed is the dog?", "what's the weather like in the photo?",
              "give me a caption for this photo", "what's going on here?", "summarize the video",
              "what happens in this clip?", "how many people are in the picture", "is it day or night?",
              "what is the {n} made of?", "read the text in the image", "explain this picture",
              "write a short description of this image", "any {n}s here?", "what's the {n} next to?")
_BOX_QUESTIONS = ("what is in the box?", "what is this thing i boxed?", "what kind of {n} is in the marked area?",
                  "tell me about the object in the box", "what's inside my rectangle?", "what is the thing i marked?",
                  "what color is the object in the box?", "is the thing in the box a {n}?", "what's this?",
                  "can you tell me what is in the region i drew", "describe what i selected", "what brand is this one?")
_IT_QUESTIONS = ("what color is it?", "what brand is that?", "what is it made of?", "how big is it?", "what is that?",
                 "is it a {n}?", "wat color is it", "what kind of {n} is that", "describe it", "how old is it?")
_CHAT = ("hi", "hello", "hello there", "hey", "thanks", "thank you", "thanks a lot!", "thank you so much", "ok", "okay",
         "cool", "great, thanks", "nice", "good job", "bye", "goodbye", "that's perfect", "awesome", "lol",
         "good morning", "never mind", "sounds good", "perfect, thank you", "wow", "hmm", "yes", "no")
_PREFIX = ("", "", "", "", "please ", "can you ", "could you ", "would you mind ", "do you mind ", "is it possible to ",
           "could you kindly ", "can u ", "could u ", "now ", "ok ", "hey, ", "i'd like you to ",
           "would you ", "next, ", "also ", "and ", "pls ", "then ", "help me ", "i want you to ", "now please ",
           "could you please ", "let's ")
_SUFFIX = ("", "", "", "", " please", " for me", ".", "!", " thanks", ", thank you", " in this image",
           " from the photo", " in the picture", " please.", " asap", " here")
_PRONOUNS = ("it", "it", "that", "this", "them", "the result", "the mask", "the selection", "those", "him", "her",
             "that one", "this one", "the thing", "the segmented object", "what you found", "the same object")
_BOX = (" in the box", " inside the box", " in the region i drew", " in my box", " within the rectangle",
        " in the selection", " inside the rectangle i drew", " in the marked area", " in the box i drew")
_BOX_WORDS = ("the object in the box", "the thing in the box", "the selected object", "the region", "the selection",
              "what i selected", "the boxed object", "the object i marked", "the area i drew", "the box",
              "whatever is inside the box", "whatever is in the box", "the thing i marked", "the thing i boxed",
              "what's in the rectangle", "this region", "the marked area", "the stuff in my box",
              "whatever's in the box", "whatever's inside the box", "whatever's in my rectangle")

_VERBS = {
    "segment": ("segment", "cut out", "mask out", "mask", "isolate", "extract", "select", "outline", "separate",
                "give me a mask of", "pick out", "make a mask for", "create a segmentation of", "carve out", "cut",
                "give me the outline of", "i need a mask of", "i need a clean mask around", "trace the outline of",
                "get a mask for", "segment out", "produce a mask of", "make a cutout of", "separate out",
                "draw the contour of", "get me a cutout of", "can i get a mask of", "give me a segmentation mask of",
                "i need a mask for", "need a mask for", "segment out", "make a segmentation mask for", "cut around"),
    "ground": ("find", "detect", "locate", "where is", "show me where", "point out", "spot", "look for", "search for",
               "highlight", "draw a box around", "put a box on", "mark", "can you see", "identify", "ground",
               "where's", "show me", "put boxes around", "draw boxes around", "box", "circle", "tell me where",
               "find all", "detect every", "locate all", "where are", "find me", "where can i see",
               "put a bounding box on", "draw a bounding box around", "put boxes on", "where is", "where's",
               "can you find", "please locate", "show where"),
    "track": ("track", "follow", "keep track of", "trace", "track the movement of", "follow the motion of",
              "keep an eye on", "keep following", "stay on", "track down", "trace the path of", "follow along with",
              "lock onto", "keep tracking", "keep following", "follow the path of", "watch"),
    "remove": ("remove", "delete", "erase", "get rid of", "take out", "eliminate", "clear", "wipe out", "drop",
               "clean up", "strip out", "erase away"),
}
_GEN_IMAGE = ("generate an image of", "create a picture of", "draw", "paint", "make me a photo of", "i want a picture of",
              "make a picture of", "show me an image of", "imagine", "sketch", "render an image of",
              "produce an illustration of", "give me a picture of", "create an image showing", "draw me",
              "generate a photo of", "make an illustration of", "design an image of", "i'd like an image of",
              "can you make me a picture of", "paint me a picture of", "generate a drawing of", "i'd love an image of",
              "i would love a picture of", "can i get an image of", "could you draw", "make me an image of",
              "i need a picture of", "create art of", "draw a picture of", "generate", "create", "visualize",
              "dream up an image of", "whip up a picture of", "make a wallpaper of", "i want to see a picture of",
              "create a logo of", "design a poster of", "could u generate", "i want a brand new image:", "new picture:",
              "make a poster of", "make an icon of", "illustrate", "make art of", "generate art of",
              "i'd like a new picture of", "a brand new image of", "create a new image with", "paint me",
              "sketch me", "make me", "paint me a picture of", "draw me a picture of")
_GEN_VIDEO = ("generate a video of", "make a short clip of", "create an animation of", "render a video showing",
              "i want a movie of", "make a video of", "produce a clip of", "generate a short video of",
              "create a video where", "film", "make a clip showing", "give me a video of", "generate a short clip of",
              "i'd love a video of", "can i get a clip of", "make me a short film of", "animate a scene of",
              "make an animated clip of", "create footage of", "render a clip of", "i need a video of",
              "make a gif of", "generate an animation of", "make a new video:", "i want a brand new clip of",
              "create a short film about", "make a video clip of", "animate a scene where", "produce a video of")
_ANIMATE = (["animate this image"], ["animate it"], ["bring this picture to life"], ["make ", "{target}", " move"],
            ["turn this photo into a video"], ["make a video from this image"], ["animate ", "{target}"],
            ["bring ", "{target}", " to life"], ["make this picture move"], ["animate the photo"],
            ["convert this image into a clip"], ["make ", "{target}", " come alive"], ["animate the picture"],
            ["turn this image into a short video"], ["give this photo some motion"], ["make ", "{target}", " wave"],
            ["make ", "{target}", " spin"], ["make ", "{target}", " dance"], ["bring the picture to life"],
            ["add motion to this picture"], ["make it move"], ["animate"], ["make ", "{target}", " sway"],
            ["turn the picture into a little clip"], ["make a moving version of this photo"],
            ["make ", "{target}", " flow"], ["can you make ", "{target}", " move"], ["make ", "{target}", " ripple"],
            ["let ", "{target}", " blow in the wind"], ["make ", "{target}", " fly"], ["have ", "{target}", " walk"],
            ["make a little video where ", "{target}", " moves"], ["make it spin"], ["get this picture moving"],
            ["make ", "{target}", " {motion}"], ["make ", "{target}", " {motion}"], ["let ", "{target}", " {motion}"],
            ["animate ", "{target}", " so it {motion}s"])


_MOTIONS = ("flutter", "flicker", "wave", "wave at the camera", "sparkle", "twinkle", "sway", "bob", "drift", "spin",
            "flow", "ripple", "blink", "glow", "shake", "bounce", "float", "turn around", "flutter in the wind",
            "move slowly", "sway gently", "roll", "jump", "smile", "breathe", "swing")
_TAILS = {"segment": (" from the background", " out of this photo", " out of the picture", " from the rest"),
          "track": (" as it moves", " as it runs around", " while it moves", " the whole time", " wherever it goes"),
          "ground": ("?", "?", " for me", " in the picture")}
"""Words after the object that are not part of it, per task."""
_DURATION = ("short ", "3 second ", "5-second ", "10s ", "quick ", "two second ", "", "", "", "")


_CLOTHES = ("shirt", "dress", "jacket", "hat", "coat", "raincoat", "sweater", "scarf", "hoodie", "uniform", "cap")
_PARTICIPLES = ("walking", "sitting", "standing", "running", "lying", "hanging", "parked", "floating", "sleeping",
                "leaning", "playing", "waiting", "hiding", "resting")
_PREPOSITIONS = ("in", "on", "near", "by", "under", "behind", "next to", "in front of", "across", "along", "inside")
_PLACES = ("background", "road", "bench", "grass", "table", "wall", "water", "corner", "window", "sofa", "street",
           "shelf", "bowl", "field", "sky", "beach", "doorway", "car", "tree", "fence")
_SCENE_OBJECTS = ("a ball", "a laser pointer", "a lantern", "a book", "an umbrella", "a kite", "the moon", "a butterfly",
                  "a cup of coffee", "its tail", "a red scarf", "a guitar", "the waves", "fireworks", "a paper boat")
_TIMES = ("at night", "at dawn", "at sunset", "in winter", "in the fog", "in the rain", "under a purple sky",
          "under the stars", "in autumn", "on a sunny day", "in neon light", "in the snow")


def _after(rng: random.Random) -> str:
    """What follows the noun of a target: a listed phrase or a made-up one ("in the green dress",
    "walking in the background", "with the blue cap")."""
    pick = rng.random()
    if pick < 0.5:
        return ""
    if pick < 0.75:
        return rng.choice(_AFTER)
    if pick < 0.85:
        return f" in the {rng.choice(_COLORS)} {rng.choice(_CLOTHES)}"
    if pick < 0.95:
        return f" {rng.choice(_PARTICIPLES)} {rng.choice(_PREPOSITIONS)} the {rng.choice(_PLACES)}"
    return f" with the {rng.choice(_COLORS)} {rng.choice(_NOUNS)}"


def _target(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return rng.choice(_PLURAL) + (_after(rng) if rng.random() < 0.3 else "")
    adjectives = "".join(rng.sample(_ADJ, rng.choice((1, 1, 2))))
    return rng.choice(_DET) + adjectives + rng.choice(_NOUNS) + _after(rng)


def _new(rng: random.Random) -> str:
    """A replacement or added thing: a listed one, or an article, zero to two adjectives and a noun."""
    if rng.random() < 0.5:
        return rng.choice(_NEW)
    words = [a.strip() for a in rng.sample(_ADJ, rng.choice((0, 1, 1, 2))) if a.strip()] + [rng.choice(_NOUNS)]
    return ("an " if words[0][0] in "aeiou" else "a ") + " ".join(words)


def _prompt(rng: random.Random) -> str:
    """A listed subject and scene, or a made-up scene ("a fox chasing a kite under the stars")."""
    if rng.random() < 0.5:
        return f"{rng.choice(_SUBJECTS)} {rng.choice(_SCENES)}".strip()
    verb = rng.choice(("chasing", "holding", "reading", "watching", "carrying", "eating", "playing with", "riding"))
    scene = f"{verb} {rng.choice(_SCENE_OBJECTS)}" if rng.random() < 0.6 else f"{rng.choice(_PARTICIPLES)} " \
        f"{rng.choice(_PREPOSITIONS)} the {rng.choice(_PLACES)}"
    times = f" {rng.choice(_TIMES)}" if rng.random() < 0.5 else ""
    subject = rng.choice(_SUBJECTS) if rng.random() < 0.7 else f"a {rng.choice(_NOUNS)} field" if rng.random() < 0.2 \
        else f"a {rng.choice(_NOUNS)}"
    return f"{subject} {scene}{times}"


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    return rng.choice((word[:i] + word[i + 1:], word[:i] + word[i + 1] + word[i] + word[i + 2:], word[:i] + word[i] + word[i:]))


_SPAN_SLOTS = ("target", "new", "color", "style", "direction", "prompt")
"""Slots recorded as spans (``planners.lite_model.SPAN_FIELDS``); other slots are plain filler."""


def assemble_request(parts: list[str], fill: dict[str, str], rng: random.Random, typos: float) -> tuple[str, dict]:
    """Join ``parts``; ``{name}`` parts take ``fill[name]``, recorded as spans when ``name`` is a span field."""
    text, spans = "", {}
    for part in parts:
        slot = re.fullmatch(r"\{(\w+)\}", part)
        if slot:
            value = fill[slot.group(1)]
            if slot.group(1) in ("target", "new", "prompt"):  # misspelt objects too ("the zebar")
                value = " ".join(_typo(w, rng) if rng.random() < typos / 3 else w for w in value.split(" "))
            if value and slot.group(1) in _SPAN_SLOTS:
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
                   ["remove ", *ref, " from the picture"], ["can you erase ", *ref, "?"],
                   ["take ", *ref, " out of the picture"], ["i'd like ", *ref, " removed"], ["make ", *ref, " go away"],
                   ["get ", *ref, " out of the shot"], ["remove ", *ref, " entirely"], ["paint out ", *ref],
                   ["i want ", *ref, " gone"], ["delete ", *ref, " from the photo"], ["lose ", *ref],
                   ["can you get rid of ", *ref, "?"], ["scrub ", *ref, " out"], ["clean ", *ref, " out of the image"]],
        "replace": [["replace ", *ref, " with ", new], ["swap ", *ref, " for ", new], ["swap ", *ref, " with ", new],
                    ["turn ", *ref, " into ", new], ["change ", *ref, " to ", new], ["substitute ", new, " for ", *ref],
                    ["replace ", *ref, " by ", new], ["put ", new, " instead of ", *ref], ["make ", *ref, " into ", new],
                    ["exchange ", *ref, " for ", new], ["transform ", *ref, " into ", new],
                    ["put ", new, " where ", *ref, " is"], ["i want ", new, " instead of ", *ref],
                    ["change ", *ref, " into ", new], ["make ", *ref, " ", new], ["swap out ", *ref, " for ", new],
                    ["use ", new, " in place of ", *ref], ["turn ", *ref, " into ", new, " instead"],
                    ["replace ", *ref, " with ", new, " please"], [*ref, " should be ", new],
                    ["have ", new, " instead of ", *ref]],
        "add": [["add ", new], ["add ", new, " to ", *ref], ["put ", new, " on ", *ref], ["insert ", new, " in ", *ref],
                ["place ", new, " next to ", *ref], ["add ", new, " on ", *ref], ["put ", new, " in the picture"],
                ["include ", new], ["draw ", new, " on ", *ref], ["add in ", new], ["put ", new, " next to ", *ref],
                ["add ", new, " beside ", *ref], ["stick ", new, " on ", *ref], ["give ", *ref, " ", new],
                ["add ", new, " in the background"], ["i want ", new, " in the picture"], ["place ", new, " on ", *ref]],
        "recolor": [["make ", *ref, " ", color], ["color ", *ref, " ", color], ["recolor ", *ref, " to ", color],
                    ["paint ", *ref, " ", color], ["change the color of ", *ref, " to ", color], ["turn ", *ref, " ", color],
                    ["make ", *ref, " ", color, " too"], ["change ", *ref, " to ", color], ["recolour ", *ref, " ", color],
                    ["i want ", *ref, " in ", color], ["dye ", *ref, " ", color], ["can ", *ref, " be ", color, "?"],
                    ["i want ", *ref, " to be ", color], [*ref, " should be ", color], ["make the color of ", *ref, " ", color],
                    ["tint ", *ref, " ", color], ["change the colour of ", *ref, " to ", color],
                    ["give ", *ref, " a ", color, " color"], ["turn ", *ref, " ", color, " please"],
                    ["recolor ", *ref, " in ", color], ["paint ", *ref, " in ", color],
                    *([["change its color to ", color], ["make its colour ", color], ["change its colour to ", color],
                       ["change its color to ", color], ["make its color ", color], ["set its color to ", color]]
                      if ref and not ref[0].startswith("{") and ref[0] in ("it", "that", "this") else [])],
        "restyle": [["make it look like ", style], ["restyle the image as ", style], ["turn this photo into ", style],
                    ["convert the picture to ", style], ["apply a ", style, " style"], ["make it ", style],
                    ["stylize this as ", style], ["render the image in ", style, " style"], ["make the photo ", style],
                    ["give it a ", style, " look"], ["transform the image into ", style], ["restyle it as ", style],
                    ["give the picture a ", style, " look"], ["make this look like ", style], ["redo it as ", style],
                    ["make the image look like ", style], ["render this in the style of ", style],
                    ["in the style of ", style], ["can you make it ", style, "?"], ["convert it to ", style, " style"],
                    ["style this photo like ", style], ["turn the picture into ", style],
                    ["give this a ", style, " vibe"], ["give it a ", style, " feel"], [style, " vibe please"],
                    ["make it more ", style], ["turn it into ", style, " style"]],
        "move": [["move ", *ref, " to the ", d], ["shift ", *ref, " ", d], ["drag ", *ref, " to the ", d],
                 ["push ", *ref, " a bit to the ", d], ["move ", *ref, " ", d], ["slide ", *ref, " over to the ", d],
                 ["put ", *ref, " on the ", d], ["relocate ", *ref, " to the ", d],
                 ["nudge ", *ref, " a little to the ", d], ["move ", *ref, " further ", d], ["shift ", *ref, " to the ", d],
                 ["scoot ", *ref, " ", d], ["move ", *ref, " a bit ", d], ["push ", *ref, " ", d],
                 ["shift ", *ref, " toward the ", d], ["move ", *ref, " over to the ", d, " side"]],
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
        if task in _TAILS and rng.random() < 0.3:
            parts.append(rng.choice(_TAILS[task]))
    elif task == "edit_image":
        parts = _edit(rng, op, [])
    elif task == "ground":
        kind = rng.choices(("named", "in_box"), (5, 1))[0]
        ref, more, meta = _reference(rng, kind)
        fill.update(more)
        parts = [rng.choice(_VERBS["ground"]) + " ", *ref] + ([rng.choice(_TAILS["ground"])] if rng.random() < 0.3 else [])
        if rng.random() < 0.15:  # "where's the cat?" asks where to look: find it
            parts = [rng.choice(("where's ", "where is ", "where are ", "wheres ")), *ref, rng.choice(("?", "?", ""))]
    elif task in ("generate_image", "generate_video"):
        lead = rng.choice(_GEN_IMAGE if task == "generate_image" else _GEN_VIDEO)
        if task == "generate_video":
            lead = re.sub(r"\b(?:short )?(video|clip|film|movie|animation)\b", lambda m: rng.choice(_DURATION) + m.group(1),
                          lead, count=1)
        parts = [lead + " ", "{prompt}"]
    elif task == "animate_image":
        fill["target"] = _target(rng) if rng.random() < 0.5 else rng.choice(_DET) + rng.choice(_NOUNS)
        fill["motion"] = rng.choice(_MOTIONS)
        parts = list(rng.choice(_ANIMATE))
    elif task == "answer":
        about = rng.choices(("image", "box", "it"), (6, 2, 1.5))[0]
        questions = {"image": _QUESTIONS, "box": _BOX_QUESTIONS, "it": _IT_QUESTIONS}[about]
        parts = [rng.choice(questions).replace("{n}", rng.choice(_NOUNS))]
        meta = {"image": {}, "box": {"has_box": True, "region": "box"},
                "it": {"has_output": True, "region": "output"}}[about]
    else:
        parts = [rng.choice(_CHAT)]
    if task not in ("chat", "answer"):
        parts = [rng.choice(_PREFIX), *parts, rng.choice(_SUFFIX)]
    text, spans = assemble_request(parts, fill, rng, typos=0.1)
    return LiteExample(text=text, task=task, op=op, spans=spans, **meta)


def _splice(ex: LiteExample, start: int, end: int, new: str) -> None:
    """Replace ``ex.text[start:end]`` (outside every span) with ``new``, shifting the spans after it."""
    shift = len(new) - (end - start)
    ex.text = ex.text[:start] + new + ex.text[end:]
    ex.spans = {k: (a + shift, b + shift) if a >= end else (a, b) for k, (a, b) in ex.spans.items()}


_VIDEO_TAIL = (" in the video", " throughout the clip", " across the clip", " in every frame", " in this clip",
               " in the whole video", " till the end", " in the footage", " through the video")
_VIDEO_HEAD_ZH = ("在视频里", "视频中", "在整个视频里", "视频里")
_STILL_WORDS = re.compile(r"\b(?:image|photo|picture|pic)\b")


def _on_video(ex: LiteExample, rng: random.Random) -> None:
    """Say so in some requests on a video: "... in the video", "restyle the clip", "在视频里..."."""
    if CJK.search(ex.text):
        if rng.random() < 0.4:
            _splice(ex, 0, 0, rng.choice(_VIDEO_HEAD_ZH))
        return
    for found in reversed(list(_STILL_WORDS.finditer(ex.text))):
        if rng.random() < 0.7 and not any(a < found.end() and found.start() < b for a, b in ex.spans.values()):
            _splice(ex, found.start(), found.end(), rng.choice(("video", "clip", "footage")))
    if rng.random() < 0.35 and ex.task != "answer":
        end = len(ex.text.rstrip(".!?"))
        if not any(b > end for _, b in ex.spans.values()):
            _splice(ex, end, end, rng.choice(_VIDEO_TAIL))


def _with_context(ex: LiteExample, rng: random.Random) -> LiteExample:
    """Add context the request does not use, and fix the region source it implies."""
    task, op, spans = ex.task, ex.op, ex.spans
    # context the request did not use: a box drawn anyway, an earlier output, a video
    ex.has_box = ex.has_box or (ex.region == "none" and rng.random() < 0.2)
    ex.has_output = ex.has_output or rng.random() < 0.3
    ex.on_video = task in ("track",) or (task in ("segment", "edit_image", "answer", "ground") and rng.random() < 0.15)
    if ex.on_video:
        _on_video(ex, rng)
    if ex.region == "output" and ex.has_box:
        ex.region = "box"  # a box drawn this turn wins over the history
    if ex.region == "none" and ex.has_box and task != "ground" and "target" not in spans and op != "restyle" \
            and task in ("segment", "track", "edit_image"):
        ex.region = "box"
    return ex


_PLAN = [("segment", "none", 6), ("ground", "none", 5), ("track", "none", 3), ("answer", "none", 4), ("chat", "none", 2),
         ("generate_image", "none", 4), ("generate_video", "none", 3), ("animate_image", "none", 3),
         *((("edit_image", op, 3) for op in ("remove", "replace", "add", "recolor", "restyle", "move")))]


def generate_examples(count: int, seed: int = 0, chinese: float = 0.25) -> list[LiteExample]:
    """``count`` examples in the proportions of ``_PLAN``, each from its own seeded RNG; a ``chinese``
    share of them in Chinese (``lite_data_zh``)."""
    from .lite_data_zh import example_zh

    weights = [w for *_, w in _PLAN]
    out = []
    for i in range(count):
        rng = random.Random(f"lite:{seed}:{i}")
        task, op, _ = _PLAN[i] if i < len(_PLAN) else rng.choices(_PLAN, weights)[0]
        build = example_zh if rng.random() < chinese else _example
        out.append(_with_context(build(rng, task, op), rng))
    return out
