"""What the reliability tests share: the test for an actionable error, a checkable photo, a synthetic registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

HINTS = ("expected", "use ", "need", "must", "one of", "refer", "draw", "install", "outside", "unknown", "not ",
         "cannot", "only", "exist", "invalid", "duplicate", "write", "inverted", "got", "exceed", "cap", "refused",
         "pass ", "trim", "downscale", "empty", "try ", "raise ", "no ", "required", "should", "again",
         "re-encode", "check ")
"""An actionable message says what was expected, what is wrong or what to do; at least one of these says so."""
NOISE = ("Traceback", "object at 0x", "<class '", "internal error", "File \"")
"""Signs of a Python crash leaking into a message meant for the planner or the user."""


def assert_actionable(message: str, *, names: str | None = None) -> None:
    """One non-empty line, bounded, free of Python noise, saying what to do; with ``names``, it names that."""
    assert isinstance(message, str) and message.strip(), f"empty error message: {message!r}"
    assert "\n" not in message and len(message) <= 1000, f"not one short line: {message[:300]!r}"
    assert not any(noise in message for noise in NOISE), f"Python noise in: {message!r}"
    assert any(hint in message.lower() for hint in HINTS), f"nothing actionable in: {message!r}"
    if names is not None:
        assert names in message, f"{names!r} not named in: {message!r}"


def small_photo(seed: int = 0, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    """A (H, W, 3) uint8 crop of scikit-image's real coffee photo, shifted by ``seed`` so crops differ."""
    from skimage import data

    coffee = data.coffee()
    h, w = size
    y, x = (7 * seed) % (coffee.shape[0] - h), (13 * seed) % (coffee.shape[1] - w)
    return np.ascontiguousarray(coffee[y : y + h, x : x + w])


@pytest.fixture
def good_image(tmp_path: Path) -> Path:
    """A small real photo as PNG: the good input each reliability test ends with."""
    from ..conftest import save_png

    return save_png(small_photo(), tmp_path / "good.png")


SEGMENT = {"module": "box_mask", "task": "segment", "region": {"box": [4, 6, 20, 30]}, "inputs": ["u0"]}
"""The good call each reliability test ends with: a box mask on the thread's first image (``good_image``)."""


def begin_thread(agent, image: Path, thread: str) -> dict[str, Any]:
    """An earlier, good turn on ``thread`` (needs ``box_mask`` in the registry); returns the state it left."""
    first = agent.invoke("segment the box", images=[image], thread=thread, invocations=[SEGMENT])
    assert first.errors == [] and first.artifacts
    return agent.state(thread)


def assert_thread_goes_on(agent, thread: str, before: dict[str, Any], image: Path) -> None:
    """The next good turn succeeds, and every earlier message and medium is as it was."""
    from PIL import Image

    from vitron_agent.stores import MediaRef

    after_problem = agent.state(thread)
    turn = agent.invoke("segment the box again", thread=thread, invocations=[SEGMENT])
    assert turn.errors == [], turn.errors
    mask = np.asarray(Image.open(next(a.path for a in turn.artifacts if a.kind == "mask"))) > 127
    assert mask.shape == (48, 64) and mask.sum() == 16 * 24 and mask[6:30, 4:20].all()
    state = agent.state(thread)
    assert state["messages"][: len(after_problem["messages"])] == after_problem["messages"]
    assert state["messages"][: len(before["messages"])] == before["messages"]
    for media_id, ref in before["media"].items():
        assert state["media"][media_id] == ref
    store, _ = agent.context.stores(thread)
    original = np.asarray(Image.open(image).convert("RGB"))
    assert np.array_equal(store.load_image(MediaRef(**state["media"]["u0"])), original)
