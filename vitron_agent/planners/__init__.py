"""Planners: one protocol, several implementations (rules, scripted, any LangChain chat model)."""

from .base import CallInfo, MediaInfo, Planner, PlannerInput, PlannerOutput
from .chat_model import ChatModelPlanner
from .rules import RuleBasedPlanner
from .scripted import ScriptedPlanner

__all__ = [
    "CallInfo",
    "ChatModelPlanner",
    "MediaInfo",
    "Planner",
    "PlannerInput",
    "PlannerOutput",
    "RuleBasedPlanner",
    "ScriptedPlanner",
]
