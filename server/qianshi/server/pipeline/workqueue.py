"""Accept first, then work: when a crowd arrives at once, every caller hears ``accepted`` before the
server spends its CPU on anyone's retrieval.

Why: grpc.aio takes new calls one at a time, and each takes three or four turns of the event loop
(measured: 1,200-2,200 calls/s into an idle loop, 90-200/s into a loop whose turns each run 1 ms of
work). Tasks that start working the moment they are accepted fill every turn with their steps, so
the calls behind them wait in gRPC's backlog before anyone has told them anything: with 1,000 calls
opened within a second, the first event of the last ones came seconds late (bench/README.md).

So a task's work waits in a FIFO queue after ``accepted`` — its retrieval stage, and its generation
too when that runs on this CPU without waiting (the grounded generator unpaced; an LLM's generation
waits on its engine, with its own slots) — and starts when both hold:

- fewer than ``limit`` tasks are working (a turn of the loop holds at most that many tasks' steps);
- no call arrived in the last ``quiet_s`` nor in the last ``QUIET_TURNS`` turns of the loop (the crowd
  has been let in), or the first task in the queue has waited ``max_defer_s`` (work is never starved
  by a steady stream of arrivals).

Both quiet conditions, because neither alone tells whether gRPC still holds calls: on a quiet
machine the loop turns fast and calls of a crowd come in well under ``quiet_s`` apart; on a busy one
(other processes on the cores, long turns) the next call of a crowd can take longer than ``quiet_s``
to be taken in, yet never more than the few turns grpc.aio needs per call. With the time alone, work
started between two calls of a crowd and slowed the intake of the rest: under 40 % foreign load the
first event of the 1,000th caller came 3.7 s late, against 2.1 s for grpc.aio alone.

Tasks admitted one after another never wait: the queue costs a comparison when the server is not
crowded. Measured with 1,000 calls opened within a second (waves of 250 every 0.25 s) against
grpc.aio alone writing the same ten events per call, in the same run on a quiet machine: first event
p99 4-9× the bare server's without the queue, 0.8-1.0× with it (bench/README.md).

Two lines, served in order. The *light* line holds the poem: an exact look-up and two events, so once
the crowd is in, every waiting task gets its poem (``LIGHT_PER_TURN`` tasks a turn, none of them
holding a slot) before anyone's search and writing start from the *heavy* line, ``limit`` at a time.
Why a line for it at all: sent at once on arrival, the poem's two events tripled the writes made while
the crowd is still being taken in, and the 1,000th caller's first event came 2.7-7.4 s late (grpc.aio
alone: 1.6-2.2 s, same runs); sent after the rest of the work, it reached the 1,000th caller at
2.4-5.7 s (bench/README.md).

A waiting task ticks with its place in the queue like one waiting for a generation slot
(``admission.wait_for_turn``), and :meth:`WorkQueue.expected_wait` turns the place into seconds from
the pace at which it serves (how long a task holds its slot), so the ETA counts the wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from qianshi.server.pipeline.line import Line

LIMIT = 2
"""Tasks working at once: each turn of the loop holds at most this many tasks' steps."""
QUIET_S = 0.005
"""No call for this long: the crowd is in (calls of a crowd arrive well under a millisecond apart)."""
QUIET_TURNS = 4
"""Nor for this many turns of the loop (grpc.aio takes a waiting call in three or four)."""
LIGHT_PER_TURN = 32
"""Tasks of the light line let through per turn of the loop (a turn stays short: ~3 ms of events)."""
MAX_DEFER_S = 1.0
"""The longest a task's work waits for a pause in arrivals (a wave of 250 calls is in after 0.1-0.3 s;
forcing work earlier made the later waves wait seconds for their first event)."""
FALLBACK_INTERVAL_S = 0.002
"""Seconds between two admissions before the queue was ever seen moving (about one task's CPU)."""
_PACE_ALPHA = 0.05
"""Weight of the newest hold in the mean (the last few dozen count)."""


class WorkQueue:
    """At most ``limit`` tasks working at once; none admitted while calls keep arriving."""

    def __init__(
        self,
        limit: int = LIMIT,
        *,
        quiet_s: float = QUIET_S,
        max_defer_s: float = MAX_DEFER_S,
        fallback_interval_s: float = FALLBACK_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("a work queue needs at least one slot")
        self.limit = limit
        self.quiet_s = quiet_s
        self.max_defer_s = max_defer_s
        self._clock = clock
        self._last_arrival = float("-inf")
        self._before_last = float("-inf")
        self._working: set[str] = set()
        self._waiting: Line[tuple[float, asyncio.Future[None]]] = Line()
        self._light: Line[tuple[float, asyncio.Future[None]]] = Line()
        self._pace = Pace(limit, fallback_interval_s)
        self._since: dict[str, float] = {}
        self._timer: asyncio.Handle | None = None
        self._quiet_turns = QUIET_TURNS
        """Turns of the loop the dispatcher has seen since the last arrival."""

    @property
    def working(self) -> int:
        return len(self._working)

    @property
    def queued(self) -> int:
        return len(self._waiting) + len(self._light)

    def arrived(self) -> None:
        """A call was accepted (its task will ``join`` next)."""
        self._before_last, self._last_arrival = self._last_arrival, self._clock()
        self._quiet_turns = 0

    def join(self, task_id: str, *, light: bool = False) -> asyncio.Future[None] | None:
        """Start now (None), or wait in the queue: the future is done when it is the task's turn.
        ``light``: the step is the poem (no slot is held; see the module docstring)."""
        if task_id in self._working:
            return None
        now = self._clock()
        # Its own arrival does not hold a task back (a lone call works at once): another's does.
        calm = not self._waiting and not self._light and now - self._before_last >= self.quiet_s
        if calm and (light or len(self._working) < self.limit):
            if not light:
                self._admit(task_id, now)
            return None
        line = self._light if light else self._waiting
        entry = line.get(task_id)
        if entry is None:
            entry = (now, asyncio.get_running_loop().create_future())
            line.push(task_id, entry)
            self._schedule(0.0)
        return entry[1]

    async def await_turn(self, task_id: str, turn: asyncio.Future[None]) -> None:
        """Wait for the turn ``join`` gave; cancelling the wait leaves the queue (or the slot) at once."""
        try:
            await turn
        except asyncio.CancelledError:
            self.release(task_id)
            raise

    def position(self, task_id: str) -> int:
        """1-based place in the queue; 0 when the task is not waiting."""
        return self._light.place(task_id) or self._waiting.place(task_id)

    def release(self, task_id: str) -> None:
        """The task's work is done (or it left the queue); idempotent."""
        for line in (self._light, self._waiting):
            entry = line.remove(task_id)
            if entry is not None:
                entry[1].cancel()
        if task_id in self._working:
            self._working.discard(task_id)
            self._pace.held(self._clock() - self._since.pop(task_id))
            if self._waiting:
                self._schedule(0.0)

    def expected_wait(self, position: int) -> float | None:
        """Seconds until the task at ``position`` starts, at the pace the queue has been moving."""
        return self._pace.wait(position)

    def _admit(self, task_id: str, now: float) -> None:
        self._working.add(task_id)
        self._since[task_id] = now

    def _schedule(self, delay: float) -> None:
        if self._timer is not None:
            if delay > 0:
                return  # a dispatch is already due; it re-arms itself as needed
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(delay, self._dispatch) if delay > 0 else loop.call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._timer = None
        self._quiet_turns += 1  # it runs a turn after it was scheduled, and once per turn at most
        now = self._clock()
        light = 0
        while self._light and light < LIGHT_PER_TURN:
            task_id, (since, turn) = self._light.first()
            if not self._may_start(since, now):
                return
            self._light.pop_first()
            if not turn.done():  # else its waiter was cancelled and is on its way out
                turn.set_result(None)
                light += 1
        if self._light:
            self._schedule(0.0)  # the rest of them next turn, before any heavy work
            return
        while self._waiting and len(self._working) < self.limit:
            task_id, (since, turn) = self._waiting.first()
            if not self._may_start(since, now):
                return
            self._waiting.pop_first()
            if turn.done():  # its waiter was cancelled and is on its way out
                continue
            self._admit(task_id, now)
            turn.set_result(None)

    def _may_start(self, since: float, now: float) -> bool:
        """Whether the crowd is in (or the first in line has waited long enough); if not, the
        dispatcher is scheduled to look again."""
        if now - since >= self.max_defer_s:
            return True
        quiet_for = now - self._last_arrival
        if quiet_for < self.quiet_s:
            self._schedule(min(self.quiet_s - quiet_for, since + self.max_defer_s - now))
            return False
        if self._quiet_turns < QUIET_TURNS:
            self._schedule(0.0)  # look again next turn
            return False
        return True


class Pace:
    """How fast a pool of ``limit`` slots serves its queue: the mean time a task holds a slot (an
    exponentially weighted mean of the last few dozen), over ``limit``. Measured on the holds, not on
    the gaps between admissions: a queue held back on purpose (while a crowd arrives) is not slow."""

    def __init__(self, limit: int, fallback_interval_s: float | None) -> None:
        self._limit = limit
        self._fallback_s = fallback_interval_s
        self._hold_s: float | None = None

    def held(self, seconds: float) -> None:
        """A task gave back its slot after holding it ``seconds``."""
        if self._hold_s is None:
            self._hold_s = seconds
        else:
            self._hold_s += _PACE_ALPHA * (seconds - self._hold_s)

    def wait(self, position: int) -> float | None:
        """Seconds until the task at ``position`` gets a slot (None: not known yet)."""
        if position <= 0:
            return 0.0
        if self._hold_s is not None:
            return position * self._hold_s / self._limit
        return None if self._fallback_s is None else position * self._fallback_s
