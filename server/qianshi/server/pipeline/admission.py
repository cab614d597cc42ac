"""Generation admission: a FIFO pool of generation slots for one generator backend, with a bounded queue.

An LLM engine serves a bounded number of requests well; beyond it requests only queue inside the
engine, where nobody can see them, and every stream slows down together. ``GenerationSlots`` keeps
that queue here instead, where it is bounded and its position is reported:

- ``reserve(task_id)`` runs at accept time (``Registry.start``), before any work: when ``limit +
  max_queued`` tasks already hold, await, or will soon await a slot, the call is refused at once with
  ``ResourceExhausted`` (RESOURCE_EXHAUSTED with a retry hint). Reserving at accept time, not when a
  task reaches generation, is what keeps the queue within ``max_queued``: a burst of accepted tasks
  that are all still retrieving would otherwise pass any check made on the queue as it is now.
- ``wait(task_id)`` takes a slot after retrieval, at once when one is free and nobody waits, else in
  FIFO order; ``position(task_id)`` is the 1-based place in the queue (what ``Tick.queue_position``
  carries). A waiter that is cancelled leaves the queue at once, and everyone behind moves up.
- ``release(task_id)`` gives back the slot and the reservation (idempotent); the next waiter gets the
  slot in the same loop iteration.

``wait_for_slot`` is the pipeline's side of it: it waits under the pacer, so a queued task keeps
ticking at the generation tick interval, each tick saying where in the queue it stands. A waiting
task holds nothing but its place and its awaited turn (the pacer ticks it from outside).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from qianshi.server.errors import ResourceExhausted
from qianshi.server.pipeline.emitter import Emitter
from qianshi.server.pipeline.line import Line
from qianshi.server.pipeline.messages import message
from qianshi.server.pipeline.pacer import Pacer
from qianshi.server.pipeline.workqueue import Pace, WorkQueue

RETRY_AFTER_S = 1.0


class GenerationSlots:
    """At most ``limit`` generations at once; at most ``max_queued`` more tasks waiting for one."""

    def __init__(self, limit: int, max_queued: int, *, retry_after_s: float = RETRY_AFTER_S) -> None:
        if limit < 1:
            raise ValueError("a generation pool needs at least one slot")
        self.limit = limit
        self.max_queued = max(max_queued, 0)
        self.retry_after_s = retry_after_s
        self._reserved: set[str] = set()
        self._holding: set[str] = set()
        self._waiting: Line[asyncio.Future[None]] = Line()
        self._pace = Pace(limit, None)
        self._since: dict[str, float] = {}

    @property
    def holding(self) -> int:
        """Generations running now."""
        return len(self._holding)

    @property
    def queued(self) -> int:
        """Tasks waiting for a slot now."""
        return len(self._waiting)

    @property
    def reserved(self) -> int:
        """Tasks admitted and not yet done with generation (holding, waiting, or still retrieving)."""
        return len(self._reserved)

    def reserve(self, task_id: str) -> None:
        """Admit a task; ``ResourceExhausted`` (reason GENERATION_QUEUE_FULL) when the queue is full."""
        if len(self._reserved) >= self.limit + self.max_queued:
            raise ResourceExhausted(
                f"the generation queue is full ({self.limit} running, {self.max_queued} queued)",
                reason="GENERATION_QUEUE_FULL",
                retry_after_s=self.retry_after_s,
            )
        self._reserved.add(task_id)

    def position(self, task_id: str) -> int:
        """1-based place of the task in the queue; 0 when it is not waiting."""
        return self._waiting.place(task_id)

    def expected_wait(self, position: int) -> float | None:
        """Seconds until the task at ``position`` gets a slot, from how long generations have held
        their slots (None before one was given back)."""
        return self._pace.wait(position)

    def take_now(self, task_id: str) -> bool:
        """Take a slot if one is free and nobody is waiting for it."""
        if task_id in self._holding:
            return True
        if self._waiting or len(self._holding) >= self.limit:
            return False
        self._reserved.add(task_id)
        self._holding.add(task_id)
        self._since[task_id] = time.monotonic()
        return True

    def join(self, task_id: str) -> asyncio.Future[None] | None:
        """Take a slot now (None), or join the queue: the future is done when the slot is the task's."""
        if self.take_now(task_id):
            return None
        turn = self._waiting.get(task_id)
        if turn is None:
            self._reserved.add(task_id)
            turn = asyncio.get_running_loop().create_future()
            self._waiting.push(task_id, turn)
        return turn

    async def wait(self, task_id: str) -> None:
        """Take a slot, waiting in FIFO order for it; cancelling the wait leaves the queue at once."""
        turn = self.join(task_id)
        if turn is not None:
            await self.await_turn(task_id, turn)

    async def await_turn(self, task_id: str, turn: asyncio.Future[None]) -> None:
        """Wait for the turn ``join`` gave; cancelling it gives the place (or the slot) up."""
        try:
            await turn
        except asyncio.CancelledError:
            self.release(task_id)  # out of the queue, or the slot handed over just now goes on
            raise

    def release(self, task_id: str) -> None:
        """Give back the task's slot, queue place and reservation, whichever it has (idempotent)."""
        self._reserved.discard(task_id)
        turn = self._waiting.remove(task_id)
        if turn is not None:
            turn.cancel()
        if task_id in self._holding:
            self._holding.discard(task_id)
            self._pace.held(time.monotonic() - self._since.pop(task_id))
            self._hand_over()

    def _hand_over(self) -> None:
        while self._waiting and len(self._holding) < self.limit:
            task_id, turn = self._waiting.pop_first()
            if turn.done():  # its waiter was cancelled and is on its way out
                continue
            self._holding.add(task_id)
            self._since[task_id] = time.monotonic()
            turn.set_result(None)


class Pool(Protocol):
    """A FIFO of tasks waiting for their turn (``GenerationSlots``, ``workqueue.WorkQueue``)."""

    def join(self, task_id: str) -> asyncio.Future[None] | None: ...

    def position(self, task_id: str) -> int: ...

    async def await_turn(self, task_id: str, turn: asyncio.Future[None]) -> None: ...

    def expected_wait(self, position: int) -> float | None: ...


async def wait_for_slot(
    slots: GenerationSlots | None,
    task_id: str,
    emitter: Emitter,
    pacer: Pacer,
    locale: str,
    tick_s: float,
    usual_s: float = 0.0,
) -> None:
    """Take a generation slot for the task, ticking with its queue position while it waits.

    The first tick goes out as soon as the task is queued (being queued is news); after it, ticks
    fill silence at ``tick_s`` as in any stage, each with the position at that moment. The caller
    releases the slot (``slots.release``) when generation ends, however it ends. ``usual_s`` (the
    learned duration of a generation) estimates the wait until the queue has been seen moving.
    """
    if slots is None:
        return
    turn = slots.join(task_id)
    if turn is None:
        return
    limit = slots.limit
    await wait_for_turn(
        slots,
        task_id,
        turn,
        emitter,
        pacer,
        locale,
        tick_s,
        "queued",
        lambda p: p * usual_s / limit,
        announce=True,
    )


async def wait_for_turn(
    pool: Pool,
    task_id: str,
    turn: asyncio.Future[None],
    emitter: Emitter,
    pacer: Pacer,
    locale: str,
    tick_s: float,
    key: str,
    fallback_wait: Callable[[int], float],
    *,
    announce: bool,
) -> None:
    """Wait for the turn ``pool.join`` gave, ticking with the place in the queue; the ETA of every event
    meanwhile counts the expected wait (``pool.expected_wait``, else ``fallback_wait``). ``announce``:
    the first tick goes out at once."""

    def tick(now: float) -> str:
        emitter.queue_position = place(pool, task_id, emitter, now, fallback_wait)
        return message(locale, key, position=emitter.queue_position)

    try:
        if announce:
            await emitter.tick(tick(time.monotonic()))
        with pacer.pacing(emitter, tick_s, tick):
            await pool.await_turn(task_id, turn)
    finally:
        emitter.queue_position = 0
        emitter.progress.waiting(None, time.monotonic())


def place(
    pool: Pool, task_id: str, emitter: Emitter, now: float, fallback_wait: Callable[[int], float]
) -> int:
    """The task's place in the queue, with its expected wait given to its progress (for the ETA)."""
    position = max(pool.position(task_id), 1)
    wait = pool.expected_wait(position)
    emitter.progress.waiting(fallback_wait(position) if wait is None else wait, now)
    return position


def arrive(work: WorkQueue | None, task_id: str, emitter: Emitter, now: float) -> asyncio.Future[None] | None:
    """A task arrives at the work queue's light line (its poem): None when it may go on at once, else
    the turn to wait for (its place and expected wait are then in the ETA of the ``accepted`` event
    already)."""
    if work is None:
        return None
    work.arrived()
    turn = work.join(task_id, light=True)
    if turn is not None:
        emitter.queue_position = place(work, task_id, emitter, now, _no_wait)
    return turn


def queue_for_work(work: WorkQueue | None, task_id: str, emitter: Emitter) -> asyncio.Future[None] | None:
    """After its poem, the task joins the work queue's heavy line (the search and the writing): None
    when it may work at once, else the turn to wait for (its place and expected wait go to its ETA)."""
    if work is None:
        return None
    turn = work.join(task_id)
    if turn is not None:
        emitter.queue_position = place(work, task_id, emitter, time.monotonic(), _no_wait)
    return turn


async def wait_for_work(
    work: WorkQueue,
    task_id: str,
    turn: asyncio.Future[None],
    emitter: Emitter,
    pacer: Pacer,
    locale: str,
    tick_s: float,
) -> None:
    """Wait for the task's turn in the work queue, ticking with its place (no tick at once: the
    ``accepted`` event just went out with the expected wait in its ETA)."""
    await wait_for_turn(
        work, task_id, turn, emitter, pacer, locale, tick_s, "waiting_turn", _no_wait, announce=False
    )


def _no_wait(_position: int) -> float:
    return 0.0
