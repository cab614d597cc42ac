"""Finding the keywords of ``data`` in a question: the indexes, the scans, longest match wins.

A match is ``(start, end, keyword, common, weight)``: where it lies (characters of the folded Chinese
text, or words of the English word list), the keyword as written, the common category it points at
("" for a mask), and its weight. ``matches`` gives the matches of one piece of text (a clause) after
longest-match-wins; ``understand`` adds them up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from qianshi.server.reading.categories.data import SPECS
from qianshi.server.reading.categories.en import MASK_EN
from qianshi.server.reading.categories.fold import en_words
from qianshi.server.reading.categories.zh import MASK_ZH

__all__ = ["Match", "matches"]

Match = tuple[int, int, str, str, float]  # start, end, keyword, common, weight
_Keyword = tuple[str, float]  # (common category or "" for a mask, weight)
_Phrases = dict[str, list[tuple[tuple[str, ...], _Keyword]]]
_Prefixes = dict[str, list[tuple[str, _Keyword]]]
_NAMES = [c.head.split("|")[0].strip() for c in SPECS]


def _zh_index() -> tuple[dict[str, _Keyword], dict[str, list[tuple[str, _Keyword]]]]:
    """One-character keywords, and longer ones by their first two characters: a scan position then
    costs two dictionary look-ups and tries only the few keywords that can start there."""
    singles: dict[str, _Keyword] = {}
    longer: dict[str, list[tuple[str, _Keyword]]] = {}
    entries = [
        (w, (name, float(weight)))
        for name, s in zip(_NAMES, SPECS, strict=True)
        for weight, words in s.zh.items()
        for w in words.split()
    ]
    entries += [(w, ("", 0.0)) for w in MASK_ZH.split()]
    for word, keyword in entries:
        if len(word) == 1:
            singles[word] = keyword
        else:
            longer.setdefault(word[:2], []).append((word, keyword))
    return singles, longer


def _en_keywords() -> Iterable[tuple[str, str, float]]:
    for name, s in zip(_NAMES, SPECS, strict=True):
        for weight, phrases in s.en.items():
            for p in phrases.split(","):
                yield p.strip(), name, float(weight)
    for p in MASK_EN.split(","):
        yield p.strip(), "", 0.0


def _en_index() -> tuple[_Phrases, _Prefixes]:
    """Phrases by first word, and single-word prefixes (``pregnan*``) by their first three letters."""
    phrases: _Phrases = {}
    prefixes: _Prefixes = {}
    for text, common, weight in _en_keywords():
        words = tuple(en_words(text.rstrip("*")))
        if text.endswith("*"):
            prefixes.setdefault(words[0][:3], []).append((words[0], (common, weight)))
        else:
            phrases.setdefault(words[0], []).append((words, (common, weight)))
    return phrases, prefixes


_LATIN = re.compile(r"[a-z0-9]")
_ZH_SINGLES, _ZH_LONGER = _zh_index()
_ZH_FIRST = frozenset(_ZH_SINGLES) | frozenset(k[0] for k in _ZH_LONGER)
_EN_PHRASES, _EN_PREFIXES = _en_index()


def _zh_matches(text: str) -> list[Match]:
    found: list[Match] = []
    for i, ch in enumerate(text):
        if ch not in _ZH_FIRST:
            continue
        single = _ZH_SINGLES.get(ch)
        if single is not None:
            found.append((i, i + 1, ch, *single))
        for word, (common, weight) in _ZH_LONGER.get(text[i : i + 2], ()):
            if text.startswith(word, i):
                found.append((i, i + len(word), word, common, weight))
    return found


def _en_matches(words: list[str]) -> list[Match]:
    found: list[Match] = []
    for i, word in enumerate(words):
        for phrase, (common, weight) in _EN_PHRASES.get(word, ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                found.append((i, i + len(phrase), " ".join(phrase), common, weight))
        for prefix, (common, weight) in _EN_PREFIXES.get(word[:3], ()):
            if word.startswith(prefix):
                found.append((i, i + 1, prefix + "*", common, weight))
    return found


def _longest(found: list[Match], size: int) -> list[Match]:
    """Longest match wins: drop every match that overlaps a longer one, so 告白 is about love although
    it contains 告, and "my ex-business partner" is a business partner, not an ex. ``size`` is the
    length of the text the spans index into."""
    if len(found) < 2:
        return found
    taken = bytearray(size)
    kept: list[Match] = []
    for m in sorted(found, key=lambda m: (m[0] - m[1], -len(m[2]), m[0])):
        start, end = m[0], m[1]
        if taken.find(1, start, end) == -1:
            taken[start:end] = b"\x01" * (end - start)
            kept.append(m)
    kept.sort()
    return kept


def matches(folded: str) -> list[Match]:
    """The keywords in one piece of folded text (``fold.zh``), Chinese then English, each list in the
    order they occur, masks included (their common category is "")."""
    found = [] if folded.isascii() else _longest(_zh_matches(folded), len(folded))
    if _LATIN.search(folded):
        words = en_words(folded)
        found += _longest(_en_matches(words), len(words))
    return found
