"""``--llm-guard flag|fallback``: an LLM generator whose text is checked before a reader sees it.

``GuardedGenerator`` streams the LLM through a ``TextGuard`` (``text``). When the guard stops the
stream before any text went out (``fallback`` mode), the engine request is aborted — closing the LLM's
stream is what aborts it, for vLLM's server and in-process engine alike — and the grounded reading of
the same plan is streamed instead, after a ``fallback:guard:<check>`` notice that the pipeline turns
into an event saying why. When the guard cuts the stream later (a loop, a foreign clause), the request
is aborted the same way and the text so far stands. The final chunk carries the guard's ``Quality``
report, which the result shows and the metrics count.

Failures of the LLM pass through with ``partial_text`` set to what the reader actually saw (the guard
may have been holding the model's first words), so ``--llm-fallback`` still answers a model that fails
before anything went out.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator

from qianshi.server.backends.generation.fallback import Generator, stand_in
from qianshi.server.backends.generation.guard.text import WINDOW, TextGuard
from qianshi.server.errors import QianshiError
from qianshi.server.writing import (
    NOTICE_CHECKING,
    NOTICE_GUARD,
    GenerationChunk,
    GenerationRequest,
    reading_of,
)


def quotes(request: GenerationRequest) -> tuple[str, ...]:
    """The slip's own texts, which a reading may quote as they are."""
    poem = request.poem
    texts = [*poem.verse, poem.title, *(j.text for j in poem.judgments), *(p.text for p in request.passages)]
    return tuple(t.strip() for t in texts if t and t.strip())


class GuardedGenerator:
    """An LLM generator behind the guard, with the grounded generator to stand in."""

    def __init__(
        self, llm: Generator, grounded: Generator, mode: str = "fallback", window: int = WINDOW
    ) -> None:
        self.llm = llm
        self.grounded = grounded
        self.mode = mode
        self.window = window
        self.name = llm.name
        self.model = llm.model

    async def aclose(self) -> None:
        try:
            await self.llm.aclose()
        finally:
            await self.grounded.aclose()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        reading = reading_of(request)
        if request.reading is None:
            request = dataclasses.replace(request, reading=reading)  # worked out once, for both writers
        guard = TextGuard(request.locale, reading, quotes(request), self.mode, self.window)
        expected = reading.response.answer
        final: GenerationChunk | None = None
        tokens = 0
        checking = False
        primary = self.llm.stream(request)
        async with contextlib.aclosing(primary):  # type: ignore[type-var]
            try:
                async for chunk in primary:
                    if chunk.final:
                        final = chunk
                        break
                    if chunk.notice:
                        yield chunk
                        continue
                    tokens += chunk.tokens
                    out = guard.feed(chunk.text)
                    if guard.stopped:
                        break  # leaving the block closes the LLM's stream: the engine aborts the request
                    if not guard.released and chunk.text and not checking:
                        checking = True
                        yield GenerationChunk(notice=NOTICE_CHECKING)
                    if out or chunk.tokens:
                        yield GenerationChunk(text=out, tokens=chunk.tokens)
            except QianshiError as exc:
                exc.partial_text = guard.released_text  # what the reader saw, not what was held back
                raise
        if guard.stopped == "fallback":
            report = guard.report(expected)
            async for chunk in stand_in(self.grounded, request, NOTICE_GUARD + guard.fallback, report):
                yield chunk
            return
        rest = guard.finish()
        if rest:
            yield GenerationChunk(text=rest)
        if final is not None and final.finish_reason == "repetition":
            guard.engine_loop()
        report = guard.report(expected)
        if final is None:  # cut by the guard: the engine's own final chunk never came
            yield GenerationChunk(
                final=True,
                completion_tokens=tokens,
                finish_reason="guard",
                model=self.llm.model,
                quality=report,
            )
        else:
            yield dataclasses.replace(final, quality=report)
