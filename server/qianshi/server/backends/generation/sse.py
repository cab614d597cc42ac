"""Server-sent events read from an HTTP body: the ``data`` of each event, as the bytes that came.

The reader splits what the connection delivers into lines and lines into events (a blank line ends
one), as the SSE format says: ``data:`` lines are joined with newlines, one space after the colon is
dropped, ``\\r\\n`` and ``\\n`` both end a line; comments (``:`` …) and the ``event``, ``id`` and
``retry`` fields are ignored (OpenAI-compatible servers put everything in ``data``). A body that ends
in the middle of an event still yields what the event had.

It is built for a relay's hot path: one read from the connection may carry many events (a server
that writes faster than the relay reads, or several streams' worth of work per loop turn), and all of
them are split out at once and handed over without another wait. The wait for more data is the
caller's to bound: ``next_event`` takes the loop time by which it must end.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable


class EventReader:
    """The data of each event of one response body; ``read`` returns the next bytes (b"" at the end)."""

    __slots__ = ("_data", "_events", "_read", "_tail", "eof")

    def __init__(self, read: Callable[[], Awaitable[bytes]]) -> None:
        self._read = read
        self._events: deque[bytes] = deque()
        self._data: list[bytes] = []
        self._tail = b""
        self.eof = False
        """True once the body ended (every event it had was read or is waiting in the queue)."""

    async def next_event(self, until: float | None = None) -> bytes | None:
        """The next event's data, or None at the end of the body. ``until`` (loop time) bounds the
        wait for the connection; past it ``TimeoutError`` is raised and nothing is lost."""
        events = self._events
        while not events:
            if self.eof:
                return None
            if until is None:
                data = await self._read()
            else:
                async with asyncio.timeout_at(until):
                    data = await self._read()
            self.feed(data)
        return events.popleft()

    def feed(self, data: bytes) -> None:
        """Split ``data`` into events; b"" marks the end of the body."""
        if not data:
            self.eof = True
            if self._tail:
                self._line(self._tail.removesuffix(b"\r"))
                self._tail = b""
            self._dispatch()
            return
        if self._tail:
            data = self._tail + data
        lines = data.split(b"\n")
        self._tail = lines.pop()
        for line in lines:
            self._line(line.removesuffix(b"\r"))

    def _line(self, line: bytes) -> None:
        if not line:
            self._dispatch()
        elif line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        # Comments (":" …) and the other fields carry nothing an OpenAI-compatible stream needs.

    def _dispatch(self) -> None:
        if self._data:
            data = self._data
            self._events.append(data[0] if len(data) == 1 else b"\n".join(data))
            self._data = []
