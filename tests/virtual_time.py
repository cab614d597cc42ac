"""An event loop whose clock is virtual: timers come due at once, in order, and no test waits.

``VirtualTimeLoop.time()`` starts at 0 and moves only when the loop has nothing ready to run and
would otherwise wait for its next timer: then it jumps to that timer. So ``await asyncio.sleep(0.45)``
returns at once with the clock 0.45 s later, and code that reads ``loop.time`` (pass it as a clock)
sees exactly the moments it scheduled. Sockets and the loop's own self-pipe are still polled (without
blocking), so callbacks from other threads arrive as usual. A loop with nothing scheduled at all would
wait forever in real time; here that raises instead, naming the deadlock.

    @virtual
    async def test_something():   # runs in a fresh loop of virtual time (not pytest-asyncio's)
        await elapse(0.45)        # 0.45 s of virtual time pass: at once, in real time
"""

from __future__ import annotations

import asyncio
import functools
import selectors
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _InstantSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("virtual time: nothing is ready and no timer is set (the test would hang)")
        assert self.loop is not None
        self.loop.advance(timeout)
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        selector = _InstantSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = 0.0

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(seconds, 0.0)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to its end in a fresh loop of virtual time."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def virtual(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` test in a fresh loop of virtual time (its fixtures are passed as usual)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        run(test(*args, **kwargs))

    return wrapper


async def elapse(seconds: float) -> None:
    """Let ``seconds`` of virtual time pass (only in a ``VirtualTimeLoop``: instant in real time)."""
    loop = asyncio.get_running_loop()
    if not isinstance(loop, VirtualTimeLoop):
        raise RuntimeError("elapse() moves virtual time: run the test with @virtual")
    await asyncio.sleep(seconds)
