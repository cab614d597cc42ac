"""Fixtures of the client tests: a scripted Qianshi server, a real grpc.aio server on 127.0.0.1:0."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import grpc.aio
import pytest
from fake_qianshi_server import FakeService
from qianshi.v1 import interpret_service_pb2_grpc


@pytest.fixture
async def fake() -> AsyncIterator[FakeService]:
    service = FakeService()
    server = grpc.aio.server()
    interpret_service_pb2_grpc.add_InterpretServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    service.target = f"127.0.0.1:{port}"
    try:
        yield service
    finally:
        await server.stop(None)
