"""Graceful shutdown: health turns NOT_SERVING, new calls are refused, running tasks end with
UNAVAILABLE (SERVER_DRAINING) after the grace period, telling the caller to resume elsewhere."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from tests.service.conftest import server_with

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_drain_ends_running_streams_with_unavailable(built_state, tmp_path):
    async with server_with(built_state, tmp_path, "--grounded-pace", "0.5", "--shutdown-grace", "0.3") as srv:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
            stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)
            call = stub.Interpret(pb.InterpretRequest(set_id="guanyin100", number=8, question="工作順利嗎"))
            async with asyncio.timeout(30):
                while not (await call.read()).HasField("text_delta"):
                    pass
                srv.stop.set()
                events = []
                with pytest.raises(grpc.aio.AioRpcError) as info:
                    while (event := await call.read()) is not grpc.aio.EOF:
                        events.append(event)
            assert srv.health._server_status[""] == health_pb2.HealthCheckResponse.NOT_SERVING
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
            assert events[-1].HasField("error")
            status = rpc_status.from_call(info.value)
            assert status is not None
            reasons = set()
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    found = error_details_pb2.ErrorInfo()
                    detail.Unpack(found)
                    reasons.add(found.reason)
            assert reasons == {"SERVER_DRAINING"}
