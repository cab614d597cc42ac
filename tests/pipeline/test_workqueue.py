"""The work queue: accept first, then work — FIFO, a few at a time, never while a crowd is still
coming in, never starved; and a task waiting in it (or for a generation slot) has the wait in its ETA."""

from __future__ import annotations

import asyncio

import pytest
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.admission import GenerationSlots
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.pipeline.progress import Plan, Progress
from qianshi.server.pipeline.workqueue import Pace, WorkQueue
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry

from tests.fakes import FakeGenerator, FakeRetriever, spec


class Clock:
    """The queue's clock, moved by the test (its timers still run on the loop's)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_quiet_server_admits_at_once_up_to_the_limit_then_in_order():
    queue = WorkQueue(limit=2, quiet_s=0.0)
    assert queue.join("a") is None and queue.join("b") is None
    c, d = queue.join("c"), queue.join("d")
    assert c is not None and d is not None
    assert (queue.working, queue.queued, queue.position("c"), queue.position("d")) == (2, 2, 1, 2)
    queue.release("a")
    async with asyncio.timeout(5):
        await c
    assert not d.done() and queue.position("d") == 1
    queue.release("b")
    queue.release("b")  # idempotent
    async with asyncio.timeout(5):
        await d
    assert (queue.working, queue.queued) == (2, 0)


async def test_a_lone_call_works_at_once():
    queue = WorkQueue(limit=2, quiet_s=60.0)
    queue.arrived()
    assert queue.join("a") is None  # its own arrival does not hold it back


async def test_work_waits_while_calls_keep_arriving():
    clock = Clock()
    queue = WorkQueue(limit=2, quiet_s=0.01, max_defer_s=60.0, clock=clock)
    queue.arrived()
    queue.arrived()
    turn = queue.join("a")
    assert turn is not None  # a call came in just now: more may be on their way
    await asyncio.sleep(0)  # the dispatcher looks: still arriving
    clock.now += 0.005
    queue.arrived()
    await asyncio.sleep(0)
    assert not turn.done() and queue.working == 0
    clock.now += 0.02  # nobody for 20 ms: the crowd is in
    async with asyncio.timeout(5):
        await turn
    assert queue.working == 1


async def test_a_steady_stream_of_arrivals_does_not_starve_the_work():
    clock = Clock()
    queue = WorkQueue(limit=1, quiet_s=0.01, max_defer_s=1.0, clock=clock)
    queue.arrived()
    queue.arrived()
    turn = queue.join("a")
    assert turn is not None
    for _ in range(5):  # arrivals every 2 ms, for 10 s of the queue's time
        clock.now += 2.0
        queue.arrived()
        await asyncio.sleep(0)
        if turn.done():
            break
    assert turn.done() and queue.working == 1  # admitted once it had waited 1 s, arrivals or not


async def test_a_cancelled_waiter_leaves_the_queue_at_once():
    queue = WorkQueue(limit=1, quiet_s=0.0)
    assert queue.join("a") is None
    waiters = {name: asyncio.ensure_future(queue.await_turn(name, queue.join(name))) for name in "bcd"}  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert [queue.position(n) for n in "bcd"] == [1, 2, 3]
    waiters["c"].cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiters["c"]
    assert [queue.position(n) for n in "bd"] == [1, 2] and queue.queued == 2
    queue.release("a")
    async with asyncio.timeout(5):
        await waiters["b"]
    queue.release("b")
    async with asyncio.timeout(5):
        await waiters["d"]


def test_the_expected_wait_follows_how_long_slots_are_held():
    pace = Pace(2, None)
    assert pace.wait(3) is None and pace.wait(0) == 0.0  # no slot given back yet
    pace.held(0.02)
    assert pace.wait(4) == pytest.approx(4 * 0.02 / 2)  # two slots: one every 10 ms
    for _ in range(200):
        pace.held(0.004)  # the recent holds count, the old ones fade
    assert pace.wait(1) == pytest.approx(0.002, rel=0.01)
    assert Pace(2, 0.003).wait(10) == pytest.approx(0.03)


async def test_a_queue_held_back_for_a_crowd_is_not_slow():
    clock = Clock()
    queue = WorkQueue(limit=1, quiet_s=0.01, max_defer_s=60.0, fallback_interval_s=0.005, clock=clock)
    queue.arrived()
    queue.arrived()
    turns = [queue.join(name) for name in "abc"]
    assert queue.expected_wait(3) == pytest.approx(0.015)  # nothing measured yet: the fallback
    clock.now += 5.0  # the crowd took 5 s to come in
    async with asyncio.timeout(5):
        await turns[0]  # type: ignore[misc]
    clock.now += 0.004
    queue.release("a")  # held 4 ms
    assert queue.expected_wait(2) == pytest.approx(0.008)  # the 5 s of holding back are not its pace


def test_a_queue_wait_enters_the_eta_and_leaves_it_with_the_turn():
    progress = Progress(Plan(retrieval_s=0.1, ttft_s=0.5, output_units=100, units_per_s=50), now=0.0)
    alone = progress.eta(0.0)
    assert alone is not None
    progress.waiting(3.0, 0.0)
    assert progress.eta(1.0) == pytest.approx(alone + 2.0)  # 2 s of the wait left
    progress.waiting(None, 1.0)
    assert progress.eta(1.0) == pytest.approx(alone)


FAST = PipelineConfig(tick_retrieval_s=0.02, tick_generation_s=0.05, coalesce_window_s=0.005)


async def test_a_task_queued_for_a_generation_slot_has_the_wait_in_its_eta(tmp_path):
    gate = asyncio.Event()
    generator = FakeGenerator(gate=gate)
    estimates = Estimates(tmp_path / "e.json")
    interpreter = Interpreter(FakeRetriever(), generator, estimates, FAST, GenerationSlots(1, 5))
    async with Registry(interpreter, MemoryEventLog()) as registry:
        first = await registry.start(spec(), "", None)
        await generator.started.wait()  # the first task holds the only slot
        second = await registry.start(spec(), "", None)
        plan = interpreter.plan(spec())
        seen: list[ev.Event] = []
        async with asyncio.timeout(10), registry.subscribe(second, "", 0) as stream:
            async for event in stream:
                seen.append(event)
                if isinstance(event.payload, ev.Tick) and event.payload.queue_position:
                    gate.set()
                if event.terminal:
                    break
        await registry.wait_ended(first)
    [queued] = [e for e in seen if isinstance(e.payload, ev.Tick) and e.payload.queue_position][:1]
    # Nothing was seen moving yet: the wait is one learned generation per place ahead, on top of its own.
    assert queued.eta_s is not None and queued.eta_s >= 2 * plan.generation_s - 0.05


async def test_tasks_of_a_crowd_all_hear_accepted_before_anyone_works(tmp_path):
    retriever = FakeRetriever()
    work = WorkQueue(limit=1, quiet_s=60.0, max_defer_s=60.0)  # the crowd never stops: nobody works
    work.arrived()  # one came in just before
    interpreter = Interpreter(retriever, FakeGenerator(), Estimates(tmp_path / "e.json"), FAST, work=work)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        tasks = [await registry.start(spec(), "", None) for _ in range(5)]
        firsts: list[ev.Event] = []
        for task_id in tasks:
            async with asyncio.timeout(10), registry.subscribe(task_id, "", 0) as stream:
                firsts.append(await anext(aiter(stream)))
        assert [e.kind for e in firsts] == ["accepted"] * 5
        assert not retriever.entered.is_set() and work.queued == 5
        etas = [e.eta_s for e in firsts]
        assert etas == sorted(etas) and etas[-1] > etas[0]  # the later in line, the longer the wait
        for task_id in tasks:
            registry.cancel_local(task_id)
            await registry.wait_ended(task_id)
    assert work.queued == 0 and work.working == 0


async def test_the_light_line_is_served_before_any_heavy_work():
    clock = Clock()
    queue = WorkQueue(limit=1, quiet_s=0.01, max_defer_s=60.0, clock=clock)
    queue.arrived()
    queue.arrived()
    heavy = queue.join("a")  # one task already past its poem, waiting to work
    light = [queue.join(name, light=True) for name in "bcd"]  # three that wait for their poem
    assert heavy is not None and all(turn is not None for turn in light)
    assert [queue.position(n) for n in "abcd"] == [1, 1, 2, 3] and queue.queued == 4
    clock.now += 1.0  # the crowd is in
    async with asyncio.timeout(5):
        await asyncio.gather(*light)  # type: ignore[arg-type]
        await heavy
    assert queue.working == 1  # the poems held no slot


async def test_a_crowd_gets_its_poems_before_anyone_searches(tmp_path):
    retriever = FakeRetriever()
    clock = Clock()
    work = WorkQueue(limit=1, quiet_s=0.01, max_defer_s=60.0, clock=clock)
    work.arrived()
    log = MemoryEventLog()
    interpreter = Interpreter(retriever, FakeGenerator(), Estimates(tmp_path / "e.json"), FAST, work=work)
    async with Registry(interpreter, log) as registry:
        tasks = [await registry.start(spec(), "", None) for _ in range(3)]
        async with asyncio.timeout(10):  # every task waits in the light line (not a timed sleep)
            while work.queued < len(tasks):  # noqa: ASYNC110 - the queue has no event; a turn, no clock
                await asyncio.sleep(0)
        assert not any(e.kind == "poem" for t in tasks for e in log.events(t))  # still arriving
        clock.now += 1.0  # the crowd is in
        async with asyncio.timeout(10):
            await retriever.entered.wait()  # the first search started: every poem is out already
        assert all(any(e.kind == "poem" for e in log.events(t)) for t in tasks)
        for task_id in tasks:
            await registry.wait_ended(task_id)


async def test_the_poem_of_a_task_that_will_wait_in_line_has_the_wait_in_its_eta(tmp_path):
    clock = Clock()
    # one place ahead: one second (no hold seen yet), so the waits stand out from the plan's own ETA
    work = WorkQueue(limit=1, quiet_s=0.01, max_defer_s=60.0, fallback_interval_s=1.0, clock=clock)
    work.arrived()
    log = MemoryEventLog()
    gate = asyncio.Event()  # the first task's search holds the only slot until every poem is out
    interpreter = Interpreter(
        FakeRetriever(gate), FakeGenerator(), Estimates(tmp_path / "e.json"), FAST, work=work
    )
    async with Registry(interpreter, log) as registry:
        tasks = [await registry.start(spec(), "", None) for _ in range(3)]
        async with asyncio.timeout(10):  # every task waits in the light line (not a timed sleep)
            while work.queued < len(tasks):  # noqa: ASYNC110 - the queue has no event; a turn, no clock
                await asyncio.sleep(0)
        clock.now += 1.0  # the crowd is in: the poems go out, then the search and writing one at a time
        poems = []
        for task_id in tasks:
            async with asyncio.timeout(10), registry.subscribe(task_id, "", 0) as stream:
                poems.append(await anext(e async for e in stream if e.kind == "poem"))
        gate.set()
        for task_id in tasks:
            await registry.wait_ended(task_id)
    etas = [e.eta_s for e in poems]
    assert all(eta is not None for eta in etas)
    # the first works at once; the second and third wait one and two places for the heavy line, and
    # their poems say so (joined after the poem went out, every poem said the plan's ETA alone)
    assert etas[1] >= etas[0] + 0.9 and etas[2] >= etas[0] + 1.9, etas
