"""Closing the Redis log never hangs on one of its tasks: ``io.stop`` cancels, waits a bounded time,
logs a task that swallowed its cancel, and never swallows the caller's own cancellation. Run in a
loop of virtual time (tests/virtual_time.py): the bound passes at once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from qianshi.server.tasks.redis.io import stop

from tests.virtual_time import virtual


async def _forever() -> None:
    await asyncio.Event().wait()


async def _swallows_its_cancel(swallowed: asyncio.Event) -> None:
    try:
        await _forever()
    except asyncio.CancelledError:
        swallowed.set()
    await _forever()  # runs on as if nothing happened


@virtual
async def test_a_task_that_swallows_its_cancel_is_logged_and_left(caplog):
    caplog.set_level(logging.ERROR)
    swallowed = asyncio.Event()
    task = asyncio.get_running_loop().create_task(_swallows_its_cancel(swallowed))
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    await stop(task, "the stubborn loop", within_s=5.0)
    assert swallowed.is_set() and not task.done()
    assert asyncio.get_running_loop().time() - started == pytest.approx(5.0)
    assert "the stubborn loop did not stop within 5.0 s" in caplog.text
    task.cancel()  # this one it does not swallow
    with pytest.raises(asyncio.CancelledError):
        await task


@virtual
async def test_a_task_that_ends_is_awaited_and_the_callers_cancel_is_never_swallowed():
    loop = asyncio.get_running_loop()
    quick = loop.create_task(_forever())
    await asyncio.sleep(0)
    await stop(quick, "a quick loop")
    assert quick.cancelled()

    swallowed = asyncio.Event()
    stubborn = loop.create_task(_swallows_its_cancel(swallowed))
    await asyncio.sleep(0)
    closer = loop.create_task(stop(stubborn, "the stubborn loop", within_s=60.0))
    await swallowed.wait()  # the closer cancelled it and now waits for it to end
    closer.cancel()  # e.g. a shutdown that gives up: closing must end, not run on
    with pytest.raises(asyncio.CancelledError):
        await closer
    stubborn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stubborn
