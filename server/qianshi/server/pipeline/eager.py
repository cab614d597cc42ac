"""Going on with a coroutine that was started by hand: ``coro.send(None)`` runs it until it first waits.

Starting a coroutine by hand tells whether it finished without waiting (``StopIteration``) — the
pacer writes a tick to the memory log that way without a task, and the coalescer learns whether the
engine's next piece was already there. When it did wait, ``await resume(coro, waiting)`` goes on with
it in the awaiting task exactly as ``await coro`` would have.

The rule that makes it safe: the part run by hand must not enter a scope bound to the current task
(``asyncio.timeout``, a task group) that is still open when the coroutine waits, unless the awaiting
task is the one that ran it by hand (the coalescer's pump does both in its own task).
"""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from typing import Any


@types.coroutine
def resume(coro: Coroutine[Any, Any, Any], waiting: Any) -> Generator[Any, Any, Any]:
    """Go on with ``coro``, which is waiting on ``waiting`` (what its ``send(None)`` yielded): the
    awaiting task waits on that, and every value or exception the task sends in goes on to ``coro``."""
    while True:
        try:
            sent = yield waiting
        except BaseException as exc:  # cancellation included: it reaches the coroutine's await
            try:
                waiting = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                waiting = coro.send(sent)
            except StopIteration as stop:
                return stop.value
