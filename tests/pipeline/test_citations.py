"""Citations are parsed from the text, full-width brackets included; unknown numbers are flagged."""

from __future__ import annotations

from qianshi.server.domain import Passage, PassageKind
from qianshi.server.pipeline.citations import citations

PASSAGES = [
    Passage("a", PassageKind.JUDGMENT, "婚姻", "允成", 1.0, citation=1),
    Passage("b", PassageKind.VERSE, "", "日出便見風雲散", 0.5, citation=2),
]


def test_cited_in_order_of_first_citation_without_repeats():
    assert citations("先看[2]，再看[1]，又見[2]。", PASSAGES) == (("b", "a"), ())


def test_full_width_brackets_count():
    assert citations("婚姻允成［1］。", PASSAGES) == (("a",), ())


def test_numbers_without_a_passage_are_flagged_once():
    assert citations("見[3]與[3]，及[1]", PASSAGES) == (("a",), (3,))


def test_text_without_citations():
    assert citations("沒有引用。", PASSAGES) == ((), ())
