"""Citation markers in an LLM's text: [n] that names a passage stays, [n] that names none goes.

The prompt numbers the retrieved passages [1], [2] …; a model may cite [121], or write the marker in
full-width brackets (［2］, 【2】). Markers are normalised to [n]; one whose number names no passage is
taken out of the text (with the space before it) and reported, so a reader never sees a citation that
cites nothing. A marker split across stream pieces ("[1" then "2]") is held back until it closes.
"""

from __future__ import annotations

import re

MARKER = re.compile(r" ?(?:\[(\d{1,4})\]|［(\d{1,4})］|【(\d{1,4})】)")
_OPEN = re.compile(r"[\[［【]\d{0,4}$")


def unfinished(text: str) -> int:
    """Where a marker that may still close begins at the end of ``text`` (its length if none)."""
    found = _OPEN.search(text)
    return found.start() if found else len(text)


def filter_markers(text: str, allowed: frozenset[int]) -> tuple[str, list[int]]:
    """``text`` with its markers normalised and the ones naming no passage removed; and those numbers."""
    removed: list[int] = []

    def keep(m: re.Match[str]) -> str:
        number = int(m.group(1) or m.group(2) or m.group(3))
        if number in allowed:
            return f"{' ' if m.group(0).startswith(' ') else ''}[{number}]"
        removed.append(number)
        return ""

    if "[" not in text and "［" not in text and "【" not in text:
        return text, removed
    return MARKER.sub(keep, text), removed
