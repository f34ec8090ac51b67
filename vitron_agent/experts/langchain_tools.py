"""Every registered expert as a LangChain ``BaseTool`` (``content_and_artifact``), for host agents.

The tools act on one thread of a ``VitronAgent``: media ids resolve in that thread, outputs are
stored there, and signal embeddings arrive through ``InjectedState`` (``state["signals"]``, keyed by
tool call id), invisible to the model's view of the tool schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from langchain_core.tools import BaseTool, InjectedToolCallId, ToolException
from langgraph.prebuilt import InjectedState
from pydantic import ConfigDict, Field, create_model

from .tool_schema import args_schema, describe_expert

if TYPE_CHECKING:
    from ..agent import VitronAgent

__all__ = ["ExpertTool", "expert_tools"]


class ExpertTool(BaseTool):
    """One expert as a tool. Bad arguments raise ``ToolException`` (the model can fix them);
    an expert crash comes back as an error text too, saying it was the expert."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    response_format: str = "content_and_artifact"
    handle_tool_error: bool = True
    handle_validation_error: Any = Field(default=lambda error: _explain(error), exclude=True)
    agent: Any = Field(exclude=True)
    thread: str
    expert: str

    def _run(self, task: str, command: str = "", inputs: list[str] | None = None, args: dict[str, Any] | None = None,
             region: Any = None, state: dict[str, Any] | None = None, tool_call_id: str | None = None,
             **_: Any) -> tuple[str, list[dict[str, Any]]]:
        from ..graph.execute import execute
        from ..graph.validate import validate_plan
        from ..protocol.invocation import Invocation
        from ..stores.media import MediaRef

        signal = ((state or {}).get("signals") or {}).get(tool_call_id) if tool_call_id else None
        try:
            inv = Invocation(id="c1", module=self.expert, task=task, command=command, inputs=inputs or [],
                             args=args or {}, region=region, signal=signal)
        except Exception as exc:
            raise ToolException(f"bad arguments for {self.expert}: {exc}") from None
        agent = self.agent
        store, signals = agent.context.stores(self.thread)
        with agent.context.thread_lock(self.thread):  # shared by every tool of this thread
            values = agent.state(self.thread)
            media = {k: MediaRef(**v) for k, v in values.get("media", {}).items()}
            checked = validate_plan([inv], media, agent.registry, signals)
            if checked.problems:
                raise ToolException("; ".join(p.message for p in checked.problems))
            inv = checked.invocations[-1]
            output_id = f"o{values.get('next_output', 1)}"
            agent.save_media(self.thread, {}, next_output=values.get("next_output", 1) + 1)
        outcome = execute(inv, self.expert, output_id, media, {}, agent.pool, store, signals,
                          timeout=agent.config.expert_timeout)
        if outcome.error is not None:
            raise ToolException(f"Expert {self.expert} failed: {outcome.error['message']}")
        with agent.context.thread_lock(self.thread):  # update_state reads, then writes
            agent.save_media(self.thread, outcome.media)
        artifacts = [
            {"id": ref.id, "kind": ref.kind, "path": str(store.path(ref)), "width": ref.width, "height": ref.height}
            for ref in outcome.media.values()
        ]
        return outcome.summary, artifacts


def _explain(error: Exception) -> str:
    """A validation error as one line the model can act on: which argument, what is wrong."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        parts = [f"{'.'.join(map(str, e.get('loc', ())))}: {str(e.get('msg', '')).removeprefix('Value error, ')}"
                 for e in errors()[:3]]
        return "Error: bad arguments: " + "; ".join(parts)
    return f"Error: bad arguments: {error}"


def expert_tools(agent: VitronAgent, thread: str, names: list[str] | None = None) -> list[BaseTool]:
    """Tools for the available experts (or ``names``) acting on ``thread`` of ``agent``."""
    registry = agent.registry
    chosen = names or [n for n in registry.names() if registry.availability(n).ok]
    tools: list[BaseTool] = []
    for name in chosen:
        spec = registry.spec(name)
        schema = create_model(
            f"{args_schema(spec).__name__}WithState",
            __base__=args_schema(spec),
            state=(Annotated[dict[str, Any] | None, InjectedState], None),
            tool_call_id=(Annotated[str | None, InjectedToolCallId], None),
        )
        tools.append(ExpertTool(name=name, description=describe_expert(spec), args_schema=schema,
                                agent=agent, thread=thread, expert=name))
    return tools
