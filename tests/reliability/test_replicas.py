"""Scale-out with real parts: server replicas as separate processes (``python -m qianshi.server.main``),
a real redis-server as their shared event log, the vLLM stand-in as their LLM, real gRPC channels.

- One request id, one task: the same request sent to three replicas at once makes one task and one
  generation at the LLM.
- A replica SIGKILLed mid-stream: every Watch on the other two ends with UNAVAILABLE (REPLICA_LOST)
  and the text so far, within the lease plus one tick (plus scheduling slack: the latency itself is
  measured by bench/lease_kill.py); the client's ``follow`` sends the request again and completes.
- Redis restarted mid-stream: the statuses the README documents, and no stream hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from qianshi.client import AsyncClient, RetryPolicy
from qianshi.server.backends.retrieval.store_copy import copy_tree
from qianshi.server.tasks.redis.scripts import Keys
from qianshi.v1 import events_pb2, interpret_service_pb2_grpc
from qianshi.v1 import interpret_service_pb2 as pb

from tests.redis_server import redis_url, restartable_redis
from tests.reliability.conftest import ServerProcess, read_events, reason, request

__all__ = ["redis_url", "restartable_redis"]
pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.redis]
Stub = interpret_service_pb2_grpc.InterpretServiceStub
LEASE_S, TICK_S = 2.0, 0.5
SLACK_S = 3.0  # scheduling on a busy 2-core machine; the bound is lease + tick, measured in bench/
SLOW = "FAULT[rate=25,tokens=150,ttft=0.05]"  # a six-second answer: long enough to kill its server


@contextlib.contextmanager
def replicas(built: Path, tmp_path: Path, count: int, *flags: str) -> Iterator[list[ServerProcess]]:
    """``count`` server processes on copies of the built index, started side by side."""
    procs = []
    for i in range(count):
        state = tmp_path / f"replica-{i}"
        copy_tree(built, state)
        procs.append(ServerProcess(["--state-dir", str(state), "--log-level", "WARNING", *flags]))
    try:
        yield procs
    finally:
        for proc in procs:
            proc.stop()


async def start_all(procs: Sequence[ServerProcess]) -> None:
    await asyncio.gather(*(asyncio.to_thread(proc.start) for proc in procs))


def llm_flags(url: str, event_log: str) -> tuple[str, ...]:
    return (
        *("--event-log", event_log, "--lease", str(LEASE_S), "--lease-tick", str(TICK_S)),
        *("--llm", "openai", "--llm-url", url, "--llm-model", "standin"),
        *("--tick-retrieval", "0.3", "--tick-generation", "0.3"),
    )


@pytest.fixture
async def own_db(redis_url: str) -> AsyncIterator[str]:
    """A Redis database of this test's own (emptied first): other tests' replicas never mix in."""
    url = redis_url.rsplit("/", 1)[0] + "/7"
    raw = aioredis.from_url(url)
    try:
        await raw.flushdb()
        yield url
    finally:
        await raw.aclose()


def text_of(events: Sequence[events_pb2.ProgressEvent]) -> str:
    return "".join(e.text_delta.text for e in events if e.HasField("text_delta"))


async def test_one_request_id_sent_to_three_replicas_at_once_runs_one_task_and_one_generation(
    built_state, tmp_path, standin, own_db
):
    app, url = standin
    with replicas(built_state, tmp_path, 3, *llm_flags(url, own_db)) as procs:
        await start_all(procs)
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{p.port}") for p in procs]
        try:
            before = app.stats.requests
            same = request(question="今年換工作會順利嗎？", request_id="same-on-three")
            calls = [Stub(channel).Interpret(same, timeout=60) for channel in channels]
            outcomes = await asyncio.gather(*(read_events(call) for call in calls))
        finally:
            for channel in channels:
                await channel.close()
    for events, error in outcomes:
        assert error is None
        assert events[-1].HasField("result")
    assert outcomes[0][0] == outcomes[1][0] == outcomes[2][0]  # one task, the same events on every replica
    assert app.stats.requests - before == 1  # one generation at the LLM


async def test_a_replica_killed_mid_stream_ends_every_watch_with_replica_lost_and_the_retry_completes(
    built_state, tmp_path, standin, own_db
):
    app, url = standin
    with replicas(built_state, tmp_path, 3, *llm_flags(url, own_db)) as procs:
        await start_all(procs)
        a = procs[0]
        targets = [f"127.0.0.1:{p.port}" for p in procs]  # A first: the task starts there
        retry = RetryPolicy(initial_backoff=0.05, max_backoff=0.2)
        raw = aioredis.from_url(own_db)
        async with (
            AsyncClient(targets, retry=retry) as client,
            grpc.aio.insecure_channel(targets[1]) as on_b,
            grpc.aio.insecure_channel(targets[2]) as on_c,
        ):
            followed: list[events_pb2.ProgressEvent] = []
            stream = client.follow("mazu60", 23, f"{SLOW} 今年換工作會順利嗎？", request_id="kill-me")
            async with asyncio.timeout(60):
                while len([e for e in followed if e.HasField("text_delta")]) < 3:
                    followed.append(await anext(stream))
                task_id = followed[0].task_id
                watches = [
                    Stub(ch).Watch(pb.WatchRequest(task_id=task_id), timeout=60) for ch in (on_b, on_c)
                ]
                heads: list[list[events_pb2.ProgressEvent]] = [[], []]
                for watch, head in zip(watches, heads, strict=True):  # both follow the live task
                    while not head or not head[-1].HasField("text_delta"):
                        head.append(await watch.read())
                runner = (await raw.hget(Keys("qianshi").meta(task_id), "replica")).decode()
                generations = app.stats.requests
                assert a.process is not None
                a.process.kill()  # SIGKILL: no drain, no goodbye
                killed = time.monotonic()
                lease_left_s = max(await raw.pttl(Keys("qianshi").lease(runner)), 0) / 1000
            async with asyncio.timeout_at(
                asyncio.get_running_loop().time() + lease_left_s + TICK_S + SLACK_S
            ):
                ended = await asyncio.gather(*(read_events(w) for w in watches))
            lost_after_s = time.monotonic() - killed
            async with asyncio.timeout(60):
                async for event in stream:  # the client retries on B or C and finishes
                    followed.append(event)
        await raw.aclose()
    for head, (rest, error) in zip(heads, ended, strict=True):
        assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE
        assert reason(error) == "REPLICA_LOST"
        events = head + rest
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        lost = events[-1]
        assert lost.HasField("error") and lost.task_id == task_id
        assert lost.error.partial_text == text_of(events[:-1])  # the text so far
    assert ended[0][0][-1] == ended[1][0][-1]  # one terminal event, the same for everyone
    assert lost_after_s < LEASE_S + TICK_S + SLACK_S
    new_task = [e for e in followed if e.task_id != task_id]
    assert new_task[0].seq == 1 and new_task[0].accepted.request_id == "kill-me"
    assert new_task[-1].HasField("result")
    assert not any(e.HasField("error") for e in followed)  # follow hid the loss and started again
    assert app.stats.requests - generations == 1  # the retry's generation


async def test_redis_restarted_mid_stream_ends_streams_with_documented_statuses(
    built_state, tmp_path, standin, restartable_redis
):
    _, url = standin
    redis = restartable_redis
    with replicas(built_state, tmp_path, 2, *llm_flags(url, redis.url)) as procs:
        await start_all(procs)
        a, b = (f"127.0.0.1:{p.port}" for p in procs)
        async with (
            grpc.aio.insecure_channel(a) as on_a,
            grpc.aio.insecure_channel(b) as on_b,
            AsyncClient([a, b], retry=RetryPolicy(initial_backoff=0.1)) as client,
        ):
            running = Stub(on_a).Interpret(request(question=f"{SLOW} 婚姻能成嗎？"), timeout=60)
            followed: list[Any] = []
            stream = client.follow("mazu60", 23, f"{SLOW} 今年換工作會順利嗎？")
            async with asyncio.timeout(60):
                head = [await running.read()]
                while not head[-1].HasField("text_delta"):
                    head.append(await running.read())
                watch = Stub(on_b).Watch(pb.WatchRequest(task_id=head[0].task_id), timeout=60)
                assert (await watch.read()).seq == 1
                while not any(e.HasField("text_delta") for e in followed):
                    followed.append(await anext(stream))
                first_task = followed[0].task_id
                await asyncio.to_thread(redis.restart)  # every key is gone
                (rest, ran_error), (_, watch_error) = await asyncio.gather(
                    read_events(running), read_events(watch)
                )
                async for event in stream:
                    followed.append(event)
                after = await read_events(Stub(on_b).Interpret(request(), timeout=60))
    # the caller of the running task: UNAVAILABLE with the text so far
    assert ran_error is not None and ran_error.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(ran_error) in ("EVENT_LOG_UNAVAILABLE", "EVENT_LOG_LOST")
    assert rest[-1].HasField("error") and rest[-1].error.partial_text.startswith(text_of(head))
    # a Watch on another replica: UNAVAILABLE, its log unreachable or gone
    assert watch_error is not None and watch_error.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(watch_error) in ("EVENT_LOG_UNAVAILABLE", "EVENT_LOG_LOST")
    # follow: started the request again and finished it
    assert followed[-1].HasField("result") and followed[-1].task_id != first_task
    # and the replicas serve new calls on the restarted Redis
    assert after[1] is None and after[0][-1].HasField("result")
