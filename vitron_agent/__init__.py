"""vitron-agent: one vision LLM as an agent that understands, grounds, segments, tracks, generates and edits
images and videos (VITRON, NeurIPS 2024, as a LangGraph tool-calling orchestrator).

    from vitron_agent import VitronAgent
    agent = VitronAgent()
    result = agent.invoke("find the faces", images=["photo.jpg"])

Names are imported on first use (PEP 562), so ``import vitron_agent`` loads no model library.
"""

from __future__ import annotations

from .lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "VitronAgent": "vitron_agent.agent",
    "TurnResult": "vitron_agent.agent",
    "Artifact": "vitron_agent.agent",
    "AgentConfig": "vitron_agent.config",
    "build_graph": "vitron_agent.graph.builder",
    "AgentContext": "vitron_agent.graph.context",
    "Invocation": "vitron_agent.protocol.invocation",
    "Region": "vitron_agent.protocol.invocation",
    "Point": "vitron_agent.protocol.invocation",
    "TASKS": "vitron_agent.protocol.invocation",
    "EDIT_OPS": "vitron_agent.protocol.invocation",
    "Expert": "vitron_agent.experts.base",
    "ExpertSpec": "vitron_agent.experts.base",
    "ExpertCall": "vitron_agent.experts.base",
    "ExpertResult": "vitron_agent.experts.base",
    "Detection": "vitron_agent.experts.base",
    "ExpertRegistry": "vitron_agent.experts.registry",
    "ModelPool": "vitron_agent.experts.pool",
    "RuleBasedPlanner": "vitron_agent.planners.rules",
    "LitePlanner": "vitron_agent.planners.lite",
    "ScriptedPlanner": "vitron_agent.planners.scripted",
    "ChatModelPlanner": "vitron_agent.planners.chat_model",
    "VitronPlanner": "vitron_agent.planners.vitron",
    "VitronChatModel": "vitron_agent.planners.vitron_chat",
    "PlannerInput": "vitron_agent.planners.base",
    "PlannerOutput": "vitron_agent.planners.base",
    "expert_tools": "vitron_agent.experts.langchain_tools",
    "VitronError": "vitron_agent.errors",
    "BadInputError": "vitron_agent.errors",
    "UnavailableError": "vitron_agent.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)
