"""Error types. Each says what was expected, what arrived and what to do.

The split matters to callers: ``BadInputError`` is the user's or planner's fault (CLI exit 2,
sent back to the planner to revise); ``UnavailableError`` means an expert, extra or weight file
is missing (the message names the fix); ``ExpertFailure`` is an expert that crashed at run time.
"""

from __future__ import annotations

__all__ = [
    "VitronError",
    "BadInputError",
    "MediaError",
    "RegionError",
    "MissingRegionError",
    "ParseError",
    "UnavailableError",
    "ExpertFailure",
]


class VitronError(Exception):
    """Base class; ``category`` is what the CLI and the graph report."""

    category = "internal"


class BadInputError(VitronError, ValueError):
    """Input that can never work as given: fix the input, not the installation."""

    category = "bad_input"


class MediaError(BadInputError):
    """A file that is missing, corrupt, of an unsupported type, or over a size cap."""


class RegionError(BadInputError):
    """A region that is malformed or lies outside its medium."""


class MissingRegionError(RegionError):
    """A step needs a region that neither the user nor the plan gave (human in the loop asks for one)."""


class ParseError(BadInputError):
    """Planner text that does not follow the invocation grammar.

    ``position`` is the character offset of the problem in the parsed text, when known.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class UnavailableError(VitronError):
    """No installed expert can do this, or its extra or weights are missing."""

    category = "unavailable"


class ExpertFailure(VitronError):
    """An expert raised or ran out of memory while running."""

    category = "expert_failed"

