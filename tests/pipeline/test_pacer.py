"""The pacer: one for every task — ticks fill each task's silence at its own interval, only silence.

Each test runs in a loop of virtual time (tests/virtual_time.py): the pacer and the emitters read the
loop's clock, so every tick's moment is checked exactly and no test waits for one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.emitter import Emitter
from qianshi.server.pipeline.eventlog import TaskMeta
from qianshi.server.pipeline.pacer import GRAIN_S, Pacer
from qianshi.server.pipeline.progress import Plan, Progress
from qianshi.server.tasks.memory_log import MemoryEventLog

from tests.virtual_time import elapse, virtual

PLAN = Plan(retrieval_s=0.1, ttft_s=0.5, output_units=100, units_per_s=50)


def now() -> float:
    return asyncio.get_running_loop().time()


def virtual_pacer() -> Pacer:
    return Pacer(clock=now)


@contextlib.asynccontextmanager
async def running(pacer: Pacer) -> AsyncIterator[None]:
    task = asyncio.ensure_future(pacer.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def emitter_for(log: MemoryEventLog | object, task_id: str) -> Emitter:
    if isinstance(log, MemoryEventLog):
        await log.create(TaskMeta(task_id, "", ""))
    return Emitter(log, task_id, Progress(PLAN, now()), now(), clock=now)  # type: ignore[arg-type]


def ticks(log: MemoryEventLog, task_id: str) -> list[ev.Event]:
    return [e for e in log.events(task_id) if isinstance(e.payload, ev.Tick)]


def at(events: list[ev.Event], since: float = 0.0) -> list[float]:
    """When each event was made, on the virtual clock (relative to ``since``), to the microsecond."""
    return [round(e.elapsed_s - since, 6) for e in events]


async def tick_saying(log: MemoryEventLog, task_id: str, message: str) -> ev.Event:
    """The first tick of the task that says ``message`` (waits for it on the log)."""
    async for event in log.follow(task_id, 0):
        if isinstance(event.payload, ev.Tick) and event.message == message:
            return event
    raise AssertionError("the log ended")


def close_to(got: list[float], want: list[float]) -> bool:
    """Ticks are due at exact moments and may come at most GRAIN_S early (one timer serves them)."""
    return len(got) == len(want) and all(w - GRAIN_S <= g <= w + 1e-9 for g, w in zip(got, want, strict=True))


@virtual
async def test_each_task_ticks_at_its_own_interval_whatever_the_others_wait_for():
    log, pacer = MemoryEventLog(), virtual_pacer()
    slow, fast = await emitter_for(log, "slow"), await emitter_for(log, "fast")
    async with running(pacer), asyncio.timeout(10):
        with pacer.pacing(slow, 0.5, lambda now: "slow"), pacer.pacing(fast, 0.02, lambda now: "fast"):
            await tick_saying(log, "slow", "slow")
    # the slow task's entry was armed first; the fast one's ticks were never held back to its time
    fast_ticks = at(ticks(log, "fast"))
    assert close_to(fast_ticks[:24], [round(0.02 * k, 6) for k in range(1, 25)]), fast_ticks
    assert [e.message for e in ticks(log, "slow")] == ["slow"]
    assert close_to(at(ticks(log, "slow")), [0.5])


@virtual
async def test_a_task_that_spoke_meanwhile_does_not_hold_back_the_others():
    log, pacer = MemoryEventLog(), virtual_pacer()
    spoke = await emitter_for(log, "spoke")
    async with running(pacer), asyncio.timeout(10):
        with pacer.pacing(spoke, 0.6, lambda now: "spoke"):
            await elapse(0.45)
            await spoke.emit(ev.Tick(0.0), "spoken")  # its entry, due first, will move 0.6 s on
            await elapse(0.1)
            other = await emitter_for(log, "other")  # due after the spoken one's entry, before its next
            with pacer.pacing(other, 0.1, lambda now: "other"):
                await tick_saying(log, "spoke", "spoke")
    # the spoken task ticks 0.6 s after it spoke, not at its first entry's time (0.6)
    assert close_to(at(ticks(log, "spoke"), 0.0), [0.45, 1.05])
    # each 0.1 s from 0.55 on, not at the moved entry's time
    assert close_to(at(ticks(log, "other"))[:4], [0.1, 0.2, 0.3, 0.4])


@virtual
async def test_an_event_meanwhile_postpones_the_tick_and_leaving_stops_them():
    log, pacer = MemoryEventLog(), virtual_pacer()
    emitter = await emitter_for(log, "t")
    async with running(pacer), asyncio.timeout(10):
        with pacer.pacing(emitter, 0.05, lambda now: "quiet"):
            for _ in range(5):  # never silent for 50 ms: no tick
                await emitter.emit(ev.Tick(0.0), "spoken")
                await elapse(0.01)
            assert not [e for e in ticks(log, "t") if e.message == "quiet"]
            await tick_saying(log, "t", "quiet")
        count = len(log.events("t"))
        await elapse(5.0)  # no tick in five seconds of silence once it left
        assert len(log.events("t")) == count
    events = log.events("t")
    spoken = [e for e in events if e.message == "spoken"]
    quiet = [e for e in events if e.message == "quiet"]
    assert close_to(at(spoken), [0.0, 0.01, 0.02, 0.03, 0.04])
    assert close_to(at(quiet), [0.04 + 0.05])  # it filled the silence after the last event only


class _SlowLog:
    """A log whose appends wait (as a shared log's do); ``fail`` makes them raise."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self.fail: Exception | None = None
        self.three = asyncio.Event()

    async def append(self, event: ev.Event) -> None:
        await asyncio.sleep(0)  # it waits, as a round trip would
        if self.fail is not None:
            raise self.fail
        self.events.append(event)
        if len(self.events) >= 3:
            self.three.set()


@virtual
async def test_ticks_whose_append_waits_are_finished_by_the_pacer():
    log, pacer = _SlowLog(), virtual_pacer()
    emitter = await emitter_for(log, "t")
    async with running(pacer), asyncio.timeout(10):
        with pacer.pacing(emitter, 0.02, lambda now: "waiting"):
            await log.three.wait()
    assert [e.seq for e in log.events][:3] == [1, 2, 3]  # in order, none lost
    assert close_to(at(log.events[:3]), [0.02, 0.04, 0.06])


@virtual
async def test_a_tick_that_cannot_be_written_fails_the_task_with_that_error():
    log, pacer = _SlowLog(), virtual_pacer()
    log.fail = RuntimeError("the log is down")
    emitter = await emitter_for(log, "t")

    async def body() -> None:
        with pacer.pacing(emitter, 0.02, lambda now: "waiting"):
            await asyncio.Event().wait()

    async with running(pacer), asyncio.timeout(10):
        emitter.task = task = asyncio.ensure_future(body())
        with pytest.raises(asyncio.CancelledError):
            await task
    assert isinstance(emitter.error, RuntimeError)
    assert now() == pytest.approx(0.02, abs=GRAIN_S)  # failed at its first tick, not later
