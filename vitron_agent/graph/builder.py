"""The turn as a LangGraph graph; this factory reads like the diagram in DESIGN.md section 3."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from .context import AgentContext
from .dispatch_nodes import route_schedule, run_expert, schedule, validate
from .state import AgentState
from .turn_nodes import ingest, plan, respond

__all__ = ["build_graph"]


def build_graph(checkpointer: Any = None, *, name: str = "vitron-agent") -> Any:
    """Compile the turn graph. Run it with ``context=AgentContext(...)`` and a ``thread_id``.

    ``checkpointer``: any LangGraph checkpointer (the agent uses SQLite in its state directory).
    Adding an expert leaves this graph unchanged.
    """
    builder = StateGraph(AgentState, context_schema=AgentContext)
    builder.add_node("ingest", ingest)
    builder.add_node("plan", plan)
    builder.add_node("validate", validate)
    builder.add_node("schedule", schedule)
    builder.add_node("run_expert", run_expert)
    builder.add_node("respond", respond)

    builder.add_edge(START, "ingest")
    builder.add_edge("ingest", "plan")
    builder.add_edge("plan", "validate")
    builder.add_edge("validate", "schedule")
    builder.add_conditional_edges("schedule", route_schedule, ["run_expert", "plan", "respond"])
    builder.add_edge("run_expert", "schedule")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer, name=name)
