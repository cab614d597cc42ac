"""A real Redis Cluster for the tests: six Debian ``redis-server`` 7.0 nodes on loopback (free ports),
joined by ``redis-cli --cluster create … --cluster-replicas 1``: three masters, a replica each.

Nodes run with persistence off and ``cluster-node-timeout`` 2000 ms, so a SIGKILLed master's replica
is promoted in a few seconds. Each node is started by ``tests.redis_server.RedisProcess`` (ready when
its log says so); the cluster is ready when every node reports ``cluster_state:ok`` and every master
has its replica — there is no event for that, so it is polled with a deadline that fails loudly.
Missing binaries skip the tests locally and fail them under CI (scripts/test.sh installs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.redis_server import RedisProcess, _free_port, redis_binary

NODE_TIMEOUT_MS = 2000
READY_S = 30.0


def redis_cli() -> str:
    found = shutil.which("redis-cli")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("redis-cli is not installed (scripts/test.sh installs redis-tools)")
        pytest.skip("redis-cli is not installed (apt-get install redis-tools)")
    return found


@dataclass
class Cluster:
    """Six nodes; ``url`` is the ``redis-cluster://`` URL Qianshi takes."""

    nodes: list[RedisProcess]
    killed: list[RedisProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        live = [n for n in self.nodes if n not in self.killed]
        return "redis-cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in live)

    def client(self, node: RedisProcess) -> redis.Redis:
        return redis.Redis(port=node.port, socket_timeout=5)

    def info(self, node: RedisProcess) -> dict[str, str]:
        with self.client(node) as c:
            text = c.execute_command("CLUSTER", "INFO").decode()
        return dict(line.split(":", 1) for line in text.split() if ":" in line)

    def masters(self) -> dict[int, set[int]]:
        """Live masters by port, with the ports of their replicas, as a live node sees it."""
        anyone = next(n for n in self.nodes if n not in self.killed)
        with self.client(anyone) as c:
            text = c.execute_command("CLUSTER", "NODES").decode()
        ports: dict[str, int] = {}
        replicas: dict[str, set[int]] = {}
        masters: list[str] = []
        for line in text.splitlines():
            node_id, address, flags, master_id, *_rest = line.split()
            if "fail" in flags:
                continue
            ports[node_id] = int(address.split("@")[0].rsplit(":", 1)[1])
            if "master" in flags:
                masters.append(node_id)
            else:
                replicas.setdefault(master_id, set()).add(ports[node_id])
        return {ports[m]: replicas.get(m, set()) for m in masters}

    def online_replicas(self, port: int) -> int:
        """Replicas of the master on ``port`` whose replication link is up (synced)."""
        with redis.Redis(port=port, socket_timeout=5) as c:
            info = c.info("replication")
        return sum(
            1
            for k, v in info.items()
            if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"
        )

    def node_of(self, key: str) -> RedisProcess:
        """The node that is master of ``key``'s slot now."""
        anyone = next(n for n in self.nodes if n not in self.killed)
        with self.client(anyone) as c:
            slot = int(c.execute_command("CLUSTER", "KEYSLOT", key))
            for start, end, master, *_ in c.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    port = int(master[1])
                    return next(n for n in self.nodes if n.port == port)
        raise AssertionError(f"no node serves the slot of {key}")

    def wait_ok(self, *, replicas: int = 1, limit_s: float = READY_S) -> float:
        """Poll until every live node says cluster_state:ok and each master has ``replicas``
        replicas; returns the seconds it took."""
        started = time.monotonic()
        last = ""
        while time.monotonic() - started < limit_s:
            try:
                states = [self.info(n).get("cluster_state") for n in self.nodes if n not in self.killed]
                masters = self.masters()
                if all(s == "ok" for s in states) and len(masters) == 3:
                    online = [self.online_replicas(port) for port in masters]
                    if all(count >= replicas for count in online):
                        return time.monotonic() - started
                    states.append(f"online replicas {online}")
                last = f"states {states}, masters {masters}"
            except (redis.RedisError, StopIteration) as exc:
                last = repr(exc)
            time.sleep(0.05)
        raise AssertionError(f"the cluster was not ok within {limit_s} s: {last}")

    def kill(self, node: RedisProcess) -> None:
        """SIGKILL a node: no goodbye, its connections drop."""
        proc, node.proc = node.proc, None
        assert proc is not None and proc.stdout is not None
        proc.kill()
        proc.wait()
        proc.stdout.close()
        self.killed.append(node)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_cluster(workdir: Path) -> Cluster:
    binary, cli = redis_binary(), redis_cli()
    nodes = []
    for i in range(6):
        folder = workdir / f"node{i}"
        folder.mkdir(parents=True, exist_ok=True)
        extra = ["--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf")]
        extra += ["--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
        # the bus port must be named: the default (port + 10000) overflows for ephemeral ports
        extra += ["--cluster-port", str(_free_port())]
        extra += ["--repl-diskless-sync-delay", "0"]  # a replica syncs at once, not 5 s later
        nodes.append(RedisProcess(binary, _free_port(), folder, extra))
    cluster = Cluster(nodes)
    try:
        for node in nodes:
            node.start()
        argv = [cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in nodes)]
        argv += ["--cluster-replicas", "1", "--cluster-yes"]
        made = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if made.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{made.stdout}\n{made.stderr}")
        cluster.wait_ok()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The session's cluster (tests that kill nodes start their own: ``own_cluster``)."""
    cluster = start_cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A cluster of this test's own, whose nodes it may kill."""
    cluster = start_cluster(tmp_path / "cluster")
    try:
        yield cluster
    finally:
        cluster.stop()
