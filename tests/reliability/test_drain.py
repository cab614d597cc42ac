"""Drain on a real SIGTERM, sent to the real ``qianshi-server`` process.

Health turns NOT_SERVING, new calls are refused with UNAVAILABLE (SERVER_DRAINING), the running task
gets the shutdown grace and then ends with a terminal error event that tells its caller to resume
elsewhere (with the text written so far), and the process exits 0.
"""

from __future__ import annotations

import asyncio
import signal

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from qianshi.v1 import interpret_service_pb2_grpc

from tests.reliability.conftest import read_events, reason, request, retry_delay, server_process

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_sigterm_drains_and_tells_callers_to_resume_elsewhere(built_state, tmp_path):
    flags = ("--grounded-pace", "0.3", "--tick-generation", "0.3", "--shutdown-grace", "2")
    with server_process(built_state, tmp_path, *flags) as proc:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{proc.port}") as channel:
            stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            running = stub.Interpret(request(), timeout=60)
            async with asyncio.timeout(30):
                head = [await running.read()]
                while not head[-1].HasField("text_delta"):
                    head.append(await running.read())
                assert proc.process is not None
                proc.process.send_signal(signal.SIGTERM)
                while (await health.Check(health_pb2.HealthCheckRequest())).status != (
                    health_pb2.HealthCheckResponse.NOT_SERVING
                ):
                    pass  # each look is a round trip: until the signal was handled
            refused, refused_error = await read_events(stub.Interpret(request(number=2), timeout=10))
            rest, error = await read_events(running)
        assert proc.wait(30) == 0
    assert refused == [] and refused_error.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(refused_error) == "SERVER_DRAINING"
    events = head + rest
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE
    assert reason(error) == "SERVER_DRAINING" and retry_delay(error) == 1.0
    last = events[-1]
    assert last.HasField("error") and sum(e.HasField("error") or e.HasField("result") for e in events) == 1
    text = "".join(e.text_delta.text for e in events if e.HasField("text_delta"))
    assert last.error.partial_text == text and text
    assert "Traceback" not in proc.stderr
