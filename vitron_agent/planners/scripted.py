"""A planner that replays given outputs: for scripted pipelines and tests."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from ..protocol.invocation import Invocation
from .base import PlannerInput, PlannerOutput

__all__ = ["ScriptedPlanner"]


class ScriptedPlanner:
    """Returns the next scripted output at each planning call, or what ``fn(input)`` returns.

    ``ScriptedPlanner([[Invocation(task="segment", ...)], PlannerOutput(reply="hi")])``: each step is a
    ``PlannerOutput`` or a list of invocations. When the script runs out, it answers with no invocations.
    """

    name = "scripted"
    can_revise = False

    def __init__(
        self,
        steps: Iterable[PlannerOutput | list[Invocation]] = (),
        fn: Callable[[PlannerInput], PlannerOutput] | None = None,
    ) -> None:
        self._steps = deque(steps)
        self._fn = fn
        self.seen: list[PlannerInput] = []

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        self.seen.append(inp)
        if self._fn is not None:
            return self._fn(inp)
        if not self._steps:
            return PlannerOutput(reply="")
        step = self._steps.popleft()
        return step if isinstance(step, PlannerOutput) else PlannerOutput(invocations=list(step))
