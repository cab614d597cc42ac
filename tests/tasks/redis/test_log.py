"""The Redis Streams event log against a real redis-server: order, exactly once, retention, replicas."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis
from qianshi.server.domain import CategorySource, Stage
from qianshi.server.errors import BackendUnavailable, ErrorCode, NotFound
from qianshi.server.pipeline import eventlog
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.eventlog import TaskMeta
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.tasks import codec
from qianshi.server.tasks.redis.log import LogFenced, RedisEventLog
from qianshi.server.tasks.registry import Registry

from tests.fakes import FakeGenerator, FakeRetriever, spec

pytestmark = pytest.mark.redis
FAST = PipelineConfig(tick_retrieval_s=0.02, tick_generation_s=0.03, coalesce_window_s=0.005)


def event(task_id: str, seq: int, payload: ev.Payload | None = None) -> ev.Event:
    return ev.Event(
        task_id,
        seq,
        Stage.GENERATION,
        float(seq),
        f"m{seq}",
        0.1 * seq,
        None,
        time.time(),
        payload or ev.Tick(0.1),
    )


def done(task_id: str, seq: int) -> ev.Event:
    return event(task_id, seq, ev.Failure(ErrorCode.CANCELLED, "cancelled", "CANCELLED"))


@pytest.fixture
async def logs(redis_url, redis_prefix):
    """Two logs on one Redis — a writer replica and a reader replica."""
    a = RedisEventLog(redis_url, prefix=redis_prefix, block_s=0.2)
    b = RedisEventLog(redis_url, prefix=redis_prefix, block_s=0.2)
    yield a, b
    await a.aclose()
    await b.aclose()


async def drain(stream) -> list[ev.Event]:
    async with asyncio.timeout(10):
        return [e async for e in stream]


async def drain_until(stream, count: int) -> list[ev.Event]:
    seen: list[ev.Event] = []
    async with asyncio.timeout(10):
        async for e in stream:
            seen.append(e)
            if len(seen) == count:
                break
    await stream.aclose()
    return seen


async def test_replay_is_in_order_exactly_once_and_resumes_after_a_seq(logs):
    a, b = logs
    await a.create(TaskMeta("t1", "alice", "r1"))
    for seq in range(1, 6):
        await a.append(event("t1", seq))
    await a.append(done("t1", 6))
    assert await b.meta("t1") == TaskMeta("t1", "alice", "r1")
    for reader in (a, b):  # a reads its local mirror, b reads Redis
        assert [e.seq for e in await drain(reader.follow("t1", 0))] == [1, 2, 3, 4, 5, 6]
        assert [e.seq for e in await drain(reader.follow("t1", 4))] == [5, 6]
        assert [e.seq for e in await drain(reader.follow("t1", 6))] == []
    replayed = await drain(b.follow("t1", 0))
    assert replayed == await drain(a.follow("t1", 0))  # the events themselves, exactly


async def test_follow_waits_for_live_events(logs):
    a, b = logs
    await a.create(TaskMeta("t2", "", ""))
    await a.append(event("t2", 1))
    seen: list[int] = []
    got_first = asyncio.Event()

    async def read() -> None:
        async for e in b.follow("t2", 0):
            seen.append(e.seq)
            got_first.set()

    async with asyncio.timeout(10), asyncio.TaskGroup() as group:
        group.create_task(read())
        await got_first.wait()
        for seq in range(2, 40):  # written while the reader is blocked in XREAD (block_s 0.2: several blocks)
            await a.append(event("t2", seq))
        await a.append(done("t2", 40))
    assert seen == list(range(1, 41))


async def test_a_seq_is_written_once(logs, redis_url, redis_prefix):
    a, _ = logs
    await a.create(TaskMeta("t3", "", ""))
    first, theirs = event("t3", 1), event("t3", 2, ev.Tick(9.0))
    raw = aioredis.from_url(redis_url)
    try:  # a command retried by the client after it was applied: the same bytes are already there
        await raw.xadd(a.keys.events("t3"), {"e": codec.encode(first)}, id="0-1")
        await a.append(first)
        # another writer took seq 2: ours is refused and the task fenced
        await raw.xadd(a.keys.events("t3"), {"e": codec.encode(theirs)}, id="0-2")
    finally:
        await raw.aclose()
    with pytest.raises(LogFenced):
        await a.append(event("t3", 2))
    with pytest.raises(LogFenced):
        await a.append(event("t3", 3))
    assert await drain_until(a.follow("t3", 0), 2) == [first, theirs]  # the mirror shows what Redis holds


async def test_unknown_task_is_not_found(logs):
    _, b = logs
    assert await b.meta("t_nope") is None
    with pytest.raises(NotFound):
        await drain(b.follow("t_nope", 0))


async def test_ttls_at_create_and_retention_at_expire(logs, redis_url, redis_prefix):
    a, _ = logs
    await a.create(TaskMeta("t4", "", ""))
    await a.append(event("t4", 1))
    raw = aioredis.from_url(redis_url)
    try:
        meta_key, events_key = a.keys.meta("t4"), a.keys.events("t4")
        assert 86_000 < await raw.ttl(meta_key) <= 86_400
        assert 86_000 < await raw.ttl(events_key) <= 86_400
        await a.expire("t4", 30.0)
        assert 0 < await raw.pttl(meta_key) <= 30_000
        assert 0 < await raw.pttl(events_key) <= 30_000
    finally:
        await raw.aclose()


async def test_log_full_beyond_the_bound_but_terminal_accepted(logs):
    a, _ = logs
    await a.create(TaskMeta("t5", "", ""))
    with pytest.raises(eventlog.LogFull):
        await a.append(event("t5", eventlog.MAX_EVENTS_PER_TASK + 1))


async def test_a_silent_task_is_declared_lost_and_its_writer_fenced(redis_url, redis_prefix):
    writer = RedisEventLog(redis_url, prefix=redis_prefix, block_s=0.05)
    reader = RedisEventLog(redis_url, prefix=redis_prefix, block_s=0.05, lost_after_s=0.2)
    try:
        await writer.create(TaskMeta("t6", "", ""))
        await writer.append(event("t6", 1, ev.Accepted("", "婚姻", CategorySource.INFERRED, "en", "fake")))
        events = await drain(reader.follow("t6", 0))  # the writer never writes again: it "crashed"
        assert [e.seq for e in events] == [1, 2]
        lost = events[-1].payload
        assert isinstance(lost, ev.Failure)
        assert lost.code is ErrorCode.UNAVAILABLE
        assert lost.reason == "TASK_LOST"
        assert events[-1].message.startswith("failed:")  # in the task's locale
        with pytest.raises(LogFenced):  # the writer comes back: nothing after someone else's terminal
            await writer.append(event("t6", 2))
        mirrored = await drain(writer.follow("t6", 0))  # its own readers see the same end
        assert mirrored == events
    finally:
        await writer.aclose()
        await reader.aclose()


async def test_unreachable_redis_is_backend_unavailable():
    log = RedisEventLog("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(BackendUnavailable) as info:
            await log.create(TaskMeta("t7", "", ""))
        assert info.value.reason == "EVENT_LOG_UNAVAILABLE"
    finally:
        await log.aclose()


# two replicas --------------------------------------------------------------------------------------


async def test_a_task_of_replica_a_is_watched_on_replica_b_exactly_once(logs, tmp_path):
    log_a, log_b = logs
    gate = asyncio.Event()
    generator = FakeGenerator(gate=gate)
    interpreter_a = Interpreter(FakeRetriever(), generator, Estimates(tmp_path / "a.json"), FAST)
    interpreter_b = Interpreter(FakeRetriever(), FakeGenerator(), Estimates(tmp_path / "b.json"), FAST)
    async with Registry(interpreter_a, log_a) as replica_a, Registry(interpreter_b, log_b) as replica_b:
        task_id = await replica_a.start(spec(keep_running=True), "alice", None)
        with pytest.raises(NotFound):  # another caller's task is unknown on B too
            await replica_b.find(task_id, "bob")
        async with asyncio.timeout(10):
            await generator.started.wait()
            watched: list[ev.Event] = []
            async with replica_b.subscribe(task_id, "alice", 0) as stream:
                async for e in stream:
                    watched.append(e)
                    if isinstance(e.payload, ev.TextDelta):
                        gate.set()  # the rest is written while B follows live
            async with replica_a.subscribe(task_id, "alice", 0) as stream:
                on_a = [e async for e in stream]
            async with replica_b.subscribe(task_id, "alice", 3) as stream:
                resumed = [e async for e in stream]
    assert watched == on_a
    assert [e.seq for e in watched] == list(range(1, len(watched) + 1))
    assert isinstance(watched[-1].payload, ev.Result)
    assert [e.terminal for e in watched].count(True) == 1
    assert resumed == watched[3:]


async def test_cancel_on_replica_b_reaches_the_runner_on_replica_a(logs, tmp_path):
    log_a, log_b = logs
    retriever = FakeRetriever(asyncio.Event())  # retrieval never finishes by itself
    interpreter_a = Interpreter(retriever, FakeGenerator(), Estimates(tmp_path / "a.json"), FAST)
    interpreter_b = Interpreter(FakeRetriever(), FakeGenerator(), Estimates(tmp_path / "b.json"), FAST)
    async with (
        Registry(interpreter_a, log_a) as replica_a,
        Registry(interpreter_b, log_b, remote_cancel=log_b.request_cancel) as replica_b,
        asyncio.TaskGroup() as listeners,
    ):
        ready = asyncio.Event()
        listener = listeners.create_task(log_a.listen_cancels(replica_a.cancel_local, ready))
        async with asyncio.timeout(10):
            await ready.wait()
            task_id = await replica_a.start(spec(keep_running=True), "", None)
            await retriever.entered.wait()
            assert await replica_b.cancel(task_id, "") is True
            await retriever.cancelled.wait()
            async with replica_b.subscribe(task_id, "", 0) as stream:
                events = [e async for e in stream]
            assert await replica_b.cancel(task_id, "") is False  # it has ended
        listener.cancel()
    failure = events[-1].payload
    assert isinstance(failure, ev.Failure)
    assert failure.code is ErrorCode.CANCELLED


async def test_concurrent_tasks_share_pipelines_and_keep_their_order(logs):
    a, b = logs
    tasks, per = 40, 15
    for t in range(tasks):
        await a.create(TaskMeta(f"c{t}", "", ""))

    async def run(t: int) -> None:
        for seq in range(1, per):
            await a.append(event(f"c{t}", seq))
        await a.append(done(f"c{t}", per))

    async with asyncio.timeout(20):
        await asyncio.gather(*(run(t) for t in range(tasks)))
        for t in range(tasks):
            assert [e.seq for e in await drain(b.follow(f"c{t}", 0))] == list(range(1, per + 1))
    assert a._writer.writes == tasks * per
    assert a._writer.batches < a._writer.writes  # pipelined: several writes per round trip


async def test_a_cancelled_append_is_still_written_so_the_next_seq_follows_without_a_gap(logs):
    a, b = logs
    await a.create(TaskMeta("t8", "", ""))
    appending = asyncio.ensure_future(a.append(event("t8", 1)))
    await asyncio.sleep(0)  # one scheduling step: the append is queued, not yet stored
    appending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await appending
    await a.append(done("t8", 2))  # what a cancelled task does next: its terminal event
    assert [e.seq for e in await drain(b.follow("t8", 0))] == [1, 2]
    assert [e.seq for e in await drain(a.follow("t8", 0))] == [1, 2]


async def test_when_redis_fails_mid_task_the_local_caller_still_gets_a_terminal_status(logs, tmp_path):
    log_a, _ = logs

    async def unreachable(key: str, event: ev.Event, data: bytes) -> None:
        raise BackendUnavailable("the event log is unreachable", reason="EVENT_LOG_UNAVAILABLE")

    log_a._writer.xadd = unreachable  # type: ignore[method-assign]
    interpreter = Interpreter(FakeRetriever(), FakeGenerator(), Estimates(tmp_path / "a.json"), FAST)
    async with Registry(interpreter, log_a) as registry:
        task_id = await registry.start(spec(), "", None)
        async with asyncio.timeout(10), registry.subscribe(task_id, "", 0) as stream:
            events = [e async for e in stream]
    assert [e.seq for e in events] == [1, 2]
    failure = events[-1].payload
    assert isinstance(failure, ev.Failure)
    assert failure.code is ErrorCode.UNAVAILABLE
    assert failure.reason == "EVENT_LOG_UNAVAILABLE"
