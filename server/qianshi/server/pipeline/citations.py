"""Citations: which retrieved passages a text cites, and which cited numbers match no passage.

Passages are numbered in the prompt ([1], [2] …); a model may write the brackets full-width (［1］),
so both forms count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qianshi.server.domain import Passage

_CITATION = re.compile(r"[\[［](\d{1,3})[\]］]")


def citations(text: str, passages: Sequence[Passage]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The ids of the passages ``text`` cites, in order of first citation, and the cited numbers
    that match no passage."""
    by_number = {p.citation: p.id for p in passages}
    cited: list[str] = []
    unknown: list[int] = []
    for match in _CITATION.finditer(text):
        number = int(match.group(1))
        pid = by_number.get(number)
        if pid is None:
            if number not in unknown:
                unknown.append(number)
        elif pid not in cited:
            cited.append(pid)
    return tuple(cited), tuple(unknown)
