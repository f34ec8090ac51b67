"""Planners: one protocol, several implementations (rules, scripted, any LangChain chat model, VITRON)."""

from .base import CallInfo, MediaInfo, Planner, PlannerInput, PlannerOutput
from .chat_model import ChatModelPlanner
from .rules import RuleBasedPlanner
from .scripted import ScriptedPlanner
from .vitron import VitronPlanner

__all__ = [
    "CallInfo",
    "ChatModelPlanner",
    "MediaInfo",
    "Planner",
    "PlannerInput",
    "PlannerOutput",
    "RuleBasedPlanner",
    "ScriptedPlanner",
    "VitronPlanner",
]
