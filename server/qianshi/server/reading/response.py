"""What the slip answers to the question, in the form it was asked: the decision, not its words.

Either/or gets an option — because the judgment names one (訟宜和 → 和解), or because one option goes
toward the matter the slip judges and the other away from it (搬到台北 / 留在台南 under a judgment on
moving), or because one is "now" and the other "later" under a judgment that says 不可 or 待時 — or
none, said plainly. Should-I gets the lean turned around when the question is about stepping away
(分手 under a favourable marriage judgment is "not yet"). When / where / who get the time, place or
person the texts name (``clues``). A question about now or this year meets the slip's own "not yet"
(年未值時, 時未至): the answer is then "in time", even where the line for the topic is favourable.

``Response.answer`` names the answer in a small vocabulary (yes, no, wait, careful, a, b, both, none)
that the guard compares an LLM's finished text with; the writers word it (``grounded/reply``, the
prompt's plan).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from qianshi.server.reading import clues
from qianshi.server.reading.answer import Answer
from qianshi.server.reading.clues import Clue
from qianshi.server.reading.question import Form, Question, direction, fold, named_by
from qianshi.server.reading.stance import Instruction, Lean, Stance
from qianshi.server.reading.topics import Topic

_PLAIN = {Lean.GO: "yes", Lean.WAIT: "wait", Lean.CAREFUL: "careful", Lean.HOLD: "no"}
_SHOULD = {
    ("toward", Lean.GO): "yes", ("toward", Lean.WAIT): "wait", ("toward", Lean.CAREFUL): "careful",
    ("toward", Lean.HOLD): "no",
    ("away", Lean.GO): "no", ("away", Lean.WAIT): "wait", ("away", Lean.CAREFUL): "careful",
    ("away", Lean.HOLD): "yes",
    ("stay", Lean.GO): "no", ("stay", Lean.WAIT): "yes", ("stay", Lean.CAREFUL): "yes",
    ("stay", Lean.HOLD): "yes",
}  # fmt: skip
"""A should-question's answer by the way it goes and the slip's lean: "should I stay?" under a
favourable slip is a no (go ahead instead)."""

NOW_ZH = ("今年", "現在", "這個月", "本月", "最近", "馬上", "立刻", "這次", "近期", "年內", "今天", "這陣子")
NOW_EN = re.compile(r"\b(this year|now|right now|this month|soon|currently|at the moment|these days|today)\b")
LATER_ZH = (
    "明年",
    "再等",
    "等等",
    "以後",
    "晚點",
    "晚一點",
    "過幾年",
    "下次",
    "暫緩",
    "先等",
    "延後",
    "之後",
)
LATER_EN = re.compile(r"\b(wait|next year|later|postpone|delay|hold off|another year|in a few years)\b")
NOT_YET = ("未值時", "時未至", "時未到", "未逢時", "未得時", "時未來", "待時", "時候未到", "未到時", "尚早")
"""A slip's own words for "the time has not come" (觀音 #1 解曰: 年未值時)."""


@dataclass(frozen=True, slots=True)
class Response:
    """The slip's answer to the question in its form (what a writer says first)."""

    form: Form
    lean: Lean
    """The lean the answer speaks with: the stance's, turned to "wait" by a "not yet" for a question
    about now, or to "hold" where an either/or's instruction (宜和, 守舊) picks the quieter option."""
    answer: str
    """yes, no, wait, careful, a, b, both or none: the answer a checker reads a text against."""
    pick: int | None = None
    """Either/or: the index (0 or 1) of the option the slip leans to; None where it does not choose."""
    how: str = ""
    """Either/or: echo (the judgment names the option), both, health, same (both go the same way),
    direction, time (now or later). Should-I: the question's direction (toward, away, stay)."""
    clue: Clue | None = None
    """When / where / who: what the texts name; also the "not yet" clue for a question about now."""
    not_yet: str = ""
    """The slip's words that the time has not come (年未值時), when they turned the answer to "wait"."""


def asks_now(question: Question) -> bool:
    """Whether the question is about now, this year or soon (今年, "this year", 現在)."""
    if question.english:
        return bool(NOW_EN.search(question.text.lower()))
    return any(w in fold(question.text) for w in NOW_ZH)


def _later(option: str) -> bool:
    return bool(LATER_EN.search(option.lower())) or any(w in fold(option) for w in LATER_ZH)


def _not_yet(texts: Mapping[str, str]) -> str:
    """The clause of a judgment or commentary that says the time has not come, or ""."""
    for text in texts.values():
        for phrase in NOT_YET:
            at = text.find(phrase)
            if at >= 0:
                start = max(text.rfind(mark, 0, at) for mark in "。，；") + 1
                ends = [e for e in (text.find(mark, at) for mark in "。，；") if e >= 0]
                return text[start : min(ends) if ends else len(text)]
    return ""


def _either(question: Question, stance: Stance, topic: Topic, answer: Answer | None) -> Response:
    a, b = question.options[:2]
    lean = stance.lean
    judged = "".join(answer.quotes) if answer else ""
    named = [i for i, option in enumerate((a, b)) if named_by(option, judged)]
    if len(named) == 1:
        return Response(Form.EITHER_OR, lean, "ab"[named[0]], named[0], "echo")
    if len(named) == 2:  # 頭胎男，二胎女: both, in the judgment's own order
        return Response(Form.EITHER_OR, lean, "both", None, "both")
    if topic.key == "health":
        return Response(Form.EITHER_OR, lean, "none", None, "health")
    later = [i for i, option in enumerate((a, b)) if _later(option)]
    if len(later) == 1:  # "this year, or wait?": a judgment of 不可 or 待時 picks later, 可 picks now
        later_at = later[0]
        if lean is Lean.CAREFUL:
            return Response(Form.EITHER_OR, lean, "none", None, "time")
        pick = 1 - later_at if lean is Lean.GO else later_at
        return Response(Form.EITHER_OR, lean, "ab"[pick], pick, "time")
    ways = [direction(a), direction(b)]
    if "toward" not in ways or not ({"away", "stay"} & set(ways)):
        return Response(Form.EITHER_OR, lean, "none", None, "same")
    toward = ways.index("toward")
    if stance.instruction in (Instruction.SETTLE, Instruction.HOLD) and lean is not Lean.HOLD:
        lean = Lean.HOLD  # 宜和, 守舊: the instruction picks the quieter option
    if lean is Lean.CAREFUL:
        return Response(Form.EITHER_OR, lean, "none", None, "direction")
    pick = toward if lean is Lean.GO else 1 - toward
    return Response(Form.EITHER_OR, lean, "ab"[pick], pick, "direction")


def respond(
    question: Question,
    stance: Stance,
    topic: Topic,
    answer: Answer | None,
    verse: tuple[str, ...],
    attributes: Mapping[str, str],
    judgments: Mapping[str, str],
    category_text: str = "",
) -> Response:
    """The answer to ``question`` from the stance and the texts (see the module docstring)."""
    lean = stance.lean
    not_yet = ""
    if lean is Lean.GO and asks_now(question):
        not_yet = _not_yet(judgments)
        if not_yet:
            lean = Lean.WAIT
            stance = Stance(lean, stance.rank, stance.judgment, stance.instruction, stance.advice,
                            stance.basis, stance.clash)  # fmt: skip
    form = question.form
    if form is Form.EITHER_OR and len(question.options) >= 2:
        found = _either(question, stance, topic, answer)
        return Response(found.form, found.lean, found.answer, found.pick, found.how, None, not_yet)
    if form is Form.SHOULD:
        way = direction(question.text) or "toward"
        return Response(form, lean, _SHOULD[(way, lean)], None, way, None, not_yet)
    if form in (Form.WHEN, Form.WHERE, Form.WHO):
        judged: list[tuple[str, str]] = []
        if answer is not None:
            judged = [(answer.category, q) for q in answer.quotes]
            if category_text:
                judged.append((answer.category, category_text))
        if form is Form.WHEN:
            clue = clues.timing(judged, verse, attributes)
        elif form is Form.WHERE:
            clue = clues.place(judged, verse, attributes)
        else:
            clue = clues.people(judged, verse)
        return Response(form, lean, _PLAIN[lean], None, "", clue, not_yet)
    return Response(form, lean, _PLAIN[lean], None, "", None, not_yet)
