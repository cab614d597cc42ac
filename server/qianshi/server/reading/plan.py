"""The reading: what this slip says to this question, worked out once, for every writer.

A temple interpreter first decides what the slip says — which of its texts answers the question, which
way it leans and why, what the verse's images add, what time or place it names — and only then says
it. ``read`` does the deciding, deterministically, from the question, the poem and the retrieved
passages; the grounded generator writes the result out in its own sentences, an LLM gets it as a plan
in its prompt, and the guard checks the LLM's text against it (the plan is data a writer renders and a
checker verifies: Puduppully et al., "Data-to-Text Generation with Content Selection and Planning").

It is pure string work on a few dozen short texts (tens of microseconds, memoised look-ups), so the
pipeline runs it on the event loop between retrieval and generation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qianshi.server.domain import Passage, Poem
from qianshi.server.reading.answer import Answer, Sources, choose_topic, find_answer
from qianshi.server.reading.lexicon import read_clauses
from qianshi.server.reading.question import Question, read_question
from qianshi.server.reading.response import Response, respond
from qianshi.server.reading.stance import Stance, decide
from qianshi.server.reading.topics import Topic, secondary_topic
from qianshi.server.reading.verse import Line, read_verse, verse_verdict
from qianshi.server.reading.words import Verdict

__all__ = ["Reading", "read"]


@dataclass(frozen=True, slots=True)
class Reading:
    """What the slip says to the question (frozen; every field is data, no wording)."""

    question: Question
    """The question's form and, for either/or, its two options as typed."""
    topic: Topic
    """What the question is about (the general topic when it names none the set knows)."""
    answer: Answer | None
    """The slip's text that answers it (the category's line, clauses of a 聖意, or a general line)."""
    stance: Stance
    """Which way the texts lean and what decides it (judgment, instruction, rank, verse)."""
    response: Response
    """The answer in the question's form: yes / no / wait / careful / which option / the clue."""
    verse: tuple[Line, ...]
    """The verse's lines with their images."""
    verse_tone: Verdict
    judgments: Mapping[str, str]
    """Every judgment text by the set's category name: the poem's own, and the retrieved ones."""
    category_text: str
    """For an answer from clauses: the clauses of the whole line that speak to the topic."""
    citations: tuple[int, ...]
    """The citation numbers a writer may use: one per retrieved passage ([1], [2] …)."""
    general: bool
    """The question names no topic this set has a line for (or is empty): the slip is read in
    general, and the writers say so rather than pretend it answers a topic."""
    secondary: Topic | None = None
    """Another topic the question names (a second worry: 老公失業 beside 小孩生病), which a writer
    may mention; it never decides the answer."""


def _about(text: str, topic: Topic) -> str:
    """The clauses of a 聖意 that speak to the topic or to none in particular (a time found in 求財遲 is
    about money, not about a pregnancy)."""
    keep = [
        c.text for c in read_clauses(text) if not c.topics or topic.key in c.topics or "general" in c.topics
    ]
    return "。".join(keep)


def read(
    question: str,
    poem: Poem,
    passages: Sequence[Passage],
    category: str,
    common_category: str = "",
) -> Reading:
    """The reading of ``poem`` for ``question``, from the passages retrieved for the set's own
    ``category`` (and the ``common_category`` it was chosen for, "" when general)."""
    sources = Sources(tuple(passages))
    judgments = {
        **sources.judgments(),
        **{j.category: j.text for j in poem.judgments if j.text.strip()},
    }
    asked = read_question(question)
    topic = choose_topic(category, common_category, question)
    answer = find_answer(category, judgments, topic, sources)
    lines = tuple(read_verse(poem.verse))
    tone = verse_verdict(list(lines))
    stance = decide(poem.rank, answer, tone)
    category_text = (
        _about(judgments.get(answer.category, ""), topic) if answer and answer.mode == "clauses" else ""
    )
    response = respond(
        asked,
        stance,
        topic,
        answer,
        tuple(line.text for line in lines),
        poem.attributes,
        judgments,
        category_text,
    )
    general = topic.key == "general"
    return Reading(
        asked,
        topic,
        answer,
        stance,
        response,
        lines,
        tone,
        judgments,
        category_text,
        sources.numbers(),
        general,
        secondary_topic(question, topic),
    )
