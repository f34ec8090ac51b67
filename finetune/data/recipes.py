"""Recipes: each makes one kind of invocation dialogue (a task, an edit op, a region form, one or two turns).

``RECIPES`` lists them all; ``generator.generate_dialogues`` runs every recipe once, then samples.
A recipe draws its words from ``vocab`` and its media and objects from the scenes it is given, so
with real scenes (RefCOCO-style boxes, annotated video frames) the boxes in the answers are real.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from vitron_agent.protocol.invocation import EDIT_OPS, Invocation, Point, Region

from . import vocab
from .dialogues import Box, Dialogue, DialogueBuilder, Medium, Scene, SceneObject

__all__ = ["Recipe", "Context", "RECIPES", "generation_dialogue", "segment_dialogue"]


@dataclass
class Context:
    """What a recipe draws from: a seeded RNG, scenes (images and videos), the modules that emit signals."""

    rng: random.Random
    images: list[Scene]
    videos: list[Scene]
    signal_modules: tuple[str, ...] = ()

    def builder(self, recipe: str) -> DialogueBuilder:
        return DialogueBuilder(recipe, self.signal_modules)

    def scene(self, kind: str = "image") -> Scene:
        pool = self.images if kind == "image" else self.videos
        return self.rng.choice(pool) if pool else _synthetic_scene(self.rng, kind)

    def target(self, scene: Scene) -> SceneObject:
        """A known object of the scene, else an invented one with a plausible box."""
        usable = [o for o in scene.objects if o.box is not None or o.boxes]
        return self.rng.choice(usable) if usable else _invented(self.rng, scene.medium)

    def words(self, obj: SceneObject | None = None) -> dict[str, str]:
        pick = self.rng.choice
        return {"obj": obj.name if obj else pick(vocab.OBJECTS), "new": pick(vocab.NEW_THINGS),
                "color": pick(vocab.COLORS), "style": pick(vocab.STYLES), "dir": pick(vocab.DIRECTIONS),
                "prompt": pick(vocab.IMAGE_PROMPTS), "motion": pick(vocab.MOTIONS), "q": pick(vocab.QUESTIONS)}

    def say(self, key: str, words: dict[str, str], table: dict[str, tuple[str, ...]] = vocab.ASK) -> str:
        return self.rng.choice(table[key]).format(**words)

    def module(self, key: str) -> str:
        return self.rng.choice(vocab.MODULES[key])


Recipe = Callable[[Context], Dialogue]


def _synthetic_scene(rng: random.Random, kind: str) -> Scene:
    width, height = rng.choice([(640, 480), (800, 600), (512, 512), (1024, 768)] if kind == "image"
                               else [(320, 240), (640, 360), (480, 270)])
    frames = 1 if kind == "image" else rng.choice([24, 48, 96])
    return Scene(Medium("u0", kind, width, height, frames))


def _invented(rng: random.Random, medium: Medium) -> SceneObject:
    w, h = medium.width, medium.height
    x1, y1 = rng.uniform(0.02, 0.6) * w, rng.uniform(0.02, 0.6) * h
    box = (x1, y1, x1 + rng.uniform(0.15, 0.38) * w, y1 + rng.uniform(0.15, 0.38) * h)
    if medium.kind != "video":
        return SceneObject(rng.choice(vocab.OBJECTS), box)
    frames = sorted(rng.sample(range(medium.frames), 3))
    return SceneObject(rng.choice(vocab.OBJECTS), None, tuple((f, box) for f in frames))


def _box_on(obj: SceneObject, rng: random.Random) -> tuple[Box, tuple[int, int] | None]:
    """The object's box, and on video the frame it is drawn on as a one-frame span."""
    if obj.box is not None:
        return obj.box, None
    frame, box = rng.choice(obj.boxes)
    return box, (frame, frame)


def _region_box(obj: SceneObject, rng: random.Random) -> Region:
    box, frames = _box_on(obj, rng)
    return Region(box=box, frames=frames)


def _points(obj: SceneObject, medium: Medium, rng: random.Random) -> Region:
    """A click in the object's middle, sometimes a background click in an image corner as well."""
    (x1, y1, x2, y2), frames = _box_on(obj, rng)
    clicks = [Point(x=(x1 + x2) / 2, y=(y1 + y2) / 2)]
    if rng.random() < 0.5 and x1 > 0.05 * medium.width and y1 > 0.05 * medium.height:
        clicks.append(Point(x=0.02 * medium.width, y=0.02 * medium.height, positive=False))
    return Region(points=tuple(clicks), frames=frames)


# -- recipes without tools --------------------------------------------------------------------


def _chat(ctx: Context) -> Dialogue:
    b = ctx.builder("chat")
    text, reply = ctx.rng.choice(vocab.CHAT)
    b.ask(text)
    b.answer(reply)
    return b.build()


def _needs_media(ctx: Context) -> Dialogue:
    b = ctx.builder("needs_media")
    ask, reply = ctx.rng.choice(vocab.NEEDS_MEDIA)
    words = ctx.words()
    b.ask(ask.format(**words))
    b.answer(reply.format(**words))
    return b.build()


# -- understanding: answer, ground, segment, track ---------------------------------------------


def _answer(ctx: Context) -> Dialogue:
    b = ctx.builder("answer")
    u = b.attach(ctx.scene().medium)
    words = ctx.words()
    b.ask(ctx.say("answer", words), [u])
    b.answer(ctx.say("answer", words, vocab.REPLY), Invocation(module="auto", task="answer", command=words["q"],
                                                              inputs=[u]))
    return b.build()


def _by_name(task: str, kind: str) -> Recipe:
    """``ground``/``segment``/``track`` with the target named in words, no region."""

    def recipe(ctx: Context) -> Dialogue:
        b = ctx.builder(f"{task}_none")
        scene = ctx.scene(kind)
        u = b.attach(scene.medium)
        words = ctx.words(ctx.target(scene))
        b.ask(ctx.say(task, words), [u])
        b.answer(ctx.say(task, words, vocab.REPLY),
                 Invocation(module=ctx.module(task), task=task, command=words["obj"], inputs=[u]))
        return b.build()

    return recipe


def _drawn(task: str, form: str, kind: str) -> Recipe:
    """``segment``/``track`` on a region the user drew (``box``) or clicked (``points``)."""

    def recipe(ctx: Context) -> Dialogue:
        b = ctx.builder(f"{task}_{form}")
        scene = ctx.scene(kind)
        u = b.attach(scene.medium)
        obj = ctx.target(scene)
        region = _points(obj, scene.medium, ctx.rng) if form == "points" else _region_box(obj, ctx.rng)
        words = ctx.words(obj)
        ask = ctx.say(f"{task}.{form}", words)
        module = "sam" if task == "segment" else ctx.module(task)
        b.ask(ask, [u], region, u)
        command = words["obj"] if words["obj"] in ask else ""
        b.answer(ctx.say(task, {**words, "obj": command or "the region"}, vocab.REPLY),
                 Invocation(module=module, task=task, command=command, region=region, inputs=[u]))
        return b.build()

    return recipe


def _segment_ref(ctx: Context) -> Dialogue:
    """Find it, then "now segment it": the mask's region is the earlier boxes output."""
    b = ctx.builder("segment_ref")
    scene = ctx.scene()
    u = b.attach(scene.medium)
    words = ctx.words(ctx.target(scene))
    b.ask(ctx.say("ground", words), [u])
    (found,) = b.answer(ctx.say("ground", words, vocab.REPLY),
                        Invocation(module=ctx.module("ground"), task="ground", command=words["obj"], inputs=[u]))
    b.ask(ctx.say("segment.ref", words))
    b.answer(ctx.say("segment", words, vocab.REPLY), Invocation(module="sam", task="segment", command=words["obj"],
                                                               region=Region(ref=found), inputs=[u]))
    return b.build()


# -- generation --------------------------------------------------------------------------------


def generation_dialogue(ctx: Context, task: str, prompt: str, module: str) -> Dialogue:
    """A request to generate ``prompt`` (image or video) answered by ``module``; shared with the
    decoder-alignment stages, which pair it with the expert's encoding of ``prompt``."""
    b = ctx.builder(task)
    words = {**ctx.words(), "prompt": prompt}
    b.ask(ctx.say(task, words))
    b.answer(ctx.say(task, words, vocab.REPLY), Invocation(module=module, task=task, command=prompt))
    return b.build()


def _generate(task: str, expert: str) -> Recipe:
    def recipe(ctx: Context) -> Dialogue:
        prompts = vocab.IMAGE_PROMPTS if task == "generate_image" else vocab.VIDEO_PROMPTS
        module = expert if ctx.rng.random() < 0.6 else ctx.module(task)
        return generation_dialogue(ctx, task, ctx.rng.choice(prompts), module)

    return recipe


def segment_dialogue(ctx: Context, scene: Scene, obj: SceneObject, module: str = "sam") -> Dialogue:
    """"segment <phrase>" on the scene's image, the target named in words only: the signal has to
    carry where it is (stage 3 aligns it with SAM's encoding of the true box)."""
    b = ctx.builder("segment_signal")
    u = b.attach(scene.medium)
    words = ctx.words(obj)
    b.ask(ctx.say("segment", words), [u])
    b.answer(ctx.say("segment", words, vocab.REPLY), Invocation(module=module, task="segment",
                                                               command=obj.name, inputs=[u]))
    return b.build()


def _animate(ctx: Context) -> Dialogue:
    b = ctx.builder("animate_image")
    u = b.attach(ctx.scene().medium)
    words = ctx.words()
    b.ask(ctx.say("animate_image", words), [u])
    b.answer(ctx.say("animate_image", words, vocab.REPLY),
             Invocation(module=ctx.module("animate_image"), task="animate_image", command=words["motion"], inputs=[u]))
    return b.build()


def _animate_ref(ctx: Context) -> Dialogue:
    """Draw something, then "now animate it": the input is the earlier output."""
    b = ctx.builder("animate_ref")
    words = ctx.words()
    b.ask(ctx.say("generate_image", words))
    (image,) = b.answer(ctx.say("generate_image", words, vocab.REPLY),
                        Invocation(module="stable_diffusion", task="generate_image", command=words["prompt"]))
    b.ask(ctx.say("animate_image.ref", words))
    b.answer(ctx.say("animate_image", words, vocab.REPLY),
             Invocation(module=ctx.module("animate_image"), task="animate_image", inputs=[image]))
    return b.build()


# -- editing -----------------------------------------------------------------------------------

_OP_ARGS = {"replace": "new", "add": "new", "recolor": "color", "restyle": "style", "move": "dir"}
_ARG_NAMES = {"new": "new", "color": "color", "style": "style", "dir": "direction"}


def _edit(op: str, form: str, kind: str) -> Recipe:
    """One edit op on an image or video with the target given as a box, in words, or as "it" (the
    mask or track an earlier turn made)."""
    task = "edit_image" if kind == "image" else "edit_video"

    def recipe(ctx: Context) -> Dialogue:
        b = ctx.builder(f"{task}_{op}_{form}")
        scene = ctx.scene(kind)
        u = b.attach(scene.medium)
        obj = ctx.target(scene)
        words = ctx.words(obj)
        args = {"op": op}
        if op in _OP_ARGS:
            args[_ARG_NAMES[_OP_ARGS[op]]] = words[_OP_ARGS[op]]
        command = "" if op == "restyle" else words["obj"]
        region = None
        if form == "ref":
            first = "segment" if kind == "image" else "track"
            b.ask(ctx.say(first, words), [u])
            (made,) = b.answer(ctx.say(first, words, vocab.REPLY), Invocation(
                module=ctx.module(first), task=first, command=words["obj"], inputs=[u]))
            b.ask(ctx.say(f"{op}.ref", words))
            region = Region(ref=made)
        elif form == "box":
            region = _region_box(obj, ctx.rng)
            b.ask(ctx.say(f"{op}.box", words), [u], region, u)
            command = ""
        else:
            b.ask(ctx.say(op, words), [u])
        module = ctx.module("edit_video" if kind == "video" else op)
        reply_words = {**words, "obj": command or ("it" if form == "ref" else "the boxed part")}
        b.answer(ctx.say(op, reply_words, vocab.REPLY),
                 Invocation(module=module, task=task, command=command, region=region, inputs=[u], args=args))
        return b.build()

    return recipe


def _edit_chain(ctx: Context) -> Dialogue:
    """"remove the cat" spelled out in one reply: ground, segment that box, inpaint that mask."""
    b = ctx.builder("edit_chain")
    scene = ctx.scene()
    u = b.attach(scene.medium)
    words = ctx.words(ctx.target(scene))
    b.ask(ctx.say("remove", words), [u])
    obj = words["obj"]
    b.answer(ctx.say("remove", words, vocab.REPLY),
             Invocation(module=ctx.module("ground"), task="ground", command=obj, inputs=[u]),
             Invocation(module="sam", task="segment", command=obj, region=Region(ref="c1"), inputs=[u]),
             Invocation(module=ctx.module("remove"), task="edit_image", command=obj, region=Region(ref="c2"),
                        inputs=[u], args={"op": "remove"}))
    return b.build()


def _all_recipes() -> dict[str, Recipe]:
    recipes: dict[str, Recipe] = {
        "chat": _chat, "needs_media": _needs_media, "answer": _answer,
        "ground_none": _by_name("ground", "image"), "segment_none": _by_name("segment", "image"),
        "segment_box": _drawn("segment", "box", "image"), "segment_points": _drawn("segment", "points", "image"),
        "segment_ref": _segment_ref, "track_none": _by_name("track", "video"),
        "track_box": _drawn("track", "box", "video"), "track_points": _drawn("track", "points", "video"),
        "generate_image": _generate("generate_image", "stable_diffusion"),
        "generate_video": _generate("generate_video", "text_to_video"),
        "animate_image": _animate, "animate_ref": _animate_ref, "edit_chain": _edit_chain,
    }  # fmt: skip
    for op in EDIT_OPS:
        for form in ("none",) if op == "restyle" else ("none", "box", "ref"):
            recipes[f"edit_image_{op}_{form}"] = _edit(op, form, "image")
    for op in ("remove", "replace", "recolor", "restyle"):
        for form in ("none",) if op == "restyle" else ("none", "box"):
            recipes[f"edit_video_{op}_{form}"] = _edit(op, form, "video")
    return recipes


RECIPES: dict[str, Recipe] = _all_recipes()
"""Recipe name -> recipe; every task, edit op, region form and multi-turn reference is among them."""
