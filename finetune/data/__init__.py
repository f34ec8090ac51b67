"""Data for fine-tuning: readers of standard local formats, the invocation-dialogue generator, and
``Example``, the one shape every stage trains on. Nothing here imports torch."""

from __future__ import annotations

from vitron_agent.lazy import lazy_exports

_EXPORTS = {
    "Box": "vitron_agent.finetune.data.dialogues",
    "Medium": "vitron_agent.finetune.data.dialogues",
    "SceneObject": "vitron_agent.finetune.data.dialogues",
    "Scene": "vitron_agent.finetune.data.dialogues",
    "Exchange": "vitron_agent.finetune.data.dialogues",
    "Dialogue": "vitron_agent.finetune.data.dialogues",
    "DialogueBuilder": "vitron_agent.finetune.data.dialogues",
    "RECIPES": "vitron_agent.finetune.data.recipes",
    "SIGNAL_MODULES": "vitron_agent.finetune.data.generator",
    "generate_dialogues": "vitron_agent.finetune.data.generator",
    "coverage": "vitron_agent.finetune.data.generator",
    "planner_input": "vitron_agent.finetune.data.planner_view",
    "dialogue_examples": "vitron_agent.finetune.data.planner_view",
    "Example": "vitron_agent.finetune.data.examples",
    "SignalTarget": "vitron_agent.finetune.data.examples",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)
