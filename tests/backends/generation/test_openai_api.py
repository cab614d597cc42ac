"""The OpenAI-compatible generator against the vLLM stand-in over real HTTP: text, usage, cancel, faults.

The stand-in's profile is chosen per request through the model name (``standin:ttft=…,rate=…``), so
one server in a thread serves every case. Cancellation is checked where it matters — on the server,
which must see the client leave within 1 s — by waiting on the stand-in's own count of disconnects.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from qianshi.server.backends.generation.openai_api import OpenAIGenerator, discover_model
from qianshi.server.backends.generation.prompt import PROMPT_VERSION
from qianshi.server.backends.generation.sampling import Sampling
from qianshi.server.errors import BackendFailed, BackendTimeout, BackendUnavailable
from qianshi.server.writing import GenerationChunk

from bench.standin import StandIn, serve_in_thread
from bench.standin_text import Profile
from tests.backends.generation.test_prompt import request

Make = Callable[..., OpenAIGenerator]


@pytest.fixture(scope="module")
def standin() -> Iterator[str]:
    with serve_in_thread(StandIn(Profile(ttft=(0.0, 0.0), rate=1000.0, tokens=40))) as url:
        yield url


@pytest.fixture
async def make(standin: str) -> AsyncIterator[Make]:
    made: list[OpenAIGenerator] = []

    def build(model: str = "standin", *, url: str = standin, **options: Any) -> OpenAIGenerator:
        made.append(OpenAIGenerator(url, model, **options))
        return made[-1]

    yield build
    for generator in made:
        await generator.aclose()


async def stats(url: str, **wait: int) -> dict[str, Any]:
    """The stand-in's counters; with ``wait_…=N`` the stand-in answers once they reach N (or after 5 s)."""
    query = "&".join(f"wait_{k}={v}" for k, v in wait.items())
    async with httpx.AsyncClient(timeout=10) as client:
        reply = await client.get(url.removesuffix("/v1") + f"/standin/stats?timeout=5&{query}")
    result: dict[str, Any] = reply.json()
    return result


async def drain(generator: OpenAIGenerator, **overrides: object) -> list[GenerationChunk]:
    async with asyncio.timeout(10):
        return [chunk async for chunk in generator.stream(request(**overrides))]


async def test_deltas_concatenate_and_the_final_chunk_reports_usage(make: Make):
    chunks = await drain(make())
    final = chunks[-1]
    assert final.final
    assert [c.final for c in chunks].count(True) == 1
    text = "".join(c.text for c in chunks[:-1])
    assert text
    assert "[" in text
    assert final.finish_reason == "stop"
    assert final.completion_tokens == 40 == sum(c.tokens for c in chunks[:-1])
    assert final.prompt_tokens > 0
    assert (final.model, final.prompt_version) == ("standin", PROMPT_VERSION)


async def test_max_tokens_reached_is_a_success_with_finish_length(make: Make):
    chunks = await drain(make(), max_tokens=10)
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].completion_tokens == 10 == sum(c.tokens for c in chunks[:-1])


@pytest.mark.parametrize(
    ("interval", "sizes"), [(4, [1, 4, 4, 4, 4, 4, 1]), (1, [1] * 22), (8, [1, 8, 8, 5])]
)
async def test_tokens_come_in_chunks_of_the_stream_interval_each_with_its_exact_count(
    make: Make, interval: int, sizes: list[int]
):
    # The first token at once, then a chunk per `interval` tokens, the rest at the end (as vLLM);
    # with more than one token a chunk, the usage on every chunk gives each chunk's count.
    chunks = await drain(make(sampling=Sampling(stream_interval=interval)), max_tokens=22)
    assert [c.tokens for c in chunks[:-1]] == sizes
    assert chunks[-1].completion_tokens == 22


async def test_english_when_the_locale_is_english(make: Make):
    chunks = await drain(make(), locale="en", question="Will it work out?")
    assert " " in "".join(c.text for c in chunks)


async def test_cancel_mid_stream_reaches_the_server_within_a_second(make: Make, standin: str):
    generator = make("standin:ttft=0,rate=20,tokens=400")
    before = await stats(standin)
    first = asyncio.Event()

    async def consume() -> None:
        async for chunk in generator.stream(request()):
            if chunk.text:
                first.set()

    async with asyncio.timeout(10):
        task = asyncio.ensure_future(consume())
        await first.wait()
        task.cancel()
        cancelled_at = time.time()
        with pytest.raises(asyncio.CancelledError):
            await task
    after = await stats(standin, disconnects=before["client_disconnects"] + 1)
    assert after["aborted"] == before["aborted"] + 1
    assert after["last_disconnect_at"] - cancelled_at < 1.0


async def test_cancel_during_the_silent_prefill_reaches_the_server(make: Make, standin: str):
    generator = make("standin:ttft=30")
    before = await stats(standin)
    task = asyncio.ensure_future(drain(generator))
    await stats(standin, requests=before["requests"] + 1)
    task.cancel()
    cancelled_at = time.time()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await stats(standin, disconnects=before["client_disconnects"] + 1)
    assert after["last_disconnect_at"] - cancelled_at < 1.0


async def test_consumer_closing_the_stream_aborts_the_request(make: Make, standin: str):
    before = await stats(standin)
    stream = make("standin:ttft=0,rate=20,tokens=400").stream(request())
    async with asyncio.timeout(10):
        assert (await anext(stream)).text
    await stream.aclose()  # type: ignore[attr-defined]
    closed_at = time.time()
    after = await stats(standin, disconnects=before["client_disconnects"] + 1)
    assert after["last_disconnect_at"] - closed_at < 1.0


async def test_unreachable_server_is_unavailable(make: Make):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BackendUnavailable) as info:
        await drain(make(url=f"http://127.0.0.1:{port}/v1"))
    assert info.value.reason == "LLM_UNAVAILABLE"
    assert info.value.partial_text == ""


@pytest.mark.parametrize(
    ("status", "error", "reason"),
    [(503, BackendUnavailable, "LLM_UNAVAILABLE"), (500, BackendFailed, "LLM_ERROR")],
)
async def test_http_error_statuses(make: Make, status: int, error: type[Exception], reason: str):
    with pytest.raises(error) as info:
        await drain(make(f"standin:status={status}"))
    assert info.value.reason == reason  # type: ignore[attr-defined]


async def test_error_chunk_mid_stream_fails_with_the_text_so_far(make: Make):
    with pytest.raises(BackendFailed) as info:
        await drain(make("standin:error_after=5"))
    assert info.value.reason == "LLM_ERROR"
    assert info.value.partial_text
    assert len(info.value.partial_text) <= 10


async def test_stream_closed_before_the_finish_is_incomplete(make: Make):
    with pytest.raises(BackendFailed) as info:
        await drain(make("standin:close_after=5"))
    assert info.value.reason == "LLM_INCOMPLETE"
    assert info.value.partial_text


async def test_connection_dropped_mid_stream_is_incomplete(make: Make):
    with pytest.raises(BackendFailed) as info:
        await drain(make("standin:drop_after=5"))
    assert info.value.reason == "LLM_INCOMPLETE"
    assert info.value.partial_text


async def test_a_stall_longer_than_the_limit_times_out_and_hangs_up(make: Make, standin: str):
    before = await stats(standin)
    with pytest.raises(BackendTimeout) as info:
        await drain(make("standin:stall_after=3,stall=30", stall_timeout_s=0.3))
    assert info.value.reason == "LLM_STALLED"
    assert info.value.partial_text
    await stats(standin, disconnects=before["client_disconnects"] + 1)


async def test_the_request_deadline_bounds_the_silent_prefill(make: Make):
    with pytest.raises(BackendTimeout) as info:
        await drain(make("standin:ttft=30"), deadline=time.monotonic() + 0.3)
    assert info.value.reason == "DEADLINE_EXCEEDED"


async def test_per_request_headers_reach_the_server(make: Make):
    generator = make(headers=lambda req: {"x-standin-profile": "error_after=2"})
    with pytest.raises(BackendFailed):
        await drain(generator)


async def test_sequential_streams_reuse_one_connection_and_send_the_key_and_the_task_id(
    make: Make, standin: str
):
    before = await stats(standin)
    generator = make(api_key="sk-test")
    for i in range(3):
        await drain(generator, request_id=f"t_reuse{i}")
    after = await stats(standin)
    assert after["requests"] - before["requests"] == 3
    assert after["connections"] - before["connections"] == 1
    assert after["last_request_id"] == "t_reuse2"
    assert after["last_authorization"] == "Bearer sk-test"


async def test_a_closed_stream_is_not_reused(make: Make, standin: str):
    """A stream left early closes its connection (that is how the server learns to abort)."""
    generator = make("standin:ttft=0,rate=50,tokens=400")
    before = await stats(standin)
    stream = generator.stream(request())
    async with asyncio.timeout(10):
        assert (await anext(stream)).text
    await stream.aclose()  # type: ignore[attr-defined]
    await stats(standin, disconnects=before["client_disconnects"] + 1)
    await drain(make(), request_id="t_after")  # a new generator: its own pool
    await drain(generator, max_tokens=5)
    after = await stats(standin)
    assert after["connections"] - before["connections"] == 3


def test_discover_model_reads_the_served_model_and_context(standin: str):
    assert discover_model(standin) == ("standin", 8192)


def test_discover_model_fails_clearly_without_a_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BackendUnavailable, match="--llm-model"):
        discover_model(f"http://127.0.0.1:{port}/v1", timeout_s=1.0)
