"""The bound on a write that waits for a client that does not read: one timer for every stream.

``context.write`` waits for the client's HTTP/2 flow-control window (FACTS.md); a client that stops
reading would hold its handler forever. ``WriteGuard.write`` bounds that wait by ``max_stall_s``
without arming a timer per write: it notes when each write began, and one lazy timer — armed for the
earliest moment a write still in progress could pass the bound — cancels the handlers whose write
has. ``asyncio.timeout`` around each write did the same with a timer armed and cancelled per write,
and those cancelled timers stayed in the loop's heap for ``max_stall_s`` (30 s: ~300,000 of them at
10,000 writes a second).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol


class _Writable(Protocol):
    async def write(self, message: Any) -> None: ...


class WriteGuard:
    """Writes to calls, ending a write that waited ``max_stall_s`` (see the module docstring)."""

    __slots__ = ("_stalled", "_timer", "_writing", "max_stall_s")

    def __init__(self, max_stall_s: float) -> None:
        self.max_stall_s = max_stall_s
        self._writing: dict[asyncio.Task[Any], float] = {}
        self._stalled: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None

    async def write(self, task: asyncio.Task[Any], context: _Writable, message: Any) -> bool:
        """Write ``message`` from ``task`` (the handler's, which a stalled write cancels); False when
        the client left it unread for ``max_stall_s``."""
        loop = asyncio.get_running_loop()
        self._writing[task] = loop.time()
        if self._timer is None:
            self._timer = loop.call_at(loop.time() + self.max_stall_s, self._check)
        try:
            await context.write(message)
        except asyncio.CancelledError:
            if task in self._stalled:
                self._stalled.discard(task)
                if task.uncancel() == 0:  # ours alone: the write is over, the call goes on to end
                    return False
            raise
        finally:
            self._writing.pop(task, None)
        return True

    def _check(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        earliest = None
        for task, since in list(self._writing.items()):
            if now - since >= self.max_stall_s:
                del self._writing[task]
                self._stalled.add(task)
                task.cancel()
            elif earliest is None or since < earliest:
                earliest = since
        if earliest is not None:
            self._timer = loop.call_at(earliest + self.max_stall_s, self._check)
