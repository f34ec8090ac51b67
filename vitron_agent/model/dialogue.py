"""One renderer of dialogues into the VITRON model's prompt text, for inference and fine-tuning alike.

A turn is ``<|role|>`` + lines + ``<|end|>``. A user turn first lists the media it attaches, one line
each (``u0: <|image|>``), then the region the user drew (``region on u0: <|region|> (0.120, ...)``),
then the text. The placeholders are expanded into feature tokens by the processor; ``Prompt`` lists
what each placeholder stands for, in text order.

An assistant turn is the invocation text form; an invocation with signal embeddings carries the
``k`` signal tokens inside ``<SP>...</SP>`` (``render_reply``). The planner reads them back by
replacing each run of signal tokens with a placeholder id ``sp1``, ``sp2``... before ``parse``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..protocol.invocation import Invocation, Region
from ..protocol.text_form import Sizes, region_to_text, render
from .tokens import END, IMAGE, REGION, ROLES, VIDEO, signal_mark, signal_tokens

__all__ = ["Shown", "DrawnRegion", "Turn", "Prompt", "render_dialogue", "render_reply"]

_MARKED_SP = re.compile(r"<SP>sp(\d+)</SP>")


@dataclass(frozen=True)
class Shown:
    """A medium shown to the model: its id (``u0``) and kind."""

    id: str
    kind: Literal["image", "video"]


@dataclass(frozen=True)
class DrawnRegion:
    """A region the user drew: on medium ``media``, in pixels of that medium (``region``)."""

    media: str
    region: Region
    size: tuple[int, int]
    """(width, height) of the medium, pixels: what the text form normalises against."""


@dataclass
class Turn:
    """One turn: ``role`` in system/user/assistant/tool, its text, the media and region it attaches."""

    role: Literal["system", "user", "assistant", "tool"]
    text: str
    media: tuple[Shown, ...] = ()
    region: DrawnRegion | None = None


@dataclass
class Prompt:
    """Prompt text with one placeholder per medium and region, and what each stands for, in text order."""

    text: str
    media: list[Shown] = field(default_factory=list)
    regions: list[DrawnRegion] = field(default_factory=list)


def _render_turn(turn: Turn) -> str:
    lines = [f"{m.id}: {IMAGE if m.kind == 'image' else VIDEO}" for m in turn.media]
    if turn.region is not None:
        where = region_to_text(turn.region.region, turn.region.size)
        token = f"{REGION} " if _has_token(turn.region) else ""
        lines.append(f"region on {turn.region.media}: {token}{where}")
    if turn.text:
        lines.append(turn.text)
    return f"{ROLES[turn.role]}\n" + "\n".join(lines) + f"{END}\n"


def _has_token(drawn: DrawnRegion) -> bool:
    """Boxes and points get a region token; a reference to an earlier output is named in text only."""
    return drawn.region.ref is None


def render_dialogue(turns: Sequence[Turn], generation: bool = True) -> Prompt:
    """The prompt for ``turns``; with ``generation``, ending in an open assistant turn."""
    text = "".join(_render_turn(t) for t in turns)
    if generation:
        text += f"{ROLES['assistant']}\n"
    media = [m for t in turns for m in t.media]
    regions = [t.region for t in turns if t.region is not None and _has_token(t.region)]
    return Prompt(text, media, regions)


def render_reply(reply: str, invocations: Sequence[Invocation], sizes: Sizes, k: int,
                 default_input: str | None = None) -> str:
    """An assistant turn's text (fine-tuning targets): the text form, with ``k`` signal tokens inside
    ``<SP>`` for every invocation whose ``signal`` is set (its value is ignored)."""
    marked = [inv.model_copy(update={"signal": signal_mark(n)}) if inv.signal is not None else inv
              for n, inv in enumerate(invocations, 1)]
    text = render(reply, marked, sizes, default_input)
    return _MARKED_SP.sub(lambda _: "<SP>" + "".join(signal_tokens(k)) + "</SP>", text)
