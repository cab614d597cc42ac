"""How a task's end by an exception is reported: the ``Failure`` payload for each kind of end.

One place decides the status of every way a task can fail — cancelled, drained by a shutdown, past
its deadline, a backend error, a full log, a bug — so the terminal event and the call's status agree.
"""

from __future__ import annotations

import asyncio

from qianshi.server.errors import ErrorCode, QianshiError
from qianshi.server.pipeline.eventlog import LogFull
from qianshi.server.pipeline.events import Failure

DRAINING = "qianshi:draining"
"""The cancel message that tells a task the server is shutting down (it then ends UNAVAILABLE)."""


def failure_of(exc: BaseException, task_id: str, partial_text: str) -> Failure:
    """The terminal payload for a task ended by ``exc``, keeping the text generated so far."""
    if isinstance(exc, asyncio.CancelledError):
        if exc.args and exc.args[0] == DRAINING:
            return Failure(
                ErrorCode.UNAVAILABLE,
                "the server is shutting down; retry the request on another server",
                "SERVER_DRAINING",
                partial_text,
                retry_after_s=1.0,
            )
        return Failure(ErrorCode.CANCELLED, "the task was cancelled", "CANCELLED", partial_text)
    if isinstance(exc, TimeoutError):
        return Failure(
            ErrorCode.DEADLINE_EXCEEDED,
            "the deadline passed before the interpretation was finished",
            "DEADLINE_EXCEEDED",
            partial_text,
        )
    if isinstance(exc, QianshiError):
        return Failure(
            exc.code,
            exc.message,
            exc.reason,
            exc.partial_text or partial_text,
            exc.violations,
            exc.retry_after_s,
        )
    if isinstance(exc, LogFull):
        return Failure(ErrorCode.RESOURCE_EXHAUSTED, "the task produced too many events", "LOG_FULL")
    return Failure(ErrorCode.INTERNAL, f"internal error (task {task_id})", "INTERNAL", partial_text)


def expected(exc: BaseException) -> bool:
    """False for a bug (worth a stack trace in the log), True for a reported kind of end."""
    return isinstance(exc, (asyncio.CancelledError, TimeoutError, QianshiError, LogFull))
