"""Several targets and lost tasks, for both clients, against scripted grpc.aio servers on loopback:
``follow`` resumes on the next replica, sends the request again (same request id) when its task was
lost, calls move past a replica that is down, and channels balance with round_robin.

The same behaviour against real server processes, a real Redis and SIGKILL is tested in
tests/reliability/test_replicas.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from fake_qianshi_server import TASK_ID, FakeService, canned_events, stream_all
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from qianshi.client import AsyncClient, Client, NotFound, RetryPolicy
from qianshi.v1 import events_pb2, interpret_service_pb2_grpc

FAST = RetryPolicy(attempts=2, resumes=2, restarts=2, initial_backoff=0)


@contextlib.asynccontextmanager
async def serving(service: FakeService) -> AsyncIterator[FakeService]:
    server = grpc.aio.server()
    interpret_service_pb2_grpc.add_InterpretServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    service.target = f"127.0.0.1:{port}"
    try:
        yield service
    finally:
        await server.stop(None)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[FakeService, FakeService]]:
    async with serving(FakeService()) as a, serving(FakeService()) as b:
        yield a, b


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def lost(task_id: str, seq: int, reason: str = "REPLICA_LOST") -> events_pb2.ProgressEvent:
    """The terminal event a replica writes for a task whose replica died."""
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="qianshi.v1"))
    status = status_pb2.Status(code=code_pb2.UNAVAILABLE, message="the server was lost", details=[info])
    return events_pb2.ProgressEvent(
        task_id=task_id,
        seq=seq,
        stage=events_pb2.STAGE_DONE,
        error=events_pb2.Error(status=status, partial_text="so far"),
    )


async def collect(stream: Any) -> list[events_pb2.ProgressEvent]:
    async with asyncio.timeout(10):
        return [event async for event in stream]


async def test_follow_resumes_on_the_next_target_when_a_replica_goes_away(pair):
    a, b = pair
    events = canned_events()

    async def dies(request: Any, context: Any) -> Any:
        for event in events[:4]:
            yield event
        await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")

    a.interpret = dies
    async with AsyncClient(f"{a.target},{b.target}", retry=FAST) as client:
        got = await collect(client.follow("mazu60", 1, "q"))
    assert got == events  # every event exactly once
    assert len(a.calls["Interpret"]) == 1 and a.calls["Watch"] == []
    assert [(c.request.task_id, c.request.after_seq) for c in b.calls["Watch"]] == [(TASK_ID, 4)]


async def test_follow_sends_the_request_again_after_replica_lost(pair):
    a, _ = pair
    first, second = canned_events("t_lost"), canned_events("t_new")
    plays = [[*first[:7], lost("t_lost", 8)], second]
    a.interpret = lambda request, context: stream_all(plays[len(a.calls["Interpret"]) - 1])
    async with AsyncClient(a.target, retry=FAST) as client:
        got = await collect(client.follow("mazu60", 1, "q", request_id="once"))
    assert got == [*first[:7], *second]  # the lost task's end is not shown: the new task follows
    assert [c.request.request_id for c in a.calls["Interpret"]] == ["once", "once"]


async def test_follow_sends_the_request_again_when_the_tasks_log_is_gone(pair):
    a, b = pair
    events = canned_events()

    async def dies(request: Any, context: Any) -> Any:
        for event in events[:3]:
            yield event
        await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")

    async def unknown(request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.NOT_FOUND, "task unknown or expired")
        yield

    a.interpret, b.watch = dies, unknown
    b.interpret = lambda request, context: stream_all(canned_events("t_again"))
    async with AsyncClient([a.target, b.target], retry=FAST) as client:
        got = await collect(client.follow("mazu60", 1, "q"))
    assert got == [*events[:3], *canned_events("t_again")]
    assert len(b.calls["Watch"]) == 1 and len(b.calls["Interpret"]) == 1


async def test_restarts_are_bounded_and_a_plain_interpret_never_restarts(pair):
    a, _ = pair
    a.interpret = lambda request, context: stream_all([*canned_events()[:2], lost(TASK_ID, 3)])
    async with AsyncClient(a.target, retry=FAST) as client:
        got = await collect(client.follow("mazu60", 1, "q"))
        assert got[-1].HasField("error")  # after FAST.restarts restarts the loss is reported
        assert len(a.calls["Interpret"]) == 1 + FAST.restarts
        once = await collect(client.interpret("mazu60", 1, "q"))
    assert once[-1].HasField("error") and len(a.calls["Interpret"]) == 2 + FAST.restarts


async def test_calls_move_past_a_replica_that_is_down(pair):
    a, _ = pair
    async with AsyncClient([closed_port(), a.target], retry=FAST) as client:
        events = await collect(client.interpret("mazu60", 1, "q"))
        assert await client.cancel(TASK_ID) is True
    assert events == canned_events()
    with pytest.raises(NotFound):  # NOT_FOUND of a call that reached a server is not retried elsewhere
        async with AsyncClient([a.target, closed_port()], retry=FAST) as client:
            await client.get_poem("nope", 1)


async def test_one_name_for_several_replicas_is_balanced_round_robin(pair):
    a, b = pair
    both = "ipv4:" + ",".join(s.target for s in (a, b))  # what a DNS name with two records resolves to
    async with AsyncClient(both) as client:
        async with asyncio.timeout(10):
            while not (a.calls["Cancel"] and b.calls["Cancel"]):
                await client.cancel(TASK_ID)
    assert a.calls["Cancel"] and b.calls["Cancel"]


async def test_the_sync_client_resumes_and_restarts_the_same_way(pair):
    a, b = pair
    events = canned_events()
    plays = [[*events[:4]], [*canned_events("t_x")[:7], lost("t_x", 8)], canned_events("t_y")]

    async def first_dies_then_lost(request: Any, context: Any) -> Any:
        play = plays[len(a.calls["Interpret"]) - 1]
        for event in play:
            yield event
        if play is plays[0]:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")

    a.interpret = first_dies_then_lost
    b.watch = lambda request, context: stream_all([*canned_events()[request.after_seq : 7], lost(TASK_ID, 8)])
    b.interpret = lambda request, context: stream_all(canned_events("t_y"))

    def follow() -> list[events_pb2.ProgressEvent]:
        with Client(f"{a.target},{b.target}", retry=FAST) as client:
            return list(client.follow("mazu60", 1, "q", request_id="sync-1"))

    with ThreadPoolExecutor(1) as pool:
        got = await asyncio.wait_for(asyncio.wrap_future(pool.submit(follow)), 10)
    # A breaks after 4 events; B's Watch delivers 5…7 then REPLICA_LOST; the retry on B starts t_y
    assert got == [*events[:7], *canned_events("t_y")]
    assert [c.request.request_id for c in b.calls["Interpret"]] == ["sync-1"]
