"""``qianshi-server --workers 2`` as a real process tree on a real Redis: two worker processes on one
port; a ``Watch`` and a ``Cancel`` that land on the worker that does not run the task are served;
metrics of both workers come from one endpoint; without a shared event log it refuses to start.

The kernel hands each connection to either worker (SO_REUSEPORT), so the test finds out which worker
a channel reached from the metrics endpoint (each answered ``ListSets`` is counted under its worker
label), and opens channels until one reached the other worker.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import urllib.request

import grpc
import pytest
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from tests.redis_server import redis_url
from tests.reliability.conftest import REPO, ServerProcess, free_port, read_events, request

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


@pytest.mark.asyncio(loop_scope="session")
async def test_two_workers_serve_watch_and_cancel_for_tasks_running_in_the_other(
    built_state, tmp_path, redis_url
):
    state = tmp_path / "state"
    shutil.copytree(built_state, state)
    metrics_port = free_port()
    flags = ["--state-dir", str(state), "--log-level", "WARNING", "--workers", "2"]
    flags += ["--event-log", redis_url, "--metrics-listen", f"127.0.0.1:{metrics_port}"]
    flags += ["--grounded-pace", "0.05", "--tick-generation", "0.3"]
    proc = ServerProcess(flags)
    await asyncio.to_thread(proc.start, ready=r"serving on port (\d+) \(2 workers\)", limit_s=120)
    target = f"127.0.0.1:{proc.port}"
    channels: list[grpc.aio.Channel] = []
    try:
        async with asyncio.timeout(60):
            runs_on = grpc.aio.insecure_channel(target, OWN_CONNECTION)
            channels.append(runs_on)
            worker = await worker_of(runs_on, metrics_port)
            while True:  # a connection that reached the other worker
                other = grpc.aio.insecure_channel(target, OWN_CONNECTION)
                channels.append(other)
                if await worker_of(other, metrics_port) != worker:
                    break
            call = Stub(runs_on).Interpret(request(), timeout=60)
            head = [await call.read()]
            while not head[-1].HasField("text_delta"):
                head.append(await call.read())
            task_id = head[0].task_id
            watch = Stub(other).Watch(pb.WatchRequest(task_id=task_id), timeout=60)
            watched = [await watch.read() for _ in head]
            assert watched == head  # the other worker replays the same events from the shared log
            cancelled = await Stub(other).Cancel(pb.CancelRequest(task_id=task_id), timeout=10)
            (rest, error), (watched_rest, watch_error) = await asyncio.gather(
                read_events(call), read_events(watch)
            )
            metrics = await scrape(metrics_port)
    finally:
        for channel in channels:
            await channel.close()
        code = await asyncio.to_thread(proc.stop)
    assert cancelled.cancelled
    assert error is not None and error.code() == grpc.StatusCode.CANCELLED
    assert watch_error is not None and watch_error.code() == grpc.StatusCode.CANCELLED
    assert rest[-1] == watched_rest[-1]  # the same terminal event through both workers
    other_worker = "1" if worker == "0" else "0"
    assert f'qianshi_tasks_finished_total{{code="CANCELLED",worker="{worker}"}} 1.0' in metrics
    cancel_served = f'method="qianshi.v1.InterpretService/Cancel",worker="{other_worker}"'
    assert re.search(r'qianshi_rpcs_total\{code="OK",' + re.escape(cancel_served) + r"\} 1\.0", metrics)
    assert 'qianshi_worker_up{worker="0"} 1.0' in metrics and 'qianshi_worker_up{worker="1"} 1.0' in metrics
    assert code == 0  # SIGTERM: both workers drained and exited


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
