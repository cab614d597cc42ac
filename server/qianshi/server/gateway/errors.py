"""Errors → HTTP and → Connect / gRPC-Web, in exactly one place.

Two kinds of failure reach a browser over SSE:

* **Before the stream starts** (the first event has not been read yet), a failure is an HTTP status
  with a JSON body in the shape of Google's JSON errors::

      {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "…",
                 "fieldViolations": [{"field": "number", "description": "…"}],
                 "reason": "…", "retryAfter": 2.0, "requestId": "…"}}

  gRPC status codes map as googleapis' ``google.rpc.Code`` documents (INVALID_ARGUMENT 400,
  UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404, RESOURCE_EXHAUSTED 429 with
  ``Retry-After``, UNAVAILABLE 503, DEADLINE_EXCEEDED 504 …).
* **After it started**, the status line is long gone: the failure becomes a final ``event: error``
  frame whose data has the shape of a ProgressEvent carrying an ``error`` payload, so a page handles
  a failure of the backend call exactly like a task's own terminal error event.

The gateway's own refusals (a field it cannot parse, a malformed ``Last-Event-ID`` or token) are
:class:`GatewayError`; failures of the backend arrive as the client library's
``QianshiClientError`` tree; anything else is a bug, logged with an incident id and reported as 500
without ``str(exc)``.

Over gRPC-Web and Connect (``rpc.py``) the gateway is a relay, so a failed backend call reaches the
browser as the very status a direct gRPC caller gets: :func:`to_connect_error` keeps its code, its
message and the details of its ``google.rpc.Status`` byte for byte (BadRequest, ErrorInfo, RetryInfo
…). connectrpc then writes them as ``grpc-status`` / ``grpc-message`` / ``grpc-status-details-bin``
for gRPC-Web and as the error JSON's ``details`` (``{"type", "value"}``, base64) for Connect. The
gateway's own refusals (a malformed token, a foreign origin) become the same shape with an
``ErrorInfo`` (domain ``qianshi.v1``) and, for a bad field, a ``BadRequest``, as the server would
write them; anything else is INTERNAL with an incident id, as above.
"""

from __future__ import annotations

import logging
import math
import uuid
from typing import Any

import grpc
from connectrpc.code import Code
from connectrpc.errors import ConnectError, ErrorDetail
from google.protobuf import any_pb2
from google.rpc import error_details_pb2
from protobuf.wkt import Any as WireAny
from qianshi.client import FieldViolation, QianshiClientError
from starlette.responses import JSONResponse

log = logging.getLogger(__name__)

#: gRPC status code → HTTP status (google.rpc.Code's documented mapping).
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


#: gRPC status code → Connect code (the same codes under Connect's names; CANCELLED is ``canceled``).
CONNECT_CODE: dict[grpc.StatusCode, Code] = {
    code: Code.CANCELED if code is grpc.StatusCode.CANCELLED else Code[code.name]
    for code in grpc.StatusCode
    if code is not grpc.StatusCode.OK
}
DOMAIN = "qianshi.v1"


class GatewayError(Exception):
    """A request the gateway refuses by itself, before calling the backend."""

    def __init__(self, code: grpc.StatusCode, message: str, *violations: FieldViolation) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.violations = violations

    @classmethod
    def bad_field(cls, field: str, description: str) -> GatewayError:
        """INVALID_ARGUMENT naming one field (a query parameter, a body key or a header)."""
        return cls(
            grpc.StatusCode.INVALID_ARGUMENT, f"{field}: {description}", FieldViolation(field, description)
        )


def error_response(exc: BaseException) -> JSONResponse:
    """The HTTP response for a failure before the stream started."""
    body = _describe(exc)
    status: int = body["code"]
    headers: dict[str, str] = {}
    retry_after = body.get("retryAfter")
    if retry_after is not None or status == 429:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after or 1)))
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def error_frame_data(exc: BaseException, task_id: str) -> dict[str, Any]:
    """The data of the final ``event: error`` frame for a failure after the stream started."""
    body = _describe(exc)
    status: dict[str, Any] = {"code": _code_of(exc).value[0], "message": body["message"]}
    out: dict[str, Any] = {"stage": "STAGE_DONE", "message": body["message"], "error": {"status": status}}
    if task_id:
        out["taskId"] = task_id
    partial = getattr(exc, "partial_text", "")
    if partial:
        out["error"]["partialText"] = partial
    return out


def _code_of(exc: BaseException) -> grpc.StatusCode:
    if isinstance(exc, QianshiClientError | GatewayError):
        return exc.code
    return grpc.StatusCode.INTERNAL


def _describe(exc: BaseException) -> dict[str, Any]:
    """The JSON error body for ``exc``, without its ``{"error": …}`` envelope."""
    code = _code_of(exc)
    body: dict[str, Any] = {"code": HTTP_STATUS.get(code, 500), "status": code.name}
    if isinstance(exc, GatewayError):
        body["message"] = exc.message
        violations: tuple[FieldViolation, ...] = exc.violations
    elif isinstance(exc, QianshiClientError):
        body["message"] = exc.message or code.name.lower().replace("_", " ")
        violations = exc.field_violations
        details = exc.details
        if details.reason:
            body["reason"] = details.reason
        if details.retry_after is not None:
            body["retryAfter"] = details.retry_after
        if details.request_id:
            body["requestId"] = details.request_id
    else:
        incident = uuid.uuid4().hex[:12]
        log.error("gateway error, incident %s", incident, exc_info=exc)
        body["message"] = f"internal error (incident {incident})"
        body["requestId"] = incident
        violations = ()
    if violations:
        body["fieldViolations"] = [{"field": v.field, "description": v.description} for v in violations]
    return body


def to_connect_error(exc: BaseException) -> ConnectError:
    """The Connect error (gRPC-Web or Connect on the wire) for a failure of a relayed call."""
    if isinstance(exc, QianshiClientError):
        status = exc.status
        details = [_wire(any_detail) for any_detail in status.details] if status is not None else []
        return ConnectError(CONNECT_CODE.get(exc.code, Code.UNKNOWN), exc.message, details)
    if isinstance(exc, GatewayError):
        own = [_pack(error_details_pb2.ErrorInfo(reason=exc.code.name, domain=DOMAIN))]
        if exc.violations:
            bad = error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in exc.violations
                ]
            )
            own.append(_pack(bad))
        return ConnectError(CONNECT_CODE[exc.code], exc.message, own)
    body = _describe(exc)  # logs it with an incident id
    return ConnectError(Code.INTERNAL, body["message"])


def _pack(message: Any) -> ErrorDetail:
    any_detail = any_pb2.Any()
    any_detail.Pack(message)
    return _wire(any_detail)


def _wire(any_detail: any_pb2.Any) -> ErrorDetail:
    """A google.protobuf ``Any`` as connectrpc's own ``Any`` (its message runtime is protobuf-py):
    the type URL and the bytes are carried over untouched."""
    return ErrorDetail(WireAny(type_url=any_detail.type_url, value=any_detail.value))
