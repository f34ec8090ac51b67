"""The registry: built-ins by import string, third-party experts through the entry-point group."""

from __future__ import annotations

import sys
import textwrap

import pytest

from vitron_agent.errors import UnavailableError
from vitron_agent.experts.base import ExpertSpec
from vitron_agent.experts.registry import ENTRY_POINT_GROUP, ExpertRegistry


def test_builtins_are_listed_without_importing_them():
    registry = ExpertRegistry.default()
    assert {"grabcut", "opencv_detect"} <= set(registry.names())
    assert registry.best_for("segment") == "grabcut"
    assert registry.best_for("ground", phrase="the faces") == "opencv_detect"


def test_a_plugin_declared_under_the_entry_point_group_is_found(tmp_path, monkeypatch):
    dist = tmp_path / "vitron_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vitron-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nplugin_mask = plugin_mask:PluginMask\n")
    (tmp_path / "plugin_mask.py").write_text(textwrap.dedent('''
        from tests.synthetic_experts import BoxMaskExpert
        from vitron_agent.experts.base import ExpertSpec

        class PluginMask(BoxMaskExpert):
            spec = ExpertSpec(name="plugin_mask", tasks=("segment",), description="from a plug-in",
                              region_kinds=("box",), region_required=True, outputs=("mask",), quality=50)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = ExpertRegistry.default()
    assert "plugin_mask" in registry.names()
    assert registry.best_for("segment") == "plugin_mask"
    sys.modules.pop("plugin_mask", None)


def test_a_broken_plugin_is_skipped_and_reported(tmp_path, monkeypatch):
    registry = ExpertRegistry()
    registry.register("no_such_module_anywhere:Expert", name="broken")
    assert registry.specs() == {}
    assert not registry.availability("broken").ok
    with pytest.raises(UnavailableError, match="no expert for segment is installed"):
        registry.best_for("segment")


def test_spec_is_checked_when_declared():
    with pytest.raises(ValueError, match="unknown task 'fly'"):
        ExpertSpec(name="bad", tasks=("fly",), description="x")
    with pytest.raises(ValueError, match="requires a region but accepts no region kind"):
        ExpertSpec(name="bad", tasks=("segment",), description="x", region_required=True)
    with pytest.raises(TypeError, match="must declare spec"):
        from vitron_agent.experts.base import Expert

        class NoSpec(Expert):
            def load(self, device="cpu", dtype=None):
                pass

            def run(self, call):
                pass


def test_closed_vocabulary_matches_whole_words_and_plurals():
    spec = ExpertSpec(name="faces", tasks=("ground",), description="x", vocabulary=("face", "man"))
    assert spec.knows("the faces") and spec.knows("a man") and spec.knows("Face")
    assert not spec.knows("the surface") and not spec.knows("many cats")


def test_clicks_never_go_to_a_box_only_expert_however_good(make_agent, photos):
    """A better expert that takes only boxes (as SAM 3 does) gets the box prompts; clicks go to one that reads
    clicks (GrabCut here), through a real turn."""
    from vitron_agent import Invocation

    from .synthetic_experts import BoxMaskExpert

    class BoxOnly(BoxMaskExpert):
        spec = ExpertSpec(name="box_only", tasks=("segment",), description="Rectangle masks from boxes only.",
                          region_kinds=("box",), region_required=True, outputs=("mask",), quality=50)

    registry = ExpertRegistry.default()
    registry.register(BoxOnly)
    assert registry.candidates("segment", region_kind="points")[0] != "box_only"
    assert registry.candidates("segment", region_kind="box")[0] == "box_only"
    agent = make_agent(registry=registry)
    def segment(region):
        return agent.invoke("", images=[photos["coffee"]], invocations=[Invocation(task="segment", region=region)])

    clicked = segment({"points": [{"x": 290, "y": 160}, {"x": 300, "y": 230}]})
    boxed = segment({"box": [172, 18, 410, 300]})
    assert not clicked.errors and not boxed.errors
    assert [c.expert for c in clicked.calls] == ["grabcut"]
    assert [c.expert for c in boxed.calls] == ["box_only"]
