"""Request-id claims in the shared log, against a real redis-server: one request id, one task, on
any number of replicas; the claim's lifetime follows the task's; a lost or drained task gives it back."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from qianshi.server.errors import ErrorCode, ResourceExhausted
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.eventlog import TaskMeta
from qianshi.server.pipeline.interpret import Interpreter
from qianshi.server.tasks.redis.log import RedisEventLog
from qianshi.server.tasks.registry import Registry

from tests.fakes import FakeGenerator, FakeRetriever, spec
from tests.tasks.redis.test_log import FAST, done, event

pytestmark = pytest.mark.redis


class CountingGenerator(FakeGenerator):
    """A FakeGenerator that counts the generations it was asked for."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        super().__init__(gate=gate)
        self.calls = 0

    def stream(self, request):  # type: ignore[no-untyped-def]
        self.calls += 1
        return super().stream(request)


@pytest.fixture
async def replicas(redis_url, redis_prefix):
    """Three logs on one Redis: three replicas."""
    logs = [RedisEventLog(redis_url, prefix=redis_prefix, block_s=0.2) for _ in range(3)]
    yield logs
    for log in logs:
        await log.aclose()


async def test_concurrent_creates_with_one_request_id_make_one_task(replicas):
    metas = [TaskMeta(f"t_{i}", "alice", "req-1") for i in range(3)]
    got = await asyncio.gather(*(log.create(meta) for log, meta in zip(replicas, metas, strict=True)))
    assert len(set(got)) == 1  # every replica names the same task
    winner = got[0]
    assert sum(1 for meta in metas if meta.task_id == winner) == 1
    for log in replicas:
        assert await log.claimed("alice", "req-1") == winner
        assert await log.meta(winner) == TaskMeta(winner, "alice", "req-1")
    # another caller's request ids are its own: the same id starts bob's own task, alice's is not his
    assert await replicas[1].create(TaskMeta("t_bob", "bob", "req-1")) == "t_bob"
    assert await replicas[2].claimed("bob", "req-1") == "t_bob"
    assert await replicas[2].claimed("carol", "req-1") is None


async def test_tasks_without_request_id_claim_nothing(replicas):
    a, b, _ = replicas
    assert await a.create(TaskMeta("t_x", "", "")) == "t_x"
    assert await b.create(TaskMeta("t_y", "", "")) == "t_y"
    assert await b.claimed("", "") is None


async def test_the_same_request_id_on_three_registries_runs_one_generation(replicas, tmp_path):
    gate = asyncio.Event()
    generators = [CountingGenerator(gate) for _ in range(3)]
    interpreters = [
        Interpreter(FakeRetriever(), g, Estimates(tmp_path / f"{i}.json"), FAST)
        for i, g in enumerate(generators)
    ]
    async with (
        Registry(interpreters[0], replicas[0]) as r0,
        Registry(interpreters[1], replicas[1]) as r1,
        Registry(interpreters[2], replicas[2]) as r2,
    ):
        registries = (r0, r1, r2)
        request = spec(request_id="same-everywhere", keep_running=True)
        ids = await asyncio.gather(*(r.start(request, "alice", None) for r in registries))
        assert len(set(ids)) == 1
        gate.set()
        async with asyncio.timeout(10):
            streams = []
            for registry in registries:  # read it through every replica: the same events
                async with registry.subscribe(ids[0], "alice", 0) as events:
                    streams.append([e async for e in events])
            again = await r2.start(request, "alice", None)  # a later retry: still that task
    assert again == ids[0]
    assert streams[0] == streams[1] == streams[2]
    assert isinstance(streams[0][-1].payload, ev.Result)
    assert sum(g.calls for g in generators) == 1
    assert sum(r.active for r in registries) == 0


async def test_a_retry_reaches_its_task_even_on_a_full_replica(replicas, tmp_path):
    a, b, _ = replicas
    gate = asyncio.Event()
    interpreter_a = Interpreter(FakeRetriever(gate), FakeGenerator(), Estimates(tmp_path / "a.json"), FAST)
    interpreter_b = Interpreter(FakeRetriever(gate), FakeGenerator(), Estimates(tmp_path / "b.json"), FAST)
    async with Registry(interpreter_a, a) as ra, Registry(interpreter_b, b, max_active=1) as rb:
        task_id = await ra.start(spec(request_id="r-full", keep_running=True), "", None)
        await rb.start(spec(keep_running=True), "", None)  # fills B
        with pytest.raises(ResourceExhausted):
            await rb.start(spec(request_id="r-new"), "", None)
        assert await rb.start(spec(request_id="r-full"), "", None) == task_id
        gate.set()


async def test_the_claim_lives_as_long_as_the_task_and_is_released_by_a_restart_reason(
    replicas, redis_url, redis_prefix
):
    a, _, _ = replicas
    raw = aioredis.from_url(redis_url)
    try:
        for task_id, reason, released in (("t_ok", "", False), ("t_drained", "SERVER_DRAINING", True)):
            request_id = f"req-{task_id}"
            assert await a.create(TaskMeta(task_id, "", request_id)) == task_id
            claim = a.keys.claim("", request_id)
            assert 86_000 < await raw.ttl(claim) <= 86_400
            await a.append(event(task_id, 1))
            if reason:
                failure = ev.Failure(ErrorCode.UNAVAILABLE, "draining", reason)
                await a.append(event(task_id, 2, failure))
            else:
                await a.append(done(task_id, 2))
            await a.expire(task_id, 30.0)
            if released:  # a retry with the same request id starts the task again
                assert await raw.exists(claim) == 0
                assert await a.claimed("", request_id) is None
                assert await a.create(TaskMeta("t_again", "", request_id)) == "t_again"
            else:
                assert 0 < await raw.pttl(claim) <= 30_000
                assert await a.claimed("", request_id) == task_id
            assert await raw.sismember(a.keys.replica_tasks(a.replica), task_id) == 0
    finally:
        await raw.aclose()


async def test_a_claim_whose_task_is_gone_is_taken_over(replicas):
    a, b, _ = replicas
    assert await a.create(TaskMeta("t_evicted", "", "req-stale")) == "t_evicted"
    await a._redis.delete(a.keys.meta("t_evicted"))  # evicted, or lost, while its claim stayed
    assert await b.create(TaskMeta("t_fresh", "", "req-stale")) == "t_fresh"
    assert await a.claimed("", "req-stale") == "t_fresh"
