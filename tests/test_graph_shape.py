"""The graph's shape is pinned: a change to it shows up as a diff of this snapshot."""

from __future__ import annotations

from pathlib import Path

from vitron_agent.graph import build_graph

SNAPSHOT = Path(__file__).parent / "snapshots" / "graph.mmd"


def test_graph_matches_its_mermaid_snapshot():
    drawn = build_graph().get_graph().draw_mermaid()
    assert drawn == SNAPSHOT.read_text(), "graph changed; if intended, update tests/snapshots/graph.mmd"


def test_adding_an_expert_leaves_the_graph_unchanged(synthetic_registry):
    from .synthetic_experts import CrashingExpert

    before = build_graph().get_graph().draw_mermaid()
    synthetic_registry.register(CrashingExpert)
    assert build_graph().get_graph().draw_mermaid() == before
