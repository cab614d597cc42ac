"""Slow and vanished clients: a reader that stops is detached without losing its task, and thousands
of streams cancelled at random points leave no task, stream, log or memory behind.

Memory is the process's resident set (``/proc/self/statm``; the server runs in this process), measured
after a warm-up round so that the allocator's and gRPC's one-time growth is not counted.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from qianshi.server.serving import Running
from qianshi.server.tasks.registry import Registry
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from tests.reliability.conftest import read_events, reason, request, rss_bytes, server_with

pytestmark = pytest.mark.asyncio(loop_scope="session")
Stub = interpret_service_pb2_grpc.InterpretServiceStub
WAVE = 200
"""Streams open at once (FACTS.md: bursts of ≥ 2,000 opens fail; waves do not)."""
SLOW_READER = [("grpc.http2.lookahead_bytes", 1024), ("grpc.http2.bdp_probe", 0)]
"""A client whose HTTP/2 window is 1 KiB and never grows: the server's writes stall at once."""


TICKS = ("--tick-retrieval", "0.2", "--tick-generation", "0.2", "--grounded-pace", "0.05")


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def srv(built_state, tmp_path_factory) -> AsyncIterator[Running]:
    """Paced tasks (a couple of seconds each), a 0.2 s write-stall limit."""
    flags = (*TICKS, "--max-write-stall", "0.2")
    async with server_with(built_state, tmp_path_factory.mktemp("streams"), *flags) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def forgetful(built_state, tmp_path_factory) -> AsyncIterator[Running]:
    """Like ``srv``, but ended tasks are forgotten at once (so nothing is retained by design)."""
    flags = (*TICKS, "--retention", "0")
    async with server_with(built_state, tmp_path_factory.mktemp("forgetful"), *flags) as running:
        yield running


async def settled(registry: Registry) -> None:
    """Wait until no task is live (each live task's own end event, until none is left)."""
    async with asyncio.timeout(60):
        while registry.active:
            await asyncio.gather(*(registry.wait_ended(task_id) for task_id in list(registry._live)))
        await asyncio.sleep(0)  # the retention-0 expiries run on the next loop iteration


async def test_readers_that_stop_are_detached_and_their_tasks_stay_watchable(srv):
    """50 callers read one event each and then nothing. Under the default policy (cancel when the
    caller leaves) a detached task would be cancelled; these run to their result, unread, and each
    call ends with RESOURCE_EXHAUSTED (CLIENT_TOO_SLOW): no handler is left waiting on a write."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}", options=SLOW_READER) as slow:
        calls = [Stub(slow).Interpret(request(number=n, locale="en")) for n in range(1, 51)]
        firsts = [await call.read() for call in calls]  # ... then read nothing
        async with asyncio.timeout(60):
            for first in firsts:
                await srv.registry.wait_ended(first.task_id)  # they ran to their end, unread
        assert srv.servicer.streams == 0  # every stalled handler gave up and returned
        endings = [await read_events(call) for call in calls]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = Stub(channel)
        for first, (rest, error) in zip(firsts, endings, strict=True):
            assert error is not None and error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert reason(error) == "CLIENT_TOO_SLOW" and first.task_id in error.details()
            received = [first, *rest]
            assert [e.seq for e in received] == list(range(1, len(received) + 1))
            watch = pb.WatchRequest(task_id=first.task_id, after_seq=received[-1].seq)
            resumed, watch_error = await read_events(stub.Watch(watch))
            assert watch_error is None and resumed[-1].HasField("result")
            whole, _ = await read_events(stub.Watch(pb.WatchRequest(task_id=first.task_id)))
            assert received + resumed == whole  # every event exactly once, in order


async def _one(stub: Stub, rng: random.Random) -> str:
    """Open a stream and cancel it at a random point: before any event, or after k events."""
    call = stub.Interpret(request(number=rng.randint(1, 60), locale=rng.choice(("en", "zh-Hant"))))
    k = rng.choice((0, 0, 1, 2, 3, 5, 8, 13, 21, 1000))
    outcome = "cancelled"
    try:
        for _ in range(k):
            event = await call.read()
            if event is grpc.aio.EOF:
                outcome = "ended"
                break
    except grpc.aio.AioRpcError as error:
        outcome = error.code().name
    finally:
        call.cancel()
    return outcome


async def storm(port: int, count: int, seed: int) -> dict[str, int]:
    """``count`` streams cancelled at random points, ``WAVE`` open at a time; the outcomes counted.

    ``WAVE`` workers each open one stream after another (rather than ``count`` tasks queueing on a
    semaphore), so the test's own footprint does not grow with ``count``."""
    rng = random.Random(seed)
    outcomes: dict[str, int] = {}
    left = [count]

    async def worker(stub: Stub) -> None:
        while left[0] > 0:
            left[0] -= 1
            outcome = await _one(stub, rng)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = Stub(channel)
        async with asyncio.timeout(count * 0.1 + 60), asyncio.TaskGroup() as group:
            for _ in range(min(WAVE, count)):
                group.create_task(worker(stub))
    return outcomes


async def cancel_storm(srv: Running, count: int) -> dict[str, Any]:
    """A warm-up round, then ``count`` randomly cancelled streams; memory before and after."""
    await storm(srv.port, min(count, 500), seed=1)
    await settled(srv.registry)
    gc.collect()
    before = rss_bytes()
    outcomes = await storm(srv.port, count, seed=2)
    await settled(srv.registry)
    gc.collect()
    after = rss_bytes()
    log = srv.registry.events.inner  # type: ignore[attr-defined]  # MeteredEventLog → MemoryEventLog
    report = {
        "streams": count,
        "outcomes": outcomes,
        "rss_before": before,
        "rss_after": after,
        "growth": after / before - 1,
        "active": srv.registry.active,
        "streams_open": srv.servicer.streams,
        "logs": len(log),
        "pid": os.getpid(),
    }
    print(f"\ncancel storm: {report}")
    return report


async def test_streams_cancelled_at_random_points_leave_nothing_behind(forgetful):
    report = await cancel_storm(forgetful, 300)
    assert report["active"] == 0 and report["streams_open"] == 0 and report["logs"] == 0
    assert sum(report["outcomes"].values()) == 300
    assert set(report["outcomes"]) <= {"cancelled", "ended"}
    assert report["growth"] < 0.05, f"resident memory grew {report['growth']:.1%}"


@pytest.mark.slow
@pytest.mark.timeout(3600)
async def test_ten_thousand_streams_cancelled_at_random_points(forgetful):
    report = await cancel_storm(forgetful, 10_000)
    assert report["active"] == 0 and report["streams_open"] == 0 and report["logs"] == 0
    assert set(report["outcomes"]) <= {"cancelled", "ended"}
    assert report["growth"] < 0.05, f"resident memory grew {report['growth']:.1%}"
