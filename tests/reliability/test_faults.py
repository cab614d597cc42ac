"""Backend faults injected for real, through the real server and real channels.

Each fault ends its stream with a terminal error event and the same status on the call, well within
the call's deadline; a normal stream running beside it finishes with its result; the server serves
the next request. Faults: the LLM server refusing connections, resetting them, answering 503/500,
stalling, erring mid-stream, ending early, dropping the connection, and taking longer than the
deadline to its first token (the engine request must then be aborted). Qdrant server faults are in
test_qdrant.py. (The embedded store runs in the server's own process: a search is a call of about
0.1 ms with no process, pipe or queue that could fail or be held.)
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from qianshi.server.serving import Running
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from tests.reliability.conftest import free_port, read_events, reason, request, server_with

pytestmark = pytest.mark.asyncio(loop_scope="session")
Stub = interpret_service_pb2_grpc.InterpretServiceStub


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def llm(built_state, tmp_path_factory, standin) -> AsyncIterator[tuple[Running, Stub, str]]:
    """A server whose generator is the vLLM stand-in (``--llm openai``), 1.5 s stall limit, the guard
    off: the relay's own handling of faults (with the guard on, see ``guarded`` below)."""
    _, url = standin
    flags = ("--llm", "openai", "--llm-url", url, "--llm-model", "standin", "--llm-stall-timeout", "1.5")
    flags += ("--llm-guard", "off")
    flags += ("--tick-retrieval", "0.3", "--tick-generation", "0.3")
    async with (
        server_with(built_state, tmp_path_factory.mktemp("llm"), *flags) as srv,
        grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel,
    ):
        yield srv, Stub(channel), url


async def standin_stats(url: str, **wait: int) -> dict[str, Any]:
    """The stand-in's counters; ``wait_…=N`` makes it answer once they reach N (or after 5 s)."""
    query = "&".join(f"wait_{k}={v}" for k, v in wait.items())
    async with httpx.AsyncClient(timeout=10) as client:
        reply = await client.get(url.removesuffix("/v1") + f"/standin/stats?timeout=5&{query}")
    result: dict[str, Any] = reply.json()
    return result


def ended_with(events: list[Any], error: Any, code: grpc.StatusCode, why: str) -> None:
    """The stream's last event is an error with ``code`` / ``why``, and the call ended the same way."""
    assert error is not None, "the call should have failed"
    assert error.code() == code, error.details()
    assert reason(error) == why
    assert events and events[-1].HasField("error")
    assert events[-1].error.status.code == code.value[0]
    assert sum(e.HasField("error") or e.HasField("result") for e in events) == 1


# --- the LLM server -------------------------------------------------------------------------------------

FAULTS = [
    # (stand-in profile, status, reason, text before the fault)
    ("stall_after=3,stall=30", grpc.StatusCode.DEADLINE_EXCEEDED, "LLM_STALLED", True),
    ("error_after=5", grpc.StatusCode.INTERNAL, "LLM_ERROR", True),
    ("close_after=5", grpc.StatusCode.INTERNAL, "LLM_INCOMPLETE", True),
    ("drop_after=5", grpc.StatusCode.INTERNAL, "LLM_INCOMPLETE", True),
    ("status=503", grpc.StatusCode.UNAVAILABLE, "LLM_UNAVAILABLE", False),
    ("status=500", grpc.StatusCode.INTERNAL, "LLM_ERROR", False),
]


@pytest.mark.parametrize(("fault", "code", "why", "partial"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_llm_faults_end_the_stream_clearly_while_others_flow(llm, fault, code, why, partial):
    _, stub, url = llm
    before = await standin_stats(url)
    faulty = stub.Interpret(request(question=f"FAULT[{fault}] 我今年換工作會順利嗎？"), timeout=20)
    normal = stub.Interpret(request(number=7), timeout=20)
    (events, error), (others, other_error) = await asyncio.gather(read_events(faulty), read_events(normal))
    ended_with(events, error, code, why)
    assert bool(events[-1].error.partial_text) is partial
    if partial:
        text = "".join(e.text_delta.text for e in events if e.HasField("text_delta"))
        assert events[-1].error.partial_text == text
    assert other_error is None and others[-1].HasField("result")
    after = await standin_stats(url)
    assert after["requests"] - before["requests"] == 2, "a request that reached the engine is never retried"


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def guarded(built_state, tmp_path_factory, standin) -> AsyncIterator[Stub]:
    """The same server with the guard as shipped (``--llm-guard fallback``): the model's first words are
    held back until they have been checked."""
    _, url = standin
    flags = ("--llm", "openai", "--llm-url", url, "--llm-model", "standin", "--llm-stall-timeout", "1.5")
    flags += ("--tick-retrieval", "0.3", "--tick-generation", "0.3")
    async with (
        server_with(built_state, tmp_path_factory.mktemp("guarded"), *flags) as srv,
        grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel,
    ):
        yield Stub(channel)


@pytest.mark.parametrize(("fault", "code", "why", "_"), FAULTS[:3], ids=[f[0] for f in FAULTS[:3]])
async def test_a_fault_while_the_guard_holds_the_first_words_shows_none_of_them(guarded, fault, code, why, _):
    """Words the guard had not yet checked never reach the caller, not even as an error's partial text:
    the error carries what the caller saw (nothing), so ``--llm-fallback`` could still answer whole."""
    call = guarded.Interpret(request(question=f"FAULT[{fault}] 我今年換工作會順利嗎？"), timeout=20)
    events, error = await read_events(call)
    ended_with(events, error, code, why)
    assert not any(e.HasField("text_delta") for e in events)
    assert events[-1].error.partial_text == ""


async def test_a_deadline_shorter_than_the_first_token_aborts_the_engine_request(llm):
    srv, stub, url = llm
    before = await standin_stats(url)
    call = stub.Interpret(request(question="FAULT[ttft=30] 我今年換工作會順利嗎？"), timeout=1.0)
    events, error = await read_events(call)  # the deadline comes before the 1.5 s stall limit
    ended_with(events, error, grpc.StatusCode.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED")
    assert any(e.HasField("stage_started") for e in events)  # it got as far as the LLM
    after = await standin_stats(url, disconnects=before["client_disconnects"] + 1)
    assert after["aborted"] == before["aborted"] + 1, "the engine request was not aborted"
    async with asyncio.timeout(5):
        await srv.registry.wait_ended(events[0].task_id)


class _Resetter:
    """A listener that accepts connections and resets them at once, counting them."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()

    def close(self) -> None:
        self.sock.close()


async def test_llm_server_down_is_unavailable_after_safe_retries(built_state, tmp_path):
    dead_llm_port = free_port()
    url = f"http://127.0.0.1:{dead_llm_port}/v1"
    flags = ("--llm", "openai", "--llm-url", url, "--llm-model", "standin", "--tick-generation", "0.3")
    async with (
        server_with(built_state, tmp_path, *flags) as srv,
        grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel,
    ):
        stub = Stub(channel)
        events, error = await read_events(stub.Interpret(request(), timeout=20))  # connection refused
        ended_with(events, error, grpc.StatusCode.UNAVAILABLE, "LLM_UNAVAILABLE")
        resetter = _Resetter(dead_llm_port)  # now something answers, and hangs up at once
        try:
            events, error = await read_events(stub.Interpret(request(number=5), timeout=20))
        finally:
            resetter.close()
        ended_with(events, error, grpc.StatusCode.UNAVAILABLE, "LLM_UNAVAILABLE")
        assert resetter.accepted == 3, "a connection that failed before a response is retried twice"
        # the rest of the service still works
        poem = await stub.GetPoem(pb.GetPoemRequest(set_id="mazu60", number=23), timeout=10)
        assert poem.poem.number == 23
