"""Redis plumbing of the shared event log: the one place Redis errors are translated, and the writer.

``translate`` / ``translated`` turn redis-py's exceptions into the server's: connection errors and
timeouts become ``BackendUnavailable`` (EVENT_LOG_UNAVAILABLE), anything else ``BackendFailed``
(EVENT_LOG_FAILED) with the original as ``__cause__``.

``BatchWriter`` sends the XADDs of all tasks of this process through one connection, as one pipeline
per round trip: what arrives while a pipeline is in flight goes out in the next. redis-py spends
~130 µs of CPU per single command, far more than Redis itself; a pipeline divides that by its size.
Writes leave in arrival order and a task's appends are sequential, so a task's events reach the
stream in seq order. A write is never withdrawn: cancelling the caller (a task being cancelled while
it appends) leaves the write to finish, so the task's next event — its terminal one — follows it
without a gap. ``on_written`` runs, in order, for each event once Redis has stored it.

Only a task's first event creates its stream; later ones are written with ``NOMKSTREAM``, so a log
that vanished under a running task (Redis restarted without persistence, or the keys were evicted)
is reported — ``BackendUnavailable`` with reason EVENT_LOG_LOST — instead of being silently begun
again from the middle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions as rexc
from qianshi.server.errors import BackendFailed, BackendUnavailable, QianshiError
from qianshi.server.pipeline.events import Event

log = logging.getLogger(__name__)
FIELD = b"e"
"""The stream entry's one field: the event as compact JSON."""


def translate(exc: rexc.RedisError) -> QianshiError:
    """The server's error for a Redis one (raise it ``from exc``)."""
    if isinstance(exc, rexc.ConnectionError | rexc.TimeoutError):
        return BackendUnavailable(
            f"the event log is unreachable ({type(exc).__name__})",
            reason="EVENT_LOG_UNAVAILABLE",
            retry_after_s=1.0,
        )
    return BackendFailed(f"the event log failed ({type(exc).__name__})", reason="EVENT_LOG_FAILED")


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Run a block of Redis calls with their exceptions translated."""
    try:
        yield
    except rexc.RedisError as exc:
        raise translate(exc) from exc


def log_lost() -> BackendUnavailable:
    """A task's stream is gone from Redis while the task runs."""
    return BackendUnavailable(
        "the task's event log is gone from the shared store (Redis restarted or evicted it)",
        reason="EVENT_LOG_LOST",
        retry_after_s=0.0,
    )


def id_taken(exc: BaseException) -> bool:
    """True when a translated error is XADD refusing an id that is not past the stream's last."""
    cause = exc.__cause__
    return isinstance(cause, rexc.ResponseError) and "equal or smaller" in str(cause)


@dataclass(slots=True)
class _Write:
    key: str
    event: Event
    data: bytes
    done: asyncio.Future[None]


def _consume(future: asyncio.Future[None]) -> None:
    # The caller may have been cancelled and gone: never leave an exception "never retrieved".
    if not future.cancelled():
        future.exception()


class BatchWriter:
    """Pipelines the XADDs of every task of this process (see the module docstring)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        ttl_s: int,
        on_written: Callable[[Event], Awaitable[None]],
    ) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._on_written = on_written
        self._pending: list[_Write] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.writes = 0

    async def xadd(self, key: str, event: Event, data: bytes) -> None:
        """Store ``data`` as entry ``0-<seq>`` of ``key``; returns once Redis has it (or raises)."""
        if self._task is None:
            # Owned by this writer: cancelled and awaited in ``aclose``.
            self._task = asyncio.get_running_loop().create_task(self._run(), name="redis event writer")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_consume)
        self._pending.append(_Write(key, event, data, done))
        self._wake.set()
        await asyncio.shield(done)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                await self._send(batch)
            except BaseException:  # cancelled (aclose) or a bug: no caller may wait forever
                for write in batch:
                    if not write.done.done():
                        write.done.set_exception(
                            BackendUnavailable("the event log writer stopped", reason="EVENT_LOG_CLOSED")
                        )
                raise

    async def _send(self, batch: list[_Write]) -> None:
        self.batches += 1
        self.writes += len(batch)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for write in batch:
                    first = write.event.seq == 1
                    pipe.xadd(write.key, {FIELD: write.data}, id=f"0-{write.event.seq}", nomkstream=not first)
                    if write.event.seq == 1:  # a stream exists from its first entry: give it the TTL
                        pipe.expire(write.key, self._ttl_s)
                results: list[Any] = await pipe.execute(raise_on_error=False)
        except rexc.RedisError as exc:
            error = translate(exc)
            error.__cause__ = exc
            for write in batch:
                write.done.set_exception(error)
            return
        index = 0
        for write in batch:
            result = results[index]
            index += 2 if write.event.seq == 1 else 1
            if isinstance(result, rexc.RedisError):
                error = translate(result)
                error.__cause__ = result
                write.done.set_exception(error)
                continue
            if result is None:  # NOMKSTREAM: the stream no longer exists
                write.done.set_exception(log_lost())
                continue
            try:
                await self._on_written(write.event)
            except Exception:  # the local mirror is a convenience: never lose the write's result over it
                log.exception("mirroring an event failed", extra={"task_id": write.event.task_id})
            write.done.set_result(None)

    async def aclose(self) -> None:
        """Stop the writer; writes not yet sent fail with BackendUnavailable."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for write in self._pending:
            if not write.done.done():
                write.done.set_exception(
                    BackendUnavailable("the event log is closed", reason="EVENT_LOG_CLOSED")
                )
        self._pending = []
