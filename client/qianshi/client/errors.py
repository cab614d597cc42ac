"""The errors a Qianshi client raises, in one tree.

::

    QianshiClientError           (code: grpc.StatusCode, message, details: ErrorDetails)
    ├── InvalidArgument          bad input; ``field_violations`` name the fields (INVALID_ARGUMENT)
    ├── NotFound                 unknown set, poem number or task (NOT_FOUND)
    ├── ResourceExhausted        the server is full; ``retry_after`` says when to try again
    ├── Unauthenticated          missing or wrong token (UNAUTHENTICATED)
    ├── PermissionDenied         a task that belongs to another caller (PERMISSION_DENIED)
    ├── Unavailable              server or backend down, server draining, connection lost
    ├── DeadlineExceeded         the call's deadline passed, or a backend stalled past its limit
    ├── Cancelled                the call or the task was cancelled (CANCELLED)
    └── Internal                 the server failed (INTERNAL; ``request_id`` identifies it)

Any other status code (UNKNOWN, FAILED_PRECONDITION …) is raised as the base class.

gRPC errors are translated here and nowhere else: :func:`from_rpc_error` reads the call's code and
message and the rich details (``google.rpc.Status`` in the ``grpc-status-details-bin`` trailer);
:func:`from_error_event` does the same for a terminal ``error`` event of a stream, whose
``google.rpc.Status`` is the status the call then ends with.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import message as _message
from google.rpc import error_details_pb2, status_pb2
from qianshi.v1 import events_pb2

__all__ = [
    "Cancelled",
    "DeadlineExceeded",
    "ErrorDetails",
    "FieldViolation",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "QianshiClientError",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
    "from_error_event",
    "from_rpc_error",
    "from_status",
]

_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field of a request (``google.rpc.BadRequest.FieldViolation``)."""

    field: str
    description: str


@dataclass(frozen=True, slots=True)
class ErrorDetails:
    """The rich details of an error status, each empty when the server sent none.

    ``retry_after`` is in seconds (``google.rpc.RetryInfo``); ``reason``, ``domain`` and ``metadata``
    come from ``google.rpc.ErrorInfo``; ``request_id`` from ``google.rpc.RequestInfo`` (or the
    ErrorInfo metadata key ``request_id``); ``localized_message`` from ``google.rpc.LocalizedMessage``.
    """

    field_violations: tuple[FieldViolation, ...] = ()
    retry_after: float | None = None
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    request_id: str = ""
    localized_message: str = ""


class QianshiClientError(Exception):
    """Base of every error the client raises for a failed call or a failed task.

    ``partial_text`` is the text generated before a task failed (terminal error events only);
    ``task_id`` is the task the error ended, when known.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        details: ErrorDetails | None = None,
        *,
        status: status_pb2.Status | None = None,
        partial_text: str = "",
        task_id: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details if details is not None else ErrorDetails()
        self.status = status
        self.partial_text = partial_text
        self.task_id = task_id

    @property
    def code_name(self) -> str:
        """The status code's name, for example ``"INVALID_ARGUMENT"``."""
        return str(self.code.name)

    @property
    def field_violations(self) -> tuple[FieldViolation, ...]:
        """The bad fields named by a ``google.rpc.BadRequest`` detail."""
        return self.details.field_violations

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait before retrying, from a ``google.rpc.RetryInfo`` detail."""
        return self.details.retry_after

    @property
    def reason(self) -> str:
        """The stable reason of a ``google.rpc.ErrorInfo`` detail, for example ``"OVERLOADED"``."""
        return self.details.reason

    def __str__(self) -> str:
        text = f"{self.code_name}: {self.message}"
        extras = [f"{v.field}: {v.description}" for v in self.field_violations]
        if self.retry_after is not None:
            extras.append(f"retry after {self.retry_after:g}s")
        return f"{text} ({'; '.join(extras)})" if extras else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code_name}, {self.message!r})"


class InvalidArgument(QianshiClientError):
    """The request was refused before any work started; ``field_violations`` name the fields."""


class NotFound(QianshiClientError):
    """An unknown poem set, poem number or task."""


class ResourceExhausted(QianshiClientError):
    """The server is at capacity; ``retry_after`` says when to try again."""


class Unauthenticated(QianshiClientError):
    """The token is missing or wrong."""


class PermissionDenied(QianshiClientError):
    """The task belongs to another caller."""


class Unavailable(QianshiClientError):
    """The server or a backend is unreachable, or the server is draining."""


class DeadlineExceeded(QianshiClientError):
    """The call's deadline passed, or a backend stalled past its limit."""


class Cancelled(QianshiClientError):
    """The call or the task was cancelled."""


class Internal(QianshiClientError):
    """The server failed; ``details.request_id`` identifies the failure in its logs."""


_CLASSES: dict[grpc.StatusCode, type[QianshiClientError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.INTERNAL: Internal,
}

_CODES_BY_NUMBER: dict[int, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}


def status_code(number: int) -> grpc.StatusCode:
    """The ``grpc.StatusCode`` for a numeric ``google.rpc.Code`` (UNKNOWN for numbers out of range)."""
    return _CODES_BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)


def parse_details(status: status_pb2.Status) -> ErrorDetails:
    """Unpack the details of a ``google.rpc.Status`` that this client understands; skip the rest."""
    violations: list[FieldViolation] = []
    retry_after: float | None = None
    reason = domain = request_id = localized = ""
    metadata: dict[str, str] = {}
    for any_detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        retry_info = error_details_pb2.RetryInfo()
        error_info = error_details_pb2.ErrorInfo()
        request_info = error_details_pb2.RequestInfo()
        localized_message = error_details_pb2.LocalizedMessage()
        if any_detail.Unpack(bad_request):
            violations.extend(FieldViolation(v.field, v.description) for v in bad_request.field_violations)
        elif any_detail.Unpack(retry_info):
            retry_after = retry_info.retry_delay.ToTimedelta().total_seconds()
        elif any_detail.Unpack(error_info):
            reason, domain = error_info.reason, error_info.domain
            metadata.update(error_info.metadata)
        elif any_detail.Unpack(request_info):
            request_id = request_info.request_id
        elif any_detail.Unpack(localized_message):
            localized = localized_message.message
    return ErrorDetails(
        field_violations=tuple(violations),
        retry_after=retry_after,
        reason=reason,
        domain=domain,
        metadata=metadata,
        request_id=request_id or metadata.get("request_id", ""),
        localized_message=localized,
    )


def from_status(
    status: status_pb2.Status, *, partial_text: str = "", task_id: str = ""
) -> QianshiClientError:
    """The exception for a ``google.rpc.Status`` (for example, the one in a terminal error event)."""
    code = status_code(status.code)
    return _CLASSES.get(code, QianshiClientError)(
        code,
        status.message,
        parse_details(status),
        status=status,
        partial_text=partial_text,
        task_id=task_id,
    )


def from_error_event(event: events_pb2.ProgressEvent) -> QianshiClientError:
    """The exception for a terminal ``error`` event: its status, partial text and task id."""
    return from_status(event.error.status, partial_text=event.error.partial_text, task_id=event.task_id)


def from_rpc_error(exc: grpc.RpcError) -> QianshiClientError:
    """The exception for a failed gRPC call (sync ``grpc.RpcError`` or ``grpc.aio.AioRpcError``).

    The rich status in the ``grpc-status-details-bin`` trailer is decoded directly rather than with
    ``grpc_status.rpc_status.from_call``, which raises when a proxy rewrote the message; the code and
    message of the call itself always win.
    """
    code: grpc.StatusCode = _call_attr(exc, "code", grpc.StatusCode.UNKNOWN)
    message: str = _call_attr(exc, "details", "") or ""
    status = _rich_status(_call_attr(exc, "trailing_metadata", None))
    details = parse_details(status) if status is not None else ErrorDetails()
    return _CLASSES.get(code, QianshiClientError)(code, message, details, status=status)


def _call_attr(exc: grpc.RpcError, name: str, default: Any) -> Any:
    """Call ``exc.<name>()`` when the error is also a ``grpc.Call``; ``default`` otherwise."""
    method = getattr(exc, name, None)
    if method is None:
        return default
    value = method()
    return default if value is None else value


def _rich_status(trailing_metadata: Iterable[Any] | None) -> status_pb2.Status | None:
    """The ``google.rpc.Status`` carried in the trailers, if any and if it parses."""
    for key, value in trailing_metadata or ():
        if key == _DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except _message.DecodeError:
                return None
    return None
