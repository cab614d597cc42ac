"""Composing the grounded interpretation: saying what the slip's texts answer, in the reader's language.

The text follows the order a temple interpreter (解籤) speaks in: name the slip, say what the verse
means, give the judgment for what was asked with its verdict, advise, and close by saying the slip is
only a reference. Every quoted text is looked up among the retrieved passages and cited with their
numbers ([1], [2] …) only when a passage holds it; the poem itself fills in when a passage is missing,
uncited, so an empty retrieval still gets a full answer.

:func:`compose` returns paragraphs of sentences; the generator streams them. It is pure string work
on a few dozen short texts (well under a millisecond), so it runs on the event loop.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from qianshi.server.backends.generation.grounded import phrases as ph
from qianshi.server.backends.generation.grounded.answer import (
    PROSE,
    QUOTE_LIMIT,
    SENTENCES,
    Answer,
    Sources,
    choose_topic,
    clean,
    find_answer,
    short,
)
from qianshi.server.backends.generation.grounded.lexicon import Verdict, rank_verdict, read_judgment
from qianshi.server.backends.generation.grounded.topics import Topic
from qianshi.server.backends.generation.grounded.verse import key_lines, read_verse, verse_verdict
from qianshi.server.domain import GenerationRequest, PassageKind


@dataclass(slots=True)
class Writer:
    """Picks phrasings with the request's seeded generator and formats them for the locale."""

    locale: str
    rng: random.Random
    sources: Sources

    def pick(self, options: tuple[str, ...]) -> str:
        return options[self.rng.randrange(len(options))]

    def en(self) -> bool:
        return self.locale == "en"


def _gloss(answer: Answer, asked: str) -> str:
    """The English glosses of quoted judgments, as they follow the quote (", “it will come together”").

    A clause about the asked topic takes its subject (病即痊 → "the illness will heal soon") or its
    label (占病險 → "illness: danger"); a clause about another topic is labelled with that one
    (功名無 → "career: nothing").
    """
    parts = []
    for i, r in enumerate(answer.readings):
        if not r.gloss:
            continue
        topics = answer.topics[i] if i < len(answer.topics) else frozenset()
        if topics and asked not in topics:
            label = "/".join(_LABEL_EN.get(t, t) for t in sorted(topics))
            parts.append(f"{label}: {r.gloss}")
        elif r.gloss.startswith("will "):
            subject = _SUBJECT_EN.get(asked, "it") if topics else "it"
            parts.append(f"{subject} {r.gloss}")
        elif topics:
            parts.append(f"{_LABEL_EN.get(asked, asked)}: {r.gloss}")
        else:
            parts.append(r.gloss)
    return ", “" + "; ".join(parts) + "”" if parts else ""


_SUBJECT_EN = {
    "health": "the illness",
    "lawsuit": "the lawsuit",
    "marriage": "the match",
    "travel": "the traveller",
    "wealth": "the money",
    "career": "success",
    "children": "the child",
}
_LABEL_EN = {
    "health": "illness",
    "lawsuit": "lawsuit",
    "marriage": "marriage",
    "travel": "travel",
    "wealth": "wealth",
    "career": "career",
    "children": "children",
    "home": "home",
    "general": "affairs",
    "farming": "crops",
    "lost": "lost things",
}


def opening(w: Writer, request: GenerationRequest) -> list[str]:
    poem = request.poem
    loc = w.locale
    set_name = ph.SET_NAMES_EN.get(poem.set_id, poem.set_name or poem.set_id) if w.en() else poem.set_name
    title = clean(poem.title, 30)
    title_part = ph.TITLE[loc].format(title=title) if title else ""
    cites = w.sources.cite([title], PassageKind.TITLE) if title else []
    rank = clean(poem.rank, 10)
    tone = ph.RANK_TONE_EN[rank_verdict(rank)]
    rank_part = ph.RANK[loc].format(rank=rank, tone=tone) if rank else ""
    num = str(poem.number) if w.en() else ph.zh_number(poem.number)
    first = w.pick(ph.OPENING[loc]).format(
        set=clean(set_name, 40), num=num, title=title_part, cite=w.sources.mark(cites), rank=rank_part
    )
    out = [first]
    question = clean(request.question, 80)
    if question:
        sentence = ph.QUESTION[loc].format(q=question)
        if question[-1] in "。.？?！!…":
            sentence = sentence[:-1]
        out.append(sentence)
    return out


def verse_paragraph(
    w: Writer, request: GenerationRequest, judgments: dict[str, str]
) -> tuple[list[str], Verdict]:
    loc = w.locale
    lines = read_verse(request.poem.verse)
    out: list[str] = []
    for line in key_lines(lines):
        is_last = line.index == len(lines) - 1
        cite = w.sources.mark(w.sources.cite([line.text], PassageKind.VERSE))
        motif = line.motifs[0] if line.motifs else None
        meaning = ph.VERSE_PLAIN[loc] if motif is None else motif.en if w.en() else motif.zh
        template = w.pick(ph.VERSE_LAST[loc] if is_last and len(lines) > 1 else ph.VERSE_FIRST[loc])
        out.append(template.format(line=clean(line.text, 20), cite=cite, meaning=meaning))
    tone = verse_verdict(lines)
    if tone in ph.VERSE_TONE[loc]:
        out.append(ph.VERSE_TONE[loc][tone])
    gist = _gist(w, request, judgments)
    if gist:
        out.append(gist)
    return out, tone


def _gist(w: Writer, request: GenerationRequest, judgments: dict[str, str]) -> str:
    """One sentence of commentary (詩意, 解曰 …) about the whole slip: the best retrieved one, quoted
    whole so the citation covers every word, else the opening of the poem's 詩意, uncited."""
    if request.category in PROSE:
        return ""
    retrieved = [p for p in w.sources.of_kind(PassageKind.JUDGMENT) if p.category in PROSE]
    if retrieved:
        # A commentary split into sentences is retrieved as several passages; two of the same
        # commentary read together (此卦…之象。凡事…) carry both the image and its verdict.
        category = retrieved[0].category
        same = [p.text.strip("。 ") for p in retrieved if p.category == category][:2]
        if w.en() and len("".join(same)) > QUOTE_LIMIT // 2:
            same = same[:1]  # a long classical quote helps an English reader less than a short one
        sentence = "。".join(short(t) for t in same)
    elif judgments.get("詩意"):
        category = "詩意"
        sentence = "。".join(short(t) for t in SENTENCES.split(judgments["詩意"])[:2] if t.strip("。 "))
    else:
        return ""
    if not sentence:
        return ""
    parts = [t for t in sentence.split("。") if t]
    cite = w.sources.mark(w.sources.cite(parts, PassageKind.JUDGMENT, category))
    gloss = ph.GIST_TONE_EN[read_judgment(parts[-1]).verdict] if w.en() else ""
    return ph.GIST[w.locale].format(
        name=category, text=clean(sentence, 2 * QUOTE_LIMIT), cite=cite, gloss=gloss
    )


def answer_paragraph(
    w: Writer, request: GenerationRequest, answer: Answer | None, chosen: Topic, judgments: dict[str, str]
) -> list[str]:
    loc = w.locale
    topic_name = chosen.en if w.en() else chosen.zh
    if answer is None:
        return [ph.ANSWER_NONE[loc].format(topic=topic_name)]
    verdict_text = w.pick(ph.VERDICT_TEXT[loc][answer.verdict])
    fields = {
        "topic": topic_name,
        "category": answer.category,
        "category_en": ph.CATEGORY_EN.get(answer.category, "this slip"),
        "text": ("」「" if not w.en() else " / ").join(clean(q, QUOTE_LIMIT) for q in answer.quotes),
        "cite": w.sources.mark(list(answer.citations)),
        "gloss": _gloss(answer, chosen.key) if w.en() else "",
        "verdict": verdict_text,
    }
    if answer.mode == "clauses":
        out = [w.pick(ph.ANSWER_CLAUSES[loc]).format(**fields)]
    elif answer.mode == "general":
        out = [ph.ANSWER_GENERAL[loc].format(**fields)]
    else:
        out = [w.pick(ph.ANSWER[loc]).format(**fields)]
    overall = "凡事"
    if answer.category != overall and overall in judgments:
        cites = w.sources.cite([judgments[overall]], PassageKind.JUDGMENT, overall)
        if cites:
            quote = short(judgments[overall])
            reading = read_judgment(quote)
            out.append(
                ph.OVERALL[loc].format(
                    category=overall,
                    category_en=ph.CATEGORY_EN[overall],
                    text=clean(quote, QUOTE_LIMIT),
                    cite=w.sources.mark(cites),
                    gloss=_gloss(Answer(overall, (quote,), (reading,), (), "direct"), chosen.key)
                    if w.en()
                    else "",
                )
            )
    return out


def advice_paragraph(w: Writer, verdict: Verdict, chosen: Topic) -> list[str]:
    if verdict is Verdict.NEUTRAL:
        verdict = Verdict.MIXED
    tip = chosen.tip_en if w.en() else chosen.tip_zh
    return [w.pick(ph.ADVICE[w.locale][verdict]), tip]


def compose(request: GenerationRequest, rng: random.Random) -> list[list[str]]:
    """The interpretation as paragraphs of sentences, in the request's locale."""
    locale = "en" if request.locale.lower().startswith("en") else "zh-Hant"
    sources = Sources(request.passages, locale)
    w = Writer(locale, rng, sources)
    judgments = {
        **sources.judgments(),
        **{j.category: j.text for j in request.poem.judgments if j.text.strip()},
    }
    chosen = choose_topic(request, judgments)
    answer = find_answer(request, judgments, chosen, sources)
    paragraphs = [opening(w, request)]
    verse, tone = verse_paragraph(w, request, judgments)
    if verse:
        paragraphs.append(verse)
    paragraphs.append(answer_paragraph(w, request, answer, chosen, judgments))
    verdict = answer.verdict if answer is not None else Verdict.NEUTRAL
    for fallback in (rank_verdict(request.poem.rank), tone):
        if verdict is Verdict.NEUTRAL:
            verdict = fallback
    paragraphs.append(advice_paragraph(w, verdict, chosen))
    paragraphs.append([w.pick(ph.CLOSING[locale])])
    return paragraphs
