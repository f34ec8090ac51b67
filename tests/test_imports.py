"""``import vitron_agent`` stays light: no model library is imported until an expert needs it."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "diffusers", "ultralytics", "segment_anything", "cv2")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_vitron_agent_imports_no_model_library():
    loaded = _modules_after("import vitron_agent")
    assert not [m for m in HEAVY if m in loaded]


def test_building_an_agent_and_listing_experts_imports_no_model_library(tmp_path):
    code = (
        "from vitron_agent import VitronAgent, AgentConfig\n"
        f"agent = VitronAgent(AgentConfig(state_dir={str(tmp_path)!r}))\n"
        "[agent.registry.availability(n) for n in agent.registry.names()]\n"
        "import vitron_agent.tools, vitron_agent.finetune, vitron_agent.prompts"
    )
    loaded = _modules_after(code)
    assert not [m for m in HEAVY if m in loaded]


def test_public_api_names_resolve():
    import vitron_agent

    for name in vitron_agent.__all__:
        assert getattr(vitron_agent, name) is not None
    assert json.dumps(vitron_agent.__version__)
