"""errors.to_connect_error, the one place failures become Connect / gRPC-Web statuses (unit tests)."""

from __future__ import annotations

import grpc
from connectrpc.code import Code
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from qianshi.client.errors import from_status
from qianshi.server.gateway.errors import CONNECT_CODE, GatewayError, to_connect_error


def packed(message) -> any_pb2.Any:
    out = any_pb2.Any()
    out.Pack(message)
    return out


def test_every_grpc_code_but_ok_has_its_connect_name():
    assert len(CONNECT_CODE) == 16
    assert CONNECT_CODE[grpc.StatusCode.CANCELLED] is Code.CANCELED
    assert CONNECT_CODE[grpc.StatusCode.RESOURCE_EXHAUSTED] is Code.RESOURCE_EXHAUSTED


def test_a_backend_status_keeps_its_message_and_details_byte_for_byte():
    details = [
        packed(error_details_pb2.ErrorInfo(reason="OVERLOADED", domain="qianshi.v1")),
        packed(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2))),
    ]
    status = status_pb2.Status(code=8, message="the server is full", details=details)
    error = to_connect_error(from_status(status))
    assert error.code is Code.RESOURCE_EXHAUSTED and error.message == "the server is full"
    assert [(d.type_name, d.message_bytes) for d in error.details] == [
        (d.type_url.removeprefix("type.googleapis.com/"), d.value) for d in details
    ]


def test_a_refusal_of_the_gateway_names_the_field_as_the_server_would():
    error = to_connect_error(GatewayError.bad_field("authorization", "is malformed"))
    assert error.code is Code.INVALID_ARGUMENT
    assert [d.type_name for d in error.details] == ["google.rpc.ErrorInfo", "google.rpc.BadRequest"]
    bad = error_details_pb2.BadRequest.FromString(error.details[1].message_bytes)
    assert [(v.field, v.description) for v in bad.field_violations] == [("authorization", "is malformed")]


def test_a_bug_is_internal_with_an_incident_id_and_no_text_of_its_own():
    error = to_connect_error(KeyError("secret internals"))
    assert error.code is Code.INTERNAL
    assert "secret" not in error.message and error.message.startswith("internal error (incident ")
    assert error.details == []
