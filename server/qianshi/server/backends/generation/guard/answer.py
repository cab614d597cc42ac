"""What a finished text answers — yes, no, wait, careful, or which option — read the way a person
skims it: the first sentences, where a reading says its answer.

A keyword reading, deliberately simple and explainable: cue words of each answer in English and
Chinese (``CUES``); the first of the opening sentences that holds any cue decides, and within it the
answers are tried in the order of ``CUES`` — wait, careful, no, yes — so "yes, but not yet" is wait and
"will not" is no. For an either/or, the
option named next to a word of choosing. It is reported beside the reading plan's answer (``Quality``)
and counted, never used to change text: it measures how often a model says what the slip says, and it
errs, so it is a measure, not a gate.
"""

from __future__ import annotations

import re

from qianshi.server.chinese import convert
from qianshi.server.reading.plan import Reading
from qianshi.server.reading.question import Form

OPENING = 3
"""Sentences read for the answer."""
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")

CUES: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    (
        "wait",
        re.compile(r"\b(not yet|not right away|not now but|in time|wait|be patient|takes? time|later|the time is not)\b"),
        ("等", "待", "時機未到", "時候未到", "還沒到", "不是現在", "急不得", "慢慢", "假以時日", "耐心"),
    ),
    (
        "careful",
        re.compile(r"\b(careful|caution|cautious|depends|uncertain|not settled|mixed|neither yes nor no|no plain)\b"),
        ("小心", "謹慎", "看情況", "保留", "未定", "不一定", "要看"),
    ),
    (
        "no",
        re.compile(r"\b(no|not|unlikely|don'?t|do not|won'?t|will not|cannot|can'?t|refrain|hold (back|off)|unfavou?rable|hard)\b"),
        ("不會", "不宜", "不可", "不要", "不利", "不行", "不好", "難", "別", "莫", "勿", "不樂觀", "不成"),
    ),
    (
        "yes",
        re.compile(r"\b(yes|will|go ahead|favou?rable|good|likely|can|should|succeed|recover)\b"),
        ("會", "可以", "能", "是的", "順利", "吉", "好", "成", "宜"),
    ),
)  # fmt: skip
_CHOOSE = re.compile(r"\b(choose|pick|better|prefer|recommend|go with|favou?rs?|leans? (to|towards?))\b")
_CHOOSE_ZH = ("選", "較好", "比較好", "偏向", "傾向", "宜", "建議")


def _opening(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s.strip()][:OPENING]


def _cued(sentence: str, chinese: bool) -> str:
    for name, english, chinese_cues in CUES:
        if any(cue in sentence for cue in chinese_cues) if chinese else english.search(sentence):
            return name
    return ""


def _option(text: str, options: tuple[str, ...], chinese: bool) -> str:
    """ "a" or "b" when the text names one option beside a word of choosing (and not the other)."""
    named = []
    for i, option in enumerate(options[:2]):
        probe = option.strip().lower()
        if probe and probe in text:
            named.append(i)
    if len(named) != 1:
        return ""
    chose = any(w in text for w in _CHOOSE_ZH) if chinese else bool(_CHOOSE.search(text))
    return "ab"[named[0]] if chose else ""


def answer_of(text: str, reading: Reading, locale: str) -> str:
    """The answer ``text`` gives (the names of ``Response.answer``), or "" when it gives none."""
    chinese = locale != "en"
    opening = _opening(convert(text, "zh-Hant") if chinese else text.lower())
    question = reading.question
    if question.form is Form.EITHER_OR and len(question.options) >= 2:
        options = tuple(convert(o, "zh-Hant") if chinese else o.lower() for o in question.options)
        picked = _option(" ".join(opening), options, chinese)
        if picked:
            return picked
    for sentence in opening:
        found = _cued(sentence, chinese)
        if found:
            return found
    return ""
