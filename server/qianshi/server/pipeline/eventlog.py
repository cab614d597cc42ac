"""The task event log: what ``Watch`` replays and live streams follow.

``EventLog`` is the seam, owned here by the pipeline, which appends to it; its implementations live in
``qianshi.server.tasks`` (``memory_log.MemoryEventLog``, the default; ``redis.log.RedisEventLog``). A log holds,
per task, the task's metadata and its events in ``seq`` order; ``follow`` replays the events after a
seq and then waits for new ones until the terminal event. Readers never slow the writer down: each
reader keeps only a cursor, so a reader that stops reading costs nothing but the (bounded) log itself.
The Redis Streams implementation lets several server replicas share the logs.

A log also keeps the request-id claims: ``create`` starts a task's log only if its caller's
``request_id`` is not already claimed by a task the log knows, so a retry — on any replica sharing the
log — re-attaches instead of starting a second task. A task that ends with one of ``RESTART_REASONS``
(its server was lost or drained: nothing about the request was wrong) gives its claim back, so a retry
with the same request id starts the task again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from qianshi.server.pipeline.events import Event

MAX_EVENTS_PER_TASK = 20_000
"""A task's log never grows past this; the terminal event is always accepted beyond it."""


@dataclass(frozen=True, slots=True)
class TaskMeta:
    """What a log keeps about a task besides its events."""

    task_id: str
    owner: str
    """Identity of the caller that started the task ("" when authentication is off)."""
    request_id: str


RESTART_REASONS = frozenset(
    {"REPLICA_LOST", "TASK_LOST", "SERVER_DRAINING", "EVENT_LOG_UNAVAILABLE", "EVENT_LOG_LOST"}
)
"""Reasons of terminal failures that release the task's request id (a retry starts a new task): the
task's server was lost or drained, or its shared event log failed under it."""


class LogFull(Exception):
    """The task's log reached MAX_EVENTS_PER_TASK."""


class EventLog(Protocol):
    async def create(self, meta: TaskMeta) -> str:
        """Start the log of a new task and claim its (owner, request_id), in one step; returns
        ``meta.task_id``. When that request id is already claimed by a task the log still knows,
        nothing is created and that task's id is returned instead."""
        ...

    async def claimed(self, owner: str, request_id: str) -> str | None:
        """The id of the task that holds ``owner``'s ``request_id``, or None."""
        ...

    async def meta(self, task_id: str) -> TaskMeta | None:
        """The task's metadata, or None when the log does not know it (never existed or expired)."""
        ...

    async def append(self, event: Event) -> None:
        """Add the task's next event (``event.seq`` is the previous seq + 1).

        Appends of one task may overlap (a tick written while the task's own event is in flight):
        they must be stored in the order they were called. An append must not enter a scope bound to
        the current task (``asyncio.timeout``, a task group) before it first waits: the pacer starts
        ticks' appends by hand and lets another task finish them (``pacer``, ``eager``)."""
        ...

    def follow(self, task_id: str, after_seq: int) -> AsyncIterator[Event]:
        """The events after ``after_seq``, in order and exactly once, then live ones until the
        terminal event. Raises ``NotFound`` when the task is unknown."""
        ...

    async def expire(self, task_id: str, retention_s: float) -> None:
        """Forget the task ``retention_s`` seconds from now (called once it has ended)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
