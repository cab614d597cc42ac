"""A vLLM that dies: killed mid-stream, the task ends INTERNAL ``LLM_INCOMPLETE`` with the text so far;
down before the first token, ``--llm-fallback grounded`` answers instead. Its own short-lived vLLM
(``--enforce-eager``: it starts faster), so the session's server lives on for the other tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from qianshi.server.serving import Running

from bench.vllm_cpu import venv
from bench.vllm_cpu.procs import Run, VLLMServer
from tests.reliability.conftest import reason
from tests.service.conftest import server_with
from tests.vllm.conftest import Stub, check_invariants, options, read_events, request, text_of

pytestmark = [pytest.mark.vllm, pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def doomed(vllm_venv: Path, vllm_run: Run, tiny_model: Path) -> Iterator[VLLMServer]:
    server = VLLMServer(vllm_run, venv.python(vllm_venv), tiny_model, enforce_eager=True, name="doomed-vllm")
    try:
        yield server.wait_ready()
    finally:
        server.stop()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def relay_with_fallback(
    built_state: Path, tmp_path_factory: pytest.TempPathFactory, doomed: VLLMServer
) -> AsyncIterator[tuple[Running, Stub]]:
    flags = ("--llm", "openai", "--llm-url", doomed.url, "--llm-fallback", "grounded", "--grounded-pace", "0")
    flags += ("--tick-retrieval", "0.3", "--tick-generation", "0.3")
    async with (
        server_with(built_state, tmp_path_factory.mktemp("fallback"), *flags) as srv,
        grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel,
    ):
        yield srv, Stub(channel)


async def test_vllm_killed_mid_stream_ends_the_task_incomplete_with_the_text_so_far(
    relay_with_fallback, doomed
):
    _, stub = relay_with_fallback
    call = stub.Interpret(request(options=options(1800)), timeout=120)
    events = []
    async with asyncio.timeout(120):
        while not events or not events[-1].HasField("text_delta"):
            events.append(await call.read())
    await asyncio.to_thread(doomed.service.kill)
    rest, error = await read_events(call)
    events += rest
    check_invariants(events)
    assert error is not None and error.code() == grpc.StatusCode.INTERNAL, error
    assert reason(error) == "LLM_INCOMPLETE"
    assert events[-1].error.partial_text == text_of(events) != ""


async def test_with_vllm_down_before_the_first_token_the_grounded_fallback_answers(
    relay_with_fallback, doomed
):
    _, stub = relay_with_fallback
    if doomed.service.members():
        await asyncio.to_thread(doomed.service.kill)
    events, error = await read_events(stub.Interpret(request(number=9), timeout=60))
    assert error is None, error
    check_invariants(events)
    result = events[-1].result
    assert result.fallback_used and result.text == text_of(events) != ""
    assert any("LLM_UNAVAILABLE" in e.message for e in events)  # "模型無法使用（LLM_UNAVAILABLE），改由…"
