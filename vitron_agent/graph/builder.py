"""The turn as a LangGraph graph; this factory reads like the diagram in DESIGN.md section 3."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from langgraph.graph import END, START, StateGraph

from .context import AgentContext
from .dispatch_nodes import route_after_run, route_schedule, run_expert, schedule, validate
from .state import AgentState, TurnInput, TurnOutput
from .turn_nodes import ingest, plan, respond, route_ingest

__all__ = ["build_graph"]


def build_graph(checkpointer: Any = None, *, name: str = "vitron-agent", context: AgentContext | None = None,
                whole_state: bool = False) -> Any:
    """Compile the turn graph.

    Input: LangChain messages (``{"messages": [HumanMessage(content=[text, image or video blocks])]}``), so it
    runs as a node of any ``MessagesState`` graph, or the agent's own ``turn_input``. Output: ``messages``.
    ``checkpointer``: any LangGraph checkpointer; ``True`` as a subgraph that keeps its threads in the parent's.
    ``context``: the ``AgentContext`` (registry, pool, planner, config) used when a run passes none.
    ``whole_state``: take and return the whole state instead (a dry run seeded with a thread's state).
    Adding an expert leaves this graph unchanged.
    """
    bind: Callable[[Any], Any] = (lambda node: partial(node, bound=context)) if context is not None else (lambda n: n)

    def route(path: Callable[..., Any]) -> Callable[..., Any]:
        """``path`` with ``context`` bound and its ``state: AgentState`` annotation kept: LangGraph reads the
        state a routing function gets from that annotation (a bare ``partial`` hides it, and after
        ``run_expert`` the node's own input, one call's payload, would be read instead)."""
        @wraps(path)
        def routed(state: AgentState, runtime: Any) -> Any:
            return path(state, runtime, bound=context)
        return routed

    io = {} if whole_state else {"input_schema": TurnInput, "output_schema": TurnOutput}
    builder = StateGraph(AgentState, context_schema=AgentContext, **io)
    builder.add_node("ingest", bind(ingest))
    builder.add_node("plan", bind(plan))
    builder.add_node("validate", bind(validate))
    builder.add_node("schedule", bind(schedule))
    builder.add_node("run_expert", bind(run_expert))
    builder.add_node("respond", bind(respond))

    builder.add_edge(START, "ingest")
    builder.add_conditional_edges("ingest", route_ingest, ["plan", "validate"])  # invocations given: no planning
    builder.add_edge("plan", "validate")
    builder.add_edge("validate", "schedule")
    builder.add_conditional_edges("schedule", route(route_schedule), ["run_expert", "plan", "respond"])
    builder.add_conditional_edges("run_expert", route(route_after_run), ["schedule", "plan", "respond"])
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer, name=name)
