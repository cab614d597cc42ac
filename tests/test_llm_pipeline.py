"""The pipeline end to end with an LLM generator: the real OpenAI-compatible generator over HTTP to the
vLLM stand-in, and the in-process generator over a stand-in engine.

What it holds them to: the stream is never silent while the engine is (ticks that say it is waiting
for the first token fill the silent prefill), the deltas concatenate to the result's text, usage and
time to first token reach the result, and a cancel reaches the engine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from qianshi.server.backends.generation.openai_api import OpenAIGenerator
from qianshi.server.backends.generation.prompt import PROMPT_VERSION
from qianshi.server.backends.generation.vllm_engine import VLLMGenerator
from qianshi.server.errors import ErrorCode
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.pipeline.seams import Generator
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry

from bench.standin import StandIn, serve_in_thread
from bench.standin_text import Profile
from tests.backends.generation.test_vllm_engine import FakeEngine
from tests.fakes import FakeRetriever, spec

CONFIG = PipelineConfig(tick_retrieval_s=0.1, tick_generation_s=0.1, coalesce_window_s=0.01)


@pytest.fixture(scope="module")
def standin() -> Iterator[str]:
    with serve_in_thread(StandIn(Profile(ttft=(0.5, 0.5), rate=200.0, tokens=30))) as url:
        yield url


async def stats(url: str, **wait: int) -> dict[str, Any]:
    query = "&".join(f"wait_{k}={v}" for k, v in wait.items())
    async with httpx.AsyncClient(timeout=10) as client:
        reply = await client.get(url.removesuffix("/v1") + f"/standin/stats?timeout=5&{query}")
    result: dict[str, Any] = reply.json()
    return result


async def run_task(generator: Generator, tmp_path: Any) -> list[ev.Event]:
    interpreter = Interpreter(FakeRetriever(), generator, Estimates(tmp_path / "estimates.json"), CONFIG)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(locale="en"), "", None)
        async with asyncio.timeout(20), registry.subscribe(task_id, "", 0) as stream:
            return [e async for e in stream]


def check_silent_prefill_was_filled(events: list[ev.Event]) -> list[ev.Event]:
    """The events between the generation's start and its first text; returns the ticks among them."""
    started = next(
        i
        for i, e in enumerate(events)
        if isinstance(e.payload, ev.StageStarted) and e.payload.stage.value == "generation"
    )
    first_text = next(i for i, e in enumerate(events) if isinstance(e.payload, ev.TextDelta))
    prefill = events[started:first_text]
    ticks = [e for e in prefill if isinstance(e.payload, ev.Tick)]
    assert len(ticks) >= 2
    assert all("no text" in t.message for t in ticks)  # "… queueing and reading the prompt; no text yet"
    gaps = [
        b.elapsed_s - a.elapsed_s for a, b in zip(prefill, [*prefill[1:], events[first_text]], strict=True)
    ]
    assert max(gaps) < 1.0
    return ticks


async def test_openai_generator_through_the_pipeline(standin: str, tmp_path):
    generator = OpenAIGenerator(standin, "standin")
    try:
        events = await run_task(generator, tmp_path)
    finally:
        await generator.aclose()
    check_silent_prefill_was_filled(events)
    result = events[-1].payload
    assert isinstance(result, ev.Result)
    deltas = [e.payload for e in events if isinstance(e.payload, ev.TextDelta)]
    assert "".join(d.text for d in deltas) == result.text
    assert result.completion_tokens == 30
    assert result.prompt_tokens > 0
    assert result.time_to_first_token_s is not None
    assert result.time_to_first_token_s >= 0.4
    assert result.tokens_per_second > 0
    assert (result.generator, result.model, result.prompt_version) == ("openai", "standin", PROMPT_VERSION)
    assert result.cited_passage_ids  # the stand-in cites [1] and [2]; the fake retriever has both


async def test_cancel_through_the_pipeline_aborts_the_engine_request(standin: str, tmp_path):
    generator = OpenAIGenerator(standin, "standin:ttft=0.2,rate=20,tokens=400")
    interpreter = Interpreter(FakeRetriever(), generator, Estimates(tmp_path / "estimates.json"), CONFIG)
    before = await stats(standin)
    try:
        async with Registry(interpreter, MemoryEventLog()) as registry:
            task_id = await registry.start(spec(), "", None)
            async with asyncio.timeout(20), registry.subscribe(task_id, "", 0) as stream:
                async for event in stream:
                    if isinstance(event.payload, ev.TextDelta):
                        break
            await registry.cancel(task_id, "")
            cancelled_at = time.time()
            after = await stats(standin, disconnects=before["client_disconnects"] + 1)
            async with asyncio.timeout(10):
                await registry.wait_ended(task_id)
                async with registry.subscribe(task_id, "", 0) as stream:
                    events = [e async for e in stream]
    finally:
        await generator.aclose()
    assert after["aborted"] == before["aborted"] + 1
    assert after["last_disconnect_at"] - cancelled_at < 1.0
    failure = events[-1].payload
    assert isinstance(failure, ev.Failure)
    assert failure.code is ErrorCode.CANCELLED
    assert failure.partial_text


async def test_vllm_generator_through_the_pipeline_fills_the_silent_prefill(tmp_path):
    engine = FakeEngine(prefill_s=0.5)
    generator = VLLMGenerator("models/qwen", engine=engine, sampling_params=lambda **kw: kw)
    events = await run_task(generator, tmp_path)
    check_silent_prefill_was_filled(events)
    result = events[-1].payload
    assert isinstance(result, ev.Result)
    assert result.text == "婚姻允成[1]，日出雲散[2]。"
    assert engine.aborted == []
