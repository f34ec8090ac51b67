"""Colour names understood in requests ("make the car red") and by the recolour expert: name -> RGB."""

from __future__ import annotations

import re

__all__ = ["NAMED_COLORS", "parse_color"]

NAMED_COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30), "green": (40, 170, 60), "blue": (30, 80, 220), "yellow": (245, 215, 40),
    "orange": (245, 135, 30), "purple": (130, 50, 170), "pink": (240, 120, 180), "black": (20, 20, 20),
    "white": (245, 245, 245), "gray": (128, 128, 128), "grey": (128, 128, 128), "brown": (120, 75, 40),
    "gold": (212, 175, 55), "silver": (192, 192, 192), "cyan": (30, 200, 220), "magenta": (220, 40, 200),
    "teal": (0, 128, 128), "navy": (20, 30, 110), "beige": (225, 205, 165),
}

_CHINESE = {"红": "red", "绿": "green", "蓝": "blue", "黄": "yellow", "橙": "orange", "橘": "orange", "紫": "purple",
            "粉": "pink", "黑": "black", "白": "white", "灰": "gray", "棕": "brown", "褐": "brown", "金": "gold",
            "银": "silver", "青": "cyan"}
"""Chinese colour characters ("红色", "浅蓝色"): the last one named wins, as with English words."""
_HEX = re.compile(r"^#?([0-9a-f]{6})$", re.I)


def parse_color(text: str) -> tuple[int, int, int] | None:
    """RGB of a colour name (``"light blue"`` -> blue, ``"浅蓝色"`` -> blue) or ``#rrggbb``; None if unknown."""
    text = text.strip().lower()
    match = _HEX.match(text)
    if match:
        value = match.group(1)
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    for word in reversed(re.findall(r"[a-z]+", text)):
        if word in NAMED_COLORS:
            return NAMED_COLORS[word]
    for char in reversed(text):
        if char in _CHINESE:
            return NAMED_COLORS[_CHINESE[char]]
    return None
