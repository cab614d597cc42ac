"""The default event log: every task's events in this process's memory (one server replica).

Readers are cursors over a task's list of events; a writer wakes them through one shared future, so a
reader that stops reading costs nothing but the (bounded) list itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from qianshi.server.errors import NotFound
from qianshi.server.pipeline.eventlog import MAX_EVENTS_PER_TASK, LogFull, TaskMeta
from qianshi.server.pipeline.events import Event


class _TaskLog:
    __slots__ = ("events", "meta", "waiter")

    def __init__(self, meta: TaskMeta) -> None:
        self.meta = meta
        self.events: list[Event] = []
        self.waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        if self.waiter is not None:
            if not self.waiter.done():
                self.waiter.set_result(None)
            self.waiter = None

    def wait(self) -> asyncio.Future[None]:
        if self.waiter is None:
            self.waiter = asyncio.get_running_loop().create_future()
        return self.waiter


class MemoryEventLog:
    """Event logs in this process's memory (one server replica)."""

    def __init__(self) -> None:
        self._logs: dict[str, _TaskLog] = {}

    def __len__(self) -> int:
        return len(self._logs)

    async def create(self, meta: TaskMeta) -> None:
        self._logs[meta.task_id] = _TaskLog(meta)

    async def meta(self, task_id: str) -> TaskMeta | None:
        log = self._logs.get(task_id)
        return log.meta if log is not None else None

    async def append(self, event: Event) -> None:
        log = self._logs[event.task_id]
        if len(log.events) >= MAX_EVENTS_PER_TASK and not event.terminal:
            raise LogFull(event.task_id)
        log.events.append(event)
        log.wake()

    async def follow(self, task_id: str, after_seq: int) -> AsyncIterator[Event]:
        log = self._logs.get(task_id)
        if log is None:
            raise NotFound(f"task {task_id} is unknown or has expired", reason="TASK_NOT_FOUND")
        index = max(after_seq, 0)  # seq n lives at index n-1
        while True:
            events = log.events
            while index < len(events):
                event = events[index]
                index += 1
                yield event
                if event.terminal:
                    return
            if events and events[-1].terminal:
                return
            await asyncio.shield(log.wait())

    async def expire(self, task_id: str, retention_s: float) -> None:
        asyncio.get_running_loop().call_later(retention_s, self._logs.pop, task_id, None)

    async def aclose(self) -> None:
        self._logs.clear()
