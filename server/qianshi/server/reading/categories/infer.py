"""Which category a question is about, in the service's common vocabulary and in a set's own names.

Callers speak one vocabulary (婚姻, 求財, 功名 … or "marriage", "career"); every temple set files its
judgments under its own names (mazu60 治病 and 官事, guanyin100 疾病 and 公訟, guandi100 only 聖意, whose
clauses cover every topic). This module is the bridge:

* ``infer_common`` reads a question (Traditional or Simplified Chinese, or English) and names the common
  category it is about, or None when nothing points anywhere.
* ``resolve`` turns a request's category (empty, a common name, an English alias, or the set's own name)
  plus the question into a ``CategoryChoice`` for one set.
* ``search_terms`` gives the short words the traditional judgments of a topic use, to widen retrieval.

Why keywords and not a model: this runs on the event loop for every request, must answer in far under a
millisecond (about 20 µs per question), and must be explainable when it is wrong. A weighted keyword
match with longest-match-wins does that. On ``tests/reading/categories/category_questions.jsonl`` it scores 98%,
but the keywords were tuned on those questions; on batches of fresh questions, measured before tuning on
them, it scored 73–80%, weakest on English. So an inferred category is a good guess, not a fact: callers
who know the topic should send it.

Why the mapping is driven by the set's category list and not by set id: an operator's own set with names
like 財運 or 感情 maps without code, and a set without per-topic judgments (guandi100) falls back to its
general category. The vocabulary lives in ``data.py``, its keywords in ``zh.py``
and ``en.py``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from qianshi.server import errors
from qianshi.server.domain import CategoryChoice, CategorySource, PoemSet
from qianshi.server.reading.categories.data import GENERAL, MIN_SCORE, SPECS, TIE_ORDER
from qianshi.server.reading.categories.en import MASK_EN
from qianshi.server.reading.categories.zh import MASK_ZH, S2T


@dataclass(frozen=True, slots=True)
class CommonCategory:
    """One category of the public vocabulary, as docs, ``--help`` and the web UI list it."""

    name: str
    """The zh-Hant name, for example 婚姻; what ``CategoryChoice.common`` holds."""
    english: str
    """The English name, for example "marriage"."""
    aliases: tuple[str, ...]
    """Other names a request may use: English aliases, then the set category names it maps to."""


def _commons() -> tuple[CommonCategory, ...]:
    found = []
    for s in SPECS:
        name, english, more = (part.strip() for part in s.head.split("|"))
        aliases = tuple(a.strip() for a in more.split(",") if a.strip())
        found.append(CommonCategory(name, english, aliases + tuple(n for n in s.names.split() if n != name)))
    return tuple(found)


def _aliases(commons: Iterable[CommonCategory]) -> dict[str, str]:
    """Every name a request may use (case-folded) → its common category; the first spec to claim a
    name keeps it (a test checks that none is claimed twice)."""
    found: dict[str, str] = {}
    for c in commons:
        for key in (c.name, c.english, *c.aliases):
            found.setdefault(key.casefold(), c.name)
    return found


_COMMONS = _commons()
_SPECS = {c.name: s for c, s in zip(_COMMONS, SPECS, strict=True)}
_BY_NAME = {c.name: c for c in _COMMONS}
_ALIASES = _aliases(_COMMONS)
_RANK = {name: i for i, name in enumerate(TIE_ORDER.split())}
_FOLD = str.maketrans(
    {pair[0]: pair[1] for pair in S2T.split()}
    | {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
    | {"\u3000": " ", "’": "'"}
)
"""Simplified → Traditional, full-width ASCII → ASCII: one ``str.translate`` readies a question (NFKC
would do the second too, but costs more than the whole match on a long Chinese question)."""
_NAMES = {name: tuple(s.names.split()) for name, s in _SPECS.items()}
_CANDIDATES = {
    name: tuple(dict.fromkeys([*_NAMES[name], *(n for fb in s.fallback.split() for n in _NAMES[fb])]))
    for name, s in _SPECS.items()
}
"""Common category → the set category names to try, in order: its own names, then its fallbacks'."""
_TERMS = {name: tuple(s.terms.split()) for name, s in _SPECS.items()}


# --- matching ---------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_ACCENTED = re.compile(r"[\u00c0-\u024f]")
_Keyword = tuple[str, float]  # (common category or "" for a mask, weight)
_Phrases = dict[str, list[tuple[tuple[str, ...], _Keyword]]]
_Prefixes = dict[str, list[tuple[str, _Keyword]]]


def _zh_index() -> tuple[dict[str, _Keyword], dict[str, list[tuple[str, _Keyword]]]]:
    """One-character keywords, and longer ones by their first two characters: a scan position then
    costs two dictionary look-ups and tries only the few keywords that can start there."""
    singles: dict[str, _Keyword] = {}
    longer: dict[str, list[tuple[str, _Keyword]]] = {}
    entries = [
        (w, (name, float(weight)))
        for name, s in _SPECS.items()
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
    for name, s in _SPECS.items():
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
        words = tuple(_en_words(text.rstrip("*")))
        if text.endswith("*"):
            prefixes.setdefault(words[0][:3], []).append((words[0], (common, weight)))
        else:
            phrases.setdefault(words[0], []).append((words, (common, weight)))
    return phrases, prefixes


def _en_words(text: str) -> list[str]:
    """Lower-case ASCII words; "wife's" → "wife", "can't" → "can t", "fiancé" → "fiance" (keywords go
    through the same function, so they are written the same way)."""
    if _ACCENTED.search(text):
        text = unicodedata.normalize("NFKD", text)
    text = text.casefold().replace("’", "'").replace("'s ", " ")
    if text.endswith("'s"):
        text = text[:-2]
    return _WORD.findall(text)


_ZH_SINGLES, _ZH_LONGER = _zh_index()
_ZH_FIRST = frozenset(_ZH_SINGLES) | frozenset(k[0] for k in _ZH_LONGER)
_EN_PHRASES, _EN_PREFIXES = _en_index()
_MAX_CHARS = 500
"""Only the first 500 characters are read (the request limit), so the cost has a ceiling whatever comes."""

_Match = tuple[int, int, str, str, float]  # start, end, keyword, common, weight


def _zh_matches(text: str) -> list[_Match]:
    found: list[_Match] = []
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


def _en_matches(words: list[str]) -> list[_Match]:
    found: list[_Match] = []
    for i, word in enumerate(words):
        for phrase, (common, weight) in _EN_PHRASES.get(word, ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                found.append((i, i + len(phrase), " ".join(phrase), common, weight))
        for prefix, (common, weight) in _EN_PREFIXES.get(word[:3], ()):
            if word.startswith(prefix):
                found.append((i, i + 1, prefix + "*", common, weight))
    return found


def _longest(matches: list[_Match], size: int) -> list[_Match]:
    """Longest match wins: drop every match that overlaps a longer one, so 告白 is about love although
    it contains 告, and "my ex-business partner" is a business partner, not an ex. ``size`` is the
    length of the text the spans index into."""
    taken = bytearray(size)
    kept: list[_Match] = []
    for m in sorted(matches, key=lambda m: (m[0] - m[1], -len(m[2]), m[0])):
        start, end = m[0], m[1]
        if taken.find(1, start, end) == -1:
            taken[start:end] = b"\x01" * (end - start)
            kept.append(m)
    return kept


def scores(question: str) -> dict[str, float]:
    """Each common category's score for the question: the sum of the weights of its distinct matched
    keywords. Public so a wrong guess can be explained (``qianshi`` tooling, tests)."""
    text = question[:_MAX_CHARS].translate(_FOLD)
    words = _en_words(text)
    matches = _longest(_zh_matches(text), len(text)) + _longest(_en_matches(words), len(words))
    seen: set[str] = set()
    total: dict[str, float] = {}
    for _, _, word, common, weight in matches:
        if common and word not in seen:
            seen.add(word)
            total[common] = total.get(common, 0.0) + weight
    return total


def infer_common(question: str) -> str | None:
    """The common category the question is most about, or None when nothing points anywhere clearly.

    A score under ``MIN_SCORE`` (one faint hint) is no topic. Ties go to the event over its setting
    (公訟 over 經商, 疾病 over 家宅; see ``TIE_ORDER``). Never returns the general category: a question
    with no topic is the caller's cue to use the set's default.
    """
    total = scores(question)
    if not total:
        return None
    best = max(total, key=lambda c: (total[c], -_RANK[c]))
    return best if total[best] >= MIN_SCORE else None


# --- the public vocabulary --------------------------------------------------------------------------


def common_categories() -> tuple[CommonCategory, ...]:
    """Every common category, the main ones first and the general one (凡事) last."""
    return _COMMONS


def english_name(common: str) -> str:
    """The English name of a common category; a name outside the vocabulary (a set's own 東坡解) is
    returned unchanged, so a UI can label whatever ``CategoryChoice.common`` holds."""
    c = _BY_NAME.get(common)
    return c.english if c else common


def find_common(name: str) -> str | None:
    """The common category a name stands for: a common name, an English alias (any case), a set
    category name it maps to (治病 → 疾病), in Traditional or Simplified; None when unknown."""
    key = unicodedata.normalize("NFKC", name).strip()
    return _ALIASES.get(key.casefold()) or _ALIASES.get(key.translate(_FOLD).casefold())


def search_terms(common: str) -> tuple[str, ...]:
    """Short words the traditional judgments of the topic use (疾病 → 病, 痊, 安 …); () when unknown."""
    return _TERMS.get(common, ())


# --- onto a set -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _general(categories: tuple[str, ...]) -> str:
    have = set(categories)
    for name in _CANDIDATES[GENERAL]:
        if name in have:
            return name
    return categories[0] if categories else ""


@functools.lru_cache(maxsize=1024)
def _own(categories: tuple[str, ...], common: str) -> str:
    have = set(categories)
    for name in _CANDIDATES.get(common, (common,)):
        if name in have:
            return name
    return _general(categories)


def own_category(poem_set: PoemSet, common: str) -> str:
    """The set's own category for a common one: the first of the topic's names the set has, then its
    fallbacks', then the set's general category (so guandi100 answers every topic from 聖意)."""
    return _own(poem_set.categories, common)


def general_category(poem_set: PoemSet) -> str:
    """The set's category for a question without a topic: 凡事, else 詩意, 聖意, 解曰 …, else its first."""
    return _general(poem_set.categories)


def _common_of_own(name: str) -> str:
    """The common category a set's own name belongs to; the name itself when none (東坡解, 月令)."""
    return find_common(name) or name


_SHOWN = 12
"""How many common names an unknown-category error lists; the full list is in the docs."""


def resolve(poem_set: PoemSet, requested: str, question: str) -> CategoryChoice:
    """The category a task is about in ``poem_set``.

    ``requested`` wins when given: the set's own name first (an operator's set may reuse a common
    name for its own column), then a common name or alias. Unknown names raise
    ``errors.InvalidArgument`` on the field "category". Empty: inferred from the question, else the
    set's general category.
    """
    wanted = unicodedata.normalize("NFKC", requested).strip()
    if wanted:
        for name in (wanted, wanted.translate(_FOLD)):
            if name in poem_set.categories:
                return CategoryChoice(name, _common_of_own(name), CategorySource.REQUEST)
        common = find_common(wanted)
        if common is None:
            known = "、".join(c.name for c in _COMMONS[:_SHOWN])
            shown = wanted if len(wanted) <= 40 else wanted[:40] + "…"
            raise errors.InvalidArgument.field(
                "category",
                f"unknown category {shown!r}; known: {known} … (or English names such as "
                f"'marriage', or one of the set's own: {'、'.join(poem_set.categories[:6])} …)",
            )
        return CategoryChoice(own_category(poem_set, common), common, CategorySource.REQUEST)
    common = infer_common(question)
    if common is None:
        return CategoryChoice(general_category(poem_set), GENERAL, CategorySource.DEFAULT)
    return CategoryChoice(own_category(poem_set, common), common, CategorySource.INFERRED)
