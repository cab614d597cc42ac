"""A Qdrant server that cannot be reached or does not answer, with the real ``qianshi-server`` binary.

Decision: a server that cannot open its index does not serve. While it tries, the port is open with
health NOT_SERVING and calls get UNAVAILABLE (NOT_READY); when the Qdrant client gives up (refused at
once; no answer within its timeout, 10 s) the process exits with status 1 and a one-line reason.

What this does not cover: there is no Qdrant server binary here, so a Qdrant that answers slowly
*after* start-up is exercised one level down (tests/backends/retrieval/test_remote.py: a listener that
never answers gives QDRANT_TIMEOUT), not through a serving gRPC server.
"""

from __future__ import annotations

import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from qianshi.v1 import interpret_service_pb2_grpc

from tests.reliability.conftest import ServerProcess, free_port, reason, request


def test_qdrant_unreachable_at_start_exits_with_a_clear_reason(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    proc = ServerProcess(["--state-dir", str(tmp_path), "--qdrant-url", url, "--log-level", "INFO"])
    try:
        proc.start(serving=False)
        assert proc.wait(60) == 1
    finally:
        proc.stop()
    assert "cannot start: Qdrant cannot be reached (QDRANT_UNAVAILABLE)" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_qdrant_not_answering_at_start_is_not_serving_then_exits(tmp_path):
    with socket.socket() as hole:  # accepts connections (the kernel does) and never answers
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)
        url = f"http://127.0.0.1:{hole.getsockname()[1]}"
        proc = ServerProcess(["--state-dir", str(tmp_path), "--qdrant-url", url, "--log-level", "INFO"])
        try:
            port = proc.start(serving=False)
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
                assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING
                stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)
                with pytest.raises(grpc.RpcError) as info:
                    list(stub.Interpret(request(), timeout=5))
                assert info.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
                assert reason(info.value) == "NOT_READY"
            assert proc.wait(60) == 1
        finally:
            proc.stop()
    assert "cannot start: Qdrant did not answer in time (QDRANT_TIMEOUT)" in proc.stderr
