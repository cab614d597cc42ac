"""Cancel across replicas: a ``Cancel`` reaches only the replica it was sent to, but the task runs
on one replica, so ``request`` publishes the task id on a channel every replica listens to
(``listen``), and the replica that runs it cancels it.

On a Redis Cluster a classic ``PUBLISH`` is broadcast to every node over the cluster bus, so a
replica may listen on any node: ``listen`` picks one and, when that node dies, the next one of the
cluster's nodes. A cancel published while a listener is between nodes (a failover: a few seconds)
does not reach it; the task then runs to its end, as if the Cancel had come a moment too late.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from qianshi.server.errors import BackendUnavailable
from qianshi.server.tasks import codec
from qianshi.server.tasks.redis.io import FIELD, stop_if_cancelled, translated
from qianshi.server.tasks.redis.scripts import Keys

log = logging.getLogger(__name__)
NodeClient = Callable[[str, int], aioredis.Redis]


class Cancels:
    """Publish and hear cancel requests (see the module docstring)."""

    def __init__(self, redis: Any, readers: Any, keys: Keys, node_client: NodeClient | None = None) -> None:
        self._redis = redis
        self._readers = readers
        self._keys = keys
        self._node_client = node_client
        self._turn = itertools.count()

    async def request(self, task_id: str) -> bool:
        """Ask every replica to cancel ``task_id``; False when its log already ended (or is gone)."""
        with translated():
            newest: Any = await self._redis.xrevrange(self._keys.events(task_id), max="+", min="-", count=1)
            if newest and codec.decode(newest[0][1][FIELD]).terminal:
                return False
            await self._redis.publish(self._keys.cancel_channel, task_id)
        return True

    async def _subscriber(self) -> Any:
        if self._node_client is None:
            return self._readers.pubsub(ignore_subscribe_messages=True)
        await self._redis.initialize()  # the nodes are known once the client has met the cluster
        nodes = sorted(self._redis.get_nodes(), key=lambda n: n.name)
        node = nodes[next(self._turn) % len(nodes)]
        return self._node_client(node.host, node.port).pubsub(ignore_subscribe_messages=True)

    async def listen(
        self,
        cancel: Callable[[str], Awaitable[Any] | Any],
        ready: asyncio.Event | None = None,
        retry_s: float = 1.0,
    ) -> None:
        """Call ``cancel(task_id)`` for every cancel request, forever; sets ``ready`` once subscribed.

        Survives Redis restarts and failovers (subscribes again after ``retry_s``); ends only by
        cancellation.
        """
        while True:
            try:
                with translated():
                    async with await self._subscriber() as pubsub:
                        await pubsub.subscribe(self._keys.cancel_channel)
                        if ready is not None:
                            ready.set()
                        async for item in pubsub.listen():
                            if item.get("type") != "message":
                                continue
                            result = cancel(item["data"].decode())
                            if asyncio.iscoroutine(result):
                                await result
            except BackendUnavailable:
                stop_if_cancelled()  # a cancel redis-py turned into an error still stops the loop
                log.warning("cancel channel lost; subscribing again in %.1f s", retry_s)
            await asyncio.sleep(retry_s)
