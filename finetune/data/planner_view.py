"""A generated dialogue as the planner sees it at inference, and as training text.

``planner_input`` rebuilds the graph's messages for request ``n`` (human messages with media and
region, earlier plans as tool calls, tool results) from the graph's own call records, so ``dialogue_examples`` renders training prompts
with the very code ``VitronPlanner`` uses (``planners.vitron_prompt.dialogue_turns`` and
``model.dialogue``), and the target with ``render_reply``, the protocol renderer plus signal tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from vitron_agent.errors import BadInputError
from vitron_agent.model.dialogue import Turn, render_dialogue, render_reply
from vitron_agent.model.tokens import END
from vitron_agent.protocol.invocation import AUTO_MODULE, MODULE_LETTERS, Invocation

from .dialogues import Dialogue, Medium
from .examples import Example, PixelSource
from .vocab import EXPERT_FOR

if TYPE_CHECKING:
    from vitron_agent.experts.base import ExpertSpec
    from vitron_agent.planners.base import PlannerInput

__all__ = ["SHORT_SYSTEM", "planner_input", "dialogue_examples", "catalogue"]

SHORT_SYSTEM = "You are VITRON, a vision assistant."
"""The system turn when prompts are rendered with ``system="short"``."""


def catalogue(names: Iterable[str] = ()) -> dict[str, ExpertSpec]:
    """Specs of the built-in experts (all, or those named), as the planner's system prompt lists them."""
    from vitron_agent.experts.registry import ExpertRegistry

    specs = ExpertRegistry.default(entry_points_too=False).specs()
    wanted = list(names)
    missing = [n for n in wanted if n not in specs]
    if missing:
        raise BadInputError(f"unknown experts {missing}; built in: {', '.join(sorted(specs))}")
    return {n: specs[n] for n in wanted} if wanted else specs


def _expert(inv: Invocation) -> str:
    """The expert the graph records for ``inv``: its module, or for ``auto``/letters the usual pick."""
    return inv.module if inv.module not in (AUTO_MODULE, *MODULE_LETTERS) else EXPERT_FOR[inv.task]


def planner_input(dialogue: Dialogue, n: int, specs: dict[str, ExpertSpec] | None = None) -> PlannerInput:
    """The ``PlannerInput`` of request ``n`` (0-based): the messages as the graph keeps them."""
    from langchain_core.messages import AIMessage, HumanMessage

    from vitron_agent.graph.calls import Call, call_key
    from vitron_agent.graph.turn_nodes import call_info
    from vitron_agent.planners.base import PlannerInput

    messages, history = [], []
    for turn, ex in enumerate(dialogue.exchanges[: n + 1], 1):
        region = ex.region.model_dump(mode="json", exclude_none=True) if ex.region is not None else None
        messages.append(HumanMessage(content=ex.user, additional_kwargs={
            "media": list(ex.media), "region": region, "region_media": ex.region_media}))
        if turn == n + 1:
            break
        calls = [Call(key=call_key(turn, 0, inv.id), turn=turn, round=0, invocation=inv, expert=_expert(inv))
                 for inv in ex.invocations]
        messages.append(AIMessage(content=ex.reply, tool_calls=[c.tool_call() for c in calls], id=f"plan-{turn}-0"))
        for call, result in zip(calls, ex.results):
            output = result.rpartition("outputs: ")[2].split(" ")[0] if "outputs: " in result else None
            done = call.queue().succeed([output] if output else [], output, result, 0.0)
            messages.append(done.tool_message())
            history.append(call_info(done))
    current = dialogue.exchanges[n]
    return PlannerInput(text=current.user, messages=messages, media=dialogue.media_before(n), new_media=list(current.media),
                        region=current.region, region_media=current.region_media, history=history,
                        catalogue=dict(specs or {}))


def _pixels_of(medium: Medium) -> PixelSource:
    if medium.path is None:
        raise BadInputError(f"{medium.id} ({medium.kind}) has no pixels: give scenes with image files or frame "
                            "folders to train the VITRON model on dialogues")
    return medium.path


def dialogue_examples(dialogue: Dialogue, k: int, specs: dict[str, ExpertSpec] | None = None,
                      system: str = "planner", pixels: Callable[[Medium], PixelSource] = _pixels_of) -> list[Example]:
    """One example per request: the prompt as ``VitronPlanner`` renders it (untrained), then the
    answer in the tag form with ``k`` signal tokens per signal run, and ``<|end|>`` (trained).
    ``system``: ``planner`` (the planner's own system turn), ``short`` or ``none``."""
    from vitron_agent.planners.vitron_prompt import default_medium, dialogue_turns

    examples = []
    for n, ex in enumerate(dialogue.exchanges):
        inp = planner_input(dialogue, n, specs)
        turns = dialogue_turns(inp, k, max_user_turns=len(dialogue.exchanges))
        if system == "short":
            turns[0] = Turn("system", SHORT_SYSTEM)
        elif system == "none":
            turns = turns[1:]
        prompt = render_dialogue(turns)
        target = render_reply(ex.reply, ex.invocations, dialogue.sizes(), k, default_medium(inp))
        shown = {m.id for m in prompt.media}
        examples.append(Example(segments=[(prompt.text, False), (target + END, True)], media=prompt.media,
                                regions=prompt.regions,
                                pixels={i: pixels(dialogue.media[i]) for i in shown}))
    return examples
