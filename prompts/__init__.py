"""Planner prompts and the invocation grammar, shipped as package data (``vitron_agent.prompts``)."""

from __future__ import annotations

from importlib.resources import files

__all__ = ["load_prompt"]


def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.md``."""
    return files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")
