"""The Redis clients of the shared log, for one Redis (``redis://``, ``rediss://``, ``unix://``) or a
Redis Cluster (``redis-cluster://``, ``rediss-cluster://``: ``cluster``).

Two pools. Short commands share ``max_connections`` (on one Redis a caller waits for a free one
rather than failing). Blocking reads (XREAD BLOCK) hold a connection each for up to ``block_s``, so
they get their own pool and never starve the writers; past ``max_readers`` remote readers wait their
turn. The readers' socket timeout must outlast a blocking XREAD. On a Redis Cluster both limits are
per node, and a caller past one is refused (``MaxConnectionsError``), not queued: the commands'
limit is four times higher there (the log also gates its bursty creations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from qianshi.server.tasks.redis import cluster
from qianshi.server.tasks.redis.cancels import NodeClient


@dataclass(frozen=True, slots=True)
class Clients:
    is_cluster: bool
    redis: Any
    """Short commands (``redis.asyncio.Redis`` or ``RedisCluster``)."""
    readers: Any
    """Blocking reads."""
    durable: cluster.DurableEnd | None = None
    """Terminal events acknowledged by a replica (a cluster only)."""
    node_client: NodeClient | None = None
    """Plain clients to single nodes, for the cancel subscription (a cluster only)."""


def connect(
    url: str, *, max_connections: int, max_readers: int, block_s: float, wait_replicas: int, wait_ms: int
) -> Clients:
    common: dict[str, Any] = {"socket_connect_timeout": 5.0, "protocol": 2, "decode_responses": False}
    if cluster.is_cluster(url):
        commands = cluster.connect(url, max_connections=4 * max_connections, socket_timeout=10.0, **common)
        blocking = cluster.connect(url, max_connections=max_readers, socket_timeout=block_s + 10.0, **common)
        durable = cluster.DurableEnd(
            commands, url, wait_replicas, wait_ms, socket_timeout=10.0 + wait_ms / 1000, **common
        )
        nodes = cluster.node_client_factory(url, socket_timeout=None, **common)
        return Clients(True, commands, blocking, durable, nodes)
    redis = aioredis.Redis.from_pool(
        aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=10.0, socket_timeout=10.0, **common
        )
    )
    readers = aioredis.Redis.from_pool(
        aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_readers, timeout=None, socket_timeout=block_s + 10.0, **common
        )
    )
    return Clients(False, redis, readers)
