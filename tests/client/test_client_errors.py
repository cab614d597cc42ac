"""Error translation, request building and the small event helpers, without a server."""

from __future__ import annotations

import json

import grpc
import pytest
from fake_qianshi_server import bad_request, canned_events, retry_info, rich_status
from google.protobuf import any_pb2, json_format
from google.rpc import error_details_pb2, status_pb2
from qianshi.client import (
    Cancelled,
    DeadlineExceeded,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    QianshiClientError,
    ResourceExhausted,
    RetryPolicy,
    Unauthenticated,
    Unavailable,
    event_to_json,
    from_error_event,
    from_rpc_error,
    interpret_request,
    is_terminal,
    payload_kind,
)
from qianshi.client.connection import call_metadata
from qianshi.client.errors import from_status
from qianshi.client.messages import disconnect_policy_value
from qianshi.v1 import events_pb2, interpret_service_pb2


class FakeRpcError(grpc.RpcError):
    """What a failed call raises: an RpcError that is also a Call."""

    def __init__(
        self, code: grpc.StatusCode, details: str, trailing: tuple[tuple[str, bytes | str], ...]
    ) -> None:
        self._code, self._details, self._trailing = code, details, trailing

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[tuple[str, bytes | str], ...]:
        return self._trailing


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidArgument),
        (grpc.StatusCode.NOT_FOUND, NotFound),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, ResourceExhausted),
        (grpc.StatusCode.UNAUTHENTICATED, Unauthenticated),
        (grpc.StatusCode.PERMISSION_DENIED, PermissionDenied),
        (grpc.StatusCode.UNAVAILABLE, Unavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, DeadlineExceeded),
        (grpc.StatusCode.CANCELLED, Cancelled),
        (grpc.StatusCode.INTERNAL, Internal),
        (grpc.StatusCode.FAILED_PRECONDITION, QianshiClientError),
    ],
)
def test_each_status_code_has_its_class(code: grpc.StatusCode, cls: type[QianshiClientError]) -> None:
    exc = from_rpc_error(FakeRpcError(code, "msg", ()))
    assert type(exc) is cls
    assert exc.code is code
    assert exc.message == "msg"
    status_exc = from_status(status_pb2.Status(code=code.value[0], message="m"))
    assert type(status_exc) is cls


def test_rich_details_are_read_from_the_trailers() -> None:
    status = rich_status(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "full",
        retry_info(1.25),
        bad_request("number", "1 to 60"),
        error_details_pb2.ErrorInfo(reason="OVERLOADED", domain="qianshi", metadata={"request_id": "r-1"}),
        error_details_pb2.LocalizedMessage(locale="zh-Hant", message="伺服器忙碌"),
    )
    exc = from_rpc_error(FakeRpcError(status.code, status.details, status.trailing_metadata))
    assert isinstance(exc, ResourceExhausted)
    assert exc.retry_after == pytest.approx(1.25)
    assert [(v.field, v.description) for v in exc.field_violations] == [("number", "1 to 60")]
    assert exc.reason == "OVERLOADED"
    assert exc.details.request_id == "r-1"
    assert exc.details.localized_message == "伺服器忙碌"
    assert exc.status is not None
    assert str(exc) == "RESOURCE_EXHAUSTED: full (number: 1 to 60; retry after 1.25s)"


def test_unreadable_details_and_bare_rpc_errors_still_translate() -> None:
    exc = from_rpc_error(
        FakeRpcError(grpc.StatusCode.INTERNAL, "x", (("grpc-status-details-bin", b"\xff\x00"),))
    )
    assert isinstance(exc, Internal)
    assert exc.status is None
    bare = from_rpc_error(grpc.RpcError())
    assert bare.code is grpc.StatusCode.UNKNOWN


def test_unknown_detail_types_are_skipped() -> None:
    detail = any_pb2.Any()
    detail.Pack(events_pb2.Tick())
    exc = from_status(status_pb2.Status(code=5, message="gone", details=[detail]))
    assert isinstance(exc, NotFound)
    assert exc.field_violations == ()


def test_an_error_event_translates_with_its_partial_text() -> None:
    event = canned_events(error=True)[-1]
    exc = from_error_event(event)
    assert isinstance(exc, Internal)
    assert exc.partial_text == event.error.partial_text
    assert exc.task_id == event.task_id


def test_event_helpers() -> None:
    events = canned_events()
    assert [payload_kind(e) for e in events[:3]] == ["accepted", "stage_started", "poem"]
    assert [is_terminal(e) for e in events].count(True) == 1
    assert is_terminal(events[-1])
    assert payload_kind(events_pb2.ProgressEvent()) == ""


def test_event_to_json_is_one_line_that_round_trips() -> None:
    event = canned_events()[-1]
    event.result.text = "第一行\n第二行\u2028第三段\u2029完\x85"
    line = event_to_json(event)
    assert len(line.splitlines()) == 1
    assert "\n" not in line
    assert "第一行" in line  # readable, not \\u-escaped
    assert json_format.Parse(line, events_pb2.ProgressEvent()) == event
    assert json.loads(line)["result"]["citedPassageIds"] == ["mazu60/1/judgment/婚姻/0"]


def test_interpret_request() -> None:
    request = interpret_request(
        "mazu60",
        23,
        "q",
        category="婚姻",
        locale="en",
        max_tokens=100,
        temperature=0.0,
        seed=0,
        disconnect_policy="keep-running",
        grace_period_s=1.5,
    )
    assert request.options.HasField("temperature")
    assert request.options.temperature == 0.0
    assert request.options.HasField("seed")
    assert request.disconnect_policy == interpret_service_pb2.DISCONNECT_POLICY_KEEP_RUNNING
    assert request.grace_period.ToMilliseconds() == 1500
    assert request.request_id != interpret_request("mazu60", 23, "q").request_id
    assert interpret_request("mazu60", 23, "q", request_id="").request_id == ""
    bare = interpret_request("mazu60", 23, "q")
    assert not bare.options.HasField("temperature")
    assert not bare.HasField("grace_period")
    assert bare.disconnect_policy == interpret_service_pb2.DISCONNECT_POLICY_UNSPECIFIED


def test_disconnect_policy_names() -> None:
    keep = interpret_service_pb2.DISCONNECT_POLICY_KEEP_RUNNING
    assert disconnect_policy_value("DISCONNECT_POLICY_KEEP_RUNNING") == keep
    assert disconnect_policy_value("keep_running") == keep
    assert disconnect_policy_value(keep) == keep
    assert disconnect_policy_value("cancel") == interpret_service_pb2.DISCONNECT_POLICY_CANCEL
    with pytest.raises(ValueError, match="DISCONNECT_POLICY_SOMETIMES"):
        disconnect_policy_value("sometimes")
    with pytest.raises(ValueError, match="99"):
        disconnect_policy_value(99)


def test_call_metadata() -> None:
    assert call_metadata("t", [("a", "1")]) == (("a", "1"), ("authorization", "Bearer t"))
    assert call_metadata("t", None, [("Authorization", "Bearer other")]) == (
        ("Authorization", "Bearer other"),
    )
    assert call_metadata(None, None) == ()


def test_retry_policy() -> None:
    policy = RetryPolicy(attempts=2, initial_backoff=0.1, max_backoff=0.3, jitter=0)
    assert [policy.backoff(n) for n in range(4)] == [0.1, 0.2, 0.3, 0.3]
    assert policy.retries_first_event(grpc.StatusCode.CANCELLED, 1)
    assert not policy.retries_first_event(grpc.StatusCode.CANCELLED, 2)
    assert not policy.retries_first_event(grpc.StatusCode.UNAVAILABLE, 0)
    jittery = RetryPolicy(initial_backoff=1, jitter=0.2)
    assert all(0.8 <= jittery.backoff(0) <= 1.2 for _ in range(50))
