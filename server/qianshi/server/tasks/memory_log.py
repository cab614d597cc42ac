"""The default event log: every task's events in this process's memory (one server replica).

Readers are cursors over a task's list of events; a writer wakes the waiting ones (each waits on a
future of its own), so a reader that stops reading costs nothing but the (bounded) list itself. Every
event but the newest is kept packed (``tasks.packed``: ~120 B a tick instead of ~430), so a stream's
memory grows little while it waits and an ended task's log costs little while it is retained.
Request-id claims live beside the logs and go with them when they expire (or when the task ends with
a restart reason).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from qianshi.server.errors import NotFound
from qianshi.server.pipeline.eventlog import MAX_EVENTS_PER_TASK, RESTART_REASONS, LogFull, TaskMeta
from qianshi.server.pipeline.events import Event, Failure
from qianshi.server.tasks.packed import pack, unpack


class _TaskLog:
    __slots__ = ("entries", "meta", "waiters")

    def __init__(self, meta: TaskMeta) -> None:
        self.meta = meta
        self.entries: list[Event | bytes] = []
        """The events in seq order; every one but the last packed where its kind allows."""
        self.waiters: list[asyncio.Future[None]] | None = None

    def append(self, event: Event) -> None:
        entries = self.entries
        if entries:
            last = entries[-1]
            if type(last) is Event:
                entries[-1] = pack(last)
        entries.append(event)

    def event(self, index: int) -> Event:
        """The event of seq ``index + 1``."""
        entry = self.entries[index]
        if isinstance(entry, bytes):
            return unpack(self.meta.task_id, index + 1, entry)
        return entry

    def ended(self) -> bool:
        last = self.entries[-1] if self.entries else None
        return isinstance(last, Event) and last.terminal

    def wake(self) -> None:
        if self.waiters is not None:
            for waiter in self.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self.waiters = None

    def wait(self) -> asyncio.Future[None]:
        """A future of this reader's own, done at the next append (a reader that is cancelled while it
        waits cancels only its own: no shield, no shared future to protect)."""
        waiter = asyncio.get_running_loop().create_future()
        if self.waiters is None:
            self.waiters = [waiter]
        else:
            self.waiters.append(waiter)
        return waiter


class MemoryEventLog:
    """Event logs in this process's memory (one server replica)."""

    def __init__(self, *, claims: bool = True) -> None:
        self._logs: dict[str, _TaskLog] = {}
        self._claims: dict[tuple[str, str], str] = {}
        self._claiming = claims
        """False for a mirror of a shared log, whose claims the shared store keeps."""

    def __len__(self) -> int:
        return len(self._logs)

    async def create(self, meta: TaskMeta) -> str:
        if meta.request_id and self._claiming:
            held = await self.claimed(meta.owner, meta.request_id)
            if held is not None:
                return held
            self._claims[(meta.owner, meta.request_id)] = meta.task_id
        self._logs[meta.task_id] = _TaskLog(meta)
        return meta.task_id

    async def claimed(self, owner: str, request_id: str) -> str | None:
        held = self._claims.get((owner, request_id))
        return held if held is not None and held in self._logs else None

    def _release(self, meta: TaskMeta) -> None:
        key = (meta.owner, meta.request_id)
        if meta.request_id and self._claims.get(key) == meta.task_id:
            del self._claims[key]

    async def meta(self, task_id: str) -> TaskMeta | None:
        log = self._logs.get(task_id)
        return log.meta if log is not None else None

    async def append(self, event: Event) -> None:
        log = self._logs[event.task_id]
        if len(log.entries) >= MAX_EVENTS_PER_TASK and not event.terminal:
            raise LogFull(event.task_id)
        log.append(event)
        log.wake()
        if isinstance(event.payload, Failure) and event.payload.reason in RESTART_REASONS:
            self._release(log.meta)

    def stored(self, task_id: str, after_seq: int, up_to: int) -> list[Event]:
        """Events ``after_seq + 1 … up_to`` of a task, as appended (a shared log mends its store
        from them)."""
        log = self._logs.get(task_id)
        if log is None:
            return []
        return [log.event(i) for i in range(max(after_seq, 0), min(up_to, len(log.entries)))]

    def events(self, task_id: str) -> list[Event]:
        """Every event of a task so far (empty when unknown)."""
        log = self._logs.get(task_id)
        return self.stored(task_id, 0, len(log.entries)) if log is not None else []

    async def follow(self, task_id: str, after_seq: int) -> AsyncIterator[Event]:
        log = self._logs.get(task_id)
        if log is None:
            raise NotFound(f"task {task_id} is unknown or has expired", reason="TASK_NOT_FOUND")
        index = max(after_seq, 0)  # seq n lives at index n-1
        entries = log.entries
        while True:
            while index < len(entries):
                event = log.event(index)
                index += 1
                yield event
                if event.terminal:
                    return
            if log.ended():
                return
            await log.wait()

    async def expire(self, task_id: str, retention_s: float) -> None:
        asyncio.get_running_loop().call_later(retention_s, self._forget, task_id)

    def _forget(self, task_id: str) -> None:
        log = self._logs.pop(task_id, None)
        if log is not None:
            self._release(log.meta)

    async def aclose(self) -> None:
        self._logs.clear()
        self._claims.clear()
