"""Errors → gRPC statuses, in exactly one place.

A ``QianshiError`` becomes its status code with rich details (google.rpc.BadRequest for bad fields,
ErrorInfo with the reason, RetryInfo with the retry hint); anything else becomes INTERNAL with an id the
operator can find in the logs, never ``str(exc)`` or a stack trace.
"""

from __future__ import annotations

import logging
import uuid

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from qianshi.server.errors import ErrorCode, FieldViolation, QianshiError

log = logging.getLogger(__name__)
DOMAIN = "qianshi.v1"

GRPC_CODES: dict[ErrorCode, grpc.StatusCode] = {
    code: getattr(grpc.StatusCode, code.value) for code in ErrorCode
}
RPC_CODES: dict[ErrorCode, int] = {code: getattr(code_pb2, code.value) for code in ErrorCode}


def status_proto(
    code: ErrorCode,
    message: str,
    reason: str,
    violations: tuple[FieldViolation, ...] = (),
    retry_after_s: float | None = None,
) -> status_pb2.Status:
    details: list[any_pb2.Any] = []
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN))
    details.append(info)
    if violations:
        bad = any_pb2.Any()
        bad.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in violations
                ]
            )
        )
        details.append(bad)
    if retry_after_s is not None:
        retry = any_pb2.Any()
        whole = int(retry_after_s)
        retry.Pack(
            error_details_pb2.RetryInfo(
                retry_delay=duration_pb2.Duration(seconds=whole, nanos=int((retry_after_s - whole) * 1e9))
            )
        )
        details.append(retry)
    return status_pb2.Status(code=RPC_CODES[code], message=message, details=details)


def from_error(exc: BaseException) -> status_pb2.Status:
    """The status for any exception (unknown ones are logged with an id and reported as INTERNAL)."""
    if isinstance(exc, QianshiError):
        return status_proto(exc.code, exc.message, exc.reason, exc.violations, exc.retry_after_s)
    incident = uuid.uuid4().hex[:12]
    log.error("internal error %s", incident, exc_info=exc)
    return status_proto(ErrorCode.INTERNAL, f"internal error (incident {incident})", "INTERNAL")


def to_grpc(status: status_pb2.Status) -> grpc.Status:
    """The grpc.Status (code, details and trailing metadata) to end a call with."""
    return rpc_status.to_status(status)
