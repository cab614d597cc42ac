"""The reading plan written out for an LLM (prompt v2): what to say, in order, and what it may cite.

A small model given only the facts loops and drifts; given the plan — the answer first, then the
judgment it rests on, the verse's image, the time the slip names, one piece of advice — it writes a
short cited reading and stops. The plan is the same ``Reading`` the grounded generator writes out, so
the two writers say the same thing and the guard can check the model against it.

Each point is one line in the reader's locale, quoting the slip's texts with their citation numbers;
the last line lists the numbers that may be cited. (For zh-Hans the prompt converts the zh-Hant plan.)
"""

from __future__ import annotations

import re

from qianshi.server.backends.generation.grounded import phrases as ph
from qianshi.server.backends.generation.grounded.gloss import gloss
from qianshi.server.reading.answer import clean
from qianshi.server.reading.lexicon import read_judgment
from qianshi.server.reading.outcomes import outcome
from qianshi.server.reading.plan import Reading
from qianshi.server.reading.question import Form
from qianshi.server.reading.verse import key_lines

_ANSWER = {
    "zh-Hant": {
        "yes": "會",
        "no": "不會",
        "wait": "會，但要等時機",
        "careful": "沒有定論，要謹慎",
    },
    "en": {
        "yes": "yes",
        "no": "no",
        "wait": "yes, but not yet",
        "careful": "neither yes nor no: go carefully",
    },
}
_L = {
    "zh-Hant": {
        "answer": "答案是{answer}：{outcome}。",
        "either": "籤選「{pick}」，不選「{other}」：{outcome}。",
        "either_none": "籤沒有在「{a}」和「{b}」之間替你選：{outcome}。",
        "either_both": "兩個籤解都說到了，依它的順序：{outcome}。",
        "clue": "籤上說「{text}」{cite}，意思是{plain}。",
        "no_clue": "籤上沒有寫明時間或地方，照實說，不要自己編。",
        "because": "「{category}」的籤解說「{text}」{cite}。",
        "rank": "這是{rank}。",
        "verse_basis": "詩的最後一句是「{text}」。",
        "advice": "籤要你「{text}」{cite}。",
        "not_yet": "籤上也說「{text}」{cite}，時候還沒到。",
        "verse": "詩句「{line}」{cite}的意思是{meaning}。",
        "general": "這個問題籤上沒有專門的籤解，就以整支籤的大意來讀。",
        "tip": "{tip}",
        "cite": "只能引用{numbers}。",
        "no_cite": "不要寫任何編號。",
    },
    "en": {
        "answer": "The answer is {answer}: {outcome}.",
        "either": "The slip chooses “{pick}” over “{other}”: {outcome}.",
        "either_none": "The slip does not choose between “{a}” and “{b}”: {outcome}.",
        "either_both": "The slip names both, in the judgment's order: {outcome}.",
        "clue": "The slip says “{text}” {cite}: {plain}.",
        "no_clue": "The slip names no time or place; say so, do not make one up.",
        "because": "The judgment for {category} says “{text}” {cite}{gloss}.",
        "rank": "The slip is ranked {rank}.",
        "verse_basis": "The verse ends “{text}”.",
        "advice": "The slip says “{text}” {cite}: {plain}.",
        "not_yet": "The slip also says “{text}” {cite}: the time has not come yet.",
        "verse": "The verse “{line}”{cite} means {meaning}.",
        "general": "The slip has no judgment for this question, so read it as a whole.",
        "tip": "{tip}",
        "cite": "Cite only {numbers}.",
        "no_cite": "Cite nothing.",
    },
}


_MARK = re.compile(r"\[(\d+)\]")


def _cite(numbers: tuple[int, ...] | list[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def plan_lines(reading: Reading, locale: str, rank: str) -> tuple[list[str], str]:
    """The plan in ``locale`` ("en", or zh-Hant for any Chinese locale): the points in order, one
    sentence each, and the sentence naming the citation numbers the points use."""
    loc = "en" if locale == "en" else "zh-Hant"
    en = loc == "en"
    t = _L[loc]
    r = reading.response
    said = outcome(reading.topic.key, r.lean, en)
    lines: list[str] = []
    if reading.general:
        lines.append(t["general"])
    if r.form is Form.EITHER_OR and len(reading.question.options) >= 2:
        a, b = (clean(o, 30) for o in reading.question.options[:2])
        if r.pick is not None:
            pick, other = (a, b) if r.pick == 0 else (b, a)
            lines.append(t["either"].format(pick=pick, other=other, outcome=said))
        elif r.answer == "both":
            lines.append(t["either_both"].format(outcome=said))
        else:
            lines.append(t["either_none"].format(a=a, b=b, outcome=said))
    elif r.form in (Form.WHEN, Form.WHERE, Form.WHO):
        clue = r.clue
        if clue is None:
            lines.append(t["no_clue"])
        else:
            lines.append(
                t["clue"].format(
                    text=clean(clue.text, 40),
                    cite=_cite(_cited(reading, clue.text)),
                    plain=clue.en if en else clue.zh,
                )
            )
    else:
        lines.append(t["answer"].format(answer=_ANSWER[loc][r.answer], outcome=said))
    lines += _basis(reading, loc, rank)
    if r.not_yet:
        lines.append(t["not_yet"].format(text=clean(r.not_yet, 40), cite=_cite(_cited(reading, r.not_yet))))
    lines += _verse(reading, loc)
    tips = reading.topic.tips_en if en else reading.topic.tips_zh
    if tips:
        lines.append(t["tip"].format(tip=tips[0]))
    used = sorted({int(n) for n in _MARK.findall(" ".join(lines))} & set(reading.citations))
    shown = ("、" if not en else ", ").join(f"[{n}]" for n in used)
    return lines, t["cite"].format(numbers=shown) if shown else t["no_cite"]


def _cited(reading: Reading, text: str) -> list[int]:
    """The citation numbers of the passages that hold ``text`` (a clue, a judgment)."""
    answer = reading.answer
    if answer is not None and any(text in q or q in text for q in answer.quotes):
        return list(answer.citations)
    return []


def _basis(reading: Reading, loc: str, rank: str) -> list[str]:
    t = _L[loc]
    en = loc == "en"
    stance, answer = reading.stance, reading.answer
    out: list[str] = []
    if answer is not None and stance.basis in ("judgment", "instruction", "rank", "verse"):
        text = ("」「" if not en else " / ").join(clean(q, 40) for q in answer.quotes)
        category = (
            f"{answer.category} ({ph.CATEGORY_EN.get(answer.category, 'this slip')})"
            if en
            else answer.category
        )
        out.append(
            t["because"].format(
                category=category,
                text=text,
                cite=_cite(answer.citations),
                gloss=gloss(answer, reading.topic.key) if en else "",
            )
        )
    if stance.basis == "rank" and rank:
        out.append(t["rank"].format(rank=clean(rank, 10)))
    elif stance.basis == "verse" and reading.verse:
        out.append(t["verse_basis"].format(text=clean(reading.verse[-1].text, 20)))
    if stance.advice:
        plain = (
            read_judgment(stance.advice).gloss if en else ph.instruction_zh(stance.advice, reading.topic.key)
        )
        out.append(
            t["advice"].format(
                text=clean(stance.advice, 30),
                cite=_cite(_cited(reading, stance.advice)),
                plain=plain or stance.advice,
            )
        )
    return out


def _verse(reading: Reading, loc: str) -> list[str]:
    t = _L[loc]
    lines = key_lines(list(reading.verse), limit=1)
    out = []
    for line in lines:
        if not line.motifs:
            continue
        meaning = line.motifs[0].en if loc == "en" else line.motifs[0].zh
        out.append(t["verse"].format(line=clean(line.text, 20), cite="", meaning=meaning))
    return out
