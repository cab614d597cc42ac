"""The shared event log on a real Redis Cluster (tests/redis_cluster.py: six nodes, three masters with
a replica each): every script runs (no CROSSSLOT), tasks spread over the masters, one request id
makes one task, a reader on another replica follows, and a master SIGKILLed mid-task is failed over
under a running writer and reader with nothing lost, duplicated or left hanging.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis
from qianshi.server.errors import ErrorCode
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.eventlog import TaskMeta
from qianshi.server.tasks.ids import new_task_id
from qianshi.server.tasks.redis.log import RedisEventLog

from tests.redis_cluster import Cluster, own_cluster, redis_cluster
from tests.tasks.redis.test_log import done, drain, event

__all__ = ["own_cluster", "redis_cluster"]
pytestmark = [pytest.mark.redis, pytest.mark.timeout(120)]


def result(task_id: str, seq: int) -> ev.Event:
    return event(task_id, seq, ev.Failure(ErrorCode.CANCELLED, "over", "CANCELLED"))


async def test_scripts_run_on_a_cluster_and_tasks_spread_over_the_masters(redis_cluster: Cluster):
    a = RedisEventLog(redis_cluster.url, prefix="qspread", block_s=0.2)
    b = RedisEventLog(redis_cluster.url, prefix="qspread", block_s=0.2)
    try:
        ids = [new_task_id("alice", f"r{i}") for i in range(12)]
        for task_id, rid in zip(ids, (f"r{i}" for i in range(12)), strict=True):
            assert await a.create(TaskMeta(task_id, "alice", rid)) == task_id
            await a.append(event(task_id, 1))
            await a.append(event(task_id, 2))
            await a.append(done(task_id, 3))
            assert await b.claimed("alice", rid) == task_id  # the claim, read on another replica
            assert [e.seq for e in await drain(b.follow(task_id, 0))] == [1, 2, 3]
            await a.expire(task_id, 30.0)
        homes = {redis_cluster.node_of(a.keys.events(t)).port for t in ids}
        assert len(homes) == 3  # twelve tasks over three masters
        for task_id in ids:  # a task's keys share one node
            assert redis_cluster.node_of(a.keys.meta(task_id)) == redis_cluster.node_of(
                a.keys.events(task_id)
            )
    finally:
        await a.aclose()
        await b.aclose()


async def test_one_request_id_created_on_three_replicas_at_once_makes_one_task(redis_cluster: Cluster):
    logs = [RedisEventLog(redis_cluster.url, prefix="qclaim") for _ in range(3)]
    try:
        metas = [TaskMeta(new_task_id("bob", "same"), "bob", "same") for _ in logs]
        held = await asyncio.gather(*(log.create(m) for log, m in zip(logs, metas, strict=True)))
        assert len(set(held)) == 1 and held[0] in {m.task_id for m in metas}
    finally:
        for log in logs:
            await log.aclose()


async def test_a_terminal_event_waits_for_a_replica_and_is_written_without_one_when_none_answers(
    own_cluster: Cluster,
):
    log = RedisEventLog(own_cluster.url, prefix="qwait", wait_ms=2000)  # slack for a busy machine
    try:
        first = new_task_id()
        await log.create(TaskMeta(first, "", ""))
        await log.append(event(first, 1))
        await log.append(result(first, 2))
        assert log._durable is not None and log._durable.unacknowledged == 0
        # kill the replica of the master that holds the next task
        second = new_task_id()
        master = own_cluster.node_of(log.keys.events(second))
        replica_ports = own_cluster.masters()[master.port]
        replica = next(n for n in own_cluster.nodes if n.port in replica_ports)
        own_cluster.kill(replica)
        await log.create(TaskMeta(second, "", ""))
        await log.append(event(second, 1))
        started = time.monotonic()
        await log.append(result(second, 2))
        assert log._durable.unacknowledged == 1  # nobody acknowledged: written anyway, after the wait
        assert 1.9 < time.monotonic() - started < 10.0
        assert [e.seq for e in await drain(log.follow(second, 0))] == [1, 2]
    finally:
        await log.aclose()


async def test_a_master_killed_under_a_writer_and_a_reader_fails_over_and_nothing_is_lost(
    own_cluster: Cluster,
):
    writer = RedisEventLog(own_cluster.url, prefix="qkill", block_s=0.5, lease_s=8.0, tick_s=1.0)
    reader = RedisEventLog(own_cluster.url, prefix="qkill", block_s=0.5, lease_s=8.0, tick_s=1.0)
    reading: asyncio.Task[None] | None = None
    try:
        task_id = new_task_id("carol", "kill")
        await writer.create(TaskMeta(task_id, "carol", "kill"))
        master = own_cluster.node_of(writer.keys.events(task_id))
        seen: list[ev.Event] = []
        gaps: list[float] = []

        async def read() -> None:
            last = time.monotonic()
            async for e in reader.follow(task_id, 0):
                now = time.monotonic()
                gaps.append(now - last)
                last = now
                seen.append(e)

        reading = asyncio.create_task(read())
        for seq in range(1, 21):
            await writer.append(event(task_id, seq))
        own_cluster.kill(master)
        killed = time.monotonic()
        for seq in range(21, 41):  # waits through the failover
            await writer.append(event(task_id, seq))
        resumed_s = time.monotonic() - killed
        await writer.append(result(task_id, 41))
        async with asyncio.timeout(30):
            await reading
        assert [e.seq for e in seen] == list(range(1, 42))
        assert own_cluster.node_of(writer.keys.events(task_id)) != master  # its replica was promoted
        replay = await drain(RedisEventLog.follow(reader, task_id, 0))
        assert [e.seq for e in replay] == list(range(1, 42))
        assert 1.0 < resumed_s < 20.0, resumed_s
        print(f"failover seen by the writer: {resumed_s:.2f} s; longest reader gap {max(gaps):.2f} s")
    finally:
        if reading is not None and not reading.done():
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
        await writer.aclose()
        await reader.aclose()


async def test_a_tail_lost_in_a_failover_is_written_again_from_the_mirror(redis_cluster: Cluster):
    """What a promoted replica that missed the last writes looks like: the stream ends early. The
    writer's next append notices (``APPEND``) and writes the lost events again, the same bytes."""
    writer = RedisEventLog(redis_cluster.url, prefix="qmend", block_s=0.2)
    reader = RedisEventLog(redis_cluster.url, prefix="qmend", block_s=0.2)
    raw = aioredis.from_url(f"redis://127.0.0.1:{redis_cluster.nodes[0].port}")
    try:
        task_id = new_task_id()
        await writer.create(TaskMeta(task_id, "", ""))
        for seq in range(1, 9):
            await writer.append(event(task_id, seq))
        key = writer.keys.events(task_id)
        home = redis_cluster.node_of(key)
        direct = aioredis.Redis(port=home.port)
        kept = await direct.xrange(key, "-", "0-5")
        await direct.delete(key)  # the replica had only events 1-5
        for entry_id, fields in kept:
            await direct.xadd(key, fields, id=entry_id)
        await direct.aclose()
        await writer.append(event(task_id, 9))
        await writer.append(done(task_id, 10))
        events = await drain(reader.follow(task_id, 0))
        assert [e.seq for e in events] == list(range(1, 11))
        mirrored = await drain(writer.follow(task_id, 0))
        assert [e.message for e in events] == [e.message for e in mirrored]
    finally:
        await raw.aclose()
        await writer.aclose()
        await reader.aclose()


async def test_a_cancel_published_on_one_replica_reaches_the_listener_of_another(redis_cluster: Cluster):
    """Classic pub/sub on a cluster is broadcast to every node: the listener hears it on its node."""
    a = RedisEventLog(redis_cluster.url, prefix="qcancel")
    b = RedisEventLog(redis_cluster.url, prefix="qcancel")
    heard: asyncio.Queue[str] = asyncio.Queue()
    ready = asyncio.Event()
    listening = asyncio.create_task(b.listen_cancels(heard.put_nowait, ready))
    try:
        task_id = new_task_id()
        await a.create(TaskMeta(task_id, "", ""))
        await a.append(event(task_id, 1))
        async with asyncio.timeout(10):
            await ready.wait()
            assert await a.request_cancel(task_id)
            assert await heard.get() == task_id
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await a.aclose()
        await b.aclose()
