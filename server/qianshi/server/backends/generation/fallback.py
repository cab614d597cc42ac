"""``--llm-fallback grounded``: when the LLM cannot start an answer, compose one from the judgments.

``FallbackGenerator`` streams the primary generator; if the primary fails with a backend error
(unavailable, stalled, failed) *before any text*, it says so in the stream — a chunk with
``notice="fallback:<reason>"``, which the pipeline turns into a tick with the "fallback" message —
and streams the fallback generator instead, marking the final chunk ``fallback_used``. Once the
primary has written text, a failure is reported as it is (with the partial text): splicing a second
author's text onto the first would be worse than an honest error. Cancellation is never a reason to
fall back, nor is a passed deadline.

The pipeline counts the primary's units (tokens) for progress; the grounded fallback has no tokens,
so its chunks count one unit per character — near enough for Chinese text, and the result says
``fallback_used`` so the learned estimates can tell.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Protocol

from qianshi.server.errors import BackendFailed, BackendTimeout, BackendUnavailable
from qianshi.server.writing import GenerationChunk, GenerationRequest

log = logging.getLogger(__name__)
NOTICE_PREFIX = "fallback:"


class Generator(Protocol):
    """The pipeline's ``Generator`` seam, restated: backends do not import the pipeline."""

    name: str
    model: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]: ...

    async def aclose(self) -> None: ...


class FallbackGenerator:
    """The primary generator, replaced by ``fallback`` when it fails before writing anything."""

    def __init__(self, primary: Generator, fallback: Generator) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name
        self.model = primary.model

    async def aclose(self) -> None:
        try:
            await self.primary.aclose()
        finally:
            await self.fallback.aclose()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        wrote = False
        reason = ""
        primary = self.primary.stream(request)
        async with contextlib.aclosing(primary):  # type: ignore[type-var]
            try:
                async for chunk in primary:
                    wrote = wrote or bool(chunk.text)
                    yield chunk
                return
            except (BackendUnavailable, BackendTimeout, BackendFailed) as exc:
                expired = request.deadline is not None and time.monotonic() >= request.deadline
                if wrote or exc.partial_text or expired:
                    raise
                reason = exc.reason
                log.warning("LLM failed before writing (%s); falling back to %s", reason, self.fallback.name)
        yield GenerationChunk(notice=NOTICE_PREFIX + reason)
        secondary = self.fallback.stream(request)
        async with contextlib.aclosing(secondary):  # type: ignore[type-var]
            async for chunk in secondary:
                if chunk.final:
                    yield GenerationChunk(
                        final=True,
                        prompt_tokens=chunk.prompt_tokens,
                        completion_tokens=chunk.completion_tokens,
                        finish_reason=chunk.finish_reason,
                        model=chunk.model or self.fallback.name,
                        prompt_version=chunk.prompt_version,
                        fallback_used=True,
                    )
                else:
                    yield GenerationChunk(text=chunk.text, tokens=chunk.tokens or len(chunk.text))
