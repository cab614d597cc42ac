"""The event log in Redis Streams, shared by every server replica (``--event-log redis://…``).

Layout, per task: a hash ``qianshi:task:<id>:meta`` (owner, request id) and a stream
``qianshi:task:<id>:events`` whose entries have the explicit ids ``0-<seq>`` and one field ``e``, the
event as compact JSON (``codec``). Explicit ids make Redis enforce the log's order: XADD refuses
an id that is not past the stream's last, so a seq is written at most once, and a reader resumes after
seq K with ``XREAD … 0-K``, which delivers K+1 … exactly once. Retention is Redis's: both keys get a
generous TTL at creation (a crashed replica's tasks do not live forever) and the registry's retention
once the task has ended (``EXPIRE``).

Reads: tasks created by this replica are followed from a local in-memory mirror (the common case — an
``Interpret`` stream reads its own task — costs no Redis round trip); other tasks are followed with
``XREAD BLOCK``, in blocks of a few seconds so a reader gives back its connection regularly. Each
remote reader holds one pooled connection while it blocks.

A task whose server dies stops getting events. Live tasks are never silent for more than a tick
interval (DESIGN.md invariant 1), so a remote reader that hears nothing for ``lost_after_s`` appends
the terminal failure itself (UNAVAILABLE, reason TASK_LOST) with the next seq: if the runner was alive
after all, XADD refuses that seq and the reader simply goes on reading; if it succeeded, every reader
sees the same terminal event, and a writer that comes back finds its task fenced (no event is accepted
after someone else's).

Cancel reaches only the replica that runs the task, so ``request_cancel`` publishes the task id on a
pub/sub channel that every replica listens to (``listen_cancels``).

Appends go through ``redis_io.BatchWriter``: one pipeline per round trip for all the tasks of this
process. Redis's exceptions are translated in one place (``redis_io.translated``): connection errors
and timeouts become ``BackendUnavailable`` (reason EVENT_LOG_UNAVAILABLE).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, cast

import redis.asyncio as aioredis
from qianshi.server.domain import Stage
from qianshi.server.errors import BackendFailed, BackendUnavailable, ErrorCode, NotFound, QianshiError
from qianshi.server.pipeline.eventlog import MAX_EVENTS_PER_TASK, LogFull, TaskMeta
from qianshi.server.pipeline.events import Event, Failure
from qianshi.server.pipeline.messages import message
from qianshi.server.tasks import codec
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.redis_io import FIELD, BatchWriter, id_taken, translated

log = logging.getLogger(__name__)
_BATCH = 512


class LogFenced(BackendFailed):
    """Another writer ended this task's log (a reader declared the task lost): nothing more is accepted."""


class RedisEventLog:
    """Task event logs in Redis Streams (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "qianshi",
        create_ttl_s: float = 86_400.0,
        block_s: float = 4.0,
        lost_after_s: float = 30.0,
        lost_retention_s: float = 300.0,
        max_connections: int = 64,
        max_readers: int = 1000,
    ) -> None:
        # Two pools. Short commands share ``max_connections`` (a caller waits for a free one rather than
        # failing). Blocking reads (XREAD BLOCK, the cancel subscription) hold a connection each for up
        # to ``block_s``, so they get their own pool and never starve the writers; past ``max_readers``
        # remote readers wait their turn. The readers' socket timeout must outlast a blocking XREAD.
        common: dict[str, Any] = {"socket_connect_timeout": 5.0, "protocol": 2, "decode_responses": False}
        self._redis = aioredis.Redis.from_pool(
            aioredis.BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=10.0, socket_timeout=10.0, **common
            )
        )
        self._readers = aioredis.Redis.from_pool(
            aioredis.BlockingConnectionPool.from_url(
                url, max_connections=max_readers, timeout=None, socket_timeout=block_s + 10.0, **common
            )
        )
        self.prefix = prefix
        self.create_ttl_s = create_ttl_s
        self.block_s = block_s
        self.lost_after_s = lost_after_s
        self.lost_retention_s = lost_retention_s
        self.cancel_channel = f"{prefix}:cancel"
        self._local = MemoryEventLog()
        self._fenced: set[str] = set()
        self._writer = BatchWriter(self._redis, int(create_ttl_s), self._mirror)

    def _meta_key(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}:meta"

    def _events_key(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}:events"

    # writing ---------------------------------------------------------------------------------------

    async def create(self, meta: TaskMeta) -> None:
        key = self._meta_key(meta.task_id)
        with translated():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping={"owner": meta.owner, "request_id": meta.request_id})
                pipe.expire(key, int(self.create_ttl_s))
                await pipe.execute()
        await self._local.create(meta)

    async def append(self, event: Event) -> None:
        task_id = event.task_id
        if task_id in self._fenced:
            raise LogFenced(f"task {task_id} was ended by another server", reason="TASK_LOST")
        if event.seq > MAX_EVENTS_PER_TASK and not event.terminal:
            raise LogFull(task_id)
        key, data = self._events_key(task_id), codec.encode(event)
        try:
            await self._writer.xadd(key, event, data)  # mirrors it locally once stored
        except QianshiError as exc:
            if not id_taken(exc):
                # Redis is down or refused it: this replica's own readers still get the event, and the
                # terminal failure the task reports next, instead of waiting forever.
                await self._mirror(event)
                raise
            if not await self._already_written(key, event.seq, data):
                self._fenced.add(task_id)
                await self._mirror_from(key, event.seq)
                raise LogFenced(f"seq {event.seq} of task {task_id} is taken", reason="TASK_LOST") from exc
            await self._mirror(event)

    async def _mirror(self, event: Event) -> None:
        """Copy a stored event into the local mirror when this replica created the task."""
        if await self._local.meta(event.task_id) is not None:
            await self._local.append(event)

    async def _already_written(self, key: str, seq: int, data: bytes) -> bool:
        """True when the refused XADD had in fact been applied (a retried command), so all is well."""
        with translated():
            found: Any = await self._redis.xrange(key, min=f"0-{seq}", max=f"0-{seq}")
        return bool(found) and found[0][1].get(FIELD) == data

    async def _mirror_from(self, key: str, seq: int) -> None:
        """Copy what another writer put in the stream from ``seq`` on into the local mirror, so this
        replica's own readers see the same terminal event as everyone else."""
        with translated():
            entries: Any = await self._redis.xrange(key, min=f"0-{seq}", max="+")
        for _, fields in entries:
            await self._mirror(codec.decode(fields[FIELD]))

    async def expire(self, task_id: str, retention_s: float) -> None:
        await self._local.expire(task_id, retention_s)  # first: the mirror is freed even if Redis is down
        self._fenced.discard(task_id)
        ttl_ms = max(int(retention_s * 1000), 1)
        with translated():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.pexpire(self._meta_key(task_id), ttl_ms)
                pipe.pexpire(self._events_key(task_id), ttl_ms)
                await pipe.execute()

    # reading ---------------------------------------------------------------------------------------

    async def meta(self, task_id: str) -> TaskMeta | None:
        local = await self._local.meta(task_id)
        if local is not None:
            return local
        with translated():
            raw: dict[bytes, bytes] = await self._redis.hgetall(self._meta_key(task_id))  # type: ignore[assignment]
        if not raw:
            return None
        return TaskMeta(task_id, raw.get(b"owner", b"").decode(), raw.get(b"request_id", b"").decode())

    async def follow(self, task_id: str, after_seq: int) -> AsyncIterator[Event]:
        if await self._local.meta(task_id) is not None:
            local = cast(AsyncGenerator[Event, None], self._local.follow(task_id, after_seq))
            async with contextlib.aclosing(local) as events:
                async for event in events:
                    yield event
            return
        if await self.meta(task_id) is None:
            raise NotFound(f"task {task_id} is unknown or has expired", reason="TASK_NOT_FOUND")
        key = self._events_key(task_id)
        last = max(after_seq, 0)
        with translated():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xrange(key, min=f"0-{last + 1}", max="+", count=_BATCH)
                pipe.xrevrange(key, max="+", min="-", count=1)
                entries, newest = await pipe.execute()
        if not entries and newest and codec.decode(newest[0][1][FIELD]).terminal:
            return  # resuming at (or past) the end of an ended task
        heard = time.monotonic()
        while True:
            for _, fields in entries:
                event = codec.decode(fields[FIELD])
                last = event.seq
                yield event
                if event.terminal:
                    return
            if entries:
                heard = time.monotonic()
            elif time.monotonic() - heard >= self.lost_after_s:
                await self._declare_lost(task_id, last)
                heard = time.monotonic()
            elif await self.meta(task_id) is None:
                raise NotFound(f"task {task_id} has expired", reason="TASK_NOT_FOUND")
            # XREAD BLOCK answers at once when entries past ``last`` exist, else waits up to block_s.
            with translated():
                reply = await self._readers.xread(
                    {key: f"0-{last}"}, count=_BATCH, block=int(self.block_s * 1000)
                )
            entries = _entries(reply)

    async def _declare_lost(self, task_id: str, last_seq: int) -> None:
        """End a task whose server stopped reporting, unless its runner writes first."""
        key = self._events_key(task_id)
        with translated():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xrange(key, min="0-1", max="0-1")
                pipe.xrevrange(key, max="+", min="-", count=1)
                first, newest = await pipe.execute()
        previous = codec.decode(newest[0][1][FIELD]) if newest else None
        if previous is not None and (previous.seq != last_seq or previous.terminal):
            return  # it moved on after all; the next read gets it
        accepted = codec.decode(first[0][1][FIELD]) if first else None
        locale = getattr(accepted.payload, "locale", "zh-Hant") if accepted is not None else "zh-Hant"
        reason = "the server running this task stopped reporting; start it again"
        now = time.time()
        lost = Event(
            task_id=task_id,
            seq=last_seq + 1,
            stage=Stage.DONE,
            percent=previous.percent if previous is not None else 0.0,
            message=message(locale, "failed", reason=reason),
            elapsed_s=previous.elapsed_s + (now - previous.timestamp) if previous is not None else 0.0,
            eta_s=None,
            timestamp=now,
            payload=Failure(ErrorCode.UNAVAILABLE, reason, "TASK_LOST", retry_after_s=1.0),
        )
        try:
            with translated():
                await self._redis.xadd(key, {FIELD: codec.encode(lost)}, id=f"0-{lost.seq}")
        except BackendFailed as exc:
            if id_taken(exc):
                return  # the runner wrote that seq first: not lost
            raise
        log.warning(
            "task declared lost after %.0f s of silence", self.lost_after_s, extra={"task_id": task_id}
        )
        with contextlib.suppress(BackendUnavailable, BackendFailed):
            await self.expire(task_id, self.lost_retention_s)

    # cancelling across replicas --------------------------------------------------------------------

    async def request_cancel(self, task_id: str) -> bool:
        """Ask every replica to cancel ``task_id``; False when its log already ended (or is gone)."""
        with translated():
            newest: Any = await self._redis.xrevrange(self._events_key(task_id), max="+", min="-", count=1)
            if newest and codec.decode(newest[0][1][FIELD]).terminal:
                return False
            await self._redis.publish(self.cancel_channel, task_id)
        return True

    async def listen_cancels(
        self,
        cancel: Callable[[str], Awaitable[Any] | Any],
        ready: asyncio.Event | None = None,
        retry_s: float = 1.0,
    ) -> None:
        """Call ``cancel(task_id)`` for every cancel request, forever; sets ``ready`` once subscribed.

        Survives Redis restarts (resubscribes after ``retry_s``); ends only by cancellation.
        """
        while True:
            try:
                with translated():
                    async with self._readers.pubsub(ignore_subscribe_messages=True) as pubsub:
                        await pubsub.subscribe(self.cancel_channel)
                        if ready is not None:
                            ready.set()
                        async for item in pubsub.listen():
                            if item.get("type") != "message":
                                continue
                            result = cancel(item["data"].decode())
                            if asyncio.iscoroutine(result):
                                await result
            except BackendUnavailable:
                log.warning("cancel channel lost; resubscribing in %.1f s", retry_s)
            await asyncio.sleep(retry_s)

    async def ping(self) -> None:
        """Round trip to Redis (start-up check); BackendUnavailable when unreachable."""
        with translated():
            await self._redis.ping()

    async def aclose(self) -> None:
        await self._writer.aclose()
        await self._local.aclose()
        await self._redis.aclose()
        await self._readers.aclose()


def _entries(reply: Any) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """The entries of a one-stream XREAD reply (RESP2: ``[[key, [(id, fields), …]]]``)."""
    return list(reply[0][1]) if reply else []
