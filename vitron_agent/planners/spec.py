"""A planner named by a short text spec, as the command line (``--planner``) and the server
(``$VITRON_PLANNER``) take it: ``rules``, ``lite`` (the small learned planner), ``vitron:PATH``
(a VITRON checkpoint folder), or ``module:factory`` (a function returning a planner or a LangChain chat model)."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import BadInputError

__all__ = ["planner_from_spec"]


def planner_from_spec(spec: str, *, option: str = "--planner") -> Any:
    """The planner ``spec`` names; ``option`` is how the caller's users wrote it (for error messages)."""
    from .chat_model import ChatModelPlanner
    from .rules import RuleBasedPlanner

    if spec == "rules":
        return RuleBasedPlanner()
    if spec == "lite":
        from .lite import LitePlanner

        return LitePlanner()
    module_name, _, attr = spec.partition(":")
    if module_name == "vitron" and attr:
        from .vitron import VitronPlanner

        return VitronPlanner.from_pretrained(attr)
    if not attr:
        raise BadInputError(f"{option} must be 'rules', 'lite', 'vitron:PATH' or 'module:factory', got {spec!r}")
    try:
        made = getattr(importlib.import_module(module_name), attr)()
    except (ImportError, AttributeError) as exc:
        raise BadInputError(f"{option} {spec!r} could not be loaded: {exc}") from None
    return made if hasattr(made, "plan") else ChatModelPlanner(made)
