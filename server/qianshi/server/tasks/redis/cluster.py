"""The shared log on a Redis Cluster: ``--event-log redis-cluster://HOST:PORT[,HOST:PORT…]``.

``redis-cluster://[user:password@]host:port[,host:port…][?options]`` connects in plain TCP,
``rediss-cluster://…`` over TLS; authentication and the query options (``ssl_ca_certs``,
``ssl_cert_reqs`` …) are those of ``redis://`` / ``rediss://``, applied to every node. The nodes
listed are where discovery starts: redis-py's ``RedisCluster`` learns the rest (CLUSTER SLOTS),
follows MOVED redirects, and retries a command that met a dead node with backoff for up to
``FAILOVER_S``, long enough for a killed master's replica to be promoted (node timeout plus an
election: 2–4 s with ``cluster-node-timeout 2000``). Tasks wait through a failover and go on.

What a failover can lose: replication is asynchronous, so writes a master acknowledged just before
it died may be missing on the promoted replica. Two rules keep every reader's view whole:

- Events are appended with the ``APPEND`` script (``io``): event ``seq`` only right after
  ``seq - 1``. A stream that lost its tail is mended by its writer from its local mirror, with the
  very same bytes, before the next event; a reader that had seen the lost events sees them again
  as they were, and no ``Watch`` replay has a gap.
- A task's terminal event is made durable before any reader on its replica sees it (``DurableEnd``):
  on one connection to the slot's master, the append, a marker write in the same slot, then
  ``WAIT <replicas> <ms>`` — the replica that acknowledged the marker has everything the master
  wrote before it. If the master died in between, the append is found missing on the new master
  and made again. A master whose replica does not answer within the wait (killed, or none) is
  written to without waiting for ``DEGRADED_S`` (logged): availability first, as Redis itself.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions as rexc
from qianshi.server.errors import QianshiError
from qianshi.server.tasks.redis import scripts
from qianshi.server.tasks.redis.io import append_outcome, stop_if_cancelled, translate
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

log = logging.getLogger(__name__)
SCHEMES = ("redis-cluster://", "rediss-cluster://")
FAILOVER_S = 20.0
"""How long a command keeps retrying a slot whose master is gone (about: retries × backoff cap)."""
DEGRADED_S = 10.0


def is_cluster(url: str) -> bool:
    return url.startswith(SCHEMES)


def node_urls(url: str) -> list[str]:
    """``redis[s]://`` URLs of the listed nodes, each with the URL's credentials and options."""
    scheme, _, rest = url.partition("://")
    plain = "rediss" if scheme == "rediss-cluster" else "redis"
    parts = urllib.parse.urlsplit(f"{plain}://{rest}")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    if not hosts:
        raise ValueError(f"{url!r} names no node (redis-cluster://HOST:PORT[,HOST:PORT…])")
    auth = userinfo + "@" if userinfo else ""
    urls = []
    for host in hosts.split(","):
        if not host.strip():
            raise ValueError(f"{url!r} has an empty node")
        query = f"?{parts.query}" if parts.query else ""
        urls.append(f"{plain}://{auth}{host.strip()}{query}")
    if parts.path not in ("", "/", "/0"):
        raise ValueError(f"{url!r}: a Redis Cluster has database 0 only")
    return urls


def connect(url: str, **options: Any) -> RedisCluster:
    """A ``RedisCluster`` client for a ``redis-cluster://`` URL (its options: ``RedisCluster``'s)."""
    urls = node_urls(url)
    rest = []
    for other in urls[1:]:
        split = urllib.parse.urlsplit(other)
        rest.append(ClusterNode(split.hostname or "127.0.0.1", split.port or 6379))
    backoff = ExponentialBackoff(cap=0.5, base=0.05)
    retry = Retry(backoff, retries=int(FAILOVER_S / 0.5))
    return RedisCluster.from_url(urls[0], startup_nodes=rest or None, retry=retry, **options)


def node_client_factory(url: str, **options: Any) -> Callable[[str, int], aioredis.Redis]:
    """Plain clients to single nodes of the cluster (one per node, made on first use)."""
    first = urllib.parse.urlsplit(node_urls(url)[0])
    clients: dict[tuple[str, int], aioredis.Redis] = {}

    def client(host: str, port: int) -> aioredis.Redis:
        if (host, port) not in clients:
            netloc = first.netloc.rpartition("@")[0]
            netloc = (netloc + "@" if netloc else "") + f"{host}:{port}"
            node_url = urllib.parse.urlunsplit(first._replace(netloc=netloc))
            clients[(host, port)] = aioredis.Redis.from_url(node_url, **options)
        return clients[(host, port)]

    client.clients = clients  # type: ignore[attr-defined]
    return client


class DurableEnd:
    """Terminal events on a Redis Cluster: appended, then acknowledged by a replica (see the module
    docstring). ``write`` returns how many replicas acknowledged (0 when degraded)."""

    def __init__(self, cluster: RedisCluster, url: str, replicas: int, wait_ms: int, **options: Any) -> None:
        self._cluster = cluster
        self._node = node_client_factory(url, **options)
        self.replicas = replicas
        self.wait_ms = wait_ms
        self._degraded: dict[str, float] = {}
        self.unacknowledged = 0
        """Terminal events no replica acknowledged in time (a count for tests, benchmarks, logs)."""

    async def write(self, events_key: str, meta_key: str, seq: int, data: bytes, ttl_s: int) -> int:
        """Append event ``seq`` (terminal) and wait for a replica; raises what ``APPEND`` reports
        (``TailLost``, an id taken, the log gone) or, past ``FAILOVER_S``, ``BackendUnavailable``."""
        deadline = time.monotonic() + FAILOVER_S
        while True:
            node = self._cluster.get_node_from_key(events_key)
            assert node is not None  # a slot without a node raises SlotNotCoveredError
            host, port = node.host, int(node.port)
            name = f"{host}:{port}"
            wait = self.replicas > 0 and self._degraded.get(name, 0.0) <= time.monotonic()
            try:
                async with self._node(host, port).pipeline(transaction=False) as pipe:
                    pipe.evalsha(scripts.APPEND_SHA, 1, events_key, seq, data, ttl_s)
                    pipe.hset(meta_key, "end", seq)  # the marker WAIT counts from: same slot, same link
                    if wait:
                        pipe.execute_command("WAIT", self.replicas, self.wait_ms)
                    replies: list[Any] = await pipe.execute(raise_on_error=False)
            except (rexc.ConnectionError, rexc.TimeoutError) as exc:
                stop_if_cancelled()
                await self._refresh(events_key, deadline, exc)
                continue
            appended = replies[0]
            if isinstance(appended, rexc.NoScriptError):
                await self._node(host, port).script_load(scripts.APPEND)
                continue
            if isinstance(appended, rexc.ResponseError) and str(appended).startswith(("MOVED", "ASK")):
                await self._refresh(events_key, deadline, appended)
                continue
            if isinstance(appended, rexc.RedisError):
                raise translate(appended) from appended
            outcome = append_outcome(appended)
            if outcome is not None:
                raise outcome
            acked = int(replies[2]) if wait and not isinstance(replies[2], Exception) else 0
            if wait and acked < self.replicas:
                self.unacknowledged += 1
                self._degraded[name] = time.monotonic() + DEGRADED_S
                log.warning(
                    "no replica of %s acknowledged a terminal event within %d ms: not waiting for"
                    " one there for %.0f s",
                    name,
                    self.wait_ms,
                    DEGRADED_S,
                )
            return acked

    async def _refresh(self, key: str, deadline: float, exc: Exception) -> None:
        """Let the cluster client find the slot's master again (it retries through a failover)."""
        if time.monotonic() > deadline:
            error: QianshiError = (
                translate(exc)
                if isinstance(exc, rexc.RedisError)
                else translate(rexc.ConnectionError(str(exc)))
            )
            raise error from exc
        try:
            await self._cluster.exists(key)
        except rexc.RedisError as again:
            raise translate(again) from again

    async def aclose(self) -> None:
        for client in self._node.clients.values():  # type: ignore[attr-defined]
            await client.aclose()
