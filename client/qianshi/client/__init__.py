"""Python client of the Qianshi service (qianshi.v1.InterpretService), and the ``qianshi`` command.

::

    async with AsyncClient("127.0.0.1:50051", token=...) as client:
        async for event in client.interpret("mazu60", 23, "這次換工作順利嗎？"):
            print(payload_kind(event), event.percent, event.message)

``Client`` is the same over a synchronous channel. Failed calls raise the exceptions of
:mod:`qianshi.client.errors`; streams yield ``qianshi.v1.ProgressEvent`` messages.
"""

from qianshi.client.aio import AsyncClient
from qianshi.client.connection import DEFAULT_TARGET, RetryPolicy
from qianshi.client.errors import (
    Cancelled,
    DeadlineExceeded,
    ErrorDetails,
    FieldViolation,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    QianshiClientError,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    from_error_event,
    from_rpc_error,
)
from qianshi.client.events import event_to_json, is_terminal, payload_kind
from qianshi.client.messages import interpret_request, new_request_id
from qianshi.client.sync import Client

__all__ = [
    "DEFAULT_TARGET",
    "AsyncClient",
    "Cancelled",
    "Client",
    "DeadlineExceeded",
    "ErrorDetails",
    "FieldViolation",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "QianshiClientError",
    "ResourceExhausted",
    "RetryPolicy",
    "Unauthenticated",
    "Unavailable",
    "event_to_json",
    "from_error_event",
    "from_rpc_error",
    "interpret_request",
    "is_terminal",
    "new_request_id",
    "payload_kind",
]
