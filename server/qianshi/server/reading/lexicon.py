"""Reading the sets' short judgments (允成, 難成, 先凶後吉, 病即痊 …) into a verdict and an English gloss.

Why a lexicon and not translation: the judgments are terse board language in a closed vocabulary — a
head word (成 come together, 利 profit, 安 at peace), a few modifiers in front of it (不, 難, 未, 可, 漸,
大 …), a time or a subject in front of that (春, 月半, 老, 地勢 …) and sometimes two halves (先凶後吉).
A small grammar over that vocabulary reads most of them exactly, which no general translator (and no
dependency we may add) does; what it cannot read still gets a verdict from its cue characters and is
reported as not ``known``, so callers can tell a read from a guess.

The words themselves are in ``words``; this module is the grammar. Reading one judgment is a
few dictionary look-ups over a handful of characters, memoised, so it is safe on the event loop.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

from qianshi.server.reading import words as w
from qianshi.server.reading.idioms import IDIOMS
from qianshi.server.reading.words import Verdict

__all__ = [
    "Clause",
    "Sense",
    "Verdict",
    "combine",
    "rank_verdict",
    "read_clause",
    "read_clauses",
    "read_judgment",
]

_WORDS = {**w.WORDS, **IDIOMS}
"""Every whole entry: the core vocabulary, then the long tail."""

_MAX_SEGMENT = 14
"""Segments longer than this are prose, not a board judgment; only their cue characters are read."""

_SPLIT = re.compile(r"[，。、；;,.！!？?\s]+")
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
_ALTERNATIVES = re.compile(r"[／/]\S*")
_DAY = re.compile(rf"^((?:[{w.DAY_SIGNS}]){{1,4}})日(過)?")


class _Rule(enum.Enum):
    """How a modifier or prefix changes the verdict of what follows it."""

    KEEP = enum.auto()
    FLIP = enum.auto()
    BAD = enum.auto()
    MIXED = enum.auto()
    NOT_YET = enum.auto()
    LATER = enum.auto()
    SOFT = enum.auto()


@dataclass(frozen=True, slots=True)
class Sense:
    """What a judgment says: its verdict, an English gloss, and whether the lexicon read all of it."""

    verdict: Verdict
    gloss: str
    known: bool
    advice: bool = False
    """Every part of it is something to do (祭虎, 守舊, 訟宜和, 莫貪), not a verdict on the outcome."""


@dataclass(frozen=True, slots=True)
class _Parse:
    verdict: Verdict
    cls: str
    gloss: str
    pieces: int = 1
    """How many lexicon entries the reading is built from; the fewest wins (the most idiomatic)."""
    advice: bool = False


_ADVISING_HEADS = frozenset("莫勿休宜須當謹慎禱祈祭")
"""First characters of whole entries that are instructions (莫動, 宜改, 謹慎無害)."""
_ADVISING = frozenset(
    ("宜", "莫", "勿", "休", "切莫", "不可急", "須", "當", "要", "防", "須防", "謹防", "恐防", "提防", "緊防", "須當先防",
     "防止", "禱", "求", "祈", "祈求", "祝", "不宜", "不可", "切要不可")
)  # fmt: skip
"""Modifiers that make what follows an instruction (宜和 "best to settle", 莫貪 "do not be greedy")."""


def _apply(rule: _Rule, v: Verdict) -> Verdict:
    if rule is _Rule.KEEP:
        return v
    if rule is _Rule.FLIP:
        flipped = {Verdict.GOOD: Verdict.BAD, Verdict.BAD: Verdict.GOOD, Verdict.MIXED: Verdict.MIXED}
        return flipped.get(v, Verdict.BAD)
    if rule is _Rule.BAD:
        return Verdict.BAD
    if rule is _Rule.MIXED:
        return Verdict.MIXED
    if rule is _Rule.NOT_YET:
        return Verdict.WAIT if v in (Verdict.GOOD, Verdict.WAIT) else Verdict.MIXED
    if rule is _Rule.LATER:
        return Verdict.WAIT if v is Verdict.GOOD else v
    return Verdict.MIXED if v is Verdict.GOOD else v  # SOFT


def combine(verdicts: list[Verdict]) -> Verdict:
    """One verdict for several side by side (難成，成者大吉; 微利不吉).

    Bad with anything favourable is mixed, bad with only middling is still bad, favourable with
    favourable-later is waiting. Neutral answers (a direction, a boy) say nothing about the outcome
    and are skipped. A change over time (先凶後吉) is read by ``_first_then``, not here.
    """
    vs = {v for v in verdicts if v is not Verdict.NEUTRAL}
    if not vs:
        return Verdict.NEUTRAL
    if len(vs) == 1:
        return next(iter(vs))
    if Verdict.BAD in vs:
        return Verdict.MIXED if vs & {Verdict.GOOD, Verdict.WAIT} else Verdict.BAD
    if Verdict.WAIT in vs:
        return Verdict.WAIT
    return Verdict.MIXED


def _standalone(p: _Parse) -> str:
    """A reading as a clause of its own: verbs get their "will" (成 → "will come together")."""
    return f"will {p.gloss}" if p.cls == "v" else p.gloss


def _modify(mod: str, inner: _Parse) -> _Parse | None:
    templates, rule = w.MODIFIERS[mod]
    spec = templates.get(inner.cls)
    if spec is None:
        return None
    template, cls = spec
    verdict = _apply(_Rule[rule], inner.verdict)
    advice = inner.advice or mod in _ADVISING
    return _Parse(verdict, cls, template.format(inner.gloss), inner.pieces + 1, advice)


def _prefixed(seg: str) -> list[_Parse]:
    """A time, day or subject in front of a reading (春…, 未日…, 老…, 地勢…)."""
    heads: list[tuple[str, str, _Rule]] = []
    day = _DAY.match(seg)
    if day:
        when = "after" if day.group(2) else "on"
        heads.append((day.group(0), f"{when} a {day.group(1)} day", _Rule.LATER))
    for n in range(min(len(seg) - 1, 6), 0, -1):
        head = seg[:n]
        if head in w.TIMES:
            heads.append((head, w.TIMES[head], _Rule.LATER))
        if head in w.SUBJECTS:
            heads.append((head, w.SUBJECTS[head], _Rule.KEEP))
    out = []
    for head, gloss, rule in heads:
        rest = _read_seg(seg[len(head) :])
        if rest is not None:
            text = f"{gloss}, {_standalone(rest)}"
            out.append(_Parse(_apply(rule, rest.verdict), "s", text, rest.pieces + 1, rest.advice))
    return out


def _first_then(seg: str) -> list[_Parse]:
    """先X後Y / 前X後Y: an outcome that changes over time."""
    m = re.fullmatch(r"[先前初](.+?)[後尾](.+)", seg)
    if not m:
        return []
    a, b = _read_seg(m.group(1)), _read_seg(m.group(2))
    if a is None or b is None:
        return []
    gloss = f"{_standalone(a)} at first, {_standalone(b)} later"
    turns_good = a.verdict in (Verdict.BAD, Verdict.MIXED) and b.verdict in (Verdict.GOOD, Verdict.WAIT)
    verdict = Verdict.WAIT if turns_good else combine([a.verdict, b.verdict])
    return [_Parse(verdict, "s", gloss, a.pieces + b.pieces)]


def _modified(seg: str) -> list[_Parse]:
    out = []
    for n in range(min(len(seg) - 1, 6), 0, -1):
        mod = seg[:n]
        if mod in w.MODIFIERS:
            inner = _read_seg(seg[n:])
            modified = _modify(mod, inner) if inner is not None else None
            if modified is not None:
                out.append(modified)
    return out


def _side_by_side(seg: str) -> list[_Parse]:
    """Two readable halves next to each other (平安大吉, 破財有口舌)."""
    out = []
    for n in range(len(seg) - 1, 0, -1):
        left = _read_seg(seg[:n])
        right = _read_seg(seg[n:]) if left is not None else None
        if left is not None and right is not None:
            gloss = f"{_standalone(left)}, {_standalone(right)}"
            # An instruction beside an outcome (急尋 | 能還: search quickly, it comes back) is the
            # outcome's condition, not a verdict that dilutes it.
            sides = [p.verdict for p in (left, right) if not p.advice] or [left.verdict, right.verdict]
            verdict = combine(sides)
            advice = left.advice and right.advice
            out.append(_Parse(verdict, "s", gloss, left.pieces + right.pieces, advice))
    return out


@lru_cache(maxsize=8192)
def _read_seg(seg: str) -> _Parse | None:
    """The reading of one comma-free segment, or None when the lexicon cannot read all of it.

    Every way of building the segment from the lexicon is tried and the one from the fewest entries
    wins (ties go to the earlier rule), so 空破財 reads 空 + 破財, not 空 + 破 + 財.
    """
    if not seg or len(seg) > _MAX_SEGMENT:
        return None
    word = _WORDS.get(seg)
    if word is not None:
        verdict, cls, gloss = word
        return _Parse(verdict, cls, gloss, advice=cls == "i" or (len(seg) > 1 and seg[0] in _ADVISING_HEADS))
    day = _DAY.fullmatch(seg)
    if day:
        return _Parse(Verdict.NEUTRAL, "s", f"on a {day.group(1)} day")
    candidates = [*_first_then(seg), *_prefixed(seg), *_modified(seg), *_side_by_side(seg)]
    if not candidates:
        return None
    return min(candidates, key=lambda p: p.pieces)


def _cue_verdict(text: str) -> Verdict:
    """A guess from cue characters, for text the grammar cannot read."""
    score: dict[Verdict, int] = {}
    for cue, verdict in w.CUES:
        if cue in text:
            score[verdict] = score.get(verdict, 0) + len(cue)
            text = text.replace(cue, "")
    if not score:
        return Verdict.NEUTRAL
    return combine(sorted(score, key=lambda v: -score[v])[:2])


def _segments(text: str) -> list[str]:
    """The main reading's segments: bracketed alternates of other boards and ／ variants dropped."""
    main = _ALTERNATIVES.sub("", _BRACKETS.sub("", text))
    return [s for s in _SPLIT.split(main) if s]


@lru_cache(maxsize=4096)
def read_judgment(text: str) -> Sense:
    """Read one judgment (for example 難成，成者大吉) into a verdict and an English gloss.

    Never raises: unreadable segments fall back to cue characters and make the reading not ``known``.
    """
    segments = _segments(text)
    if not segments:
        return Sense(Verdict.NEUTRAL, "", False)
    verdicts: list[Verdict] = []
    glosses: list[str] = []
    known = True
    advice = True
    for seg in segments:
        parse = _read_seg(seg)
        if parse is None:
            known = advice = False
            verdicts.append(_cue_verdict(seg))
        else:
            verdicts.append(parse.verdict)
            glosses.append(_standalone(parse))
            advice = advice and parse.advice
    return Sense(combine(verdicts), "; ".join(glosses), known, advice)


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of a per-topic judgment (關帝 聖意: 病即痊) with the topics it speaks of."""

    text: str
    topics: frozenset[str]
    reading: Sense


@lru_cache(maxsize=8192)
def read_clause(text: str) -> tuple[frozenset[str], Sense]:
    """The topics a clause speaks of (病 → health) and the reading of the rest of it (即痊). Cached:
    the clauses are the corpus's judgments, read again by every task on that poem."""
    topics = {topic for marker, topic in w.CLAUSE_MARKERS if marker in text}
    if text in _WORDS:
        return frozenset(topics), read_judgment(text)
    rest = text
    for word, word_topics in w.CLAUSE_TOPICS:
        if word in rest:
            topics.update(word_topics)
            rest = rest.replace(word, "", 1)
    if len(topics) > 1:
        rest = rest.replace("與", "")
    if rest != text:
        rest = rest.lstrip("問求探占圖若凡")
    if not rest:
        return frozenset(topics), Sense(Verdict.NEUTRAL, "", True)
    return frozenset(topics), read_judgment(rest)


def read_clauses(text: str) -> list[Clause]:
    """Split a 聖意-style judgment into clauses; a clause that only names topics (名與利, 問行人) takes
    the verdict of the clause after it."""
    parts = [p for p in _SPLIT.split(text) if p]
    out: list[Clause] = []
    pending: list[str] = []
    pending_topics: set[str] = set()
    for part in parts:
        topics, reading = read_clause(part)
        if not reading.gloss and reading.verdict is Verdict.NEUTRAL and topics:
            pending.append(part)
            pending_topics |= topics
            continue
        if pending:
            merged = "。".join([*pending, part])
            out.append(Clause(merged, frozenset(pending_topics | topics), reading))
            pending, pending_topics = [], set()
        else:
            out.append(Clause(part, topics, reading))
    for part in pending:
        out.append(Clause(part, frozenset(pending_topics), Sense(Verdict.NEUTRAL, "", False)))
    return out


def rank_verdict(rank: str) -> Verdict:
    """The verdict a slip's rank implies (上上, 大吉, 上籤 good; 中平, 中籤 mixed; 下下, 下籤 bad)."""
    r = rank.strip()
    if not r:
        return Verdict.NEUTRAL
    if r.startswith("上") or "大吉" in r or r == "中吉":
        return Verdict.GOOD
    if r.startswith("下"):
        return Verdict.BAD
    if r.startswith("中"):
        return Verdict.MIXED
    return _cue_verdict(r)
