"""The answer to the question that was asked, in the form it was asked — the words of it.

What the answer is (which option, which way, what time) is decided in ``reading.response``; this
module words it: either/or names both options and the one the slip leans to, or says plainly that it
does not choose; should-I gives go ahead / wait / careful / hold back with its reason from the texts;
when / where / who quote the time, place or person the texts name, or say there is none; yes/no gives
the answer with the judgment's condition. Health questions get health words and defer to doctors on
medical choices; the wording lives in ``replies`` and ``reading.outcomes``.
"""

from __future__ import annotations

from qianshi.server.backends.generation.grounded import phrases as ph
from qianshi.server.backends.generation.grounded import replies as rp
from qianshi.server.backends.generation.grounded.writer import Writer
from qianshi.server.reading.answer import clean
from qianshi.server.reading.lexicon import read_judgment
from qianshi.server.reading.outcomes import HEALTH_TOPICS, outcome
from qianshi.server.reading.plan import Reading
from qianshi.server.reading.question import Form
from qianshi.server.reading.stance import Instruction


def _quote(w: Writer, text: str, gloss: str = "") -> str:
    """A judgment as the answer quotes it: bare in zh (the template adds 「」), with its gloss in en."""
    text = clean(text, 40)
    if w.en() and gloss:
        return f"{text} (“{gloss}”)"
    return text


def _judgment(w: Writer, f: Reading) -> tuple[str, str]:
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


def _either(w: Writer, f: Reading, loc: str, said: str, topic_name: str) -> tuple[str, bool]:
    """The either/or answer, and whether the judgment's own words decided it (then it is its reason)."""
    a, b = f.question.options[:2]
    r = f.response
    names = (clean(a, 30), clean(b, 30))
    fields = {"a": names[0], "b": names[1], "topic": topic_name, "outcome": said}
    if r.how == "echo" and r.pick is not None:
        return w.say(rp.EITHER[loc]["echo"], pick=names[r.pick], **fields), True
    if r.how == "both":  # 頭胎男，二胎女: both, in the judgment's own order
        return w.say(rp.EITHER[loc]["both"], text=_judgment(w, f)[1], **fields), True
    if r.how == "health":
        return w.say(rp.EITHER[loc]["health"], **fields), False
    if r.pick is None:
        return w.say(rp.EITHER[loc]["same" if r.how == "same" else r.lean], **fields), False
    fields["outcome"] = outcome(f.topic.key, r.lean, w.en())
    return w.say(rp.EITHER[loc][r.lean], pick=names[r.pick], other=names[1 - r.pick], **fields), False


def _should(w: Writer, f: Reading, loc: str, said: str) -> str:
    if f.topic.key in HEALTH_TOPICS:
        return w.say(rp.SHOULD_HEALTH[loc], outcome=said)
    return w.say(rp.SHOULD[loc][(f.response.lean, f.response.how or "toward")], outcome=said)


def _clue(w: Writer, f: Reading, loc: str) -> str:
    form = f.question.form
    key = {Form.WHEN: "when", Form.WHERE: "where"}.get(form, "who")
    found = f.response.clue
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


def _reason(w: Writer, f: Reading, loc: str, rank: str) -> str:
    s = f.stance
    if s.basis == "judgment":
        name, text = _judgment(w, f)
        return w.say(rp.REASON[loc]["judgment"], category=name, text=text) if text else ""
    if s.basis == "instruction":
        return w.say(rp.REASON[loc]["instruction"], text=_quote(w, s.advice, read_judgment(s.advice).gloss))
    if s.basis == "rank":
        return w.say(rp.REASON[loc]["rank"], rank=clean(rank, 10))
    last = clean(f.verse[-1].text, 20) if f.verse else ""
    return w.say(rp.REASON[loc]["verse"], text=last) if last else ""


def _condition(w: Writer, f: Reading, loc: str) -> str:
    advice = f.stance.advice
    return w.say(rp.CONDITION[loc], text=_quote(w, advice, read_judgment(advice).gloss))


def reply(w: Writer, f: Reading, rank: str) -> list[str]:
    """The sentences that answer the question in its own form, then the reason and condition."""
    loc = w.locale
    lean = f.response.lean
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
        out.append(_reason(w, f, loc, rank))
    if f.response.not_yet:  # 年未值時: a favourable line, but not this year
        out.append(
            w.say(
                rp.NOT_YET[loc], text=_quote(w, f.response.not_yet, read_judgment(f.response.not_yet).gloss)
            )
        )
    if (
        f.stance.instruction in (Instruction.RITE, Instruction.CARE, Instruction.CHANGE)
        and f.stance.basis != "instruction"
    ):
        out.append(_condition(w, f, loc))  # a rite or caution is the answer's condition; waiting is its lean
    return [s for s in out if s]
