"""Words and phrasings for generated invocation dialogues: requests, replies and fillers.

Placeholders: ``{obj}`` target phrase, ``{new}`` replacement or added thing, ``{color}``, ``{style}``,
``{dir}`` direction, ``{prompt}`` a generation prompt, ``{motion}``, ``{q}`` a question. The words
here are data; ``recipes`` decides which invocation each phrasing means.
"""

from __future__ import annotations

__all__ = ["OBJECTS", "NEW_THINGS", "COLORS", "STYLES", "DIRECTIONS", "IMAGE_PROMPTS", "VIDEO_PROMPTS", "MOTIONS",
           "QUESTIONS", "CHAT", "NEEDS_MEDIA", "ASK", "REPLY", "OUTPUT_KIND", "EXPERT_FOR", "MODULES"]

OBJECTS = ("the cup", "the cat", "the dog", "the person on the left", "the red car", "the bicycle", "the lamp",
           "the bird", "the plate", "the tree", "the woman", "the clock", "the chair", "the boat")
NEW_THINGS = ("a dog", "a vase of flowers", "a teapot", "a small robot", "a red apple", "a sunflower", "a kitten",
              "a stack of books", "a paper boat", "a balloon")
COLORS = ("red", "blue", "green", "yellow", "purple", "orange", "black", "white", "pink", "teal")
STYLES = ("a watercolor painting", "a pencil sketch", "an oil painting", "a cartoon", "black and white",
          "a comic book", "an anime still", "sepia")
DIRECTIONS = ("left", "right", "up", "down")
IMAGE_PROMPTS = ("a red fox in the snow", "a lighthouse at dusk", "a bowl of ramen on a wooden table",
                 "an astronaut riding a horse", "a cozy cabin in a pine forest", "a cat wearing sunglasses",
                 "a city street in the rain at night", "a field of tulips under a blue sky")
VIDEO_PROMPTS = ("waves crashing on a rocky shore", "a dog running on the beach", "clouds drifting over mountains",
                 "a candle flickering in the dark", "traffic on a busy bridge", "leaves falling in autumn")
MOTIONS = ("gentle camera zoom", "the water rippling", "the clouds moving", "a slow pan to the right",
           "the leaves swaying in the wind")
QUESTIONS = ("what is in this picture?", "how many people are there?", "what color is the car?",
             "is the cup empty?", "what is the cat doing?", "describe this image in one sentence.")
CHAT = (("hi there!", "Hello! Attach an image or a video and tell me what to do with it."),
        ("what can you do?", "I can find, segment and track objects, edit images and videos, and generate new ones."),
        ("thanks, that's all.", "You're welcome!"),
        ("who are you?", "I'm VITRON, a vision assistant."),
        ("tell me a joke.", "Why did the pixel go to therapy? It had too many issues with its resolution."))
NEEDS_MEDIA = (("segment {obj}", "Please attach an image first, then I can segment {obj}."),
               ("remove {obj} from the photo", "I don't see an image yet; attach one and I'll remove {obj}."),
               ("track {obj} in the video", "Please attach the video you mean first."))

ASK: dict[str, tuple[str, ...]] = {
    "answer": ("{q}", "look at this: {q}", "quick question: {q}"),
    "ground": ("find {obj}", "where is {obj}?", "locate {obj} in the image", "show me {obj}", "detect {obj}"),
    "segment": ("segment {obj}", "cut out {obj}", "give me a mask of {obj}", "isolate {obj}"),
    "segment.box": ("segment this", "segment the object in the box", "cut out what I boxed"),
    "segment.points": ("segment {obj} where I clicked", "mask the thing I clicked on"),
    "segment.ref": ("now segment it", "give me a mask of it too", "now cut it out"),
    "track": ("track {obj}", "follow {obj} through the video", "track {obj} in this clip"),
    "track.box": ("track this", "follow the object in the box", "track what I boxed"),
    "track.points": ("track {obj} where I clicked", "follow the thing I clicked on"),
    "generate_image": ("draw {prompt}", "generate an image of {prompt}", "make me a picture of {prompt}",
                       "paint {prompt}"),
    "generate_video": ("make a video of {prompt}", "generate a clip of {prompt}", "create a short video of {prompt}"),
    "animate_image": ("animate this photo with {motion}", "bring this picture to life: {motion}",
                      "turn this image into a video with {motion}"),
    "animate_image.ref": ("now animate it", "now turn it into a short clip", "make it move"),
    "remove": ("remove {obj}", "erase {obj} from the picture", "get rid of {obj}"),
    "remove.box": ("remove this", "erase what I boxed", "delete the thing in the box"),
    "remove.ref": ("now remove it", "erase it", "get rid of it"),
    "replace": ("replace {obj} with {new}", "swap {obj} for {new}", "turn {obj} into {new}"),
    "replace.box": ("replace this with {new}", "put {new} where I boxed"),
    "replace.ref": ("now replace it with {new}", "turn it into {new}"),
    "add": ("add {new} next to {obj}", "put {new} on {obj}", "insert {new} beside {obj}"),
    "add.box": ("add {new} here", "put {new} in the box"),
    "add.ref": ("put {new} there", "add {new} on it"),
    "recolor": ("make {obj} {color}", "recolor {obj} to {color}", "paint {obj} {color}"),
    "recolor.box": ("make this {color}", "recolor the boxed part {color}"),
    "recolor.ref": ("now make it {color}", "color it {color}"),
    "restyle": ("make the photo look like {style}", "restyle this image as {style}", "turn it into {style}"),
    "move": ("move {obj} to the {dir}", "shift {obj} {dir}"),
    "move.box": ("move this to the {dir}", "shift the boxed thing {dir}"),
    "move.ref": ("now move it to the {dir}", "shift it {dir}"),
}
"""Request phrasings by task or edit op; ``.box``/``.points``/``.ref`` for a drawn region or "it"."""

REPLY: dict[str, tuple[str, ...]] = {
    "answer": ("Let me look.", "Checking the image."),
    "ground": ("Looking for {obj}.", "Finding {obj}."),
    "segment": ("Segmenting {obj}.", "Here is the mask of {obj}."),
    "track": ("Tracking {obj} through the video.", "Following {obj}."),
    "generate_image": ("Generating an image of {prompt}.", "Here is {prompt}."),
    "generate_video": ("Generating a video of {prompt}.", "Making a clip of {prompt}."),
    "animate_image": ("Animating the image.", "Bringing it to life."),
    "remove": ("Removing {obj}.", "Erasing {obj}."),
    "replace": ("Replacing {obj} with {new}.", "Swapping in {new}."),
    "add": ("Adding {new}.", "Putting {new} in."),
    "recolor": ("Making {obj} {color}.", "Recoloring {obj}."),
    "restyle": ("Restyling the image as {style}.", "Turning it into {style}."),
    "move": ("Moving {obj} {dir}.", "Shifting {obj} to the {dir}."),
}

OUTPUT_KIND = {"ground": "boxes", "segment": "mask", "track": "mask_video", "generate_image": "image",
               "edit_image": "image", "generate_video": "video", "animate_image": "video", "edit_video": "video"}
"""The kind of medium each task makes (``answer`` makes none)."""

EXPERT_FOR = {"answer": "qwen_vl", "ground": "owlv2", "segment": "sam", "track": "yolo_track",
              "generate_image": "stable_diffusion", "edit_image": "sd_inpaint", "generate_video": "text_to_video",
              "animate_image": "image_to_video", "edit_video": "video_inpaint"}
"""The expert named in tool results when the invocation leaves the choice to the registry."""

MODULES: dict[str, tuple[str, ...]] = {
    "answer": ("auto",), "ground": ("auto", "owlv2", "yolo"), "segment": ("auto", "B", "grabcut"),
    "track": ("auto", "E", "yolo_track"), "generate_image": ("A", "auto"), "generate_video": ("D", "auto"),
    "animate_image": ("auto", "G", "pan_zoom"), "edit_video": ("auto", "F", "frame_edit"),
    "remove": ("auto", "C", "opencv_inpaint"), "replace": ("auto", "C", "sd_inpaint"), "add": ("auto", "C", "gligen_edit"),
    "recolor": ("auto", "C", "opencv_recolor"), "restyle": ("auto", "C", "instruct_pix2pix"),
    "move": ("auto", "C", "opencv_inpaint"),
}  # fmt: skip
"""Modules written for invocations without signal embeddings: the registry's choice, VITRON's letter, or an expert."""
