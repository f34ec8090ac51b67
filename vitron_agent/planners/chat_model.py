"""A planner over any LangChain chat model with tool calling: invocations come from tool calls."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, SystemMessage, message_chunk_to_message
from pydantic import ValidationError

from ..errors import BadInputError, UnavailableError
from ..experts.base import ExpertSpec
from ..experts.tool_schema import args_schema, describe_expert, invocation_from_tool
from ..protocol.invocation import Invocation
from ..protocol.text_regions import one_line
from .base import PlannerInput, PlannerOutput
from .sight import SightBudget, with_pixels

__all__ = ["ChatModelPlanner", "render_system_prompt"]


def render_system_prompt(inp: PlannerInput) -> str:
    """The system prompt with this conversation's media and the installed experts' catalogue."""
    from vitron_agent.prompts import load_prompt

    media = "\n".join(f"- {m.describe()}" for m in inp.media) or "- none yet"
    if inp.region is not None:
        media += f"\n- the user drew a region on {inp.region_media}: {inp.region.model_dump(exclude_none=True)}"
    experts = "\n".join(f"- {name}: {describe_expert(spec)}" for name, spec in sorted(inp.catalogue.items()))
    prompt = load_prompt("system").replace("{media}", media).replace("{experts}", experts or "- none installed")
    if inp.feedback:
        prompt += "\n\n## Your last plan was rejected\n" + "\n".join(f"- {f}" for f in inp.feedback)
    return prompt


class ChatModelPlanner:
    """Plans with a LangChain chat model: one tool per installed expert, calls become invocations.

    A model that can see (``sees``, the default) is sent the pixels as standard image content blocks within
    ``budget``: the user's images and sampled video frames (a drawn region outlined), and after tools ran what
    they made (mask overlays, boxes drawn, edited images), so it answers about the pixels and checks its own
    results. A text-only model gets the notes alone (``sees=False``); a provider that refuses images is told so.
    After tools ran, the model is called again with their results (``needs_followup``), so it can
    answer from them or call more tools, as in a ReAct loop bounded by the agent's plan rounds.
    With someone listening (``PlannerInput.on_token``) the model is called through ``stream``, and its
    text goes to the listener chunk by chunk (a model that cannot stream gives one chunk, the whole text).
    """

    can_revise = True

    def __init__(self, model: Any, *, name: str | None = None, sees: bool = True,
                 budget: SightBudget | None = None) -> None:
        self.model = model
        self.name = name or f"chat:{type(model).__name__}"
        self.sees = sees
        self.budget = budget or SightBudget()
        self._bound: tuple[tuple[str, ...], Any] | None = None

    def _with_tools(self, catalogue: dict[str, ExpertSpec]) -> Any:
        names = tuple(sorted(catalogue))
        if self._bound is None or self._bound[0] != names:
            tools = [
                {"type": "function", "function": {
                    "name": name, "description": describe_expert(spec),
                    "parameters": args_schema(spec).model_json_schema(),
                }}
                for name, spec in sorted(catalogue.items())
            ]
            self._bound = (names, self.model.bind_tools(tools) if tools else self.model)
        return self._bound[1]

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        messages: list[BaseMessage] = [SystemMessage(content=render_system_prompt(inp)), *inp.messages]
        if self.sees:
            messages = with_pixels(messages, inp, self.budget)
        model = self._with_tools(inp.catalogue)
        streams = inp.on_token is not None and hasattr(model, "stream")  # duck-typed models may only invoke
        try:
            answer = _streamed(model, messages, inp.on_token) if streams else model.invoke(messages)
        except Exception as exc:
            if self.sees and _refuses_images(exc):
                raise UnavailableError(f"the chat model refused image input ({one_line(str(exc), 160)}); for a "
                                       "text-only model use ChatModelPlanner(model, sees=False)") from exc
            raise
        if not isinstance(answer, AIMessage):
            raise BadInputError(f"the chat model returned {type(answer).__name__}, not an AIMessage")
        invocations = []
        for position, call in enumerate(answer.tool_calls, start=1):
            args = dict(call.get("args") or {})
            spec = inp.catalogue.get(call["name"])
            try:
                if spec is not None:  # read against the schema this tool was offered with
                    invocations.append(invocation_from_tool(spec, args, invocation_id=f"c{position}"))
                else:  # a tool it was not offered: the validator says which exist
                    invocations.append(Invocation(id=f"c{position}", module=call["name"], **args))
            except (ValidationError, TypeError, ValueError) as exc:
                raise BadInputError(f"tool call {one_line(str(call['name']), 60)} #{position} has bad arguments: "
                                    f"{_short(exc)}") from None
        text = answer.content if isinstance(answer.content, str) else " ".join(
            part.get("text", "") for part in answer.content if isinstance(part, dict))
        return PlannerOutput(reply=text, invocations=invocations, needs_followup=bool(invocations))


def _streamed(model: Any, messages: list[BaseMessage], on_token: Any) -> Any:
    """``model.stream(messages)``, each chunk's text sent to ``on_token``; the chunks joined into one message
    (tool-call chunks become ``tool_calls``)."""
    joined: Any = None
    for chunk in model.stream(messages):
        if isinstance(chunk, BaseMessage) and chunk.text:
            on_token(chunk.text)
        joined = chunk if joined is None else joined + chunk
    return message_chunk_to_message(joined) if isinstance(joined, AIMessageChunk) else joined


def _refuses_images(exc: Exception) -> bool:
    """Whether a provider's error says it takes no images (the wording differs by provider)."""
    text = str(exc).lower()
    return any(word in text for word in ("image", "vision", "multimodal", "multi-modal", "content type",
                                         "image_url"))


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
    return str(exc)
