"""Building the request messages, shared by both clients and by other callers (the HTTP gateway)."""

from __future__ import annotations

import datetime
import uuid
from typing import cast

from qianshi.v1 import interpret_service_pb2

__all__ = ["DisconnectPolicyLike", "disconnect_policy_value", "interpret_request", "new_request_id"]

#: A disconnect policy as the enum value, its name (``"DISCONNECT_POLICY_KEEP_RUNNING"``), or its
#: short name in any case (``"keep_running"``, ``"keep-running"``, ``"cancel"``).
DisconnectPolicyLike = int | str

_POLICY_PREFIX = "DISCONNECT_POLICY_"


def new_request_id() -> str:
    """A fresh request id: unique, and within the contract's ``[A-Za-z0-9._:-]{1,128}``."""
    return f"qs-{uuid.uuid4().hex}"


def disconnect_policy_value(policy: DisconnectPolicyLike) -> interpret_service_pb2.DisconnectPolicy:
    """The ``DisconnectPolicy`` enum value for a value or a (short) name; ValueError if unknown."""
    if isinstance(policy, str):
        name = policy.strip().upper().replace("-", "_")
        if not name.startswith(_POLICY_PREFIX):
            name = _POLICY_PREFIX + name
    else:
        name = interpret_service_pb2.DisconnectPolicy.Name(policy)  # ValueError when unknown
    return cast(interpret_service_pb2.DisconnectPolicy, interpret_service_pb2.DisconnectPolicy.Value(name))


def interpret_request(
    set_id: str,
    number: int,
    question: str,
    *,
    category: str = "",
    locale: str = "",
    max_tokens: int = 0,
    temperature: float | None = None,
    seed: int | None = None,
    request_id: str | None = None,
    disconnect_policy: DisconnectPolicyLike | None = None,
    grace_period_s: float | None = None,
) -> interpret_service_pb2.InterpretRequest:
    """Build an ``InterpretRequest``.

    ``request_id=None`` draws a fresh id, so that retrying the returned request re-attaches to the
    task it started instead of starting a second one; pass ``""`` to send none. Unset optional
    fields (``temperature``, ``seed``, ``grace_period_s``, ``disconnect_policy``) leave the server's
    defaults in force. Values are not validated here: the server refuses bad input with
    INVALID_ARGUMENT naming the field.
    """
    request = interpret_service_pb2.InterpretRequest(
        set_id=set_id,
        number=number,
        question=question,
        category=category,
        locale=locale,
        request_id=new_request_id() if request_id is None else request_id,
    )
    request.options.max_tokens = max_tokens
    if temperature is not None:
        request.options.temperature = temperature
    if seed is not None:
        request.options.seed = seed
    if disconnect_policy is not None:
        request.disconnect_policy = disconnect_policy_value(disconnect_policy)
    if grace_period_s is not None:
        request.grace_period.FromTimedelta(datetime.timedelta(seconds=grace_period_s))
    return request
