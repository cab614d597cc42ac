"""Two real server replicas sharing one real Redis (``--event-log redis://…``), over real gRPC.

A task started on replica A is watched on replica B — every event exactly once, in order, the same
events A's caller got — and a Cancel sent to B stops the task running on A. Both replicas export
metrics (``--metrics-listen``), scraped at the end. Lives beside the other integration tests to share
their built index; the Redis server comes from tests/redis_server.py.
"""

from __future__ import annotations

import asyncio
import socket
import urllib.request

import grpc
import pytest
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from tests.redis_server import redis_prefix, redis_url
from tests.service.conftest import server_with

__all__ = ["redis_prefix", "redis_url"]
pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.redis]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def drain(call: grpc.aio.UnaryStreamCall) -> None:
    while await call.read() is not grpc.aio.EOF:
        pass


async def scrape(port: int) -> str:
    def get() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            return response.read().decode()

    return await asyncio.to_thread(get)


async def test_replica_b_serves_watch_and_cancel_for_a_task_running_on_replica_a(
    built_state, tmp_path, redis_url, redis_prefix
):
    ports = free_port(), free_port()
    common = ["--event-log", redis_url, "--grounded-pace", "0.02", "--tick-generation", "0.2"]
    async with (
        server_with(built_state, tmp_path / "a", *common, "--metrics-listen", f"127.0.0.1:{ports[0]}") as a,
        server_with(built_state, tmp_path / "b", *common, "--metrics-listen", f"127.0.0.1:{ports[1]}") as b,
        grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as channel_a,
        grpc.aio.insecure_channel(f"127.0.0.1:{b.port}") as channel_b,
    ):
        stub_a = interpret_service_pb2_grpc.InterpretServiceStub(channel_a)
        stub_b = interpret_service_pb2_grpc.InterpretServiceStub(channel_b)
        request = pb.InterpretRequest(set_id="mazu60", number=23, question="今年換工作會順利嗎？")
        async with asyncio.timeout(60):
            # 1. Watch on B while A's caller reads the same task on A.
            call = stub_a.Interpret(request)
            first = await call.read()
            task_id = first.task_id
            assert task_id not in b.registry._live  # B does not run it: it has only the shared log

            async def read_rest() -> list:
                rest = []
                while (event := await call.read()) is not grpc.aio.EOF:
                    rest.append(event)
                return rest

            on_a_task = asyncio.ensure_future(read_rest())
            on_b = [e async for e in stub_b.Watch(pb.WatchRequest(task_id=task_id))]
            on_a = [first, *await on_a_task]
            assert on_b == on_a  # the same events, byte for byte
            assert [e.seq for e in on_b] == list(range(1, len(on_b) + 1))
            assert on_b[-1].WhichOneof("payload") == "result"
            resumed = [e async for e in stub_b.Watch(pb.WatchRequest(task_id=task_id, after_seq=5))]
            assert resumed == on_a[5:]

            # 2. Cancel on B reaches the runner on A (over the shared log's pub/sub channel).
            slow = stub_a.Interpret(
                pb.InterpretRequest(set_id="mazu60", number=23, question="婚姻能成嗎？", locale="en")
            )
            first = await slow.read()
            cancelled = await stub_b.Cancel(pb.CancelRequest(task_id=first.task_id))
            assert cancelled.cancelled
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await drain(slow)
            assert info.value.code() == grpc.StatusCode.CANCELLED

        text_a, text_b = await scrape(ports[0]), await scrape(ports[1])
    assert 'qianshi_tasks_finished_total{code="OK"} 1.0' in text_a
    assert 'qianshi_tasks_finished_total{code="CANCELLED"} 1.0' in text_a
    assert 'qianshi_rpcs_total{code="OK",method="qianshi.v1.InterpretService/Watch"} 2.0' in text_b
    assert 'qianshi_rpcs_total{code="OK",method="qianshi.v1.InterpretService/Cancel"} 1.0' in text_b
    assert "qianshi_event_loop_lag_seconds_count" in text_a
