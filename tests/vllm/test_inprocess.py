"""``--llm vllm``: the engine in the Qianshi server's own process (``AsyncLLM``, the same tiny model).

The server runs on the overlay interpreter (vLLM's venv plus the few packages Qianshi needs that it
lacks; this clone's sources). Aborts are shown from the engine's own state: its ``vllm:*`` metrics,
which the in-process engine registers and Qianshi's ``/metrics`` serves beside its own.
"""

from __future__ import annotations

import asyncio
import functools
import time
import urllib.request
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from tests.vllm.conftest import QianshiOnVLLM, Stub, check_invariants, options, read_events, request, text_of

pytestmark = [pytest.mark.vllm, pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(900)]


@pytest_asyncio.fixture(loop_scope="session")
async def stub(inprocess: QianshiOnVLLM) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{inprocess.port}") as channel:
        yield Stub(channel)


def engine_running(server: QianshiOnVLLM) -> float:
    """``vllm:num_requests_running`` (the EngineCore scheduler's count) from Qianshi's own ``/metrics``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("vllm:num_requests_running{")
    ]
    assert values, "the engine's metrics are not served"
    return sum(values)


async def test_the_engine_streams_deltas_and_usage(stub, tiny_model):
    events, error = await read_events(stub.Interpret(request(options=options(120)), timeout=120))
    assert error is None, error
    check_invariants(events)
    result = events[-1].result
    assert len([e for e in events if e.HasField("text_delta")]) >= 2
    assert result.text == text_of(events) != ""
    assert (result.generator, result.model) == ("vllm", str(tiny_model))
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens == 120
    assert result.tokens_per_second > 0


async def test_a_cancel_aborts_the_engine_request(stub, inprocess):
    call = stub.Interpret(request(number=12, options=options(1800)), timeout=120)
    async with asyncio.timeout(120):
        while not (await call.read()).HasField("text_delta"):
            pass
        while await asyncio.to_thread(engine_running, inprocess) != 1:  # the engine's view catches up
            pass
    call.cancel()
    cancelled_at = time.monotonic()
    async with asyncio.timeout(10):
        while await asyncio.to_thread(engine_running, inprocess) != 0:
            pass
    assert time.monotonic() - cancelled_at < 1.0


async def test_sigterm_shuts_the_server_and_the_engine_down_cleanly(inprocess):
    """SIGTERM to the server (as a container runtime sends it): it drains, then shuts the engine down."""
    service = inprocess.service
    assert len(service.members()) >= 2  # the server and the engine's own processes
    await asyncio.to_thread(functools.partial(service.stop, 60, leader_only=True))
    assert service.popen.returncode == 0, service.tail()
    assert not service.members()
    assert not [line for _, line in service.lines if "Traceback" in line], service.tail(80)
