"""The guarded generator: the engine's stream is closed (its request aborted) when the guard stops it,
the grounded reading stands in before anything went out, and failures carry only what was shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from qianshi.server.backends.generation.fallback import FallbackGenerator
from qianshi.server.backends.generation.grounded.generator import GroundedGenerator
from qianshi.server.backends.generation.guard.generator import GuardedGenerator
from qianshi.server.errors import BackendUnavailable
from qianshi.server.writing import NOTICE_CHECKING, NOTICE_GUARD, GenerationChunk, GenerationRequest

from tests.backends.generation.test_prompt import request


class Scripted:
    """An LLM that streams the given pieces (then a final chunk, or an error) and records its close."""

    name = "openai"
    model = "smol"

    def __init__(self, pieces: list[str], fail: Exception | None = None, finish: str = "stop") -> None:
        self.pieces = pieces
        self.fail = fail
        self.finish = finish
        self.closed = asyncio.Event()
        self.sent = 0

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        try:
            for piece in self.pieces:
                self.sent += 1
                yield GenerationChunk(text=piece, tokens=1)
            if self.fail is not None:
                raise self.fail
            yield GenerationChunk(final=True, finish_reason=self.finish, completion_tokens=len(self.pieces))
        finally:
            self.closed.set()

    async def aclose(self) -> None:
        return None


async def drain(gen: GuardedGenerator | FallbackGenerator, **overrides: object) -> list[GenerationChunk]:
    async with asyncio.timeout(10):
        return [c async for c in gen.stream(request(**overrides))]


def text(chunks: list[GenerationChunk]) -> str:
    return "".join(c.text for c in chunks if not c.final)


async def test_a_trip_before_any_text_aborts_the_llm_and_the_grounded_reading_stands_in():
    llm = Scripted(["The answer ", "is ஆம் அவர் குணமடைவார். ", "never read", " again."])
    chunks = await drain(GuardedGenerator(llm, GroundedGenerator()), locale="en", question="Will it happen?")
    assert llm.closed.is_set() and llm.sent == 2  # stopped at the trip: the rest was never asked for
    notices = [c.notice for c in chunks if c.notice]
    assert notices == [NOTICE_CHECKING, NOTICE_GUARD + "language"]
    assert "ஆ" not in text(chunks) and "slip" in text(chunks)  # the grounded reading, in English
    final = chunks[-1]
    assert final.final and final.fallback_used and final.quality is not None
    assert final.quality.fallback == "language" and final.quality.trips[0].action == "fallback"


async def test_a_loop_after_the_window_is_cut_and_the_engine_request_closed():
    sentence = "The marriage will happen, and the two of you will be happy together [1]. "
    llm = Scripted([sentence] * 6)
    chunks = await drain(GuardedGenerator(llm, GroundedGenerator(), window=20), locale="en")
    assert llm.closed.is_set() and llm.sent < 6
    assert text(chunks).count("happy together") == 1
    final = chunks[-1]
    assert final.finish_reason == "guard" and not final.fallback_used
    assert final.quality is not None and [t.check for t in final.quality.trips] == ["loop"]


async def test_the_engines_own_loop_detection_is_reported():
    llm = Scripted(["Yes, it will happen [1]."], finish="repetition")
    chunks = await drain(GuardedGenerator(llm, GroundedGenerator()), locale="en")
    final = chunks[-1]
    assert final.finish_reason == "repetition"
    assert final.quality is not None and final.quality.trips[0].detail == "the engine's repetition detection"


async def test_a_failure_while_the_guard_held_the_text_lets_the_failure_fallback_answer():
    llm = Scripted(
        ["Yes, it", " will"], fail=BackendUnavailable("gone", reason="LLM_UNAVAILABLE", partial_text="x")
    )
    gen = FallbackGenerator(GuardedGenerator(llm, GroundedGenerator()), GroundedGenerator())
    chunks = await drain(gen, locale="en")
    assert chunks[-1].fallback_used and "slip" in text(chunks)


async def test_a_failure_after_text_went_out_keeps_only_what_the_reader_saw():
    llm = Scripted(
        ["Yes, it will happen [1]. ", "And more"], fail=BackendUnavailable("gone", reason="LLM_UNAVAILABLE")
    )
    with pytest.raises(BackendUnavailable) as failed:
        await drain(GuardedGenerator(llm, GroundedGenerator(), window=0), locale="en")
    assert failed.value.partial_text == "Yes, it will happen [1]."
