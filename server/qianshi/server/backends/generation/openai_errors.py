"""How the LLM relay's failures become the server's errors (``translate``; nothing else does it).

The relay (``openai_api``) raises the HTTP client's exceptions (aiohttp's, or ``OSError``) and two of
its own: ``StatusError`` for an HTTP error status, ``ErrorChunk`` for an error event mid-stream (or a
chunk that is not JSON). Stalls and deadlines are the relay's own (``BackendTimeout``), in the
same table:

=====================================  =====================================================
connection refused / reset, no text    BackendUnavailable  LLM_UNAVAILABLE
HTTP 429 / 502 / 503 / 504             BackendUnavailable  LLM_OVERLOADED / LLM_UNAVAILABLE
HTTP 400 / 404 / 401 / 403 / other     BackendFailed       LLM_REJECTED / LLM_MODEL_NOT_FOUND / …
error chunk (or non-JSON) mid-stream   BackendFailed       LLM_ERROR
connection lost after some text        BackendFailed       LLM_INCOMPLETE
stream ended without a finish reason   BackendFailed       LLM_INCOMPLETE
no chunk for ``stall_timeout_s``       BackendTimeout      LLM_STALLED
request deadline / total timeout       BackendTimeout      DEADLINE_EXCEEDED / LLM_TIMEOUT
=====================================  =====================================================

Every one of them carries the text received so far in ``partial_text``.
"""

from __future__ import annotations

import json
import logging

import aiohttp
from qianshi.server.errors import BackendFailed, BackendTimeout, BackendUnavailable, QianshiError

log = logging.getLogger("qianshi.server.backends.generation.openai_api")
ERROR_BODY_LIMIT = 64 * 1024


SUCCESS_FINISH = frozenset(
    {"stop", "length", "content_filter", "tool_calls", "function_call", "eos", "repetition"}
)
"""Finish reasons of a stream that ended with its text ("length": cut at ``max_tokens``; "repetition":
cut by vLLM's repetition detection, which the guard reports as a loop). Anything else ("abort",
"error") is a failure."""


def check_finish(finish: str | None, partial: str) -> None:
    """Raise what a stream that ended without a finish reason, or with a failed one, stands for."""
    if not finish:
        raise BackendFailed(
            "the LLM stream ended before the model finished", reason="LLM_INCOMPLETE", partial_text=partial
        )
    if finish not in SUCCESS_FINISH:
        raise BackendFailed(
            f"the LLM server ended the generation ({finish})",
            reason="LLM_ABORTED" if finish == "abort" else "LLM_ERROR",
            partial_text=partial,
        )


class StatusError(Exception):
    """Internal: the server answered with an HTTP error status."""

    def __init__(self, status: int, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class ErrorChunk(Exception):
    """Internal: an error event mid-stream (``data: {"error": {...}}``), or data that is not JSON."""


def translate(exc: Exception, partial: str) -> QianshiError:
    """The one place where the HTTP client's and the server's failures become the server's errors."""
    if isinstance(exc, StatusError):
        return _status(exc, partial)
    if isinstance(exc, ErrorChunk):
        log.warning("LLM stream error: %s", exc)
        return BackendFailed(
            "the LLM server reported an error mid-stream", reason="LLM_ERROR", partial_text=partial
        )
    if partial:
        return BackendFailed(
            "the connection to the LLM server was lost mid-stream",
            reason="LLM_INCOMPLETE",
            partial_text=partial,
        )
    return BackendUnavailable(
        "the LLM server is unreachable", reason="LLM_UNAVAILABLE", retry_after_s=1.0, partial_text=partial
    )


async def status_error(response: aiohttp.ClientResponse) -> StatusError:
    """The error an HTTP error status stands for, with the server's message (the response is released)."""
    message = ""
    try:
        raw = await response.content.read(ERROR_BODY_LIMIT)
        payload = json.loads(raw) if raw else None
        error = payload.get("error") if isinstance(payload, dict) else None
        message = str((error.get("message") if isinstance(error, dict) else error) or raw[:200].decode())
    except (ValueError, UnicodeDecodeError, aiohttp.ClientError):
        pass
    finally:
        response.close()
    return StatusError(response.status, message, retry_after(response.headers.get("retry-after")))


def _status(exc: StatusError, partial: str) -> QianshiError:
    status = exc.status
    log.warning("LLM server answered HTTP %d: %s", status, exc.message)
    if status == 429:
        return BackendUnavailable(
            "the LLM server is overloaded",
            reason="LLM_OVERLOADED",
            retry_after_s=exc.retry_after or 1.0,
            partial_text=partial,
        )
    if status in (502, 503, 504):
        return BackendUnavailable(
            f"the LLM server is unavailable (HTTP {status})",
            reason="LLM_UNAVAILABLE",
            retry_after_s=exc.retry_after or 1.0,
            partial_text=partial,
        )
    if status == 408:
        return BackendTimeout(
            "the LLM server timed out the request", reason="LLM_TIMEOUT", partial_text=partial
        )
    reason = {
        400: "LLM_REJECTED",
        401: "LLM_AUTH",
        403: "LLM_AUTH",
        404: "LLM_MODEL_NOT_FOUND",
        413: "LLM_REJECTED",
        422: "LLM_REJECTED",
    }.get(status, "LLM_ERROR")
    return BackendFailed(f"the LLM server answered HTTP {status}", reason=reason, partial_text=partial)


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (None when absent or not a number)."""
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None
