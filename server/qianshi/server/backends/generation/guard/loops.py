"""Degenerate repetition, found while the text streams: the same clause again and again, or a short
run of characters repeating (的的的的, "and and and").

Two checks at each clause's end, on the text not yet released, so the repeat is caught before a reader
sees it: a clause (of at least ``MIN_CLAUSE`` characters once punctuation and spaces are taken out)
that repeats the clause before it, or that has now come three times; and a tail of the recent text
that is one unit repeated — ``SHORT_REPEATS`` times for a unit under ``SHORT_UNIT`` characters,
``LONG_REPEATS`` for a longer one, up to ``MAX_UNIT``. Quoting a verse line twice, or two short
clauses alike (不過，不過), passes. vLLM's own ``repetition_detection`` (token n-grams, in the engine)
is the backstop for a loop that no clause ever ends.
"""

from __future__ import annotations

import re
from collections import Counter

MIN_CLAUSE = 6
SHORT_UNIT = 8
SHORT_REPEATS = 5
LONG_REPEATS = 3
MAX_UNIT = 60
RECENT = 240
_NOISE = re.compile(r"[\W_]+|\[\d+\]")
_TRAILING = re.compile(r"[\W_]+$")


def repeating_tail(text: str) -> str:
    """The unit the end of ``text`` repeats (enough times to be a loop), or "" (the punctuation that
    closes the clause does not count)."""
    text = _TRAILING.sub("", text)
    n = len(text)
    for unit in range(1, min(MAX_UNIT, n // 2) + 1):
        times = SHORT_REPEATS if unit < SHORT_UNIT else LONG_REPEATS
        if unit * times > n:
            if unit >= SHORT_UNIT:
                break
            continue
        piece = text[n - unit :]
        if piece.strip() and text.endswith(piece * times):
            return piece
    return ""


class Loops:
    """The loop check of one stream."""

    def __init__(self) -> None:
        self._count: Counter[str] = Counter()
        self._last = ""
        self._recent = ""

    def clause(self, clause: str) -> str:
        """Take the next clause; a description of the loop it makes, or ""."""
        self._recent = (self._recent + clause)[-RECENT:]
        unit = repeating_tail(self._recent)
        if unit:
            return f"“{unit.strip()[:20]}” repeated"
        key = _NOISE.sub("", clause).lower()
        if len(key) < MIN_CLAUSE:
            return ""
        if key == self._last:
            return f"“{clause.strip()[:20]}” twice in a row"
        self._last = key
        self._count[key] += 1
        if self._count[key] >= 3:
            return f"“{clause.strip()[:20]}” three times"
        return ""
