"""Which of the slip's traditional texts answer the question, and which retrieved passages hold them.

A slip answers a topic in one of three ways: its own line for the asked category (媽祖 婚姻: 允成), the
clauses about the topic inside a line that covers every topic (關帝 聖意: …病即痊…), or, when it has no
line for the topic, its general lines (凡事, 聖意, 詩意 …). :func:`find_answer` picks that text;
:class:`Sources` says which retrieved passages hold what is quoted, so only those are cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qianshi.server.domain import Passage, PassageKind
from qianshi.server.reading.lexicon import (
    Clause,
    Sense,
    Verdict,
    combine,
    read_clauses,
    read_judgment,
)
from qianshi.server.reading.topics import (
    Topic,
    topic,
    topic_of_category,
    topic_of_question,
)

PROSE = ("詩意", "解曰", "東坡解", "碧仙註")
"""Commentary categories: prose or verse about the whole slip, not a verdict on one topic."""
GENERAL = ("凡事", "聖意", "詩意", "解曰", "自身", "作事")
"""Where to look, in order, when the slip has no line for the asked category."""
_NOT_TEXT = re.compile(r"[^\w]+")
_UNSAFE = re.compile(r"[\[\]【】\x00-\x1f\x7f]+")
SENTENCES = re.compile(r"(?<=[。；！？])")
QUOTE_LIMIT = 40


def clean(text: str, limit: int) -> str:
    """Text safe to echo: one line, no brackets that could read as a citation, at most ``limit`` chars."""
    flat = " ".join(_UNSAFE.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _norm(text: str) -> str:
    return _NOT_TEXT.sub("", text)


class Sources:
    """The retrieved passages, and which of them hold a text the interpretation quotes."""

    def __init__(self, passages: tuple[Passage, ...]) -> None:
        seen: set[int] = set()
        self._items: list[tuple[Passage, str]] = []
        for p in sorted(passages, key=lambda p: p.citation):
            body = _norm(p.text)
            if p.citation > 0 and body and p.citation not in seen:
                seen.add(p.citation)
                self._items.append((p, body))

    def cite(self, texts: list[str], kind: PassageKind, category: str | None = None) -> list[int]:
        """Citation numbers of passages of ``kind`` (and ``category``) that hold one of ``texts``."""
        found: list[int] = []
        for text in texts:
            body = _norm(text)
            if not body:
                continue
            for p, pbody in self._items:
                if p.kind is not kind or (category is not None and p.category != category):
                    continue
                if (body in pbody or (len(pbody) >= 2 and pbody in body)) and p.citation not in found:
                    found.append(p.citation)
        return found

    def numbers(self) -> tuple[int, ...]:
        """Every citation number a text may use: one per retrieved passage."""
        return tuple(p.citation for p, _ in self._items)

    def judgments(self) -> dict[str, str]:
        """Judgment texts the passages hold, by category (clauses joined in citation order)."""
        out: dict[str, list[str]] = {}
        for p, _ in self._items:
            if p.kind is PassageKind.JUDGMENT and p.category:
                out.setdefault(p.category, []).append(p.text.strip("。 "))
        return {k: "。".join(v) for k, v in out.items()}

    def of_kind(self, kind: PassageKind) -> list[Passage]:
        return [p for p, _ in self._items if p.kind is kind]


@dataclass(frozen=True, slots=True)
class Answer:
    """What the slip says about the asked topic."""

    category: str
    quotes: tuple[str, ...]
    readings: tuple[Sense, ...]
    citations: tuple[int, ...]
    mode: str
    """"direct" (the category's own line), "clauses" (chosen clauses of a 聖意) or "general"."""
    topics: tuple[frozenset[str], ...] = ()
    """For clauses: the topics each speaks of (病即痊 → health)."""
    overall: Verdict | None = None
    """For a general question answered by clauses: the tone of all of them, not just the quoted ones."""

    @property
    def verdict(self) -> Verdict:
        if self.overall is not None:
            return self.overall
        return combine([r.verdict for r in self.readings])


def majority(verdicts: list[Verdict]) -> Verdict:
    """The most frequent non-neutral verdict (ties: the more cautious), for a line of many clauses."""
    counts: dict[Verdict, int] = {}
    for v in verdicts:
        if v is not Verdict.NEUTRAL:
            counts[v] = counts.get(v, 0) + 1
    if not counts:
        return Verdict.NEUTRAL
    caution = [Verdict.BAD, Verdict.MIXED, Verdict.WAIT, Verdict.GOOD]
    return max(counts, key=lambda v: (counts[v], -caution.index(v)))


def short(text: str) -> str:
    """A judgment as quoted: whole when short, else up to the last clause that fits."""
    text = text.strip().strip("。")
    if len(text) <= QUOTE_LIMIT:
        return text
    cut = max(text.rfind(mark, 0, QUOTE_LIMIT) for mark in "。，；")
    return text[:cut] if cut > 0 else text[:QUOTE_LIMIT]


def _pick_clauses(
    clauses: list[Clause], key: str, sources: Sources, category: str
) -> tuple[list[Clause], bool]:
    """The clauses that answer the topic (病即痊 for health), and whether any speaks to it directly.

    Without one, the clauses about no particular topic (雖漸困。終必泰), which close the line and sum it
    up, stand for it; failing those, the retrieval's own ranking of the clauses.
    """
    if key == "general":
        return clauses[:2], True
    hits = [c for c in clauses if key in c.topics]
    if hits:
        return hits[:2], True
    general = [c for c in clauses if not c.topics or "general" in c.topics]
    if general:
        return general[-2:], False
    ranked: list[Clause] = []
    for p in sources.of_kind(PassageKind.JUDGMENT):
        if p.category == category:
            ranked.extend(c for c in clauses if _norm(p.text) and _norm(p.text) in _norm(c.text))
    return (list(dict.fromkeys(ranked)) or clauses)[:2], False


def find_answer(category: str, judgments: dict[str, str], chosen: Topic, sources: Sources) -> Answer | None:
    """The line of the slip that answers the question (its set's own ``category``), falling back to
    its general lines."""
    category = category.strip()
    order = [category] if category in judgments else []
    order += [c for c in GENERAL if c in judgments and c not in order]
    for source_category in order:
        text = judgments[source_category]
        mode = "direct" if source_category == category else "general"
        if source_category in PROSE:
            quote = short(SENTENCES.split(text)[0])
            cites = sources.cite([quote], PassageKind.JUDGMENT, source_category)
            return Answer(source_category, (quote,), (read_judgment(quote),), tuple(cites), mode)
        clauses = read_clauses(text)
        if len(clauses) >= 4:
            picked, direct = _pick_clauses(clauses, chosen.key, sources, source_category)
            quotes = tuple(c.text for c in picked)
            cites = sources.cite(list(quotes), PassageKind.JUDGMENT, source_category)
            mode = "clauses" if direct or chosen.key == "general" else "general"
            readings = tuple(c.reading for c in picked)
            overall = majority([c.reading.verdict for c in clauses]) if chosen.key == "general" else None
            topics = tuple(c.topics for c in picked)
            return Answer(source_category, quotes, readings, tuple(cites), mode, topics, overall)
        quote = short(text)
        cites = sources.cite([quote], PassageKind.JUDGMENT, source_category)
        return Answer(source_category, (quote,), (read_judgment(quote),), tuple(cites), mode)
    return None


def choose_topic(category: str, common_category: str, question: str) -> Topic:
    """The topic to speak to: the common category's, the set's own category's, else the question's,
    else the general one."""
    by_common = topic_of_category(common_category) if common_category else None
    if by_common is not None and by_common.key != "general":
        return by_common
    by_category = topic_of_category(category)
    if by_category is not None and by_category.key != "general":
        return by_category
    by_question = topic_of_question(question)
    if by_question is not None:
        return by_question
    return by_category or topic("general")
