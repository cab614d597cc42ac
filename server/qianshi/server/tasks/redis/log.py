"""The event log in Redis Streams, shared by every server replica (``--event-log redis://…``).

Layout (every key: ``scripts``), per task: a hash ``qianshi:{<tag>}:task:<id>:meta`` (owner, request
id, replica) and a stream ``qianshi:{<tag>}:task:<id>:events`` whose entries have the explicit ids ``0-<seq>`` and
one field ``e``, the event as compact JSON (``codec``). Explicit ids make Redis enforce the log's order:
XADD refuses an id that is not past the stream's last, so a seq is written at most once, and a reader
resumes after seq K with ``XREAD … 0-K``, which delivers K+1 … exactly once. Retention is Redis's: the
keys get a generous TTL at creation (a crashed replica's tasks do not live forever) and the registry's
retention once the task has ended (``EXPIRE``).

Request ids: ``create`` claims the caller's request id and creates the task's meta in one script
(``SET NX``), so concurrent retries on several replicas make one task; the claim lives as long as the
task's keys, and is released when the task ends with a restart reason (lost, drained).

Reads: tasks created by this replica are followed from a local in-memory mirror (the common case — an
``Interpret`` stream reads its own task — costs no Redis round trip); other tasks are followed with
``XREAD BLOCK``, in blocks of a few seconds so a reader gives back its connection regularly. Each
remote reader holds one pooled connection while it blocks.

A task whose server dies stops getting events. Each replica holds a lease (``leases``); when a
replica's lease expires, the first replica to notice — any replica's sweeper, or a remote reader that
heard nothing for ``lease_s + tick_s`` — appends the terminal failure (UNAVAILABLE, REPLICA_LOST, the
text so far) with the next seq, atomically (``lost_tasks.LostTasks.declare_lost``), so every reader
sees the same one terminal event. A runner that was alive after all finds its task fenced: XADD refuses its next seq.
A task whose replica lives but which writes nothing for ``lost_after_s`` (far beyond any tick) is
ended the same way with reason TASK_LOST — at once (after ``lease_s + tick_s``) when its replica no
longer lists it: it ended there, but its terminal event never reached Redis (Redis was unreachable). A stream or meta that vanishes under a reader (Redis
restarted without persistence) ends its read with UNAVAILABLE, EVENT_LOG_LOST.

Cancel reaches only the replica that runs the task, so ``request_cancel`` publishes the task id on a
pub/sub channel that every replica listens to (``cancels``).

``redis-cluster://`` URLs name a Redis Cluster (``cluster``): the same keys and scripts (each script
touches one hash slot), events appended with the gap-checking ``APPEND`` script, terminal events
acknowledged by a replica (``WAIT``) before this replica's readers see them.

Appends go through ``io.BatchWriter``: one pipeline per round trip for all the tasks of this
process. Redis's exceptions are translated in one place (``io.translated``): connection errors
and timeouts become ``BackendUnavailable`` (reason EVENT_LOG_UNAVAILABLE).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast

from qianshi.server.errors import BackendFailed, BackendUnavailable, NotFound, QianshiError
from qianshi.server.pipeline.eventlog import MAX_EVENTS_PER_TASK, RESTART_REASONS, LogFull, TaskMeta
from qianshi.server.pipeline.events import Event, Failure
from qianshi.server.tasks import codec
from qianshi.server.tasks.lost import REPLICA_LOST
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.redis import scripts
from qianshi.server.tasks.redis.cancels import Cancels
from qianshi.server.tasks.redis.clients import connect
from qianshi.server.tasks.redis.io import FIELD, BatchWriter, TailLost, id_taken, stop, translated
from qianshi.server.tasks.redis.leases import ReplicaLeases
from qianshi.server.tasks.redis.lost_tasks import LostTasks
from qianshi.server.tasks.redis.scripts import Keys, claim_value, parse_claim

log = logging.getLogger(__name__)
_BATCH = 512
_MENDS = 3


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
        lease_s: float = 5.0,
        tick_s: float = 1.0,
        lost_after_s: float = 30.0,
        lost_retention_s: float = 300.0,
        max_connections: int = 64,
        max_readers: int = 1000,
        wait_replicas: int = 1,
        wait_ms: int = 500,
    ) -> None:
        clients = connect(
            url,
            max_connections=max_connections,
            max_readers=max_readers,
            block_s=block_s,
            wait_replicas=wait_replicas,
            wait_ms=wait_ms,
        )
        self.cluster = clients.is_cluster
        self._redis: Any = clients.redis
        self._readers: Any = clients.readers
        self._durable = clients.durable
        node_client = clients.node_client
        self.keys = Keys(prefix)
        self.prefix = prefix
        self.create_ttl_s = create_ttl_s
        self.block_s = block_s
        self.cancel_channel = self.keys.cancel_channel
        self.leases = ReplicaLeases(
            self._redis, self.keys, self._declare_replica_lost, lease_s=lease_s, tick_s=tick_s
        )
        self.lost = LostTasks(
            self._redis,
            self.keys,
            patient=self.cluster,
            grace_s=lease_s + tick_s,
            lost_after_s=lost_after_s,
            retention_s=lost_retention_s,
        )
        self.cancels = Cancels(self._redis, self._readers, self.keys, node_client)
        self.request_cancel = self.cancels.request
        """Ask every replica to cancel a task; False when its log already ended (``Cancels``)."""
        self.listen_cancels = self.cancels.listen
        """Call ``cancel(task_id)`` for every cancel request, forever (``Cancels.listen``)."""
        self._node_client = node_client
        self._create_script = self._redis.register_script(scripts.CREATE)
        self._expire = self._redis.register_script(scripts.EXPIRE)
        self._local = MemoryEventLog(claims=False)
        self._fenced: set[str] = set()
        self._release: set[str] = set()
        append_sha = scripts.APPEND_SHA if self.cluster else None
        self._writer = BatchWriter(self._redis, int(create_ttl_s), self._mirror, append_sha)
        self._keeper: asyncio.Task[None] | None = None
        self._creating = asyncio.Semaphore(max(max_connections // 2, 1))
        """Creations at once (each sends two commands at once): a cluster refuses past its limit."""

    @property
    def replica(self) -> str:
        """This replica's id (each server process is one replica)."""
        return self.leases.replica

    # writing ---------------------------------------------------------------------------------------

    async def create(self, meta: TaskMeta) -> str:
        task_id, owner, request_id = meta.task_id, meta.owner, meta.request_id
        keys = [self.keys.meta(task_id), self.keys.claim_of(task_id, owner, request_id)]
        args: list[str | int] = [task_id, owner, request_id, self.replica, int(self.create_ttl_s)]
        args += [claim_value(task_id, owner), self.prefix]
        self._keep_lease()
        listed = self.keys.replica_tasks(self.replica)
        async with self._creating:
            return await self._create(meta, keys, args, listed)

    async def _create(self, meta: TaskMeta, keys: list[str], args: list[str | int], listed: str) -> str:
        task_id, owner = meta.task_id, meta.owner
        with translated():
            # The task is listed on this replica (another slot) in the same round trip: a replica
            # that dies in between leaves a listed task without meta (swept) or a task with meta
            # but unlisted (ended by its first remote reader) — never one nobody can end.
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.sadd(listed, task_id)
                pipe.expire(listed, int(self.create_ttl_s))
                pipe.sadd(self.keys.replicas, self.replica)
                pipe.set(self.keys.lease(self.replica), b"1", px=self.leases.lease_ms, nx=True)
                held, _ = await asyncio.gather(self._create_script(keys=keys, args=args), pipe.execute())
        if held is not None:
            with translated():
                await self._redis.srem(listed, task_id)
            earlier = parse_claim(held, owner)
            if earlier is None:
                raise BackendFailed(
                    "a request id claim of another caller collided", reason="EVENT_LOG_FAILED"
                )
            return earlier
        await self._local.create(meta)
        return task_id

    async def claimed(self, owner: str, request_id: str) -> str | None:
        with translated():
            held = await self._redis.get(self.keys.claim(owner, request_id))
        return parse_claim(held, owner)

    async def append(self, event: Event) -> None:
        task_id = event.task_id
        if task_id in self._fenced:
            raise LogFenced(f"task {task_id} was ended by another server", reason="TASK_LOST")
        if event.seq > MAX_EVENTS_PER_TASK and not event.terminal:
            raise LogFull(task_id)
        if isinstance(event.payload, Failure) and event.payload.reason in RESTART_REASONS:
            self._release.add(task_id)  # its request id is given back at ``expire``
        key, data = self.keys.events(task_id), codec.encode(event)
        for attempt in range(_MENDS + 1):
            try:
                await self._store(key, event, data)
                return
            except TailLost as lost:
                if attempt == _MENDS:
                    raise
                await self._mend(task_id, lost.have, event.seq)
            except BackendUnavailable as exc:
                # On a cluster a stream gone under its writer was lost whole in a failover (its
                # first writes never reached the replica): the writer has all of it.
                if not self.cluster or exc.reason != "EVENT_LOG_LOST" or attempt == _MENDS:
                    await self._mirror(event)
                    raise
                await self._mend(task_id, 0, event.seq)
            except QianshiError as exc:
                if not id_taken(exc):
                    # Redis is down or lost the log: this replica's own readers still get the event,
                    # and the terminal failure the task reports next, instead of waiting forever.
                    await self._mirror(event)
                    raise
                if not await self._already_written(key, event.seq, data):
                    self._fenced.add(task_id)
                    await self._mirror_from(key, event.seq)
                    raise LogFenced(
                        f"seq {event.seq} of task {task_id} is taken", reason="TASK_LOST"
                    ) from exc
                await self._mirror(event)
                return

    async def _store(self, key: str, event: Event, data: bytes) -> None:
        """Write one event; mirrors it locally once stored (a terminal one on a Redis Cluster: once a
        replica has acknowledged it, so no reader here sees an end a failover could take back)."""
        if self._durable is None or not event.terminal:
            await self._writer.xadd(key, event, data)
            return
        meta_key = self.keys.meta(event.task_id)
        await self._durable.write(key, meta_key, event.seq, data, int(self.create_ttl_s))
        await self._mirror(event)

    async def _mend(self, task_id: str, have: int, seq: int) -> None:
        """Write again the events ``have + 1 … seq - 1`` a failover lost (the same bytes, from the
        local mirror), so the stream goes on without a gap."""
        lost = self._local.stored(task_id, have, seq - 1)
        meta = await self._local.meta(task_id)
        if have == 0 and meta is not None:  # the task's meta (and claim) may be gone with it
            await self._recreate(meta)
        log.warning(
            "the event log lost events %d-%d in a failover: writing them again",
            have + 1,
            seq - 1,
            extra={"task_id": task_id},
        )
        for event in lost:
            await self._writer.xadd(self.keys.events(task_id), event, codec.encode(event), mirror=False)

    async def _recreate(self, meta: TaskMeta) -> None:
        """Write a task's meta, claim and listing again (a failover lost them with its stream)."""
        keys, ttl = self.keys, int(self.create_ttl_s)
        with translated():
            async with self._redis.pipeline(transaction=False) as pipe:
                mapping = {"owner": meta.owner, "request_id": meta.request_id, "replica": self.replica}
                pipe.hset(keys.meta(meta.task_id), mapping=mapping)
                pipe.expire(keys.meta(meta.task_id), ttl)
                if meta.request_id:
                    claim = keys.claim(meta.owner, meta.request_id)
                    pipe.set(claim, claim_value(meta.task_id, meta.owner), nx=True, ex=ttl)
                pipe.sadd(keys.replica_tasks(self.replica), meta.task_id)
                await pipe.execute()

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
        meta = await self._local.meta(task_id)
        await self._local.expire(task_id, retention_s)  # first: the mirror is freed even if Redis is down
        self._fenced.discard(task_id)
        release = task_id in self._release
        self._release.discard(task_id)
        owner, request_id = (meta.owner, meta.request_id) if meta is not None else ("", "")
        keys = [self.keys.meta(task_id), self.keys.events(task_id)]
        keys.append(self.keys.claim_of(task_id, owner, request_id))
        args = [task_id, max(int(retention_s * 1000), 1), int(release)]
        with translated():
            await asyncio.gather(
                self._expire(keys=keys, args=args),
                self._redis.srem(self.keys.replica_tasks(self.replica), task_id),
            )

    # reading ---------------------------------------------------------------------------------------

    async def meta(self, task_id: str) -> TaskMeta | None:
        local = await self._local.meta(task_id)
        if local is not None:
            return local
        with translated():
            raw: dict[bytes, bytes] = await self._redis.hgetall(self.keys.meta(task_id))
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
        key = self.keys.events(task_id)
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
            else:
                await self.lost.check_silent(task_id, time.monotonic() - heard, last)
            # XREAD BLOCK answers at once when entries past ``last`` exist, else waits up to block_s.
            with translated():
                reply = await self._readers.xread(
                    {key: f"0-{last}"}, count=_BATCH, block=int(self.block_s * 1000)
                )
            entries = _entries(reply)

    # ending lost tasks -----------------------------------------------------------------------------

    async def _declare_replica_lost(self, task_id: str, replica: str) -> bool:
        return await self.lost.declare_lost(task_id, REPLICA_LOST, replica=replica)

    async def declare_lost(self, task_id: str, reason: str, *, replica: str | None = None) -> bool:
        """End a task nobody will finish with one terminal event (``LostTasks.declare_lost``)."""
        return await self.lost.declare_lost(task_id, reason, replica=replica)

    # the replica's lease ---------------------------------------------------------------------------

    def _keep_lease(self) -> None:
        """Start renewing this replica's lease (and sweeping) if not yet: owned by this log."""
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self.leases.run(), name="replica lease")

    async def maintain(self) -> None:
        """Hold this replica's lease and sweep for lost replicas until cancelled (a server runs it
        from the start, so a replica that has started no task yet also ends the tasks of lost ones)."""
        self._keep_lease()
        assert self._keeper is not None
        await asyncio.shield(self._keeper)

    async def ping(self) -> None:
        """Round trip to Redis (start-up check); BackendUnavailable when unreachable."""
        with translated():
            await self._redis.ping()

    async def aclose(self) -> None:
        if self._keeper is not None:
            await stop(self._keeper, "the replica lease keeper")
            self._keeper = None
        await self._writer.aclose()
        await self._local.aclose()
        if self._durable is not None:
            await self._durable.aclose()
        for client in getattr(self._node_client, "clients", {}).values():
            await client.aclose()
        await self._redis.aclose()
        await self._readers.aclose()


def _entries(reply: Any) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """The entries of a one-stream XREAD reply (RESP2: ``[[key, [(id, fields), …]]]``)."""
    return list(reply[0][1]) if reply else []
