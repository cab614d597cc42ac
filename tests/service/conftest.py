"""Real servers for the integration tests: ``qianshi.server.serving.serve`` on 127.0.0.1:0 with the real
embedded store (Qdrant Edge shards, in-process), driven over real gRPC channels.

The index is built once per test session into a shared state folder; each server gets its own copy
of the folder (its learned estimates are its own), so servers start in about a second.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from qianshi.server import config
from qianshi.server.backends.retrieval.store_copy import copy_tree
from qianshi.server.serving import Running, serve
from qianshi.v1 import interpret_service_pb2_grpc


class _HeldRetriever:
    """The server's retriever behind a gate: look-ups and searches wait until it opens."""

    def __init__(self, inner: Any, gate: asyncio.Event) -> None:
        self._inner = inner
        self._gate = gate
        self.name = inner.name

    async def poem(self, set_id: str, number: int) -> Any:
        await self._gate.wait()
        return await self._inner.poem(set_id, number)

    async def passages(self, query: Any) -> Any:
        await self._gate.wait()
        return await self._inner.passages(query)


@contextlib.asynccontextmanager
async def retrieval_held(running: Running) -> AsyncIterator[None]:
    """Tasks started inside the block wait at their retrieval until it ends: a test's way to keep a
    task running (a search itself takes well under a millisecond). GetPoem is not held."""
    interpreter = running.registry.interpreter
    inner, gate = interpreter.retriever, asyncio.Event()
    interpreter.retriever = _HeldRetriever(inner, gate)
    try:
        yield
    finally:
        interpreter.retriever = inner
        gate.set()


@contextlib.asynccontextmanager
async def running(argv: Sequence[str]) -> AsyncIterator[Running]:
    """Start ``serve`` with ``argv`` (plus --listen 127.0.0.1:0) and stop it at the end."""
    args = config.parse(["--listen", "127.0.0.1:0", "--log-level", "WARNING", *argv])
    stop = asyncio.Event()
    ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()

    def on_ready(value: Running) -> None:
        ready.set_result(value)

    task = asyncio.ensure_future(serve(args, on_ready=on_ready, stop=stop))
    try:
        async with asyncio.timeout(120):
            await asyncio.wait((ready, task), return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # raises what made the server fail to start
        yield ready.result()
    finally:
        stop.set()
        async with asyncio.timeout(60):
            await task


@contextlib.asynccontextmanager
async def server_with(built_state: Path, tmp_path: Path, *flags: str) -> AsyncIterator[Running]:
    state = tmp_path / "state"
    copy_tree(built_state, state)
    async with running(["--state-dir", str(state), *flags]) as value:
        yield value


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def server(built_state: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """One shared server: fast ticks so cadence shows within a test, a paced grounded generator."""
    async with server_with(
        built_state,
        tmp_path_factory.mktemp("shared"),
        "--tick-retrieval",
        "0.2",
        "--tick-generation",
        "0.2",
        "--grounded-pace",
        "0.03",
    ) as value:
        yield value


@pytest_asyncio.fixture(loop_scope="session")
async def stub(server: Running) -> AsyncIterator[interpret_service_pb2_grpc.InterpretServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield interpret_service_pb2_grpc.InterpretServiceStub(channel)
