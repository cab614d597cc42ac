"""Ending tasks nobody will finish: a remote reader's check on a silent task, and ``declare_lost``.

A remote reader that heard nothing for a while asks (``check_silent``): is the task's log gone
(EVENT_LOG_LOST), did its replica die (no lease: REPLICA_LOST), did it end on its replica without
its end reaching Redis (not listed there any more: TASK_LOST), has it written nothing for
``lost_after_s`` (TASK_LOST)? And, on a Redis Cluster: does the stream now end *before* what this
reader has already seen? A failover lost events the reader had read; the task's writer mends the
stream within a tick, so a reader still behind the stream's end after ``lease_s + tick_s`` ends with
EVENT_LOG_LOST rather than wait for events it would never be shown.

``declare_lost`` appends the terminal failure (``lost.lost_event``) with the next seq, atomically
(the ``LOST`` script writes only if the stream still ends where it was read), so when several
replicas notice at once every reader sees the same one terminal event.
"""

from __future__ import annotations

import logging
from typing import Any

from qianshi.server.errors import BackendUnavailable
from qianshi.server.tasks import codec
from qianshi.server.tasks.lost import REPLICA_LOST, TASK_LOST, lost_event
from qianshi.server.tasks.redis import scripts
from qianshi.server.tasks.redis.io import FIELD, log_lost, translated
from qianshi.server.tasks.redis.scripts import Keys

log = logging.getLogger(__name__)


def rolled_back() -> BackendUnavailable:
    """The stream lost events this reader had shown (a failover), and they did not come back."""
    return BackendUnavailable(
        "the shared store lost events this stream had shown (a failover) and they were not restored",
        reason="EVENT_LOG_LOST",
        retry_after_s=0.0,
    )


class LostTasks:
    """``check_silent`` and ``declare_lost`` over one log's Redis (see the module docstring)."""

    def __init__(
        self,
        redis: Any,
        keys: Keys,
        *,
        grace_s: float,
        lost_after_s: float,
        retention_s: float,
        patient: bool = False,
    ) -> None:
        self._redis = redis
        self.patient = patient
        """On a cluster a task's meta missing may come back (its writer mends a failover's loss):
        a reader waits ``grace_s`` before calling the log lost."""
        self._keys = keys
        self._lost = redis.register_script(scripts.LOST)
        self.grace_s = grace_s
        """``lease_s + tick_s``: after it, a silent task's replica has had time to be noticed."""
        self.lost_after_s = lost_after_s
        self.retention_s = retention_s

    async def check_silent(self, task_id: str, silent_s: float, last_seq: int) -> None:
        """A remote reader at ``last_seq`` heard nothing for ``silent_s``: end the task if lost."""
        keys = self._keys
        meta_key = keys.meta(task_id)
        with translated():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.exists(meta_key)
                pipe.hget(meta_key, "replica")
                pipe.xrevrange(keys.events(task_id), max="+", min="-", count=1)
                exists, replica, newest = await pipe.execute()
        if not exists and (not self.patient or silent_s >= self.grace_s):
            raise log_lost()
        if silent_s < self.grace_s:
            return
        have = int(newest[0][0].decode().partition("-")[2]) if newest else 0
        if have < last_seq:
            raise rolled_back()
        if replica:
            runner = replica.decode()
            with translated():
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.exists(keys.lease(runner))
                    pipe.sismember(keys.replica_tasks(runner), task_id)
                    alive, running = await pipe.execute()
            if not alive:
                await self.declare_lost(task_id, REPLICA_LOST, replica=runner)
                return
            if not running:  # it ended on its replica, but its end never reached Redis
                await self.declare_lost(task_id, TASK_LOST)
                return
        if silent_s >= self.lost_after_s:
            await self.declare_lost(task_id, TASK_LOST)

    async def declare_lost(self, task_id: str, reason: str, *, replica: str | None = None) -> bool:
        """End a task nobody will finish with one terminal event (``lost.lost_event``), atomically.

        With ``replica`` (reason REPLICA_LOST) only while that replica's lease is gone. Returns True
        when this call wrote the event; False when the task had ended, its replica is alive, its log
        is gone, or another replica wrote it first.
        """
        keys = self._keys
        events_key, meta_key = keys.events(task_id), keys.meta(task_id)
        for _ in range(3):  # the stream moved on between the read and the script: read again
            with translated():
                raw: dict[bytes, bytes] = await self._redis.hgetall(meta_key)
                entries: Any = await self._redis.xrange(events_key, min="-", max="+")
            events = [codec.decode(fields[FIELD]) for _, fields in entries]
            runner = replica or raw.get(b"replica", b"").decode()
            if events and events[-1].terminal:
                if replica is not None:  # it ended, but its replica died before taking it off its list
                    await self._unlist(replica, task_id)
                return False
            if replica is not None:
                with translated():
                    if await self._redis.exists(keys.lease(replica)):
                        return False  # it is alive after all
            owner, request_id = raw.get(b"owner", b"").decode(), raw.get(b"request_id", b"").decode()
            lost = lost_event(task_id, events, reason)
            seen = entries[-1][0].decode() if entries else ""
            args = [seen, f"0-{lost.seq}", codec.encode(lost), task_id, max(int(self.retention_s * 1000), 1)]
            with translated():
                outcome = await self._lost(
                    keys=[events_key, meta_key, keys.claim_of(task_id, owner, request_id)], args=args
                )
            if outcome == scripts.LOST_WRITTEN:
                log.warning("task ended as lost (%s)", reason, extra={"task_id": task_id})
                if runner:
                    await self._unlist(runner, task_id)
                return True
            if outcome == scripts.LOST_GONE:
                if runner:
                    await self._unlist(runner, task_id)
                return False
        return False

    async def _unlist(self, replica: str, task_id: str) -> None:
        with translated():
            await self._redis.srem(self._keys.replica_tasks(replica), task_id)
