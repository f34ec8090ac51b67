"""Every registered expert as a LangChain ``BaseTool`` (``content_and_artifact``), for host agents.

The tools act on one thread of a ``VitronAgent``: each call is a turn of its graph with one explicit
invocation, so media ids resolve in that thread, outputs are stored there, and everything the graph
does for the planner's calls (validation, inserted steps, budgets, approvals) happens for tool calls
too. Signal embeddings arrive through ``InjectedState`` (``state["signals"]``, keyed by tool call id),
invisible to the model's view of the tool schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from langchain_core.tools import BaseTool, InjectedToolCallId, ToolException
from langgraph.prebuilt import InjectedState
from pydantic import ConfigDict, Field, create_model

from ..graph.calls import read_media
from ..graph.validate import default_input
from ..protocol.tasks import task_spec
from .tool_schema import args_schema, describe_expert, invocation_from_tool

if TYPE_CHECKING:
    from ..agent import VitronAgent

__all__ = ["ExpertTool", "expert_tools"]


class ExpertTool(BaseTool):
    """One expert as a tool. A call runs as a turn of the agent's graph with this one explicit invocation, so it
    is validated, gets its preconditions (a box is segmented before an object edit), budgets, approvals and
    output ids exactly as the planner's calls do. Bad arguments raise ``ToolException`` (the model can fix
    them); an expert crash comes back as an error text too, saying it was the expert.

    With ``human_in_the_loop``, a turn that pauses for approval or a region pauses the host graph in turn
    (LangGraph's ``interrupt``; the host needs a checkpointer to resume) and continues with the host's answer;
    called outside a graph, the question comes back as the tool's error, with how to answer it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    response_format: str = "content_and_artifact"
    handle_tool_error: bool = True
    handle_validation_error: Any = Field(default=lambda error: _explain(error), exclude=True)
    agent: Any = Field(exclude=True)
    thread: str
    expert: str

    def _run(self, state: dict[str, Any] | None = None, tool_call_id: str | None = None,
             **arguments: Any) -> tuple[str, list[dict[str, Any]]]:
        from ..errors import VitronError

        signal = ((state or {}).get("signals") or {}).get(tool_call_id) if tool_call_id else None
        spec = self.agent.registry.spec(self.expert)
        try:
            inv = invocation_from_tool(spec, {k: v for k, v in arguments.items() if v is not None}, signal=signal)
        except Exception as exc:
            raise ToolException(f"bad arguments for {self.expert}: {exc}") from None
        agent = self.agent
        if not inv.inputs and task_spec(inv.task).input_kind is not None:
            # the medium it acts on is the one the thread had when the call started: calls a model makes
            # together run at once, and a generation finished first must not become this call's input
            pinned = default_input(inv, read_media(agent.state(self.thread)))
            inv = inv.model_copy(update={"inputs": [pinned]}) if pinned is not None else inv
        try:
            with agent.context.thread_lock(self.thread):  # one turn of this thread at a time
                result = agent.invoke(f"[tool call {tool_call_id or self.expert}]", invocations=[inv],
                                      thread=self.thread)
                while result.interrupt is not None:
                    result = agent.resume(self.thread, _ask_host(result.interrupt, agent, self.thread))
        except VitronError as exc:
            raise ToolException(str(exc)) from None
        asked = [call for call in result.calls if not call.inserted]
        failed = [call for call in result.calls if call.status != "done"]
        if failed or not asked:
            messages = [call.error.message for call in failed if call.error is not None]
            messages += [e["message"] for e in result.errors]
            expert_failed = any(c.error is not None and c.error.category == "expert_failed" for c in failed)
            prefix = f"Expert {self.expert} failed: " if expert_failed else ""
            raise ToolException(prefix + "; ".join(messages or ["nothing was run"]))
        artifacts = [{"id": a.id, "kind": a.kind, "path": a.path, "width": a.width, "height": a.height}
                     for a in result.artifacts]
        return "\n".join(call.summary for call in result.calls), artifacts


def _ask_host(question: dict[str, Any], agent: Any, thread: str) -> Any:
    """Pause the host graph with the turn's question and return the host's answer; outside a graph (or one
    without a checkpointer) the question becomes the tool's error, with how to answer it."""
    from langgraph.types import interrupt

    try:
        return interrupt(question)
    except (RuntimeError, KeyError):  # not inside a graph's task (GraphInterrupt, which pauses one, passes on)
        raise ToolException(f"paused for the user: {question}. Answer with agent.resume({thread!r}, value) "
                            "(True to approve, or {'box': [x1, y1, x2, y2]}), or run the tools in a LangGraph "
                            "graph with a checkpointer, which pauses for the answer") from None


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
