"""Replica leases against a real redis-server: a replica that stops renewing its lease has its tasks
ended with exactly one REPLICA_LOST event (the text so far, the request id released), by whichever
replica notices first; a replica that is alive keeps its tasks; a log that vanished is reported.

A replica "dies" here by its lease keeper being cancelled (nothing renews its lease any more); the
tests with real processes killed by SIGKILL are in tests/reliability/test_replicas.py.
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from qianshi.server.domain import CategorySource
from qianshi.server.errors import BackendUnavailable, ErrorCode
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.eventlog import TaskMeta
from qianshi.server.tasks.lost import REPLICA_LOST, TASK_LOST, lost_event
from qianshi.server.tasks.redis.leases import ReplicaLeases
from qianshi.server.tasks.redis.log import LogFenced, RedisEventLog

from tests.tasks.redis.test_log import done, drain, event

pytestmark = pytest.mark.redis
LEASE = {"lease_s": 0.6, "tick_s": 0.1}


def started(task_id: str) -> list[ev.Event]:
    """The first events of a task that was generating: accepted (English) and two text deltas."""
    accepted = ev.Accepted("r", "婚姻", CategorySource.INFERRED, "en", "fake")
    return [
        event(task_id, 1, accepted),
        event(task_id, 2, ev.TextDelta("The poem ", 0)),
        event(task_id, 3, ev.TextDelta("says yes.", 9)),
    ]


async def kill(log: RedisEventLog) -> None:
    """Stop the replica's lease keeper: its lease runs out as if its process had died."""
    assert log._keeper is not None
    log._keeper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await log._keeper


@pytest.fixture
async def cluster(redis_url, redis_prefix):
    logs = [RedisEventLog(redis_url, prefix=redis_prefix, block_s=0.1, **LEASE) for _ in range(3)]
    yield logs
    for log in logs:
        await log.aclose()


async def test_a_lost_replicas_task_ends_with_one_replica_lost_event_for_every_reader(
    cluster, redis_url, redis_prefix
):
    runner, b, c = cluster
    await runner.create(TaskMeta("t_lost", "alice", "req-lost"))
    for e in started("t_lost"):
        await runner.append(e)
    async with asyncio.timeout(10), asyncio.TaskGroup() as group:
        sweepers = [group.create_task(log.maintain()) for log in (b, c)]  # the two live replicas
        readers = [group.create_task(drain(log.follow("t_lost", 0))) for log in (b, c, b)]
        await kill(runner)
        seen = [await reader for reader in readers]
        for sweeper in sweepers:
            sweeper.cancel()
    for events in seen:
        assert [e.seq for e in events] == [1, 2, 3, 4]
        lost = events[-1].payload
        assert isinstance(lost, ev.Failure)
        assert (lost.code, lost.reason) == (ErrorCode.UNAVAILABLE, REPLICA_LOST)
        assert lost.partial_text == "The poem says yes."
        assert events[-1].message.startswith("failed:")  # in the task's locale (en)
    assert seen[0] == seen[1] == seen[2]
    # Exactly one lost event (every reader saw seq 4 as the last, the same one). A sweeper wrote it,
    # or — when the sweepers were late (a loaded machine: this failed twice in full CI runs) — one of
    # the readers, after the lease and a tick of silence (the test below): never both, never twice.
    assert b.leases.lost_tasks + c.leases.lost_tasks <= 1
    assert [e.seq for e in await drain(c.follow("t_lost", 0))] == [1, 2, 3, 4]  # as stored, afresh
    assert await b.claimed("alice", "req-lost") is None  # released: a retry starts afresh
    assert await c.create(TaskMeta("t_retry", "alice", "req-lost")) == "t_retry"
    await b.leases.sweep()  # the sweepers were stopped as soon as the event was read: sweep once more
    raw = aioredis.from_url(redis_url)
    try:
        assert runner.replica.encode() not in await raw.smembers(f"{redis_prefix}:replicas")
    finally:
        await raw.aclose()
    with pytest.raises(LogFenced):  # the runner comes back: nothing after someone else's terminal event
        await runner.append(event("t_lost", 4))
    assert (await drain(runner.follow("t_lost", 0)))[-1] == seen[0][-1]  # its own readers see that end


async def test_when_several_replicas_notice_at_once_exactly_one_terminal_event_is_written(cluster):
    runner, b, c = cluster
    await runner.create(TaskMeta("t_race", "", ""))
    for e in started("t_race"):
        await runner.append(e)
    await kill(runner)
    await runner._redis.delete(runner.keys.lease(runner.replica))  # its lease ran out
    async with asyncio.timeout(10):
        tries = [log.declare_lost("t_race", REPLICA_LOST, replica=runner.replica) for log in (b, c, b, c)]
        wrote = await asyncio.gather(*tries)
        events = await drain(c.follow("t_race", 0))
    assert sorted(wrote) == [False, False, False, True]
    assert [e.terminal for e in events] == [False, False, False, True]


async def test_an_alive_replicas_tasks_are_left_alone(cluster):
    runner, b, _ = cluster
    await runner.create(TaskMeta("t_alive", "", ""))
    await runner.append(event("t_alive", 1))
    assert await b.declare_lost("t_alive", REPLICA_LOST, replica=runner.replica) is False
    assert await b.leases.sweep() == 0
    await runner.append(event("t_alive", 2))  # not fenced


async def test_a_reader_alone_notices_the_lost_replica_after_lease_and_tick_of_silence(cluster):
    runner, b, _ = cluster  # b runs no sweeper: only its reader can notice
    await runner.create(TaskMeta("t_alone", "", ""))
    for e in started("t_alone"):
        await runner.append(e)
    async with asyncio.timeout(10):
        await kill(runner)
        events = await drain(b.follow("t_alone", 0))
    assert isinstance(events[-1].payload, ev.Failure)
    assert events[-1].payload.reason == REPLICA_LOST
    assert b._keeper is None  # nothing swept: the reader wrote it


async def test_a_log_that_vanished_under_a_running_task_is_reported(cluster, redis_url):
    runner, b, _ = cluster
    await runner.create(TaskMeta("t_gone", "", ""))
    await runner.append(event("t_gone", 1))
    raw = aioredis.from_url(redis_url)
    try:
        async with asyncio.timeout(10):
            reading = asyncio.ensure_future(drain(b.follow("t_gone", 0)))
            await raw.delete(runner.keys.meta("t_gone"), runner.keys.events("t_gone"))  # a Redis restart
            with pytest.raises(BackendUnavailable) as appending:
                await runner.append(event("t_gone", 2))  # not begun again from the middle
            with pytest.raises(BackendUnavailable) as reader:
                await reading
    finally:
        await raw.aclose()
    assert appending.value.reason == "EVENT_LOG_LOST"
    assert reader.value.reason == "EVENT_LOG_LOST"
    assert [e.seq for e in await drain_mirror(runner, "t_gone")] == [1, 2]


async def drain_mirror(log: RedisEventLog, task_id: str) -> list[ev.Event]:
    """What the runner's own readers see (its local mirror), up to the last event written there."""
    seen: list[ev.Event] = []
    async with asyncio.timeout(5):
        async for e in log.follow(task_id, 0):
            seen.append(e)
            if e.seq == 2:
                break
    return seen


def test_the_lost_event_carries_the_text_so_far_in_the_tasks_locale():
    events = started("t")
    lost = lost_event("t", events, TASK_LOST, now=events[-1].timestamp + 2.0)
    assert lost.seq == 4 and lost.terminal
    assert lost.percent == events[-1].percent
    assert lost.elapsed_s == pytest.approx(events[-1].elapsed_s + 2.0)
    assert isinstance(lost.payload, ev.Failure)
    assert lost.payload.partial_text == "The poem says yes."
    assert lost.payload.reason == TASK_LOST
    assert lost.message.startswith("failed:")
    nothing = lost_event("t", [], REPLICA_LOST)
    assert (nothing.seq, nothing.payload.partial_text) == (1, "")  # type: ignore[union-attr]
    assert nothing.message.startswith("未能完成")  # no accepted event: the default locale


async def test_a_lost_replicas_ended_task_is_left_as_it_ended_and_the_replica_forgotten(cluster):
    runner, b, _ = cluster
    await runner.create(TaskMeta("t_done", "", ""))
    await runner.append(event("t_done", 1))
    await runner.append(done("t_done", 2))  # it ended, and its replica died before ``expire``
    await kill(runner)
    await runner._redis.delete(runner.keys.lease(runner.replica))
    assert await b.leases.sweep() == 0
    assert [e.seq for e in await drain(b.follow("t_done", 0))] == [1, 2]
    assert await b._redis.smembers(b.keys.replica_tasks(runner.replica)) == set()
    assert runner.replica.encode() not in await b._redis.smembers(b.keys.replicas)


async def test_a_task_whose_end_never_reached_redis_is_ended_for_remote_readers(cluster):
    runner, b, _ = cluster  # b runs no sweeper; the runner stays alive
    await runner.create(TaskMeta("t_blip", "alice", "req-blip"))
    for e in started("t_blip"):
        await runner.append(e)
    # Redis was unreachable when the task wrote its end: the end stayed in the runner's mirror, and
    # the task left its replica's list when Redis answered again
    await runner.expire("t_blip", 30.0)
    async with asyncio.timeout(10):
        events = await drain(b.follow("t_blip", 0))
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert isinstance(events[-1].payload, ev.Failure) and events[-1].payload.reason == TASK_LOST
    assert events[-1].payload.partial_text == "The poem says yes."
    assert await b.claimed("alice", "req-blip") is None  # a retry starts afresh


async def test_a_cancel_that_redis_turns_into_an_error_still_stops_the_renewing_loop():
    """redis-py may answer a cancel that arrives mid-command with a ConnectionError (translated:
    BackendUnavailable). The loop that survives Redis errors must not swallow that one cancel, or
    ``aclose`` (cancel, then await) waits forever — seen as a hung teardown in a full test run."""
    entered, give_up = asyncio.Event(), False

    async def step() -> None:
        if give_up:  # the test failed: end the loop some other way so the test's loop can close
            raise RuntimeError("the loop ran on after its cancel")
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise BackendUnavailable("connection closed", reason="EVENT_LOG_UNAVAILABLE") from None

    loop_task = asyncio.create_task(ReplicaLeases._every(object(), 0.01, step, "renewing"))  # type: ignore[arg-type]
    await entered.wait()
    loop_task.cancel()
    await asyncio.wait({loop_task}, timeout=5)  # not ``await loop_task``: its cancel would reach it too
    try:
        assert loop_task.done() and loop_task.cancelled()
    finally:
        give_up = True
        loop_task.cancel()
        await asyncio.gather(loop_task, return_exceptions=True)
