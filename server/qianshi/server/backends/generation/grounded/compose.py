"""Composing the grounded interpretation: saying what the slip's texts answer, in the reader's language.

The text follows the order a temple interpreter (解籤) speaks in: name the slip and the question, say
what the verse means in its own images, give the judgment for what was asked — as a verdict, or as
what to do when it is an instruction (祭虎, 守舊) — and how it sits with the slip's rank, then answer the
question in the form it was asked (``reply``), with advice for its topic, and close by saying the slip
is only a reference. The lean of the whole reading is the ``stance``: it never says a 下 slip is good
unless its judgment does, and then it says so. Every quoted text is looked up among the retrieved
passages and cited with their numbers ([1], [2] …) only when a passage holds it; the poem itself fills in
when a passage is missing, uncited, so an empty retrieval still gets a full answer.

:func:`compose_reading` returns paragraphs of sentences and what they rest on; the generator streams
them. It is pure string work on a few dozen short texts (a few hundred microseconds), so it runs on
the event loop.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from qianshi.server.backends.generation.grounded import phrases as ph
from qianshi.server.backends.generation.grounded.gloss import gloss
from qianshi.server.backends.generation.grounded.reply import reply
from qianshi.server.backends.generation.grounded.writer import Writer
from qianshi.server.domain import PassageKind
from qianshi.server.reading.answer import PROSE, QUOTE_LIMIT, SENTENCES, Answer, Sources, clean, short
from qianshi.server.reading.categories.data import GENERAL
from qianshi.server.reading.lexicon import (
    Verdict,
    rank_verdict,
    read_judgment,
)
from qianshi.server.reading.plan import Reading
from qianshi.server.reading.stance import Lean, Stance
from qianshi.server.reading.topics import Topic
from qianshi.server.reading.verse import Line, key_lines
from qianshi.server.writing import GenerationRequest, reading_of

G, W, M, B, N = Verdict.GOOD, Verdict.WAIT, Verdict.MIXED, Verdict.BAD, Verdict.NEUTRAL


@dataclass(frozen=True, slots=True)
class Composed:
    """The composed text and the reading it renders (tests check the text against the reading)."""

    paragraphs: list[list[str]]
    reading: Reading


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
        set=clean(set_name, 40), num=num, title=title_part, cite=w.mark(cites), rank=rank_part
    )
    out = [first]
    question = clean(request.question, 80)
    if question:
        sentence = ph.QUESTION[loc].format(q=question)
        if question[-1] in "。.？?！!…":
            sentence = sentence[:-1]
        out.append(sentence)
    return out


def _span(line: Line, word: str) -> str:
    """The half of a seven-character line (4 + 3) that holds an image, so the quote reads as words."""
    at = line.text.find(word)
    if len(line.text) != 7 or at < 0:
        return word
    return line.text[:4] if at < 4 else line.text[4:]


def _images(lines: list[Line], chosen: list[Line]) -> tuple[list[tuple[str, Verdict]], str]:
    """The key lines' images in order (the words that carry them, their tone), and one to close on."""
    images = [(_span(ln, ln.words[0]), ln.motifs[0].verdict) for ln in chosen if ln.words and ln.motifs]
    if images:
        return images, images[-1][0]
    last = next((ln for ln in reversed(lines) if ln.words), None)
    return images, _span(last, last.words[0]) if last else ""


def _course(v1: Verdict, v2: Verdict) -> str:
    """The verse's course from its first key image to its last; the last line is its conclusion."""
    if v2 is B:
        return "down" if v1 is G else "bad" if v1 is B else "warn"
    if v2 is G:
        return "up" if v1 is B else "good" if v1 is G else "rise"
    if v2 is W:
        return "up" if v1 is B else "wait"
    return "settle" if v1 is B else "mixed"


def _arc(w: Writer, images: list[tuple[str, Verdict]], tone: Verdict, stance: Stance, rank: str) -> str:
    """One sentence on the verse's course in its own images. Where it and the rank pull apart, the
    rank sets the tone and the sentence says so: a 下 slip's verse is never read as plainly good."""
    loc = w.locale
    if not images:
        return ""
    (w1, v1), (w2, v2) = images[0], images[-1]
    one = len(images) == 1 or w1 == w2
    kind = _course(tone if one else v1, v2 if v2 is not N else tone)
    if stance.rank is B and kind not in ("bad", "warn", "down"):
        good = next((word for word, v in images if v in (G, W)), "")
        if good:
            return w.say(ph.TEMPER[loc]["low"], w=good, rank=rank)
        return w.say(ph.TEMPER[loc]["low_mixed"], w1=w1, w2=w2, rank=rank)
    if stance.rank is G and kind in ("bad", "warn", "down"):
        bad = next((word for word, v in images if v is B), w2)
        return w.say(ph.TEMPER[loc]["high"], w=bad, rank=rank)
    if one:
        tones = ph.ARC_ONE[loc].get(v2 if v2 is not N else tone)
        return w.say(tones, w=w2) if tones else ""
    return w.say(ph.ARC[loc][kind], w1=w1, w2=w2)


def verse_paragraph(
    w: Writer, request: GenerationRequest, judgments: Mapping[str, str], lines: list[Line], stance: Stance
) -> tuple[list[str], str]:
    """The verse's key lines with their meaning, its course in images, and a commentary; and the image
    the closing may return to."""
    loc = w.locale
    out: list[str] = []
    chosen = key_lines(lines)
    for line in chosen:
        is_last = line.index == len(lines) - 1 and len(lines) > 1
        cite = w.mark(w.sources.cite([line.text], PassageKind.VERSE))
        text = clean(line.text, 20)
        if not line.motifs:
            out.append(w.say(ph.VERSE_BARE[loc], line=text, cite=cite))
            continue
        meaning = line.motifs[0].en if w.en() else line.motifs[0].zh
        template = w.pick(ph.VERSE_LAST[loc] if is_last else ph.VERSE_FIRST[loc])
        out.append(template.format(line=text, cite=cite, meaning=meaning))
    images, closing_image = _images(lines, chosen)
    arc = _arc(w, images, reading_of(request).verse_tone, stance, clean(request.poem.rank, 10))
    if arc:
        out.append(arc)
    gist = _gist(w, request, judgments, stance)
    if gist:
        out.append(gist)
    return out, closing_image


def _gist(w: Writer, request: GenerationRequest, judgments: Mapping[str, str], stance: Stance) -> str:
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
    if len(sentence.removeprefix("此籤").removeprefix("此卦")) < 2:
        return ""  # a commentary cut at its first comma (此籤，…) says nothing on its own
    parts = [t for t in sentence.split("。") if t]
    cite = w.mark(w.sources.cite(parts, PassageKind.JUDGMENT, category))
    tone = read_judgment(parts[-1]).verdict
    if tone in (G, W) and not stance.favourable:
        tone = N  # a hopeful commentary is quoted, not glossed as favourable, when the slip leans against
    note = ph.GIST_TONE_EN[tone] if w.en() else ""
    return w.say(
        ph.GIST[w.locale], name=category, text=clean(sentence, 2 * QUOTE_LIMIT), cite=cite, gloss=note
    )


def _rank_note(w: Writer, stance: Stance, rank: str, topic_name: str, answer: Answer) -> str:
    """How the judgment sits with the rank: agreeing, or pulling apart (then the reading says so)."""
    loc = w.locale
    category = answer.category
    if rank and answer.mode == "general" and stance.basis == "rank":
        favourable = answer.verdict in (G, W)
        if (favourable and not stance.favourable) or (answer.verdict is B and stance.favourable):
            return w.say(ph.RANK_CLASH[loc]["general"], rank=rank, topic=topic_name, category=category)
    if not rank or stance.basis not in ("judgment", "instruction"):
        return ""
    if stance.clash:
        return w.say(ph.RANK_CLASH[loc][stance.clash], rank=rank, topic=topic_name, category=category)
    if stance.rank is B and stance.judgment is not B:
        return w.say(ph.RANK_CLASH[loc]["hold"], rank=rank, topic=topic_name, category=category)
    agree = (stance.rank is G and stance.favourable) or (stance.rank is B and stance.lean is Lean.HOLD)
    return w.say(ph.RANK_AGREE[loc], rank=rank, topic=topic_name) if agree else ""


def judgment_paragraph(
    w: Writer,
    request: GenerationRequest,
    answer: Answer | None,
    chosen: Topic,
    judgments: Mapping[str, str],
    stance: Stance,
) -> list[str]:
    loc = w.locale
    topic_name = chosen.en if w.en() else chosen.zh
    if answer is None:
        return [ph.ANSWER_NONE[loc].format(topic=topic_name)]
    advice = bool(answer.readings) and all(r.advice for r in answer.readings)
    if advice:
        verdict_text = w.pick(ph.VERDICT_ADVICE[loc])
        plain = "" if w.en() else ph.instruction_zh("".join(answer.quotes), chosen.key)
        verdict_text += f"：{plain}" if plain else ""
    elif stance.advice and stance.judgment is not N:
        # a verdict with an instruction (不佳，等待): say both, the verdict as the stance reads it
        verdict_text = w.pick(ph.VERDICT_TEXT[loc][stance.judgment])
        plain = read_judgment(stance.advice).gloss if w.en() else ph.instruction_zh(stance.advice, chosen.key)
        verdict_text += ph.AND_ADVICE[loc].format(plain=plain) if plain else ""
    else:
        verdict_text = w.pick(ph.VERDICT_TEXT[loc][answer.verdict])
    fields = {
        "topic": topic_name,
        "category": answer.category,
        "category_en": ph.CATEGORY_EN.get(answer.category, "this slip"),
        "text": ("」「" if not w.en() else " / ").join(clean(q, QUOTE_LIMIT) for q in answer.quotes),
        "cite": w.mark(list(answer.citations)),
        "gloss": gloss(answer, chosen.key) if w.en() else "",
        "verdict": verdict_text,
    }
    if at_large(request, chosen):
        out = [ph.ANSWER_AT_LARGE[loc].format(**fields)]
    elif answer.mode == "clauses":
        out = [w.pick(ph.ANSWER_CLAUSES[loc]).format(**fields)]
    elif answer.mode == "general":
        out = [ph.ANSWER_GENERAL[loc].format(**fields)]
    else:
        out = [w.pick(ph.ANSWER[loc]).format(**fields)]
    note = _rank_note(w, stance, clean(request.poem.rank, 10), topic_name, answer)
    if note:
        out.append(note)
    overall = "凡事"
    if answer.category != overall and overall in judgments:
        cites = w.sources.cite([judgments[overall]], PassageKind.JUDGMENT, overall)
        if cites:
            quote = short(judgments[overall])
            reading = read_judgment(quote)
            out.append(
                w.pick(ph.OVERALL[loc]).format(
                    category=overall,
                    category_en=ph.CATEGORY_EN[overall],
                    text=clean(quote, QUOTE_LIMIT),
                    cite=w.mark(cites),
                    gloss=gloss(Answer(overall, (quote,), (reading,), (), "direct"), chosen.key)
                    if w.en()
                    else "",
                )
            )
    return out


def at_large(request: GenerationRequest, chosen: Topic) -> bool:
    """Whether the question names no topic at all (or there is none), so the slip is read in general:
    the general topic, reached without a common category or through the general one (凡事)."""
    return chosen.key == "general" and request.common_category in ("", GENERAL)


def secondary_sentence(w: Writer, reading: Reading) -> str:
    """One sentence on the question's second worry: the slip's own line for it where it has one
    (quoted, cited only where a retrieved passage holds it), else that it has none."""
    other = reading.secondary
    if other is None:
        return ""
    name = other.en if w.en() else other.zh
    category = next((c for c in other.categories if reading.judgments.get(c, "").strip()), None)
    if category is None:
        return ph.SECONDARY_NONE[w.locale].format(topic=name)
    quote = short(reading.judgments[category])
    cites = w.sources.cite([quote], PassageKind.JUDGMENT, category)
    reading_of_quote = Answer(category, (quote,), (read_judgment(quote),), (), "direct")
    return ph.SECONDARY[w.locale].format(
        topic=name,
        category=category,
        category_en=ph.CATEGORY_EN.get(category, "that matter"),
        text=clean(quote, QUOTE_LIMIT),
        cite=w.mark(cites),
        gloss=gloss(reading_of_quote, other.key) if w.en() else "",
    )


def compose_reading(request: GenerationRequest, rng: random.Random) -> Composed:
    """The interpretation as paragraphs of sentences, in the request's locale, with its reading."""
    locale = "en" if request.locale.lower().startswith("en") else "zh-Hant"
    reading = reading_of(request)
    w = Writer(locale, rng, Sources(request.passages))
    judgments = reading.judgments
    chosen, answer, stance = reading.topic, reading.answer, reading.stance
    lines = list(reading.verse)
    paragraphs = [opening(w, request)]
    verse, image = verse_paragraph(w, request, judgments, lines, stance)
    if verse:
        paragraphs.append(verse)
    judged = judgment_paragraph(w, request, answer, chosen, judgments, stance)
    also = secondary_sentence(w, reading)
    paragraphs.append([*judged, also] if also else judged)
    tip = w.pick(chosen.tips_en if w.en() else chosen.tips_zh)
    paragraphs.append([*reply(w, reading, request.poem.rank), tip])
    closings = ph.CLOSING[locale] + (ph.CLOSING_IMAGE[locale] if image and not w.en() else ())
    paragraphs.append([w.pick(closings).format(image=clean(image, 12))])
    return Composed(paragraphs, reading)


def compose(request: GenerationRequest, rng: random.Random) -> list[list[str]]:
    """The interpretation as paragraphs of sentences, in the request's locale."""
    return compose_reading(request, rng).paragraphs
