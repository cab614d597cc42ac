"""The vLLM-server generator: streaming chat completions from any OpenAI-compatible server.

It relays ``vllm serve`` (or any server with OpenAI's chat completions API) with aiohttp — the HTTP
client vLLM itself ships with, whose parser is C — and ``sse.EventReader``, asking for
``stream_options.include_usage`` so the last chunk carries the token usage. Each event's data is one
JSON chunk, decoded to a dict and read for its delta, finish reason and usage; nothing else is built
per chunk. This replaced the official ``openai`` client (bench/README.md: the same stream cost the
server ~3× the CPU per chunk through openai → httpx → anyio → h11).

Timing is ours, not the HTTP library's: the wait for the response (vLLM sends nothing while the
request queues and the prompt is read) and then every wait for the next chunk are bounded by the
stall limit and by the request's deadline — by ``asyncio.timeout_at`` until the response starts,
then by one lazy timer per request (``_Watchdog``) that hangs up when a limit is hit, so that no timer
is armed per chunk and nothing ever bounds a ``yield``.

Aborting is closing: vLLM aborts a request when its client goes away, so the ``finally`` of ``stream``
closes the connection whether the stream failed, was cancelled or was closed by its consumer (closing
is synchronous: a second cancel cannot interrupt it). A stream read to its end hands the connection
back to the pool for the next request. Requests are never retried once they may have reached the
engine, except a connection that failed before any response came (refused, reset, closed): that is
retried twice, with backoff — vLLM aborts a request whose connection died, so it cannot generate twice.

Each request carries ``X-Request-Id: <task id>`` (vLLM logs it: ``chatcmpl-<task id>``), the API key
as ``Authorization: Bearer``, and the headers of the ``headers`` hook (a W3C ``traceparent``).

Failures are translated to the server's errors in ``openai_errors`` (its docstring has the table);
every one of them carries the text received so far in ``partial_text``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp
from qianshi.server.backends.generation.openai_errors import (
    ErrorChunk,
    StatusError,
    check_finish,
    status_error,
    translate,
)
from qianshi.server.backends.generation.prompt import PROMPT_VERSION, build_messages, estimate_tokens
from qianshi.server.backends.generation.sampling import Sampling
from qianshi.server.backends.generation.sse import EventReader
from qianshi.server.errors import BackendTimeout, BackendUnavailable, QianshiError
from qianshi.server.writing import GenerationChunk, GenerationRequest

log = logging.getLogger(__name__)

CONNECT_RETRIES = 2
CLOSE_TIMEOUT_S = 1.0
loads: Callable[[bytes], Any] = json.loads
"""How a chunk is decoded (bench/README.md compares decoders on this hot path)."""


class _Stalled(Exception):
    """Internal: the wait for the next chunk hit a limit (translated with the text so far)."""

    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


class _Watchdog:
    """The one timer of a streaming response: it hangs up (closes the response, which ends the read
    that waits) when no chunk came for ``stall`` seconds or the loop time ``end`` passed.

    Lazy, because it sits on the hot path: a chunk only sets ``last``; the timer, armed for the
    earliest moment the limit could be hit, looks again when it fires (about once per ``stall``
    seconds while chunks flow) — no timer is armed and cancelled per chunk.
    """

    __slots__ = ("_handle", "_loop", "_response", "end", "expired", "last", "stall")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, response: aiohttp.ClientResponse, stall: float, end: float
    ) -> None:
        self._loop = loop
        self._response = response
        self.stall = stall
        self.end = end
        self.last = loop.time()
        self.expired = ""
        """"stall" or "end" once it hung up."""
        self._handle = loop.call_at(self._due(), self._check)

    def _due(self) -> float:
        return min(self.last + self.stall, self.end)

    def _check(self) -> None:
        due = self._due()
        if self._loop.time() < due - 1e-3:  # a chunk came meanwhile: look again when it could be late
            self._handle = self._loop.call_at(due, self._check)
            return
        self.expired = "end" if due >= self.end else "stall"
        self._response.close()

    def finish_within(self, seconds: float) -> None:
        self.end = min(self.end, self._loop.time() + seconds)
        self._handle.cancel()
        self._handle = self._loop.call_at(self._due(), self._check)

    def cancel(self) -> None:
        self._handle.cancel()


class OpenAIGenerator:
    """Streams interpretations from an OpenAI-compatible chat completions endpoint."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        *,
        timeout_s: float = 120.0,
        connect_timeout_s: float = 5.0,
        stall_timeout_s: float = 30.0,
        max_context_tokens: int = 8192,
        headers: Callable[[GenerationRequest], Mapping[str, str]] | None = None,
        prompt_version: str = PROMPT_VERSION,
        sampling: Sampling | None = None,
    ) -> None:
        """``headers(request)`` adds per-request HTTP headers (the hook for a W3C ``traceparent``)."""
        self.model = model
        self.prompt_version = prompt_version
        self.sampling = sampling or Sampling()
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.max_context_tokens = max_context_tokens
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = headers
        self._base_headers = {
            "Authorization": f"Bearer {api_key or 'EMPTY'}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "User-Agent": "qianshi",
        }
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """The connection pool, made on first use (it belongs to the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # No pool limit: the server's generation slots (--max-generations) bound the streams.
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30.0),
                # Reads are bounded by the request's _Watchdog (aiohttp's sock_read would re-arm a
                # timer on every packet).
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout_s),
                trust_env=True,  # HTTP(S)_PROXY / NO_PROXY, as the openai client honoured them
                auto_decompress=False,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        """Generate the interpretation for ``request`` (see the module docstring for the faults)."""
        end = time.monotonic() + self.timeout_s
        deadline_reason = "LLM_TIMEOUT"
        if request.deadline is not None and request.deadline < end:
            end, deadline_reason = request.deadline, "DEADLINE_EXCEEDED"
        messages = build_messages(
            request,
            max_prompt_tokens=self.max_context_tokens - request.max_tokens,
            count_tokens=estimate_tokens,
            version=self.prompt_version,
        )
        parts: list[str] = []
        finish = ""
        model = self.model
        prompt_tokens = completion_tokens = counted = 0
        response: aiohttp.ClientResponse | None = None
        watchdog: _Watchdog | None = None
        reusable = False
        try:
            response = await self._open(request, messages, end, deadline_reason)
            loop = asyncio.get_running_loop()
            watchdog = _Watchdog(loop, response, self.stall_timeout_s, loop.time() + end - time.monotonic())
            events = EventReader(response.content.readany)
            while True:
                try:
                    data = await events.next_event()
                except (aiohttp.ClientError, OSError):
                    if watchdog.expired:  # the watchdog hung up: a limit, not a fault of the server
                        raise self._limit(watchdog, deadline_reason) from None
                    raise
                if data is None or data.startswith(b"[DONE]"):
                    if watchdog.expired:
                        raise self._limit(watchdog, deadline_reason)
                    break
                watchdog.last = loop.time()
                chunk = _decode(data)
                model = chunk.get("model") or model
                usage = chunk.get("usage")
                if usage:
                    prompt_tokens = int(usage.get("prompt_tokens") or 0)
                    completion_tokens = int(usage.get("completion_tokens") or 0)
                choices = chunk.get("choices")
                if choices and isinstance(choice := choices[0], dict):
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        # A chunk is one token unless the server batches them (stream_interval, or
                        # it fell behind); with usage on every chunk (continuous_usage_stats, asked
                        # for with stream_interval) the count is exact.
                        tokens = max(completion_tokens - counted, 0) if usage else 1
                        counted += tokens
                        parts.append(content)
                        yield GenerationChunk(text=content, tokens=tokens)
                    if not finish and (finish := choice.get("finish_reason") or ""):
                        # Only the usage chunk and [DONE] are left: do not hold a finished text hostage.
                        watchdog.finish_within(CLOSE_TIMEOUT_S)
            reusable = events.eof or await _drain(events)
        except _Stalled as stalled:
            if not finish:
                raise self._timeout(stalled, "".join(parts)) from None
        except (StatusError, ErrorChunk, aiohttp.ClientError, OSError) as exc:
            if not finish:  # the text was complete; a hiccup after it changes nothing
                raise translate(exc, "".join(parts)) from exc
        finally:
            if watchdog is not None:
                watchdog.cancel()
            if response is not None:
                # release: the body was read to its end, the connection goes back to the pool;
                # close: the server sees its client leave (and vLLM aborts the request).
                if reusable:
                    response.release()
                else:
                    response.close()
        check_finish(finish, "".join(parts))
        yield GenerationChunk(
            final=True,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens or counted,
            finish_reason=finish,
            model=model,
            prompt_version=self.prompt_version,
        )

    def _body(self, request: GenerationRequest, messages: list[dict[str, str]]) -> bytes:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            # Chunks of several tokens (stream_interval) carry their count: usage on every chunk.
            "stream_options": {"include_usage": True, "continuous_usage_stats": True}
            if self.sampling.stream_interval > 1
            else {"include_usage": True},
            **self.sampling.openai_fields(request),
        }
        return json.dumps(body, ensure_ascii=False).encode()

    async def _open(
        self, request: GenerationRequest, messages: list[dict[str, str]], end: float, deadline_reason: str
    ) -> aiohttp.ClientResponse:
        """Send the request and wait for the response to start; retry a connection that failed."""
        body = self._body(request, messages)
        headers = {**self._base_headers, "X-Request-Id": request.request_id}
        if self._headers is not None:
            headers.update(self._headers(request))
        session = self._client()
        loop = asyncio.get_running_loop()
        for attempt in range(CONNECT_RETRIES + 1):
            try:
                async with asyncio.timeout_at(loop.time() + self._wait_limit(end, deadline_reason)):
                    response = await session.post(self._url, data=body, headers=headers)
                    if response.status >= 400:
                        raise await status_error(response)
                    return response
            except (aiohttp.ClientConnectionError, ConnectionError) as exc:
                # Nothing came back (refused, reset, closed before a response). Nothing reached the
                # engine, or the request died with its connection, which vLLM aborts: a new attempt
                # cannot generate twice.
                if isinstance(exc, aiohttp.ServerTimeoutError):
                    raise
                backoff = 0.1 * 3**attempt
                if attempt == CONNECT_RETRIES or time.monotonic() + backoff >= end:
                    raise
                log.info("LLM server unreachable (%s); retrying in %.1f s", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
            except TimeoutError:
                raise self._limit_hit(end, deadline_reason) from None
        raise AssertionError("unreachable")

    def _limit(self, watchdog: _Watchdog, deadline_reason: str) -> _Stalled:
        if watchdog.expired == "stall":
            return _Stalled("LLM_STALLED", self.stall_timeout_s)
        return _Stalled(deadline_reason, self.timeout_s)

    def _wait_limit(self, end: float, deadline_reason: str) -> float:
        left = end - time.monotonic()
        if left <= 0:
            raise _Stalled(deadline_reason, self.timeout_s)
        return min(self.stall_timeout_s, left)

    def _limit_hit(self, end: float, deadline_reason: str) -> _Stalled:
        if time.monotonic() >= end - 1e-3:
            return _Stalled(deadline_reason, self.timeout_s)
        return _Stalled("LLM_STALLED", self.stall_timeout_s)

    def _timeout(self, stalled: _Stalled, partial: str) -> QianshiError:
        if stalled.reason == "LLM_STALLED":
            message = f"the LLM sent nothing for {stalled.seconds:.1f} s"
        elif stalled.reason == "LLM_TIMEOUT":
            message = f"the LLM did not finish within {stalled.seconds:.1f} s"
        else:
            message = "the deadline passed before the LLM finished"
        return BackendTimeout(message, reason=stalled.reason, partial_text=partial)


def _decode(data: bytes) -> dict[str, Any]:
    """One event's JSON chunk; ``ErrorChunk`` for an error event or data that is not a JSON object."""
    try:
        chunk = loads(data)
    except ValueError:
        raise ErrorChunk("the LLM server sent a chunk that is not JSON") from None
    if not isinstance(chunk, dict):
        raise ErrorChunk("the LLM server sent a chunk that is not a JSON object")
    error = chunk.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else None
        raise ErrorChunk(str(message or error))
    return chunk


async def _drain(events: EventReader) -> bool:
    """Read what is left after ``[DONE]`` (the end of the chunked body), so the connection can be
    reused; False if the server does not end the body promptly."""
    try:
        until = asyncio.get_running_loop().time() + CLOSE_TIMEOUT_S
        while await events.next_event(until) is not None:
            pass
    except (TimeoutError, aiohttp.ClientError, OSError):
        return False
    return True


def discover_model(base_url: str, api_key: str = "", timeout_s: float = 5.0) -> tuple[str, int | None]:
    """The first model an OpenAI-compatible server serves, and its context length when it says.

    Synchronous on purpose: called once at start-up, before the server serves. vLLM's model card
    carries ``max_model_len``; other servers may not. Raises ``BackendUnavailable`` when the server
    cannot be asked (two tries) or serves no model.
    """
    ask = urllib.request.Request(
        base_url.rstrip("/") + "/models",
        headers={"Authorization": f"Bearer {api_key or 'EMPTY'}", "Accept": "application/json"},
    )
    for attempt in range(2):
        try:
            with urllib.request.urlopen(ask, timeout=timeout_s) as reply:
                listing = json.load(reply)
            break
        except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
            if attempt == 1:
                raise BackendUnavailable(
                    f"cannot list the models of the LLM server at {base_url}; pass --llm-model",
                    reason="LLM_UNAVAILABLE",
                ) from exc
    models = listing.get("data") if isinstance(listing, dict) else None
    first = models[0] if isinstance(models, list) and models and isinstance(models[0], dict) else None
    if first is None or not first.get("id"):
        raise BackendUnavailable(f"the LLM server at {base_url} serves no model", reason="LLM_UNAVAILABLE")
    max_len = first.get("max_model_len")
    return str(first["id"]), int(max_len) if isinstance(max_len, int) and max_len > 0 else None
