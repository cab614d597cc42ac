"""The errors of the Qianshi server, in one tree.

::

    QianshiError                 (code: ErrorCode, message, reason)
    ├── InvalidArgument          bad input, naming the field (INVALID_ARGUMENT)
    ├── NotFound                 unknown set, poem or task (NOT_FOUND)
    ├── ResourceExhausted        over capacity, with a retry hint (RESOURCE_EXHAUSTED)
    ├── Unauthenticated          missing or wrong token (UNAUTHENTICATED)
    ├── PermissionDenied         a task that belongs to another caller (PERMISSION_DENIED)
    ├── BackendUnavailable       retrieval or LLM backend down, or the server draining (UNAVAILABLE)
    ├── BackendTimeout           a backend stalled past its limit or the deadline passed (DEADLINE_EXCEEDED)
    └── BackendFailed            a backend answered with an error mid-way (INTERNAL, with a reason)

The pipeline and the backends raise these; foreign exceptions (qdrant, httpx, openai, vLLM) are
translated into them at exactly one place per backend. The transport maps them onto gRPC statuses in
exactly one place (``service/status.py``); anything else becomes INTERNAL with a request id, never a
leaked ``str(exc)``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorCode(enum.Enum):
    """Status codes, named as gRPC's (the transport maps them one to one)."""

    CANCELLED = "CANCELLED"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    INTERNAL = "INTERNAL"
    UNAVAILABLE = "UNAVAILABLE"
    UNAUTHENTICATED = "UNAUTHENTICATED"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field of a request (google.rpc.BadRequest.FieldViolation)."""

    field: str
    description: str


class QianshiError(Exception):
    """Base of every error the server reports on purpose.

    ``message`` is developer-facing English and safe to send to the caller; ``reason`` is a stable
    UPPER_SNAKE identifier (google.rpc.ErrorInfo.reason).
    """

    code: ErrorCode = ErrorCode.INTERNAL
    default_reason: str = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        violations: tuple[FieldViolation, ...] = (),
        retry_after_s: float | None = None,
        partial_text: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.violations = violations
        self.retry_after_s = retry_after_s
        self.partial_text = partial_text


class InvalidArgument(QianshiError):
    code = ErrorCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        """The error for one bad field."""
        return cls(f"{field}: {description}", violations=(FieldViolation(field, description),))


class NotFound(QianshiError):
    code = ErrorCode.NOT_FOUND
    default_reason = "NOT_FOUND"


class ResourceExhausted(QianshiError):
    code = ErrorCode.RESOURCE_EXHAUSTED
    default_reason = "OVERLOADED"


class Unauthenticated(QianshiError):
    code = ErrorCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class PermissionDenied(QianshiError):
    code = ErrorCode.PERMISSION_DENIED
    default_reason = "NOT_OWNER"


class BackendUnavailable(QianshiError):
    code = ErrorCode.UNAVAILABLE
    default_reason = "BACKEND_UNAVAILABLE"


class BackendTimeout(QianshiError):
    code = ErrorCode.DEADLINE_EXCEEDED
    default_reason = "BACKEND_TIMEOUT"


class BackendFailed(QianshiError):
    code = ErrorCode.INTERNAL
    default_reason = "BACKEND_FAILED"
