"""Real redis-server processes for tests and benchmarks: one node (``RedisProcess``), or a Redis
Cluster of six (``start_cluster``: three masters with a replica each, joined with
``redis-cli --cluster create … --cluster-replicas 1``), all on loopback on free ports.

Nodes run with persistence off; a node is ready when its log says so (no sleeps). Cluster nodes run
with ``cluster-node-timeout`` 2000 ms (a SIGKILLed master's replica is promoted in a few seconds),
their bus port named (the default, port + 10000, overflows for ephemeral ports) and diskless
replication without delay (a replica is in sync at once). A cluster is ready when every node reports
``cluster_state:ok`` and each master has a synced replica: there is no event for that, so it is
polled with a deadline that fails loudly.
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

READY_TIMEOUT_S = 10.0
NODE_TIMEOUT_MS = 2000
CLUSTER_READY_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisProcess:
    """One redis-server on a fixed loopback port, persistence off; ``restart`` loses every key, as a
    restarted Redis without persistence does."""

    def __init__(self, binary: str, port: int, workdir: Path, extra: list[str] | None = None) -> None:
        self.binary, self.port, self.workdir = binary, port, workdir
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(self.workdir), *self.extra]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            _wait_ready(self.proc)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()

    def restart(self) -> None:
        self.stop()
        self.start()


def _wait_ready(proc: subprocess.Popen[bytes]) -> None:
    """Read the server's log until it says it is ready (bounded by READY_TIMEOUT_S)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    seen = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"Ready to accept connections" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                raise RuntimeError(f"redis-server did not start: {seen[-2000:].decode(errors='replace')}")
            if sel.select(timeout=left):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError(f"redis-server exited: {seen[-2000:].decode(errors='replace')}")
                seen += chunk


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

    def wait_ok(self, *, replicas: int = 1, limit_s: float = CLUSTER_READY_S) -> float:
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

    def revive(self, node: RedisProcess) -> None:
        """Start a killed node again: it rejoins (its nodes.conf is kept) as a replica."""
        node.start()
        self.killed.remove(node)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (all bound at once, so none is handed out twice)."""
    holders = [socket.socket() for _ in range(count)]
    try:
        for holder in holders:
            holder.bind(("127.0.0.1", 0))
        return [int(h.getsockname()[1]) for h in holders]
    finally:
        for holder in holders:
            holder.close()


def start_cluster(workdir: Path, binary: str = "redis-server", cli: str = "redis-cli") -> Cluster:
    """Six nodes on free ports, joined into a cluster; stopped again if it does not come up. A port
    taken by another process between choosing and binding it (a busy machine) costs one more try."""
    for attempt in range(3):
        try:
            return _start_cluster(workdir / f"try{attempt}", binary, cli)
        except PortTaken:
            continue
    return _start_cluster(workdir / "try3", binary, cli)


class PortTaken(RuntimeError):
    """A node could not bind its port: another process took it first."""


def _start_cluster(workdir: Path, binary: str, cli: str) -> Cluster:
    nodes = []
    ports = free_ports(12)
    for i in range(6):
        folder = workdir / f"node{i}"
        folder.mkdir(parents=True, exist_ok=True)
        extra = ["--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf")]
        extra += ["--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
        # the bus port must be named: the default (port + 10000) overflows for ephemeral ports
        extra += ["--cluster-port", str(ports[6 + i])]
        extra += ["--repl-diskless-sync-delay", "0"]  # a replica syncs at once, not 5 s later
        nodes.append(RedisProcess(binary, ports[i], folder, extra))
    cluster = Cluster(nodes)
    try:
        for node in nodes:
            try:
                node.start()
            except RuntimeError as exc:
                if "Address already in use" in str(exc):
                    raise PortTaken(str(exc)) from exc
                raise
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
