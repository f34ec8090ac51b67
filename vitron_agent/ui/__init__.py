"""The web UI (``vitron-agent ui``): a Gradio app over a ``VitronAgent``.

    from vitron_agent import VitronAgent
    from vitron_agent.ui import build_app, launch, web_config
    agent = VitronAgent(web_config())
    launch(build_app(agent), agent)   # http://127.0.0.1:7860

Gradio is imported on first use of these names (``pip install "vitron-agent[ui]"``).
"""

from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {name: "vitron_agent.ui.app" for name in ("build_app", "launch", "serve", "web_config", "upload_folder")}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)
