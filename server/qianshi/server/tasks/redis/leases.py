"""Replica leases in Redis: how the replicas sharing the event log notice that one of them is gone.

Each replica (each server process: ``--workers N`` makes N) has a random id and one lease key,
``P:replica:<id>``, which it renews every ``renew_s`` (``min(tick, lease / 3)``) with a time to live
of ``lease_s``. Its running tasks are listed in ``P:replica:<id>:tasks``. One lease per replica, not
per task: renewing costs one command per tick however many tasks run.

Every replica also sweeps every ``tick_s``: for each replica in ``P:replicas`` whose lease is gone, it
ends each listed task with one terminal event, UNAVAILABLE ``REPLICA_LOST`` with the text so far
(``RedisEventLog.declare_lost``: atomic, so when several replicas sweep at once exactly one event is
written), then forgets the replica. A dead replica's tasks therefore end within ``lease_s + tick_s``
of its last renewal. A replica that was only slow (a loop stalled past its lease, Redis unreachable
for that long) finds its tasks ended when it comes back: its next write is refused (the log is
fenced) and the task stops.

Renewal and sweeping run as two tasks so a long sweep never delays the renewal.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from qianshi.server.errors import BackendFailed, BackendUnavailable
from qianshi.server.tasks.redis.io import stop_if_cancelled, translated
from qianshi.server.tasks.redis.scripts import BURY, Keys

log = logging.getLogger(__name__)

DeclareLost = Callable[[str, str], Awaitable[bool]]
"""``declare_lost(task_id, replica)``: end a task of a lost replica (True when this call ended it)."""


def new_replica_id() -> str:
    return "r_" + secrets.token_hex(8)


class ReplicaLeases:
    """This replica's lease and the sweep for lost replicas (see the module docstring)."""

    def __init__(
        self,
        redis: Any,
        keys: Keys,
        declare_lost: DeclareLost,
        *,
        lease_s: float = 5.0,
        tick_s: float = 1.0,
        replica: str | None = None,
    ) -> None:
        if not 0 < tick_s < lease_s:
            raise ValueError(
                f"the lease tick ({tick_s} s) must be positive and shorter than the lease ({lease_s} s)"
            )
        self._redis = redis
        self._keys = keys
        self._declare_lost = declare_lost
        self._bury = redis.register_script(BURY)
        self.lease_s = lease_s
        self.tick_s = tick_s
        self.renew_s = min(tick_s, lease_s / 3)
        self.replica = replica or new_replica_id()
        self.lost_tasks = 0
        """Tasks of lost replicas this replica ended (a count for tests and logs)."""

    @property
    def lease_ms(self) -> int:
        return max(int(self.lease_s * 1000), 1)

    async def run(self) -> None:
        """Renew the lease and sweep, every tick, until cancelled; survives Redis outages."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._every(self.renew_s, self.renew, "renewing the replica lease"))
            group.create_task(self._every(self.tick_s, self.sweep, "sweeping for lost replicas"))

    async def _every(self, period_s: float, step: Callable[[], Awaitable[Any]], what: str) -> None:
        failing = False
        while True:
            try:
                await step()
                if failing:
                    log.info("%s works again", what)
                failing = False
            except (BackendUnavailable, BackendFailed) as exc:
                stop_if_cancelled()  # a cancel redis-py turned into an error still stops the loop
                if not failing:
                    log.warning("%s failed: %s (retrying every %.1f s)", what, exc.message, period_s)
                failing = True
            await asyncio.sleep(period_s)

    async def renew(self) -> None:
        """Extend this replica's lease (and list the replica, in case Redis lost the list)."""
        with translated():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(self._keys.lease(self.replica), b"1", px=self.lease_ms)
                pipe.sadd(self._keys.replicas, self.replica)
                await pipe.execute()

    async def sweep(self) -> int:
        """End the tasks of every replica whose lease is gone; returns how many this call ended."""
        with translated():
            members: Any = await self._redis.smembers(self._keys.replicas)
        others = sorted(name for m in members if (name := _text(m)) != self.replica)
        if not others:
            return 0
        with translated():
            async with self._redis.pipeline(transaction=False) as pipe:
                for replica in others:
                    pipe.exists(self._keys.lease(replica))
                alive: list[int] = await pipe.execute()
        ended = 0
        for replica, up in zip(others, alive, strict=True):
            if not up:
                ended += await self._bury_replica(replica)
        return ended

    async def _bury_replica(self, replica: str) -> int:
        with translated():
            tasks: Any = await self._redis.smembers(self._keys.replica_tasks(replica))
        ended = 0
        for task_id in sorted(_text(t) for t in tasks):
            if await self._declare_lost(task_id, replica):
                ended += 1
        if ended:
            self.lost_tasks += ended
            log.warning("replica %s was lost: ended %d of its tasks with REPLICA_LOST", replica, ended)
        with translated():
            if await self._bury(keys=[self._keys.replica_tasks(replica), self._keys.lease(replica)]):
                await self._redis.srem(self._keys.replicas, replica)
        return ended


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
