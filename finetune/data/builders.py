"""Records from ``readers`` -> dialogues (captioning, conversations, grounding) and generator scenes.

Grounding answers write boxes with the protocol's ``region_to_text`` (fractions of the medium, three
decimals; ``| f, f`` for a video frame), the form the planner's regions use, so a model that learns to
ground in words writes regions the parser reads.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence

from vitron_agent.protocol.invocation import Region
from vitron_agent.protocol.text_form import region_to_text

from .dialogues import Dialogue, DialogueBuilder, Medium, Scene, SceneObject, snap
from .readers import Caption, Conversation, Referring, VideoTrack, image_size

__all__ = ["CAPTION_PROMPTS", "caption_dialogue", "conversation_dialogue", "referring_dialogues", "track_dialogues",
           "scenes_from_referring", "scenes_from_tracks"]

CAPTION_PROMPTS = ("Describe the image briefly.", "What is in this picture?", "Write a short caption for this image.",
                   "Summarize the photo in a few words.")


def _image(path: str) -> Medium:
    width, height = image_size(path)
    return Medium("u0", "image", width, height, path=path)


def caption_dialogue(caption: Caption, prompt: str) -> Dialogue:
    """Stage 1: an image and a request for a caption, answered by the caption."""
    b = DialogueBuilder("caption")
    u = b.attach(_image(caption.image))
    b.ask(prompt, [u])
    b.answer(caption.text)
    return b.build("task:caption")


def conversation_dialogue(conv: Conversation) -> Dialogue:
    """A LLaVA-style conversation: its medium and drawn box on the first user turn, answers in words."""
    b = DialogueBuilder("conversation")
    media: list[str] = []
    if conv.kind == "image":
        media = [b.attach(_image(conv.media))]
    elif conv.kind == "video":
        from .examples import frame_files

        files = frame_files(conv.media)
        width, height = image_size(files[0])
        media = [b.attach(Medium("u0", "video", width, height, len(files), path=conv.media))]
    first = True
    for role, text in conv.turns:
        if role == "user":
            region = Region(box=conv.bbox) if first and conv.bbox and media else None
            b.ask(text, media if first else [], region, media[0] if region else None)
            first = False
        elif b.exchanges:
            b.answer(text)
    return b.build("task:conversation")


def _side(box: tuple[float, ...], width: int) -> str:
    middle = (box[0] + box[2]) / 2 / width
    return "on the left" if middle < 0.4 else "on the right" if middle > 0.6 else "in the middle"


def referring_dialogues(records: Iterable[Referring], rng: random.Random) -> list[Dialogue]:
    """Per record: the box of a phrase (comprehension), the phrase for a drawn box (generation), and a
    grounding-aware question (which side of the image the object is on)."""
    out = []
    for rec in records:
        medium = _image(rec.image)
        box = snap(Region(box=rec.box), medium.size)
        where = region_to_text(box, medium.size)
        phrase = rng.choice(rec.expressions)
        for kind in ("comprehension", "generation", "side"):
            b = DialogueBuilder(f"ground_{kind}")
            u = b.attach(medium)
            if kind == "comprehension":
                b.ask(rng.choice(("Where is {p}?", "Give the box of {p}.", "Locate {p}.")).format(p=phrase), [u])
                b.answer(f"{phrase}: {where}")
            elif kind == "generation":
                b.ask(rng.choice(("What is in this region?", "Describe the boxed object.")), [u], box, u)
                b.answer(phrase)
            else:
                b.ask(f"Is {phrase} on the left, in the middle or on the right?", [u])
                b.answer(f"{phrase[:1].upper()}{phrase[1:]} is {_side(rec.box, medium.width)}, at {where}.")
            out.append(b.build("task:grounding", f"grounding:{kind}"))
    return out


def track_dialogues(tracks: Iterable[VideoTrack], video_frames: int, rng: random.Random) -> list[Dialogue]:
    """Per annotated object: its box in each frame the model sees (the processor's sampled frames that
    carry an annotation, else every annotated one) and the span of frames it is annotated in."""
    from vitron_agent.model.processor import sample_frames  # imports torch: only when videos are used

    out = []
    for track in tracks:
        medium = Medium("u0", "video", track.width, track.height, track.frames, path=track.folder)
        seen = set(sample_frames(track.frames, video_frames))
        for obj in track.objects:
            if not obj.boxes:
                continue
            shown = [(f, b) for f, b in obj.boxes if f in seen] or list(obj.boxes)
            boxes = "; ".join(region_to_text(Region(box=b, frames=(f, f)), medium.size) for f, b in shown)
            first, last = obj.boxes[0][0], obj.boxes[-1][0]
            for kind, ask, answer in (
                ("boxes", rng.choice(("Where is {p} in each frame?", "Track {p} and give its boxes.")),
                 f"{obj.name}: {boxes}"),
                ("span", rng.choice(("When is {p} visible?", "In which frames does {p} appear?")),
                 f"{obj.name[:1].upper()}{obj.name[1:]} is visible from frame {first} to frame {last}."),
            ):
                b = DialogueBuilder(f"track_{kind}")
                u = b.attach(medium)
                b.ask(ask.format(p=obj.name), [u])
                b.answer(answer)
                out.append(b.build("task:grounding", f"grounding:video_{kind}"))
    return out


def scenes_from_referring(records: Sequence[Referring]) -> list[Scene]:
    """One scene per image, with an object per referring phrase, for the dialogue generator."""
    objects: dict[str, list[SceneObject]] = defaultdict(list)
    for rec in records:
        objects[rec.image].extend(SceneObject(p, rec.box) for p in rec.expressions)
    return [Scene(_image(path), tuple(objs)) for path, objs in objects.items()]


def scenes_from_tracks(tracks: Sequence[VideoTrack]) -> list[Scene]:
    return [Scene(Medium("u0", "video", t.width, t.height, t.frames, path=t.folder), t.objects) for t in tracks]
