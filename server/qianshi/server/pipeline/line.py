"""A waiting line: keyed entries in arrival order, each one's place known without counting the line.

The work queue and the generation slots each keep a line of tasks; every tick of a waiting task says
its place. Counting the line for each tick (as a dict of places rebuilt after every change did) costs
the whole line per tick — with a thousand tasks waiting, a million steps per tick interval. Here each
entry has a ticket (its arrival number); its place is its ticket minus the first one's, less the
tickets that left from the middle of the line (a cancelled waiter), which are few and kept sorted.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class Line(Generic[V]):
    """A FIFO of ``key → value`` with ``place(key)`` in O(log n)."""

    __slots__ = ("_entries", "_gone", "_next")

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[int, V]] = OrderedDict()
        self._next = 0
        self._gone: list[int] = []
        """Tickets that left from behind the first entry, sorted (all past the first one's)."""

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._entries)

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        return None if entry is None else entry[1]

    def push(self, key: str, value: V) -> None:
        """Join at the end (``key`` must not be in the line)."""
        self._entries[key] = (self._next, value)
        self._next += 1

    def first(self) -> tuple[str, V]:
        key, (_, value) = next(iter(self._entries.items()))
        return key, value

    def pop_first(self) -> tuple[str, V]:
        key, (_, value) = self._entries.popitem(last=False)
        self._prune()
        return key, value

    def remove(self, key: str) -> V | None:
        """Leave the line from wherever ``key`` stands; None when it is not in it."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        if self._entries:
            head = next(iter(self._entries.values()))[0]
            if entry[0] > head:
                bisect.insort(self._gone, entry[0])
            else:
                self._prune()
        else:
            self._gone.clear()
        return entry[1]

    def place(self, key: str) -> int:
        """1-based place of ``key``; 0 when it is not in the line."""
        entry = self._entries.get(key)
        if entry is None:
            return 0
        head = next(iter(self._entries.values()))[0]
        return entry[0] - head + 1 - bisect.bisect_left(self._gone, entry[0])

    def _prune(self) -> None:
        if not self._entries:
            self._gone.clear()
            return
        if self._gone:
            head = next(iter(self._entries.values()))[0]
            del self._gone[: bisect.bisect_left(self._gone, head)]
