"""``--llm openai`` against a real ``vllm serve`` (CPU build, tiny model), through the real Qianshi server.

Every stream is held to the invariants (the full stream, replayed with Watch when the caller left
early). Aborts are shown from vLLM's side: its request log's ``Aborted request(s) chatcmpl-<task id>``
line (Qianshi sends the task id as ``X-Request-Id``) and its ``/metrics`` running no request.
"""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from qianshi.server.backends.generation.openai_api import OpenAIGenerator
from qianshi.server.backends.generation.sampling import Sampling
from qianshi.v1 import interpret_service_pb2 as pb

from bench.vllm_cpu.procs import VLLMServer
from tests.backends.generation.test_prompt import request as generation_request
from tests.vllm.conftest import check_invariants, options, read_events, request, text_of

pytestmark = [pytest.mark.vllm, pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(900)]


async def replayed(stub: object, task_id: str) -> list[object]:
    """The task's whole stream, from the server's log of it (Watch from seq 0)."""
    events, error = await read_events(stub.Watch(pb.WatchRequest(task_id=task_id, after_seq=0), timeout=30))  # type: ignore[attr-defined]
    assert error is None or error.code() != grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
    return events


async def aborted_in_vllm(vllm: VLLMServer, task_id: str, since: float) -> float:
    """Seconds from ``since`` until vLLM logged the abort of the task's request and ran no request."""
    at, _ = await asyncio.to_thread(vllm.service.wait_for, rf"Aborted request\(s\) chatcmpl-{task_id}", 10)
    async with asyncio.timeout(10):
        while await asyncio.to_thread(vllm.running_requests) != 0:
            pass
    return at - since


async def test_a_full_answer_streams_deltas_usage_ttft_and_rate_from_the_discovered_model(relay, vllm_server):
    _, stub = relay
    events, error = await read_events(stub.Interpret(request(options=options(200)), timeout=120))
    assert error is None, error
    check_invariants(events)
    result = events[-1].result
    deltas = [e for e in events if e.HasField("text_delta")]
    assert len(deltas) >= 2
    assert text_of(events) == result.text and result.text
    assert (result.generator, result.model) == (
        "openai",
        "tiny",
    )  # the name vLLM serves, asked for at start-up
    assert result.usage.prompt_tokens > 0
    assert result.usage.completion_tokens == 200  # the tiny model has no end token: it writes them all
    assert result.time_to_first_token.ToTimedelta().total_seconds() > 0
    assert result.tokens_per_second > 0
    # vLLM saw the request under the task's id, with the limit Qianshi asked for.
    _, found = vllm_server.service.wait_for(
        rf"Received request chatcmpl-{events[0].task_id}: .*max_tokens=(\d+)", 5
    )
    assert found[1] == "200"


async def test_vllm_sends_the_stream_interval_s_chunks_each_with_its_exact_token_count(vllm_server):
    # What Qianshi asks of vLLM by default (Sampling(): stream_interval 4, usage on every chunk), read
    # by its generator straight from vllm serve: the first token alone, then chunks of four.
    generator = OpenAIGenerator(
        vllm_server.url, "tiny", sampling=Sampling(frequency_penalty=0.0, repetition_detection=None)
    )
    try:
        async with asyncio.timeout(120):
            chunks = [c async for c in generator.stream(generation_request(max_tokens=41, seed=3))]
    finally:
        await generator.aclose()
    sizes = [c.tokens for c in chunks if not c.final]
    assert sizes[0] == 1 and set(sizes[1:]) == {4}, sizes  # 1 + 10 × 4: 41 tokens
    assert sum(sizes) == chunks[-1].completion_tokens == 41


async def test_concurrent_streams_each_get_their_own_text(relay):
    _, stub = relay
    calls = [
        stub.Interpret(request(number=n, options=options(60, seed=n)), timeout=120) for n in (3, 4, 5, 6)
    ]
    outcomes = await asyncio.gather(*(read_events(call) for call in calls))
    for events, error in outcomes:
        assert error is None, error
        check_invariants(events)
        assert text_of(events) == events[-1].result.text
    assert len({events[-1].task_id for events, _ in outcomes}) == 4


async def test_a_cancel_mid_generation_aborts_the_request_in_vllm_within_a_second(relay, vllm_server):
    _, stub = relay
    call = stub.Interpret(request(options=options(1800)), timeout=120)
    async with asyncio.timeout(120):
        first = await call.read()
        while not (event := await call.read()).HasField("text_delta"):
            pass
    call.cancel()
    cancelled_at = time.time()
    assert await aborted_in_vllm(vllm_server, first.task_id, cancelled_at) < 1.0
    events = await replayed(stub, first.task_id)
    check_invariants(events)
    assert events[-1].error.status.code == grpc.StatusCode.CANCELLED.value[0]
    assert event.text_delta.text and events[-1].error.partial_text.startswith(event.text_delta.text)


async def test_a_deadline_that_passes_mid_generation_aborts_the_request_in_vllm(relay, vllm_server):
    _, stub = relay
    started = time.time()
    events, error = await read_events(stub.Interpret(request(number=8, options=options(1800)), timeout=2.0))
    assert error is not None and error.code() == grpc.StatusCode.DEADLINE_EXCEEDED  # type: ignore[attr-defined]
    deadline = started + 2.0
    assert await aborted_in_vllm(vllm_server, events[0].task_id, deadline) < 1.0
    full = await replayed(relay[1], events[0].task_id)
    check_invariants(full)
    assert text_of(full), "the deadline should have passed while vLLM was writing"
    assert full[-1].error.status.code == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    assert full[-1].error.partial_text == text_of(full)
