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

On a Redis Cluster (``append_sha`` set) each write is the ``APPEND`` script instead of XADD: it
stores event ``seq`` only right after ``seq - 1``. Replication is asynchronous, so a master killed
just after acknowledging writes may leave its promoted replica without them; XADD would then write
the next event after a gap, and the script reports ``TailLost`` instead, for the log to mend the
stream from its mirror first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import redis.exceptions as rexc
from qianshi.server.errors import BackendFailed, BackendUnavailable, QianshiError
from qianshi.server.pipeline.events import Event
from qianshi.server.tasks.redis import scripts

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


def stop_if_cancelled() -> None:
    """Raise ``CancelledError`` when the running task has been asked to stop. redis-py may turn a
    cancel that arrives mid-command into a ``ConnectionError`` (translated: ``BackendUnavailable``);
    a loop that survives Redis errors would then swallow the one cancel it gets and run on, and
    whoever awaits it after cancelling (``aclose``) waits forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


STOP_WITHIN_S = 5.0
"""How long closing waits for one of its tasks to end after cancelling it."""


async def stop(task: asyncio.Task[Any], what: str, within_s: float = STOP_WITHIN_S) -> None:
    """Cancel ``task`` and wait until it ends, at most ``within_s``. A task that does not end (a loop
    that swallowed its cancel) is logged and left, so closing never hangs on it: a hung close had
    held a whole test run until CI's limit. The caller's own cancellation is never swallowed (waiting
    with ``asyncio.wait`` propagates it and does not raise the task's outcome)."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=within_s)
    if not done:
        log.error("%s did not stop within %.1f s of its cancel; left running", what, within_s)
    elif not task.cancelled() and (error := task.exception()) is not None:
        log.warning("%s ended with an error while stopping: %r", what, error)


def id_taken(exc: BaseException) -> bool:
    """True when a translated error is XADD refusing an id that is not past the stream's last."""
    cause = exc.__cause__
    return isinstance(cause, rexc.ResponseError) and "equal or smaller" in str(cause)


class TailLost(BackendFailed):
    """The stream ends at ``have``, before the event's ``seq - 1`` (a failover lost its tail)."""

    def __init__(self, have: int) -> None:
        super().__init__(f"the stream lost its events after {have}", reason="EVENT_LOG_UNAVAILABLE")
        self.have = have


def _taken() -> QianshiError:
    error = BackendFailed("the event id is taken", reason="EVENT_LOG_FAILED")
    error.__cause__ = rexc.ResponseError("ID specified is equal or smaller than the target stream top item")
    return error


def append_outcome(result: Any) -> QianshiError | None:
    """The error an ``APPEND`` script's reply stands for (None: stored)."""
    if isinstance(result, list):
        return TailLost(int(result[0]))
    if result == scripts.APPEND_TAKEN:
        return _taken()
    if result == scripts.APPEND_GONE:
        return log_lost()
    return None


@dataclass(slots=True)
class _Write:
    key: str
    event: Event
    data: bytes
    done: asyncio.Future[None]
    mirror: bool = True


def _consume(future: asyncio.Future[None]) -> None:
    # The caller may have been cancelled and gone: never leave an exception "never retrieved".
    if not future.cancelled():
        future.exception()


class BatchWriter:
    """Pipelines the XADDs of every task of this process (see the module docstring)."""

    def __init__(
        self,
        redis: Any,
        ttl_s: int,
        on_written: Callable[[Event], Awaitable[None]],
        append_sha: str | None = None,
    ) -> None:
        self._redis = redis
        self._append_sha = append_sha
        self._ttl_s = ttl_s
        self._on_written = on_written
        self._pending: list[_Write] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.writes = 0

    async def xadd(self, key: str, event: Event, data: bytes, *, mirror: bool = True) -> None:
        """Store ``data`` as entry ``0-<seq>`` of ``key``; returns once Redis has it (or raises).
        ``mirror=False``: not ``on_written`` (an event written again, already mirrored)."""
        if self._task is None:
            # Owned by this writer: cancelled and awaited in ``aclose``.
            self._task = asyncio.get_running_loop().create_task(self._run(), name="redis event writer")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_consume)
        self._pending.append(_Write(key, event, data, done, mirror))
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
                stop_if_cancelled()
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
            try:
                results = await self._execute(batch)
            except rexc.NoScriptError:  # a node without the script (restarted, or just promoted)
                await self._redis.script_load(scripts.APPEND)
                results = await self._execute(batch)
        except rexc.RedisError as exc:
            error = translate(exc)
            error.__cause__ = exc
            for write in batch:
                write.done.set_exception(error)
            return
        for write, result in zip(batch, results, strict=True):
            outcome = append_outcome(result) if self._append_sha is not None else None
            if outcome is not None:
                write.done.set_exception(outcome)
                continue
            if isinstance(result, rexc.RedisError):
                error = translate(result)
                error.__cause__ = result
                write.done.set_exception(error)
                continue
            if result is None:  # NOMKSTREAM: the stream no longer exists
                write.done.set_exception(log_lost())
                continue
            try:
                if write.mirror:
                    await self._on_written(write.event)
            except Exception:  # the local mirror is a convenience: never lose the write's result over it
                log.exception("mirroring an event failed", extra={"task_id": write.event.task_id})
            write.done.set_result(None)

    async def _execute(self, batch: list[_Write]) -> list[Any]:
        """One pipeline for the batch; one result per write."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for write in batch:
                seq = write.event.seq
                if self._append_sha is not None:
                    pipe.evalsha(self._append_sha, 1, write.key, seq, write.data, self._ttl_s)
                    continue
                pipe.xadd(write.key, {FIELD: write.data}, id=f"0-{seq}", nomkstream=seq != 1)
                if seq == 1:  # a stream exists from its first entry: give it the TTL
                    pipe.expire(write.key, self._ttl_s)
            # On a cluster the script answers every outcome as a value; raising on errors is what
            # makes redis-py retry a pipeline that met a dead master (through the failover).
            results: list[Any] = await pipe.execute(raise_on_error=self._append_sha is not None)
        if self._append_sha is not None:
            return results
        firsts = iter(range(len(results)))
        picked = []
        for write in batch:
            picked.append(results[next(firsts)])
            if write.event.seq == 1:
                next(firsts)  # the EXPIRE's reply
        return picked

    async def aclose(self) -> None:
        """Stop the writer; writes not yet sent fail with BackendUnavailable."""
        if self._task is not None:
            await stop(self._task, "the event log's batched writer")
            self._task = None
        for write in self._pending:
            if not write.done.done():
                write.done.set_exception(
                    BackendUnavailable("the event log is closed", reason="EVENT_LOG_CLOSED")
                )
        self._pending = []
