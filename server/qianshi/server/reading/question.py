"""What kind of answer a question asks for: yes/no, should-I, either/or, when, where, who, or open.

A temple interpreter answers the question that was asked: "will it work?" gets a yes or a no with its
condition, "A or B?" gets A or B (or "the slip does not choose"), "when?" gets a time or "it names none".
This module reads that form from the question, in zh-Hant, zh-Hans (folded to Traditional for matching,
see ``question_words``) and English, and for either/or questions the two options as they were typed.

Why here and not in the pipeline: only the grounded generator needs it — an LLM reads the question
itself — so the simplest honest place is beside its one user, and ``GenerationRequest`` stays as it is.
Like the pipeline's category inference, it is a keyword grammar: explainable, microseconds per question,
and measured on ``tests/reading/question_forms.jsonl``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

from qianshi.server.reading import question_words as qw

__all__ = ["Form", "Question", "direction", "fold", "named_by", "read_question"]


class Form(enum.Enum):
    YES_NO = "yes_no"
    SHOULD = "should"
    EITHER_OR = "either_or"
    WHEN = "when"
    WHERE = "where"
    WHO = "who"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class Question:
    """A question's form; for either/or, its two options as typed."""

    text: str
    form: Form
    options: tuple[str, ...] = ()
    english: bool = False


_CJK = re.compile(r"[\u3400-\u9fff]")
_ZH_STOP = re.compile(r"[?？。！!，,；;：:\n]")
_EN_CLAUSE = re.compile(r"[,;:.!?]\s*")
_WHEN_EN = re.compile(qw.WHEN_EN)
_WHERE_EN = re.compile(qw.WHERE_EN)
_WHO_EN = re.compile(qw.WHO_EN)
_SHOULD_EN = re.compile(qw.SHOULD_EN)
_YES_NO_EN = re.compile(qw.YES_NO_EN)
_OPEN_HEAD_EN = re.compile(qw.OPEN_HEAD_EN)
_HEAD_EN = re.compile(qw.HEAD_EN)
_OR_EN = re.compile(r"\s+or\s+(?!not\b|so\b|something\b|anything\b|else\b)")
_REPEAT_ZH = re.compile(r"(.)[不沒唔冇毋]\1")
_EITHER_ZH = re.compile("|".join(qw.EITHER_ZH) + "|或(?!許|多|少)")
_IS_A_IS_B = re.compile(r"是(.{1,6}?)是(.{1,6}?)(?:[?呢嗎]|$)")


def fold(text: str) -> str:
    """The question for matching: Simplified folded to Traditional, full-width ？，to ASCII, lower case."""
    return text.translate(qw.FOLD).lower()


@lru_cache(maxsize=1024)
def read_question(text: str) -> Question:
    """The form of ``text`` (and its options when it asks to choose); OPEN when nothing says more."""
    text = " ".join(text.split())[:500]
    if not text:
        return Question("", Form.OPEN)
    if _CJK.search(text):
        return _read_zh(text, fold(text))
    return _read_en(text, text.lower())


def _strip_lead(option: str, folded: str) -> str:
    """An option without the question words in front of it (官司要|和解, 我該不該|搬到台北, 我們|…)."""
    cut = 0
    for word in qw.LEAD_ZH:
        at = folded.rfind(word)
        if at >= 0 and at + len(word) < len(folded):
            cut = max(cut, at + len(word))
    changed = True
    while changed:
        changed = False
        for word in qw.PRONOUNS_ZH:
            if folded.startswith(word, cut) and cut + len(word) < len(folded):
                cut += len(word)
                changed = True
    return option[cut:]


def _strip_tail(option: str, folded: str) -> str:
    changed = True
    while changed and option:
        changed = False
        for word in qw.TAIL_ZH:
            if folded.endswith(word) and len(folded) > len(word):
                option, folded = option[: -len(word)], folded[: -len(word)]
                changed = True
    return option


def _options_zh(text: str, folded: str) -> tuple[str, str] | None:
    """The two options around 還是 / 或是 (搬到台北好|還是|留在台南好), or of 是A是B, as typed."""
    for found in _EITHER_ZH.finditer(folded):
        at, marker = found.start(), found.group(0)
        if at == 0 or folded.startswith(qw.NOT_AN_OPTION_ZH, at + len(marker)):
            continue
        left_f = folded[:at].rstrip(" ,、")
        start = max((m.end() for m in _ZH_STOP.finditer(left_f)), default=0)
        a = _strip_lead(text[start : len(left_f)], left_f[start:])
        a = _strip_tail(a, folded[len(left_f) - len(a) : len(left_f)])
        begin = at + len(marker)
        stop = _ZH_STOP.search(folded, begin)
        end = stop.start() if stop else len(folded)
        for word in ("要", "是", "應該", "該", "選"):
            if folded.startswith(word, begin) and end - begin > len(word) + 1:
                begin += len(word)
        b = _strip_tail(text[begin:end], folded[begin:end])
        if a.strip() and b.strip() and a.strip() not in qw.PRONOUNS_ZH:
            return a.strip(), b.strip()
    pair = _IS_A_IS_B.search(folded)
    if pair and pair.group(1) not in ("不", "否"):
        return text[pair.start(1) : pair.end(1)], text[pair.start(2) : pair.end(2)]
    return None


def _read_zh(text: str, folded: str) -> Question:
    options = _options_zh(text, folded)
    if options:
        return Question(text, Form.EITHER_OR, options)
    if any(w in folded for w in qw.WHEN_ZH):
        return Question(text, Form.WHEN)
    if any(w in folded for w in qw.WHERE_ZH):
        return Question(text, Form.WHERE)
    if any(w in folded for w in qw.WHO_ZH):
        return Question(text, Form.WHO)
    asks = folded.rstrip(" ?。!！.…")
    ends_as_question = asks.endswith(
        ("嗎", "麼", "否", "沒", "未", "無", "咩", "㗎")
    ) or folded.rstrip().endswith("?")
    should = any(w in folded for w in qw.SHOULD_ZH) and not any(w in folded for w in qw.NOT_SHOULD_ZH)
    if should or (re.search(r"(可以|需要|能否).+嗎", folded) and not folded.startswith("能")):
        return Question(text, Form.SHOULD)
    if (
        asks.endswith(("嗎", "麼", "否", "無", "未", "咩"))
        or any(w in folded for w in qw.YES_NO_ZH)
        or _REPEAT_ZH.search(folded)
    ):
        return Question(text, Form.YES_NO)
    if any(w in folded for w in qw.OPEN_ZH) or not ends_as_question:
        return Question(text, Form.OPEN)
    return Question(text, Form.YES_NO)


def _options_en(text: str, lower: str) -> tuple[str, str] | None:
    m = _OR_EN.search(lower)
    if not m:
        return None
    left, right = text[: m.start()], text[m.end() :]
    left = re.split(r"[,;:]\s*", left)[-1]
    head = _HEAD_EN.match(left.lower())
    a = left[head.end() :] if head else left
    right = re.split(r"[?.!;]", right)[0].strip()
    head = _HEAD_EN.match(right.lower())
    b = right[head.end() :] if head and head.end() < len(right) else right
    b = re.sub(r"\s+(instead|then|now)$", "", b.strip(" ,"), flags=re.I)
    a = a.strip(" ,")
    if a and b and a.lower() not in {"i", "we", "it", "this", "that"}:
        return a, b
    return None


def _read_en(text: str, lower: str) -> Question:
    options = _options_en(text, lower)
    if options:
        return Question(text, Form.EITHER_OR, options, english=True)
    clauses = [c for c in _EN_CLAUSE.split(lower) if c.strip()]
    clause = clauses[-1].strip() if clauses else lower
    if _WHEN_EN.search(lower):
        return Question(text, Form.WHEN, english=True)
    if _WHERE_EN.search(lower):
        return Question(text, Form.WHERE, english=True)
    if _WHO_EN.search(clause) or _WHO_EN.search(lower):
        return Question(text, Form.WHO, english=True)
    if _OPEN_HEAD_EN.match(clause):
        return Question(text, Form.OPEN, english=True)
    if _SHOULD_EN.search(lower):
        return Question(text, Form.SHOULD, english=True)
    if _YES_NO_EN.match(clause) or _YES_NO_EN.match(lower):
        return Question(text, Form.YES_NO, english=True)
    return Question(text, Form.OPEN, english=True)


def direction(text: str) -> str | None:
    """Which way an option or a should-question goes with respect to the matter the slip judges:
    "toward" it (搬到台北, 繼續打, marry), "away" from it (分手, 和解, break up), "stay" as things are
    (留在台南, 續約, wait until next year), or None when its words do not say.

    The longest matching word decides, so the specific phrase beats the general word inside it (繼續打
    over 打, 不搬 over 搬, "wait for him" over "wait"); ties go to away, then stay, then toward.
    """
    if _CJK.search(text):
        folded = _ASKING_ZH.sub("", fold(text))  # 要不要 is the question, not 不要
        found = [(len(w), -g, g) for g, words in enumerate(_ZH_GROUPS) for w in words if w in folded]
    else:
        lower = text.lower()
        found = [(len(w), -g, g) for g, words in enumerate(_EN_GROUPS) for w, rx in words if rx.search(lower)]
    if not found:
        return None
    return _DIRECTIONS[max(found)[2]]


_DIRECTIONS = ("away", "stay", "toward")
_ZH_GROUPS = (qw.AWAY_ZH, qw.HOLD_ZH, qw.TOWARD_ZH)
_ASKING_ZH = re.compile(r"(.{1,2})[不沒]\1")
_EN_GROUPS = tuple(
    tuple((w, re.compile(rf"\b{re.escape(w.strip())}\b")) for w in words)
    for words in (qw.AWAY_EN, qw.HOLD_EN, qw.TOWARD_EN)
)


def named_by(option: str, judgment: str) -> bool:
    """Whether a judgment names the option outright (訟宜和 names 和解, 生男 names "a boy")."""
    probe = fold(option) if _CJK.search(option) else f" {option.lower()} "
    return any(
        any(word in probe for word in words) and any(cue in judgment for cue in cues)
        for words, cues in qw.ECHO
    )
