"""The process ``test_crash_resume`` kills: two turns on one thread, the second stuck inside an expert.

Run as ``python -m tests.reliability.crash_worker STATE_DIR THREAD FIRST_IMAGE SECOND_IMAGE REPORT`` from the
repository root, with ``VITRON_TEST_READY`` naming a file to create once the expert of the second turn runs.
Turn 1 goes through a planner that also emits signal embeddings; the report (JSON) records what it made.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from vitron_agent import AgentConfig, VitronAgent
from vitron_agent.experts.base import ExpertCall, ExpertResult, ExpertSpec
from vitron_agent.experts.registry import ExpertRegistry
from vitron_agent.planners.base import PlannerOutput
from vitron_agent.planners.scripted import ScriptedPlanner
from vitron_agent.protocol import Invocation

from ..synthetic_experts import BoxMaskExpert, SignalMaskExpert

FIRST_BOX = (4, 6, 20, 30)
SECOND_BOX = (10, 2, 40, 22)
FEATURES = np.linspace(-1, 1, 4 * 16, dtype=np.float32).reshape(4, 16)
"""The signal embeddings of turn 1: (k=4, 16) float32."""


class SlowMaskExpert(BoxMaskExpert):
    """Box masks; with ``VITRON_TEST_READY`` set, it announces itself and then hangs (until killed)."""

    spec = ExpertSpec(name="slow_mask", tasks=("segment",), description="Rectangle masks, slowly.",
                      region_kinds=("box",), region_required=True, outputs=("mask",))

    def run(self, call: ExpertCall) -> ExpertResult:
        ready = os.environ.get("VITRON_TEST_READY")
        if ready:
            Path(ready).write_text(str(os.getpid()))
            time.sleep(300)
        return super().run(call)


def registry() -> ExpertRegistry:
    registry = ExpertRegistry()
    registry.register(BoxMaskExpert)
    registry.register(SignalMaskExpert)
    registry.register(SlowMaskExpert)
    return registry


def second_turn() -> list[dict]:
    """The turn that is interrupted: the slow expert on the image attached with it."""
    return [{"module": "slow_mask", "task": "segment", "region": {"box": list(SECOND_BOX)}, "inputs": ["u1"]}]


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main(state_dir: str, thread: str, first_image: str, second_image: str, report: str) -> None:
    planner = ScriptedPlanner([PlannerOutput(
        reply="Segmenting the box.",
        invocations=[Invocation(module="signal_mask", task="segment", region={"box": FIRST_BOX})],
        signals={"c1": FEATURES},
    )])
    agent = VitronAgent(AgentConfig(state_dir=state_dir), registry=registry(), planner=planner)
    first = agent.invoke("segment the box", images=[first_image], thread=thread)
    state = agent.state(thread)
    Path(report).write_text(json.dumps({
        "errors": first.errors,
        "artifacts": {a.id: {"path": a.path, "sha256": _sha(a.path), "kind": a.kind} for a in first.artifacts},
        "signal": first.invocations[0].signal,
        "messages": [[m.type, m.content] for m in state["messages"]],
        "media": state["media"],
    }))
    agent.invoke("now this one, slowly", images=[second_image], thread=thread, invocations=second_turn())
    sys.exit("the slow expert returned: VITRON_TEST_READY was not set")


if __name__ == "__main__":
    main(*sys.argv[1:6])
