"""The VITRON MLLM on transformers: vision tower, projector, region encoder, causal LM, signal heads.

Names are imported on first use, so importing this package loads neither torch nor transformers:

    from vitron_agent.model import load_vitron, build_tiny_vitron
    model, processor = load_vitron(build_tiny_vitron("tiny-vitron"))
"""

from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "VitronConfig": "vitron_agent.model.config",
    "DEFAULT_EXPERT_HEADS": "vitron_agent.model.config",
    "VitronModel": "vitron_agent.model.modeling",
    "VitronProcessor": "vitron_agent.model.processor",
    "sample_frames": "vitron_agent.model.processor",
    "GenerationSettings": "vitron_agent.model.generation",
    "Generated": "vitron_agent.model.generation",
    "generate": "vitron_agent.model.generation",
    "assemble": "vitron_agent.model.loading",
    "from_base": "vitron_agent.model.loading",
    "load_vitron": "vitron_agent.model.loading",
    "save_vitron": "vitron_agent.model.loading",
    "add_lora": "vitron_agent.model.lora",
    "merge_lora": "vitron_agent.model.lora",
    "build_tiny_vitron": "vitron_agent.model.tiny",
    "TINY_EXPERT_HEADS": "vitron_agent.model.tiny",
    "Prompt": "vitron_agent.model.dialogue",
    "Turn": "vitron_agent.model.dialogue",
    "Shown": "vitron_agent.model.dialogue",
    "DrawnRegion": "vitron_agent.model.dialogue",
    "render_dialogue": "vitron_agent.model.dialogue",
    "render_reply": "vitron_agent.model.dialogue",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)
