"""The pacer: one per interpreter, it keeps every task it watches from going silent (DESIGN.md invariant 1).

A stage paces its work with ``with pacer.pacing(emitter, interval, tick_message): await work``. The
work runs right in the task's own body — no helper task, no timer of its own — and whatever it emits
goes out the moment it exists. The pacer holds, for each watched task, one entry in a heap ordered by
when the task's silence would reach its interval (its last event + the interval), and one timer for
the earliest entry. When that comes, every task silent for its interval gets a tick that says what
is happening now (``tick_message(now)``), and its entry moves to its next due time. Entries are
checked lazily: an event emitted meanwhile only moves the emitter's ``last_emit``, so the hot path (a
text delta, a poem) touches no timer, and a task that ends simply leaves its entry to be dropped.

Why one pacer and not, as before, a task per stage racing the work against a timer of its own: that
cost every stage of every task a task, a task group, a future and a timer (~30 µs, ~2 KiB while
waiting), and every tick a step of the waiting task — the bulk of what 1,000 idle streams cost the
loop (bench/README.md, "Where a task's CPU goes"). Here a tick is one heap move and one append, and
the ticks due together are written together.

Ticks are written from the pacer's timer. An append that completes without waiting (the memory log)
needs no task at all; one that waits (Redis) is continued in a task of the pacer's own group, so the
ticks of many tasks are in flight together (the Redis writer pipelines them). This relies on the
``EventLog`` rule that ``append`` enters no task-bound scope (a timeout, a task group) before it first
waits. A tick that cannot be written fails the task as its own emit would have: the pacer records the
error on the emitter and cancels the task's body, which reports it (``interpret.Interpreter.run``).

Time is read from one ``clock`` (``time.monotonic`` unless told otherwise), the same one its emitters
stamp their events with, and timers are armed on the loop at the clock's due time: a test that runs
the pacer in a loop of virtual time (tests/virtual_time.py) passes ``loop.time`` to both and checks
each tick's moment exactly, without waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from qianshi.server.pipeline.eager import resume
from qianshi.server.pipeline.emitter import Emitter

log = logging.getLogger(__name__)

GRAIN_S = 0.001
"""Entries due within this of each other are served by one timer (ticks are at most this early)."""


class Pacer:
    """Emits the ticks of every watched task that has been silent for its interval."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        """What "now" is; the emitters it watches must stamp ``last_emit`` with the same clock."""
        self._heap: list[tuple[float, int, Emitter]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self._group: asyncio.TaskGroup | None = None
        self._firing = False

    @property
    def watched(self) -> int:
        """Heap entries now (a task's entry leaves lazily, at its due time, after it stopped being paced)."""
        return len(self._heap)

    async def run(self) -> None:
        """Own the tasks that finish ticks whose append had to wait; runs until cancelled."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            try:
                await asyncio.get_running_loop().create_future()  # forever: the timer does the work
            finally:
                self._group = None
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None

    @contextlib.contextmanager
    def pacing(
        self, emitter: Emitter, interval: float, tick_message: Callable[[float], str]
    ) -> Iterator[None]:
        """Tick ``emitter``'s task whenever it is silent for ``interval`` while the block runs; what the
        pacing was before (an enclosing stage's) is restored after it."""
        interval_before, message_before = emitter.interval, emitter.tick_message
        self.watch(emitter, interval, tick_message)
        try:
            yield
        finally:
            if message_before is None:
                emitter.tick_message = None
            else:
                self.watch(emitter, interval_before, message_before)

    def watch(self, emitter: Emitter, interval: float, tick_message: Callable[[float], str]) -> None:
        emitter.interval = interval
        emitter.tick_message = tick_message
        due = emitter.last_emit + interval
        if not emitter.scheduled or due < emitter.due:
            self._push(due, emitter)

    # ------------------------------------------------------------------------------------------------

    def _push(self, due: float, emitter: Emitter) -> None:
        emitter.scheduled = True
        emitter.due = due
        heapq.heappush(self._heap, (due, next(self._order), emitter))
        if due < self._timer_at - GRAIN_S and not self._firing:
            self._arm(due)

    def _arm(self, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer_at = due
        self._timer = loop.call_at(loop.time() + (due - self._clock()), self._fire)

    def _fire(self) -> None:
        self._timer, self._timer_at = None, float("inf")
        self._firing = True  # entries pushed meanwhile are armed for below, at the heap's earliest
        try:
            self._serve(self._clock())
        finally:
            self._firing = False
        if self._heap:
            self._arm(self._heap[0][0])

    def _serve(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now + GRAIN_S:
            due, _, emitter = heapq.heappop(heap)
            if due != emitter.due:
                continue  # an older entry of a task that was rescheduled earlier
            if emitter.tick_message is None or emitter.ended:
                emitter.scheduled = False
                continue
            silent_until = emitter.last_emit + emitter.interval
            if silent_until > now + GRAIN_S:
                self._push(silent_until, emitter)  # it spoke meanwhile
            elif emitter.inflight:
                self._push(now + emitter.interval, emitter)  # an event is being written: not silent
            else:
                emitter.scheduled = False
                self._tick(emitter, now)

    def _tick(self, emitter: Emitter, now: float) -> None:
        assert emitter.tick_message is not None
        try:
            coro = emitter.tick(emitter.tick_message(now))
        except Exception as exc:  # a message that cannot be made: the task's own bug, reported there
            self._failed(emitter, exc)
            return
        try:
            waiting = coro.send(None)
        except StopIteration:
            self._next(emitter)
            return
        except Exception as exc:
            self._failed(emitter, exc)
            return
        if self._group is None:  # not running (shutting down): the tick is not finished
            coro.close()
            return
        self._group.create_task(self._finish(emitter, coro, waiting))

    async def _finish(self, emitter: Emitter, coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
        try:
            await resume(coro, waiting)
        except Exception as exc:
            self._failed(emitter, exc)
            return
        self._next(emitter)

    def _next(self, emitter: Emitter) -> None:
        if emitter.tick_message is not None and not emitter.ended and not emitter.scheduled:
            self._push(emitter.last_emit + emitter.interval, emitter)

    @staticmethod
    def _failed(emitter: Emitter, exc: Exception) -> None:
        emitter.error = exc
        task = emitter.task
        if task is not None and not task.done():
            task.cancel()
        else:
            log.error("a tick could not be written", exc_info=exc, extra={"task_id": emitter.task_id})
