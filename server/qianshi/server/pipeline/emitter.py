"""The emitter: how a task's events are numbered, stamped and appended to its log.

``Emitter`` numbers a task's events (seq 1, 2, 3 …), stamps them with progress, ETA and time, and
appends them to the task's log. It also carries what the pacer (``pacer.Pacer``) needs to keep the
task from going silent: the current stage's tick interval and what a tick would say now
(``tick_message``, None while nothing is paced), and whether an append is still in flight (a task
whose event is being written is not silent, and its next seq must not overtake it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from qianshi.server.domain import Stage
from qianshi.server.pipeline.eventlog import EventLog
from qianshi.server.pipeline.events import Event, Failure, Payload, Result, Tick
from qianshi.server.pipeline.progress import Progress


class Emitter:
    """Creates and appends the events of one task."""

    __slots__ = (
        "clock",
        "due",
        "ended",
        "error",
        "inflight",
        "interval",
        "last_emit",
        "log",
        "progress",
        "queue_position",
        "scheduled",
        "seq",
        "started",
        "task",
        "task_id",
        "tick_message",
    )

    def __init__(
        self,
        log: EventLog,
        task_id: str,
        progress: Progress,
        started: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.clock = clock
        """What "now" is (``started`` is on it too); the pacer that watches this emitter reads the same."""
        self.task_id = task_id
        self.progress = progress
        self.started = started
        self.seq = 0
        self.last_emit = started
        self.queue_position = 0
        self.ended = False
        self.inflight = 0
        """Appends started and not yet returned."""
        self.interval = 0.0
        self.tick_message: Callable[[float], str] | None = None
        """What a tick says at time ``now`` while the pacer watches this task; None otherwise."""
        self.scheduled = False
        """True while the pacer holds an entry for this task."""
        self.due = 0.0
        """When the pacer's newest entry for this task is due (older entries are stale)."""
        self.task: asyncio.Task[None] | None = None
        """The task that runs this task's body (the pacer cancels it when a tick cannot be written)."""
        self.error: Exception | None = None
        """Why a tick could not be written (set by the pacer before it cancels ``task``)."""

    async def emit(self, payload: Payload, message: str) -> Event:
        now = self.clock()
        progress = self.progress
        if isinstance(payload, Result):
            stage, percent, eta = Stage.DONE, 100.0, 0.0
        elif isinstance(payload, Failure):
            stage, percent, eta = Stage.DONE, progress.percent(now), None
        else:
            stage, percent, eta = progress.stage, progress.percent(now), progress.eta(now)
        self.seq += 1
        event = Event(
            task_id=self.task_id,
            seq=self.seq,
            stage=stage,
            percent=percent,
            message=message,
            elapsed_s=now - self.started,
            eta_s=eta,
            timestamp=time.time(),
            payload=payload,
        )
        self.last_emit = now
        self.ended = event.terminal
        self.inflight += 1
        try:
            await self.log.append(event)
        finally:
            self.inflight -= 1
        return event

    async def tick(self, message: str) -> Event:
        now = self.clock()
        return await self.emit(Tick(self.progress.stage_elapsed(now), self.queue_position), message)
