"""A planning round as VITRON's dialogue: system prompt, earlier turns with their media and regions,
assistant turns in the invocation text form, tool results, and the current request.

The system prompt is ``prompts/system.md`` (media and the expert catalogue from the registry specs)
followed by ``prompts/grammar.md``. History is rendered the way fine-tuning data is, so the model sees
the same form it was trained on: the user's words (the graph's ``[u0: image ...]`` notes dropped),
media placeholders, the drawn region as a region token plus its normalised text form.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from ..experts.base import ExpertSpec
from ..model.dialogue import DrawnRegion, Shown, Turn
from ..protocol.invocation import Invocation, Region, is_invocation_id
from .base import PlannerInput
from .chat_model import render_system_prompt

__all__ = ["system_text", "dialogue_turns", "default_medium", "best_expert"]

_NOTES = re.compile(r"\n?(?:\[[^\[\]\n]*\]\s*)+$")
"""The notes line ingest appends to a human message (``[u0: image 640x480] [region on u0: ...]``)."""


def system_text(inp: PlannerInput) -> str:
    """System prompt with media and experts, then the invocation grammar."""
    from vitron_agent.prompts import load_prompt

    return render_system_prompt(inp) + "\n\n## How to write expert calls\n" + load_prompt("grammar")


def default_medium(inp: PlannerInput) -> str | None:
    """The medium a region with no input is drawn on: this turn's latest, else the thread's latest."""
    if inp.new_media:
        return inp.new_media[-1]
    visual = [m.id for m in inp.media if m.kind in ("image", "video")]
    return visual[-1] if visual else None


def best_expert(inv: Invocation, catalogue: dict[str, ExpertSpec]) -> str | None:
    """``inv``'s module if the catalogue has it, else the highest-quality expert there for its task and
    op (the registry's rule for ``auto`` and VITRON's letters); None when none fits."""
    if inv.module in catalogue:
        return inv.module
    fits = sorted((s for s in catalogue.values() if s.does(inv.task, inv.op)), key=lambda s: (-s.quality, s.name))
    return fits[0].name if fits else None


def dialogue_turns(inp: PlannerInput, k: int, max_user_turns: int = 8) -> list[Turn]:
    """System turn plus the last ``max_user_turns`` user turns with what followed each (system messages
    among them extend the system turn)."""
    from ..model.dialogue import render_reply

    kinds = {m.id: m.kind for m in inp.media}
    sizes = {m.id: (m.width, m.height) for m in inp.media}
    starts = [i for i, m in enumerate(inp.messages) if isinstance(m, HumanMessage)]
    messages = inp.messages[starts[-max_user_turns]:] if len(starts) > max_user_turns else inp.messages
    host = [_text(m.content) for m in inp.messages if isinstance(m, SystemMessage)]  # a host's instructions
    turns = [Turn("system", "\n\n".join([system_text(inp), *host]))]
    answered = False  # whether this turn already has an assistant message
    for message in messages:
        if isinstance(message, HumanMessage):
            turns.append(_user_turn(message, kinds, sizes))
            answered = False
        elif isinstance(message, AIMessage):
            if str(message.id or "").startswith("respond-") and answered:
                continue  # the graph's summary of a turn whose plan is already shown
            invocations = [_invocation(call, n) for n, call in enumerate(message.tool_calls, 1)]
            reply = _text(message.content)
            text = render_reply(reply, invocations, sizes, k, default_medium(inp)) if invocations else reply
            turns.append(Turn("assistant", text))
            answered = True
        elif isinstance(message, ToolMessage):
            call, content = _call_id(message.tool_call_id), _text(message.content)
            line = content if content.startswith(f"{call} ") else f"{call} {message.name or 'tool'}: {content}"
            if turns[-1].role == "tool":
                turns[-1] = Turn("tool", turns[-1].text + "\n" + line)
            else:
                turns.append(Turn("tool", line))
    return turns


def _user_turn(message: HumanMessage, kinds: dict[str, str], sizes: dict[str, tuple[int, int]]) -> Turn:
    extra = message.additional_kwargs
    media = tuple(Shown(i, "video" if kinds.get(i) == "video" else "image") for i in extra.get("media") or ()
                  if kinds.get(i) in ("image", "video"))
    region = None
    where = extra.get("region_media")
    if extra.get("region") and where in sizes:
        region = DrawnRegion(where, Region(**extra["region"]), sizes[where])
    return Turn("user", _NOTES.sub("", _text(message.content)).strip(), media, region)


def _invocation(call: dict[str, Any], position: int) -> Invocation:
    """A tool call of the graph's plan message back as the invocation the model wrote."""
    args = {k: v for k, v in (call.get("args") or {}).items() if k != "id"}
    inv_id = _call_id(call.get("id") or "")
    return Invocation(id=inv_id if is_invocation_id(inv_id) else f"c{position}", module=call["name"], **args)


def _call_id(key: str | None) -> str:
    """``3.0.c1`` (turn, round, invocation) -> ``c1``."""
    return str(key or "").rsplit(".", 1)[-1]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
