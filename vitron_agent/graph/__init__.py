"""The LangGraph turn: state, nodes, validation and the graph factory."""

from .builder import build_graph
from .context import AgentContext
from .state import AgentState
from .validate import Problem, ValidatedPlan, check_region_bounds, validate_plan

__all__ = ["AgentContext", "AgentState", "Problem", "ValidatedPlan", "build_graph", "check_region_bounds", "validate_plan"]
