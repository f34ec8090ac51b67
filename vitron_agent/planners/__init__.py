"""Planners: one protocol, several implementations (rules, the small learned lite planner, scripted, any LangChain
chat model, VITRON)."""

from .base import CallInfo, MediaInfo, Planner, PlannerInput, PlannerOutput
from .chat_model import ChatModelPlanner
from .lite import LitePlanner
from .rules import RuleBasedPlanner
from .scripted import ScriptedPlanner
from .vitron import VitronPlanner

__all__ = [
    "CallInfo",
    "ChatModelPlanner",
    "LitePlanner",
    "MediaInfo",
    "Planner",
    "PlannerInput",
    "PlannerOutput",
    "RuleBasedPlanner",
    "ScriptedPlanner",
    "VitronPlanner",
]
