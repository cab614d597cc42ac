"""What a generator is asked to write, and what it streams back.

``GenerationRequest`` carries the task's :class:`~qianshi.server.reading.plan.Reading` — what the slip
says to this question, worked out once by the pipeline after retrieval — beside the texts it rests on,
the locale and the limits. Every generator renders that reading: the grounded one in its own sentences,
an LLM from a prompt that carries it as a plan, and the guard checks the LLM's text against it.

``GenerationChunk`` is one piece of the stream; the final one carries usage and, for a checked LLM, the
``Quality`` report of what the guard found. These types sit above ``domain`` and ``reading`` and below
the pipeline and the backends, which both speak them; nothing here imports either.
"""

from __future__ import annotations

from dataclasses import dataclass

from qianshi.server.domain import Passage, Poem
from qianshi.server.reading.plan import Reading, read


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Everything a generator needs to write one interpretation."""

    request_id: str
    question: str
    locale: str
    poem: Poem
    passages: tuple[Passage, ...]
    category: str
    max_tokens: int
    temperature: float | None = None
    common_category: str = ""
    """The common category (婚姻, 疾病 …) the set's own ``category`` was chosen for; "" when general."""
    seed: int | None = None
    deadline: float | None = None
    """Absolute ``time.monotonic()`` by which generation must end, or None."""
    reading: Reading | None = None
    """The reading plan (``reading.plan.read``); None where a caller did not work it out (generators
    then work it out themselves from the fields above)."""


@dataclass(frozen=True, slots=True)
class Trip:
    """One check of the guard that tripped, and what was done about it."""

    check: str
    """"script", "language", "loop", "citation" or "stance"."""
    action: str
    """"fallback" (the grounded reading stood in), "cut" (the text was ended there), "removed" (a
    citation marker was taken out), or "flagged" (reported only)."""
    detail: str = ""
    at_char: int = 0
    """How many characters had been released to the caller when it tripped."""


@dataclass(frozen=True, slots=True)
class Quality:
    """What the guard found in an LLM's text while it streamed (the result reports it)."""

    mode: str
    """The guard's mode: "flag" or "fallback" ("off" never produces a report)."""
    trips: tuple[Trip, ...] = ()
    converted_chars: int = 0
    """Characters the script check converted (Simplified → Traditional, or back for zh-Hans)."""
    removed_citations: tuple[int, ...] = ()
    """Citation numbers the text used that name no passage; they were not shown as citations."""
    expected_answer: str = ""
    """The plan's answer to the question: "yes", "no", "wait", "careful", "a", "b" or "none"."""
    found_answer: str = ""
    """The answer the finished text gives, by the same names; "" when it gives none that can be read."""
    fallback: str = ""
    """The check whose trip made the grounded reading stand in; "" when the LLM's text stood."""

    @property
    def stance_agrees(self) -> bool | None:
        """Whether the text answers as the plan does; None when the text's answer could not be read."""
        if not self.found_answer or not self.expected_answer:
            return None
        return self.found_answer == self.expected_answer


@dataclass(frozen=True, slots=True)
class GenerationChunk:
    """A piece of generated text, or (``final``) the end of the generation with its usage."""

    text: str = ""
    tokens: int = 0
    """Model tokens in this chunk (0 for generators without tokens). A chunk may carry tokens and no
    text: the guard holds text back while it checks it, and progress still counts the tokens."""
    final: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""
    model: str = ""
    prompt_version: str = ""
    fallback_used: bool = False
    notice: str = ""
    """A note for the stream instead of text (``fallback:<reason>``: the fallback generator takes over)."""
    quality: Quality | None = None
    """On the final chunk of a guarded generation: what the guard found."""


def reading_of(request: GenerationRequest) -> Reading:
    """The request's reading: the one the pipeline worked out, else worked out now from its fields."""
    if request.reading is not None:
        return request.reading
    return read(request.question, request.poem, request.passages, request.category, request.common_category)
