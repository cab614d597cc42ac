"""What a question is about: the topic it asks about, and another topic it names.

People ask the way they worry. "老公失業在家，小孩又一直生病，這樣下去會好起來嗎" lists two troubles
and then asks; "我媽住院開刀，醫藥費又不夠，錢的問題要怎麼解決" tells of an illness and asks about
money; "工作壓力大到每天失眠，要不要乾脆辭職" asks about the job. So the question is read by
clauses, and the clause that asks has the first say:

1. The folded question (``fold.zh``) is cut into clauses at 。，、；？！ and English sentence ends, and
   the asking clause is cut again before a frame that asks about what follows it (要不要, 該不該,
   should I …), so 失眠要不要辭職 asks about 辭職. (會不會 and 有沒有 are not cut at: the subject
   before them is what they ask about, 錢有沒有夠.)
2. The asking clause is the last clause that asks (a question mark, 嗎, an A-not-A, 怎麼, a leading
   will / should / can …), else the last clause.
3. Every distinct keyword counts once over the whole question, and the asking part's clear topic
   words (weight ``ASK_MIN`` or more) count once more: "錢的問題要怎麼解決" after an illness is about
   money, while 會不會賠很多錢 after 被人告了 stays a lawsuit (錢 is only a likely word). A topic needs
   ``MIN_SCORE`` over the whole question to count at all.
4. Ties: where the asking part names a topic, by ``TIE_ORDER`` (the event over its setting: 公訟 over
   經商); where it names none, the topic named last wins, so "…會好起來嗎" after a list of troubles is
   about the last of them.
5. The secondary topic is the best other topic the question names clearly (``SECONDARY_MIN``) that is
   not the same matter seen twice (each other's fallback: 行人 and 尋人): the reading may mention it;
   it never decides the category.

It stays a keyword grammar (explainable: ``keywords`` says what every score rests on) and costs tens
of microseconds, so it runs on the event loop; ``bench.understanding`` measures both.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from qianshi.server.reading.categories.data import MIN_SCORE, SPECS, TIE_ORDER
from qianshi.server.reading.categories.fold import zh
from qianshi.server.reading.categories.match import matches

__all__ = ["SECONDARY_MIN", "Understanding", "understand"]

ASK_MIN = 3.0
"""The asking part's keywords of at least this weight (clear topic words) count twice; a passing word
there (錢 in 會不會賠很多錢 after 被人告了) does not outweigh what the question is about."""
SECONDARY_MIN = 3.0
"""A second topic is kept only when named by a clear topic word (weight 3) or more: a passing hint
(工作 beside 男朋友在國外讀書) is no second worry."""

_RANK = {name: i for i, name in enumerate(TIE_ORDER.split())}
_FALLBACK = {s.head.split("|")[0].strip(): set(s.fallback.split()) for s in SPECS}
_KIN = {(a, b) for a, fallbacks in _FALLBACK.items() for b in fallbacks} | {
    (b, a) for a, fallbacks in _FALLBACK.items() for b in fallbacks
}
"""Pairs of topics that are one matter seen twice (each other's fallback: 行人 and 尋人, 求財 and 經商),
so neither is the other's secondary topic."""
_CLAUSE = re.compile(r"[。！？!?；;，,、\n]+|\.(?=\s|$)|…+|\s[-—]+\s")
_FRAME = re.compile(
    r"(?=[要該應值適可需s])(?:要不要|該不該|應不應該|應該|值不值得|適不適合|可不可以|需不需要|\bshould (?:i|we)\b)"
)
"""Frames that ask about what follows them (失眠|要不要辭職); the lookahead lets the search skip fast."""
_ASKS = re.compile(
    r"[?嗎嘛麼否怎哪誰]|呢$|無$|未$|如何|什麼|多久|何時|(?=[^\W\d_])(.)[不沒]\1|"
    r"^\s*(?:will|would|should|shall|can|could|is|are|am|do|does|did|has|have|was|were|may|might|how|"
    r"what|when|where|who|which|why|any)\b|\b(?:should|will|can) (?:i|we|he|she|it|they)\b|\bworth\b"
)


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a question is about, with what the answer rests on."""

    topic: str | None
    """The common category asked about; None when the question names none clearly."""
    secondary: str | None
    """Another common category the question names clearly, or None."""
    scores: Mapping[str, float]
    """Every common category's score over the whole question."""
    asked: str
    """The part of the (folded) question that asks."""
    keywords: tuple[tuple[str, str, float], ...]
    """(keyword, common category, weight) of every distinct keyword found, in order."""


def _pieces(folded: str) -> tuple[list[str], int]:
    """The clauses, with the asking clause cut before its last frame; and the asking piece's index."""
    clauses = [c for c in _CLAUSE.split(folded) if c.strip()]
    if not clauses:
        return [], -1
    at = next((i for i in range(len(clauses) - 1, -1, -1) if _ASKS.search(clauses[i])), len(clauses) - 1)
    clause = clauses[at]
    cut = max((m.start() for m in _FRAME.finditer(clause)), default=0)
    if cut > 0 and clause[:cut].strip():
        clauses[at : at + 1] = [clause[:cut], clause[cut:]]
        at += 1
    return clauses, at


def _best(
    scores: Mapping[str, float], last: Mapping[str, int], floor: float, besides: str | None = None
) -> str | None:
    """The highest score at least ``floor``, ties to the later-named topic, then by ``TIE_ORDER``;
    with ``besides``, among the topics that are neither it nor its kin."""
    best = max(
        (c for c in scores if c != besides and (besides, c) not in _KIN),
        key=lambda c: (scores[c], last.get(c, 0), -_RANK.get(c, len(_RANK))),
        default=None,
    )
    return best if best is not None and scores[best] >= floor else None


@functools.lru_cache(maxsize=1024)
def understand(question: str) -> Understanding:
    """The topic ``question`` asks about and the secondary topic it names (see the module docstring).

    Memoised: the pipeline's validation and the reading both look at the same question.
    """
    pieces, ask = _pieces(zh(question))
    total: dict[str, float] = {}
    asked: dict[str, float] = {}
    last: dict[str, int] = {}
    found: dict[str, tuple[str, str, float]] = {}
    for i, piece in enumerate(pieces):
        here = matches(piece)
        if i == ask:
            for _, common, weight in {m[2]: m[2:] for m in here if m[3]}.values():
                asked[common] = asked.get(common, 0.0) + (weight if weight >= ASK_MIN else 0.0)
        for start, _, word, common, weight in here:
            if common:
                if word not in found:
                    found[word] = (word, common, weight)
                    total[common] = total.get(common, 0.0) + weight
                last[common] = (i << 16) + start
    weighed = {c: v + asked.get(c, 0.0) for c, v in total.items() if v >= MIN_SCORE}
    topic = _best(weighed, {} if asked else last, MIN_SCORE)
    secondary = _best(total, last, SECONDARY_MIN, besides=topic) if topic else None
    return Understanding(topic, secondary, total, pieces[ask] if pieces else "", tuple(found.values()))
