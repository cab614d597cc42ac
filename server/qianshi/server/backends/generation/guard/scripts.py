"""Which writing systems a reader of each locale reads, and which letters of a text are foreign to it.

A small model drifts out of the reader's language: an English reading that slides into Chinese word
salad, Tamil or kana; a Chinese one that turns into English or Japanese. What counts as foreign:

* zh-Hant / zh-Hans: Han characters are the reader's own (Simplified vs Traditional is the converter's
  business, not a trip) and Latin letters pass (names, "boss", "OK"); any other script (kana, Hangul,
  Tamil, Cyrillic …) is foreign, and so is a text that has become mostly Latin.
* en: Latin letters are the reader's own; Han characters pass only where they quote the slip (the
  prompt allows quoting the verse: a run of them found in the poem's texts); any other script, and
  Han that quotes nothing, is foreign.

A clause trips the check when at least ``CLAUSE_MIN`` of its letters, or ``CLAUSE_SHARE`` of them, are
foreign; the whole text trips it when, past ``WHOLE_MIN_LETTERS`` letters, more than ``WHOLE_SHARE`` of
them are in the other locale's script (a Chinese reading written in English). Regular expressions do the
counting (C speed: a few microseconds a clause).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from qianshi.server.chinese import convert

HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
LATIN = re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff\uff21-\uff3a\uff41-\uff5a]")
LETTER = re.compile(r"[^\W\d_]")
CLAUSE_MIN = 3
CLAUSE_SHARE = 0.3
WHOLE_MIN_LETTERS = 40
WHOLE_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Letters:
    """The letters of a piece of text by what they are to the reader."""

    own: int = 0
    """In the locale's script."""
    other: int = 0
    """In the other locale's script, where it passes (Latin in Chinese, quoted Han in English)."""
    foreign: int = 0
    """In no script the reader reads, or Han in English that quotes nothing."""

    def __add__(self, more: Letters) -> Letters:
        return Letters(self.own + more.own, self.other + more.other, self.foreign + more.foreign)

    @property
    def total(self) -> int:
        return self.own + self.other + self.foreign


class Script:
    """The script check for one locale and one slip (the slip's texts may be quoted)."""

    def __init__(self, locale: str, quotes: Iterable[str] = ()) -> None:
        self.chinese = locale in ("zh-Hant", "zh-Hans")
        texts = [q for q in quotes if q]
        if not self.chinese:
            texts += [convert(q, "zh-Hans") for q in texts]  # a quote may come back in Simplified
        self._quoted = "\n".join(texts)
        self.seen = Letters()

    def letters(self, text: str) -> Letters:
        """Count the letters of ``text`` (and add them to the running total, ``seen``)."""
        letters = len(LETTER.findall(text))
        if not letters:
            return Letters()
        han_runs = HAN.findall(text)
        han = sum(len(run) for run in han_runs)
        latin = len(LATIN.findall(text))
        rest = max(letters - han - latin, 0)
        if self.chinese:
            found = Letters(own=han, other=latin, foreign=rest)
        else:
            quoted = sum(len(run) for run in han_runs if run in self._quoted)
            found = Letters(own=latin, other=quoted, foreign=rest + han - quoted)
        self.seen = self.seen + found
        return found

    def foreign_clause(self, found: Letters) -> bool:
        """Whether a clause with these letters is in a script the reader does not read."""
        return found.foreign >= CLAUSE_MIN or (
            found.foreign > 0 and found.foreign >= CLAUSE_SHARE * found.total
        )

    def wrong_language(self) -> bool:
        """Whether the text so far is mostly in the other locale's script."""
        seen = self.seen
        return seen.total >= WHOLE_MIN_LETTERS and seen.other > WHOLE_SHARE * seen.total
