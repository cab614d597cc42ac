"""Qianshi replicas (separate processes) sharing their event logs on a real Redis Cluster
(tests/redis_cluster.py: three masters, a replica each), the vLLM stand-in as their LLM.

- Three replicas: one request id sent to all three at once makes one task and one generation, and a
  ``Watch`` on another replica follows a task live (its keys on whichever master holds its slot).
- A Qianshi replica SIGKILLed mid-stream: a ``Watch`` on another replica ends with UNAVAILABLE
  (REPLICA_LOST) and the text so far, as on a single Redis.
- The master holding a running task's keys SIGKILLed mid-stream: its replica is promoted (observed
  in CLUSTER NODES), the task waits through the failover and completes; the caller's stream and a
  ``Watch`` on another replica get every event once, in order, the same events; the longest silence
  the caller saw is the failover time (printed; the benchmark measures it).
"""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from qianshi.server.tasks.redis.scripts import Keys
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from tests.redis_cluster import Cluster, own_cluster, redis_cluster
from tests.reliability.conftest import read_events, reason, request
from tests.reliability.test_replicas import (
    LEASE_S,
    SLACK_S,
    SLOW,
    TICK_S,
    llm_flags,
    replicas,
    start_all,
    text_of,
)

__all__ = ["own_cluster", "redis_cluster"]
pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.redis, pytest.mark.timeout(180)]
Stub = interpret_service_pb2_grpc.InterpretServiceStub
LONG = "FAULT[rate=25,tokens=400,ttft=0.05]"  # a 16-second answer: long enough for a failover
KEYS = Keys("qianshi")


async def test_three_replicas_on_a_cluster_make_one_task_per_request_id_and_watch_across_replicas(
    built_state, tmp_path, standin, redis_cluster: Cluster
):
    app, url = standin
    with replicas(built_state, tmp_path, 3, *llm_flags(url, redis_cluster.url)) as procs:
        await start_all(procs)
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{p.port}") for p in procs]
        try:
            before = app.stats.requests
            same = request(question="今年換工作會順利嗎？", request_id="same-on-three-cluster")
            outcomes = await asyncio.gather(
                *(read_events(Stub(ch).Interpret(same, timeout=60)) for ch in channels)
            )
            assert app.stats.requests - before == 1  # one generation at the LLM
            for events, error in outcomes:
                assert error is None and events[-1].HasField("result")
            assert outcomes[0][0] == outcomes[1][0] == outcomes[2][0]  # one task, the same events
            # a live task on A, watched on B and C while it runs
            running = Stub(channels[0]).Interpret(request(question=f"{SLOW} 婚姻能成嗎？"), timeout=60)
            first = await running.read()
            watches = [
                Stub(ch).Watch(pb.WatchRequest(task_id=first.task_id), timeout=60) for ch in channels[1:]
            ]
            (rest, error), *watched = await asyncio.gather(read_events(running), *map(read_events, watches))
        finally:
            for channel in channels:
                await channel.close()
    assert error is None and rest[-1].HasField("result")
    own = [first, *rest]
    for events, watch_error in watched:
        assert watch_error is None
        assert events == own  # every event once, in order, the same as the caller's


async def test_a_replica_killed_mid_stream_on_a_cluster_ends_a_watch_with_replica_lost(
    built_state, tmp_path, standin, redis_cluster: Cluster
):
    _, url = standin
    with replicas(built_state, tmp_path, 2, *llm_flags(url, redis_cluster.url)) as procs:
        await start_all(procs)
        a, b = procs
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as on_a,
            grpc.aio.insecure_channel(f"127.0.0.1:{b.port}") as on_b,
        ):
            call = Stub(on_a).Interpret(request(question=f"{SLOW} 今年換工作會順利嗎？"), timeout=60)
            async with asyncio.timeout(60):
                first = await call.read()
                watch = Stub(on_b).Watch(pb.WatchRequest(task_id=first.task_id), timeout=60)
                head = [await watch.read()]
                while not head[-1].HasField("text_delta"):
                    head.append(await watch.read())
            assert a.process is not None
            a.process.kill()  # SIGKILL
            killed = time.monotonic()
            async with asyncio.timeout(LEASE_S + TICK_S + SLACK_S + 5):
                rest, error = await read_events(watch)
            lost_after_s = time.monotonic() - killed
    assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(error) == "REPLICA_LOST"
    events = head + rest
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].error.partial_text == text_of(events[:-1])
    assert lost_after_s < LEASE_S + TICK_S + SLACK_S


async def test_a_cluster_master_killed_mid_stream_is_failed_over_and_the_stream_completes(
    built_state, tmp_path, standin, own_cluster: Cluster
):
    _, url = standin
    flags = llm_flags(url, own_cluster.url)
    # the lease outlasts the failover (README: set --lease above the cluster's failover time)
    flags = (*flags, "--lease", "10", "--lease-tick", "1")
    with replicas(built_state, tmp_path, 2, *flags) as procs:
        await start_all(procs)
        a, b = procs
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as on_a,
            grpc.aio.insecure_channel(f"127.0.0.1:{b.port}") as on_b,
        ):
            call = Stub(on_a).Interpret(request(question=f"{LONG} 今年換工作會順利嗎？"), timeout=90)
            arrived: list[tuple[float, object]] = []
            async with asyncio.timeout(60):
                while not any(e.HasField("text_delta") for _, e in arrived[-3:]) or len(arrived) < 8:
                    arrived.append((time.monotonic(), await call.read()))
            task_id = arrived[0][1].task_id  # type: ignore[attr-defined]
            watch = Stub(on_b).Watch(pb.WatchRequest(task_id=task_id), timeout=90)
            master = own_cluster.node_of(KEYS.events(task_id))
            own_cluster.kill(master)
            killed = time.monotonic()

            async def rest_of_call() -> object:
                while (event := await call.read()) is not grpc.aio.EOF:
                    arrived.append((time.monotonic(), event))
                return None

            async with asyncio.timeout(90):
                _, (watched, watch_error) = await asyncio.gather(rest_of_call(), read_events(watch, 90))
    promoted = own_cluster.node_of(KEYS.events(task_id))
    assert promoted != master and promoted.port in own_cluster.masters()  # its replica took over
    events = [e for _, e in arrived]
    assert events[-1].HasField("result"), events[-1]  # type: ignore[attr-defined]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # type: ignore[attr-defined]
    assert watch_error is None and watched == events  # the same events, once, in order
    after = [t for t, _ in arrived if t >= killed]
    silence = max(b - a for a, b in zip([killed, *after], after, strict=False))
    print(f"\nthe longest silence the caller saw after the master was killed: {silence:.2f} s")
    assert silence < 20.0
