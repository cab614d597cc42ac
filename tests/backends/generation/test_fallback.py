"""``--llm-fallback``: the fallback answers only when the LLM fails before writing, and says so."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from qianshi.server.backends.generation.fallback import FallbackGenerator
from qianshi.server.errors import BackendFailed, BackendTimeout, BackendUnavailable
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry
from qianshi.server.writing import GenerationChunk, GenerationRequest

from tests.backends.generation.test_prompt import request
from tests.fakes import FakeGenerator, FakeRetriever, spec


class Grounded:
    """Like the grounded generator: text without tokens."""

    name = "grounded"
    model = ""

    def __init__(self) -> None:
        self.calls = 0

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        self.calls += 1
        yield GenerationChunk(text="籤解說允成[1]。")
        yield GenerationChunk(final=True, finish_reason="stop", completion_tokens=9)

    async def aclose(self) -> None:
        return None


class Failing(FakeGenerator):
    name = "openai"
    model = "qwen"


async def drain(generator: FallbackGenerator, **overrides: object) -> list[GenerationChunk]:
    async with asyncio.timeout(10):
        return [chunk async for chunk in generator.stream(request(**overrides))]


@pytest.mark.parametrize(
    "error",
    [
        BackendUnavailable("down", reason="LLM_UNAVAILABLE"),
        BackendTimeout("stalled", reason="LLM_STALLED"),
        BackendFailed("error", reason="LLM_ERROR"),
    ],
)
async def test_a_failure_before_any_text_falls_back_and_says_so(error):
    grounded = Grounded()
    generator = FallbackGenerator(Failing(pieces=(), error=error), grounded)
    chunks = await drain(generator)
    assert chunks[0] == GenerationChunk(notice=f"fallback:{error.reason}")
    assert "".join(c.text for c in chunks) == "籤解說允成[1]。"
    assert chunks[1].tokens == len("籤解說允成[1]。")  # characters stand in for the missing tokens
    final = chunks[-1]
    assert final.final
    assert final.fallback_used
    assert final.model == "grounded"
    assert (generator.name, generator.model) == ("openai", "qwen")


async def test_a_failure_after_text_is_reported_not_patched_over():
    grounded = Grounded()
    generator = FallbackGenerator(
        Failing(pieces=("婚姻",), error=BackendFailed("x", reason="LLM_ERROR")), grounded
    )
    with pytest.raises(BackendFailed):
        await drain(generator)
    assert grounded.calls == 0


async def test_success_passes_through_untouched():
    grounded = Grounded()
    chunks = await drain(FallbackGenerator(Failing(), grounded))
    assert not chunks[-1].fallback_used
    assert all(not c.notice for c in chunks)
    assert grounded.calls == 0


async def test_a_passed_deadline_or_a_foreign_error_is_no_reason_to_fall_back():
    grounded = Grounded()
    late = FallbackGenerator(
        Failing(pieces=(), error=BackendTimeout("late", reason="DEADLINE_EXCEEDED")), grounded
    )
    with pytest.raises(BackendTimeout):
        await drain(late, deadline=time.monotonic() - 1)
    with pytest.raises(RuntimeError):
        await drain(FallbackGenerator(Failing(pieces=(), error=RuntimeError("bug")), grounded))
    assert grounded.calls == 0


async def test_the_pipeline_ticks_the_fallback_and_marks_the_result(tmp_path):
    primary = Failing(pieces=(), error=BackendUnavailable("down", reason="LLM_UNAVAILABLE"))
    generator = FallbackGenerator(primary, Grounded())
    config = PipelineConfig(tick_retrieval_s=1.0, tick_generation_s=1.0, coalesce_window_s=0.005)
    interpreter = Interpreter(FakeRetriever(), generator, Estimates(tmp_path / "e.json"), config)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(locale="en"), "", None)
        async with asyncio.timeout(10), registry.subscribe(task_id, "", 0) as stream:
            events = [e async for e in stream]
    notes = [e for e in events if isinstance(e.payload, ev.Tick) and "LLM_UNAVAILABLE" in e.message]
    assert len(notes) == 1
    assert "composing from the judgments instead" in notes[0].message
    kinds = [e.kind for e in events]
    assert kinds.index("tick", kinds.index("passages")) < kinds.index("text_delta")
    result = events[-1].payload
    assert isinstance(result, ev.Result)
    assert result.fallback_used
    assert result.text == "籤解說允成[1]。"
