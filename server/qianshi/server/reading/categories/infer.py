"""Which category a question is about, in the service's common vocabulary and in a set's own names.

Callers speak one vocabulary (婚姻, 求財, 功名 … or "marriage", "career"); every temple set files its
judgments under its own names (mazu60 治病 and 官事, guanyin100 疾病 and 公訟, guandi100 only 聖意, whose
clauses cover every topic). This module is the bridge:

* ``infer_common`` reads a question — Traditional or Simplified Chinese, written Cantonese, Taiwanese
  Hokkien, English, or a mix — and names the common category it asks about, or None when nothing
  points anywhere (``understand`` does the reading: ``fold`` → ``match`` → the asking clause).
* ``resolve`` turns a request's category (empty, a common name, an English alias, or the set's own name)
  plus the question into a ``CategoryChoice`` for one set.
* ``search_terms`` gives the short words the traditional judgments of a topic use, to widen retrieval.

Why keywords and not a model: this runs on the event loop for every request, must answer in far under a
millisecond (tens of µs per question, ``python -m bench.understanding``), and must be explainable when it
is wrong (``understand`` lists the keywords a topic rests on). A weighted keyword match with
longest-match-wins does that; dialect and casual spellings are rewritten into the keywords' Mandarin and
plain English first (``vernacular``), so the tables are written once. On the everyday questions of
``category_questions.jsonl`` it scores 98 %, on questions as people type them (``vernacular_*.jsonl``)
100 % on the set it was tuned on and 85 % on one written after; on batches of fresh everyday questions,
measured before tuning on them, it scored 73–80 %, weakest on English. So an inferred category is a good
guess, not a fact: callers who know the topic should send it.

Why the mapping is driven by the set's category list and not by set id: an operator's own set with names
like 財運 or 感情 maps without code, and a set without per-topic judgments (guandi100) falls back to its
general category. The vocabulary lives in ``data.py``, its keywords in ``zh.py`` and ``en.py``.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from qianshi.server import errors
from qianshi.server.domain import CategoryChoice, CategorySource, PoemSet
from qianshi.server.reading.categories.data import GENERAL, SPECS
from qianshi.server.reading.categories.fold import script
from qianshi.server.reading.categories.understand import understand


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
_NAMES = {name: tuple(s.names.split()) for name, s in _SPECS.items()}
_CANDIDATES = {
    name: tuple(dict.fromkeys([*_NAMES[name], *(n for fb in s.fallback.split() for n in _NAMES[fb])]))
    for name, s in _SPECS.items()
}
"""Common category → the set category names to try, in order: its own names, then its fallbacks'."""
_TERMS = {name: tuple(s.terms.split()) for name, s in _SPECS.items()}


def scores(question: str) -> dict[str, float]:
    """Each common category's score for the question: the sum of the weights of its distinct matched
    keywords. Public so a wrong guess can be explained (``qianshi`` tooling, tests); ``understand``
    says which keywords they rest on and which part of the question asks."""
    return dict(understand(question).scores)


def infer_common(question: str) -> str | None:
    """The common category the question asks about, or None when nothing points anywhere clearly.

    A score under ``MIN_SCORE`` (one faint hint) is no topic. Where the question names several, the
    part that asks decides (``understand``). Never returns the general category: a question with no
    topic is the caller's cue to use the set's default.
    """
    return understand(question).topic


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
    return _ALIASES.get(key.casefold()) or _ALIASES.get(script(key).casefold())


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
        for name in (wanted, script(wanted)):
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
