"""``qianshi-server --workers 2`` as a real process tree on a real Redis: two worker processes on one
port; a ``Watch`` and a ``Cancel`` that land on the worker that does not run the task are served;
metrics of both workers come from one endpoint; without a shared event log it refuses to start.

The kernel hands each connection to either worker (SO_REUSEPORT), so the test finds out which worker
a channel reached from the metrics endpoint (each answered ``ListSets`` is counted under its worker
label), and opens channels until one reached the other worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import psutil  # type: ignore[import-untyped]
import pytest
from qianshi.server.backends.retrieval.store_copy import copy_tree
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from tests.redis_server import redis_url
from tests.reliability.conftest import REPO, ServerProcess, free_port, read_events, reason, request

__all__ = ["redis_url"]
pytestmark = [pytest.mark.redis]
Stub = interpret_service_pb2_grpc.InterpretServiceStub
# Channels to one target share one connection unless each has its own subchannel pool.
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]
LIST_SETS = (
    'qianshi_rpcs_total{code="OK",method="qianshi.v1.InterpretService/ListSets",worker="(\\d)"} (\\S+)'
)


async def scrape(port: int) -> str:
    def get() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            return str(response.read().decode())

    return await asyncio.to_thread(get)


async def list_sets_by_worker(metrics_port: int) -> dict[str, float]:
    return {w: float(n) for w, n in re.findall(LIST_SETS, await scrape(metrics_port))}


async def worker_of(channel: grpc.aio.Channel, metrics_port: int) -> str:
    """Which worker serves this channel's connection: the one whose ListSets count went up."""
    before = await list_sets_by_worker(metrics_port)
    await Stub(channel).ListSets(pb.ListSetsRequest(), timeout=10)
    after = await list_sets_by_worker(metrics_port)
    [worker] = [w for w, n in after.items() if n > before.get(w, 0.0)]
    return worker


@pytest.fixture(scope="module")
def two_workers(built_state, tmp_path_factory, redis_url) -> Iterator[tuple[ServerProcess, int]]:
    """``qianshi-server --workers 2`` (a short lease, so a lost worker shows quickly) and its metrics port."""
    state = tmp_path_factory.mktemp("workers") / "state"
    copy_tree(built_state, state)
    metrics_port = free_port()
    flags = ["--state-dir", str(state), "--log-level", "WARNING", "--workers", "2"]
    flags += ["--event-log", redis_url, "--metrics-listen", f"127.0.0.1:{metrics_port}"]
    flags += ["--grounded-pace", "0.3", "--tick-generation", "0.3", "--lease", "2", "--lease-tick", "0.5"]
    proc = ServerProcess(flags)
    proc.start(ready=r"serving on port (\d+) \(2 workers\)", limit_s=120)
    try:
        yield proc, metrics_port
    finally:
        proc.stop()


@contextlib.asynccontextmanager
async def on_both_workers(
    port: int, metrics_port: int
) -> AsyncIterator[tuple[grpc.aio.Channel, grpc.aio.Channel]]:
    """Two channels whose connections reached different workers."""
    target = f"127.0.0.1:{port}"
    channels: list[grpc.aio.Channel] = []
    try:
        first = grpc.aio.insecure_channel(target, OWN_CONNECTION)
        channels.append(first)
        worker = await worker_of(first, metrics_port)
        while True:
            other = grpc.aio.insecure_channel(target, OWN_CONNECTION)
            channels.append(other)
            if await worker_of(other, metrics_port) != worker:
                break
        yield first, other
    finally:
        for channel in channels:
            await channel.close()


async def generating(call: Any) -> list[Any]:
    """Read a stream until its first text delta."""
    head = [await call.read()]
    while not head[-1].HasField("text_delta"):
        head.append(await call.read())
    return head


@pytest.mark.asyncio(loop_scope="session")
async def test_two_workers_serve_watch_and_cancel_for_tasks_running_in_the_other(two_workers):
    proc, metrics_port = two_workers
    async with asyncio.timeout(60), on_both_workers(proc.port, metrics_port) as (runs_on, other):
        worker = await worker_of(runs_on, metrics_port)
        call = Stub(runs_on).Interpret(request(), timeout=60)
        head = await generating(call)
        task_id = head[0].task_id
        watch = Stub(other).Watch(pb.WatchRequest(task_id=task_id), timeout=60)
        watched = [await watch.read() for _ in head]
        assert watched == head  # the other worker replays the same events from the shared log
        cancelled = await Stub(other).Cancel(pb.CancelRequest(task_id=task_id), timeout=10)
        (rest, error), (watched_rest, watch_error) = await asyncio.gather(
            read_events(call), read_events(watch)
        )
        metrics = await scrape(metrics_port)
    assert cancelled.cancelled
    assert error is not None and error.code() == grpc.StatusCode.CANCELLED
    assert watch_error is not None and watch_error.code() == grpc.StatusCode.CANCELLED
    assert rest[-1] == watched_rest[-1]  # the same terminal event through both workers
    other_worker = "1" if worker == "0" else "0"
    assert f'qianshi_tasks_finished_total{{code="CANCELLED",worker="{worker}"}} 1.0' in metrics
    cancel_served = f'method="qianshi.v1.InterpretService/Cancel",worker="{other_worker}"'
    assert re.search(r'qianshi_rpcs_total\{code="OK",' + re.escape(cancel_served) + r"\} 1\.0", metrics)
    assert 'qianshi_worker_up{worker="0"} 1.0' in metrics and 'qianshi_worker_up{worker="1"} 1.0' in metrics


def worker_pids(supervisor: psutil.Process) -> set[int]:
    """The supervisor's worker processes (its spawned children, not its resource tracker)."""
    return {c.pid for c in supervisor.children() if "spawn_main" in " ".join(c.cmdline())}


def workers_up(metrics: str) -> dict[str, str]:
    return dict(re.findall(r'qianshi_worker_up\{worker="(\d)"\} (\S+)', metrics))


@pytest.mark.asyncio(loop_scope="session")
async def test_a_killed_worker_has_its_tasks_ended_by_the_other_and_is_started_again(two_workers):
    proc, metrics_port = two_workers
    assert proc.process is not None
    supervisor = psutil.Process(proc.process.pid)
    async with asyncio.timeout(90), on_both_workers(proc.port, metrics_port) as (x, y):
        calls = [Stub(ch).Interpret(request(), timeout=60) for ch in (x, y)]
        heads = [await generating(call) for call in calls]
        # each task watched through the other worker
        watches = [
            Stub(ch).Watch(pb.WatchRequest(task_id=h[0].task_id), timeout=60)
            for ch, h in ((y, heads[0]), (x, heads[1]))
        ]
        for watch, head in zip(watches, heads, strict=True):
            assert [await watch.read() for _ in head] == head
        victim = psutil.Process(min(worker_pids(supervisor)))
        victim.kill()  # SIGKILL one worker process
        ends = await asyncio.gather(*(read_events(w) for w in watches))
        while True:  # the supervisor starts it again: a new worker process, both answering scrapes
            pids, up = worker_pids(supervisor), workers_up(await scrape(metrics_port))
            if victim.pid not in pids and len(pids) == 2 and up == {"0": "1.0", "1": "1.0"}:
                break
    outcomes = sorted((error.code(), reason(error)) for _, error in ends if error is not None)
    # the watch on the killed worker lost its connection; the other saw the task ended as lost
    assert outcomes == [(grpc.StatusCode.UNAVAILABLE, ""), (grpc.StatusCode.UNAVAILABLE, "REPLICA_LOST")]
    lost = next(events for events, error in ends if reason(error) == "REPLICA_LOST")
    assert lost[-1].error.partial_text  # with the text so far


def test_more_than_one_worker_without_a_shared_event_log_is_refused(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "qianshi.server.main", "--workers", "2", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode != 0
    assert "--workers 2 needs a shared event log (--event-log redis://" in done.stderr
    assert not (tmp_path / "qdrant").exists()  # refused before any work
