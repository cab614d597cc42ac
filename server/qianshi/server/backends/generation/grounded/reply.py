"""The answer to the question that was asked, in the form it was asked.

Either/or names both options and says which one the slip leans to — because its judgment names one
(訟宜和 → 和解), or because one option goes toward the matter the slip judges and the other away from it
(搬到台北 / 留在台南 under a judgment on moving) — or says plainly that it does not choose. Should-I
gives go ahead / wait / careful / hold back, turned around when the question is about stepping away
(分手 under a favourable marriage judgment is "don't rush to end it"), with its reason from the texts.
When / where / who give the time, place or person the texts name (``clues``), or say there is none.
Yes/no gives the answer with the judgment's condition. Health questions get health words and defer to
doctors on medical choices; the wording lives in ``replies`` and ``outcomes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qianshi.server.backends.generation.grounded import clues
from qianshi.server.backends.generation.grounded import phrases as ph
from qianshi.server.backends.generation.grounded import replies as rp
from qianshi.server.backends.generation.grounded.answer import Answer, clean
from qianshi.server.backends.generation.grounded.lexicon import read_judgment
from qianshi.server.backends.generation.grounded.outcomes import HEALTH_TOPICS, outcome
from qianshi.server.backends.generation.grounded.question import Form, Question, direction, named_by
from qianshi.server.backends.generation.grounded.stance import Instruction, Lean, Stance
from qianshi.server.backends.generation.grounded.topics import Topic
from qianshi.server.backends.generation.grounded.writer import Writer


@dataclass(frozen=True, slots=True)
class Facts:
    """What the answer draws on."""

    question: Question
    stance: Stance
    topic: Topic
    answer: Answer | None
    rank: str
    verse: tuple[str, ...]
    attributes: Mapping[str, str]
    category_text: str = ""
    """The whole judgment of the answer's category (a 聖意's every clause), for time and place clues."""


def _quote(w: Writer, text: str, gloss: str = "") -> str:
    """A judgment as the answer quotes it: bare in zh (the template adds 「」), with its gloss in en."""
    text = clean(text, 40)
    if w.en() and gloss:
        return f"{text} (“{gloss}”)"
    return text


def _judgment(w: Writer, f: Facts) -> tuple[str, str]:
    """The answer's category name and its quoted text, as the reason and the options cite them."""
    a = f.answer
    if a is None:
        return "", ""
    glosses = [r.gloss for r in a.readings]
    if w.en():
        name = f"{a.category} ({ph.CATEGORY_EN.get(a.category, 'this slip')})"
        text = " / ".join(_quote(w, q, g) for q, g in zip(a.quotes, glosses, strict=False))
    else:
        name, text = a.category, "」「".join(clean(q, 40) for q in a.quotes)
    return name, text


def _either(w: Writer, f: Facts, loc: str, said: str, topic_name: str) -> tuple[str, bool]:
    """The either/or answer, and whether the judgment's own words decided it (then it is its reason)."""
    a, b = f.question.options[:2]
    lean = f.stance.lean
    names = (clean(a, 30), clean(b, 30))
    fields = {"a": names[0], "b": names[1], "topic": topic_name, "outcome": said}
    judged = "".join(f.answer.quotes) if f.answer else ""
    named = [i for i, o in enumerate((a, b)) if named_by(o, judged)]
    if len(named) == 1:
        return w.say(rp.EITHER[loc]["echo"], pick=names[named[0]], **fields), True
    if len(named) == 2:  # 頭胎男，二胎女: both, in the judgment's own order
        return w.say(rp.EITHER[loc]["both"], text=_judgment(w, f)[1], **fields), True
    if f.topic.key == "health":
        return w.say(rp.EITHER[loc]["health"], **fields), False
    ways = [direction(a), direction(b)]
    if "toward" not in ways or not ({"away", "stay"} & set(ways)):
        return w.say(rp.EITHER[loc]["same"], **fields), False
    toward = ways.index("toward")
    if f.stance.instruction in (Instruction.SETTLE, Instruction.HOLD) and lean is not Lean.HOLD:
        lean = Lean.HOLD  # 宜和, 守舊: the instruction picks the quieter option
        fields["outcome"] = outcome(f.topic.key, lean, w.en())
    if lean is Lean.CAREFUL:
        return w.say(rp.EITHER[loc][lean], **fields), False
    pick = toward if lean is Lean.GO else 1 - toward
    return w.say(rp.EITHER[loc][lean], pick=names[pick], other=names[1 - pick], **fields), False


def _should(w: Writer, f: Facts, loc: str, said: str) -> str:
    if f.topic.key in HEALTH_TOPICS:
        return w.say(rp.SHOULD_HEALTH[loc], outcome=said)
    way = direction(f.question.text) or "toward"
    return w.say(rp.SHOULD[loc][(f.stance.lean, way)], outcome=said)


def _clue(w: Writer, f: Facts, loc: str) -> str:
    form = f.question.form
    judged: list[tuple[str, str]] = []
    if f.answer is not None:
        judged = [(f.answer.category, q) for q in f.answer.quotes]
        if f.category_text:
            judged.append((f.answer.category, f.category_text))
    if form is Form.WHEN:
        found = clues.timing(judged, f.verse, f.attributes)
        key = "when"
    elif form is Form.WHERE:
        found = clues.place(judged, f.verse, f.attributes)
        key = "where"
    else:
        found = clues.people(judged, f.verse)
        key = "who"
    if found is None:
        return w.pick(rp.CLUE[loc][(key, "none")])
    text = found.text if found.source != "judgment" else clean(found.text, 40)
    if found.source == "judgment" and w.en():
        text = _quote(w, text, read_judgment(text).gloss if len(text) <= 12 else "")
    return w.say(
        rp.CLUE[loc][(key, found.source)],
        text=clean(text, 60),
        plain=found.en if w.en() else found.zh,
        category=found.category,
    )


def _reason(w: Writer, f: Facts, loc: str) -> str:
    s = f.stance
    if s.basis == "judgment":
        name, text = _judgment(w, f)
        return w.say(rp.REASON[loc]["judgment"], category=name, text=text) if text else ""
    if s.basis == "instruction":
        return w.say(rp.REASON[loc]["instruction"], text=_quote(w, s.advice, read_judgment(s.advice).gloss))
    if s.basis == "rank":
        return w.say(rp.REASON[loc]["rank"], rank=clean(f.rank, 10))
    last = clean(f.verse[-1], 20) if f.verse else ""
    return w.say(rp.REASON[loc]["verse"], text=last) if last else ""


def _condition(w: Writer, f: Facts, loc: str) -> str:
    advice = f.stance.advice
    return w.say(rp.CONDITION[loc], text=_quote(w, advice, read_judgment(advice).gloss))


def reply(w: Writer, f: Facts) -> list[str]:
    """The sentences that answer the question in its own form, then the reason and condition."""
    loc = w.locale
    lean = f.stance.lean
    said = outcome(f.topic.key, lean, w.en())
    topic_name = f.topic.en if w.en() else f.topic.zh
    form = f.question.form
    out: list[str] = []
    reasoned = False
    if form is Form.EITHER_OR and len(f.question.options) >= 2:
        sentence, reasoned = _either(w, f, loc, said, topic_name)
        out.append(sentence)
    elif form is Form.SHOULD:
        out.append(_should(w, f, loc, said))
    elif form in (Form.WHEN, Form.WHERE, Form.WHO):
        out += [_clue(w, f, loc), w.say(rp.OPEN[loc], outcome=said)]
    elif form is Form.YES_NO:
        table = rp.YES_NO_HEALTH[loc] if f.topic.key in HEALTH_TOPICS else {}
        out.append(w.say(table.get(lean) or rp.YES_NO[loc][lean], outcome=said))
    else:
        out.append(w.say(rp.OPEN[loc], outcome=said))
    if not reasoned and (
        form in (Form.SHOULD, Form.EITHER_OR) or f.stance.basis in ("rank", "verse", "instruction")
    ):
        out.append(_reason(w, f, loc))
    if (
        f.stance.instruction in (Instruction.RITE, Instruction.CARE, Instruction.CHANGE)
        and f.stance.basis != "instruction"
    ):
        out.append(_condition(w, f, loc))  # a rite or caution is the answer's condition; waiting is its lean
    return [s for s in out if s]
