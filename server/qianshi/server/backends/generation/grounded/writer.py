"""The writer the composition threads through: the locale, the request's seeded choices, the sources."""

from __future__ import annotations

import random
from dataclasses import dataclass

from qianshi.server.reading.answer import Sources


@dataclass(slots=True)
class Writer:
    """Picks phrasings with the request's seeded generator and formats them for the locale."""

    locale: str
    rng: random.Random
    sources: Sources

    def pick(self, options: tuple[str, ...]) -> str:
        return options[self.rng.randrange(len(options))]

    def en(self) -> bool:
        return self.locale == "en"

    def mark(self, citations: list[int] | tuple[int, ...]) -> str:
        """The citation marks as they follow a quote: "[1][2]" (zh) or " [1][2]" (en)."""
        if not citations:
            return ""
        marks = "".join(f"[{c}]" for c in citations)
        return " " + marks if self.en() else marks

    def say(self, options: tuple[str, ...], **fields: str) -> str:
        """One of ``options``, filled in."""
        return self.pick(options).format(**fields)
