"""BASELINE, not the product: the LLM relay as it was through the official ``openai`` SDK (until issue 13).

Kept so the benchmark can measure the lean relay (``qianshi.server.backends.generation.openai_api``,
aiohttp + ``sse.EventReader``) side by side with it in one run (``python -m bench.llm_relay
--relays sdk,lean``, ``python -m bench vllm``). Same behaviour, same translation table; the text below
is the module's docstring as it was.

It speaks to ``vllm serve`` (or any server with OpenAI's chat completions API) through the official
``openai`` async client — never hand-parsed SSE — with ``stream_options.include_usage`` so the last
chunk carries the token usage. It uses the client's documented low-level ``post`` with
``cast_to=object``: the same HTTP, SSE decoding, error-chunk detection and status errors as
``chat.completions.create``, but each chunk stays the decoded JSON dict instead of becoming a pydantic
model.

Timing is ours: every wait for the next chunk is bounded by the stall limit and by the request's
deadline, with ``asyncio.timeout`` around that one wait only. Aborting is closing (shielded and
time-boxed). Only a connection that failed before anything was sent is retried, twice, with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import openai
from qianshi.server.backends.generation import openai_errors
from qianshi.server.backends.generation.prompt import PROMPT_VERSION, build_messages, estimate_tokens
from qianshi.server.backends.generation.sampling import Sampling
from qianshi.server.errors import BackendFailed, BackendTimeout, BackendUnavailable, QianshiError
from qianshi.server.writing import GenerationChunk, GenerationRequest

log = logging.getLogger(__name__)

CONNECT_RETRIES = 2
CLOSE_TIMEOUT_S = 1.0


class _Stalled(Exception):
    """Internal: the wait for the next chunk hit a limit (translated with the text so far)."""

    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


class SDKGenerator:
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
        client: openai.AsyncOpenAI | None = None,
        prompt_version: str = PROMPT_VERSION,
        sampling: Sampling | None = None,
    ) -> None:
        """``headers(request)`` adds per-request HTTP headers (the hook for a W3C ``traceparent``);
        the prompt version and the sampling fields are the lean relay's, so both send the same body."""
        self.model = model
        self.prompt_version = prompt_version
        self.sampling = sampling or Sampling()
        self.timeout_s = timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.max_context_tokens = max_context_tokens
        self._headers = headers
        self._client = client or openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "EMPTY",
            max_retries=0,
            timeout=openai.Timeout(
                timeout_s,
                connect=connect_timeout_s,
                read=stall_timeout_s + 5.0,
                write=connect_timeout_s,
                pool=connect_timeout_s,
            ),
        )

    async def aclose(self) -> None:
        await self._client.close()

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
        stream: openai.AsyncStream[object] | None = None
        try:
            stream = await self._open(request, messages, end, deadline_reason)
            while True:
                chunk = await self._next(stream, end, deadline_reason, finished=bool(finish))
                if chunk is None:
                    break
                model = chunk.get("model") or model
                usage = chunk.get("usage")
                if isinstance(usage, dict):
                    prompt_tokens = int(usage.get("prompt_tokens") or 0)
                    completion_tokens = int(usage.get("completion_tokens") or 0)
                choices: list[Any] = chunk.get("choices") or [{}]
                choice: dict[str, Any] = choices[0] if isinstance(choices[0], dict) else {}
                content = (choice.get("delta") or {}).get("content")
                if content:
                    # A chunk is one token unless the server batches them (stream_interval); with
                    # usage on every chunk the count is exact.
                    tokens = max(completion_tokens - counted, 0) if isinstance(usage, dict) else 1
                    counted += tokens
                    parts.append(content)
                    yield GenerationChunk(text=content, tokens=tokens)
                finish = choice.get("finish_reason") or finish
        except _Stalled as stalled:
            if not finish:
                raise self._timeout(stalled, "".join(parts)) from None
        except openai.APIError as exc:
            if not finish:  # the text was complete; a hiccup after it changes nothing
                raise self._translate(exc, "".join(parts)) from exc
        finally:
            if stream is not None:
                await _close(stream)
        openai_errors.check_finish(finish, "".join(parts))
        yield GenerationChunk(
            final=True,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens or counted,
            finish_reason=finish,
            model=model,
            prompt_version=self.prompt_version,
        )

    async def _open(
        self, request: GenerationRequest, messages: list[dict[str, str]], end: float, deadline_reason: str
    ) -> openai.AsyncStream[object]:
        """Send the request and wait for the response to start; retry a failed connection."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            # as Qianshi asks: with chunks of several tokens (stream_interval), usage on every chunk
            "stream_options": {"include_usage": True, "continuous_usage_stats": True}
            if self.sampling.stream_interval > 1
            else {"include_usage": True},
            **self.sampling.openai_fields(request),
        }
        options: openai.RequestOptions = {}
        if self._headers is not None:
            options["headers"] = dict(self._headers(request))
        for attempt in range(CONNECT_RETRIES + 1):
            try:
                async with asyncio.timeout(self._wait_limit(end, deadline_reason)):
                    # The client's documented low-level call: its HTTP, SSE decoding, error chunks
                    # and status errors, with chunks left as dicts (see the module docstring).
                    return await self._client.post(
                        "/chat/completions",
                        cast_to=object,
                        body=body,
                        options=options,
                        stream=True,
                        stream_cls=openai.AsyncStream[object],
                    )
            except TimeoutError:
                raise self._limit_hit(end, deadline_reason) from None
            except openai.APITimeoutError:
                raise
            except openai.APIConnectionError:
                # Nothing reached the engine (or the request died with its connection, which vLLM
                # aborts): a new attempt cannot generate twice.
                backoff = 0.1 * 3**attempt
                if attempt == CONNECT_RETRIES or time.monotonic() + backoff >= end:
                    raise
                log.info("LLM server unreachable; retrying in %.1f s", backoff)
                await asyncio.sleep(backoff)
        raise AssertionError("unreachable")

    async def _next(
        self,
        stream: openai.AsyncStream[object],
        end: float,
        deadline_reason: str,
        *,
        finished: bool,
    ) -> dict[str, Any] | None:
        """The next chunk, None at the end of the stream; ``_Stalled`` past the stall limit or deadline."""
        limit = self._wait_limit(end, deadline_reason)
        if finished:  # only the usage chunk and [DONE] are left: do not hold a finished text hostage
            limit = min(limit, CLOSE_TIMEOUT_S)
        try:
            async with asyncio.timeout(limit):
                chunk = await anext(stream)
        except StopAsyncIteration:
            return None
        except TimeoutError:
            raise self._limit_hit(end, deadline_reason) from None
        return chunk if isinstance(chunk, dict) else {}

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

    @staticmethod
    def _translate(exc: openai.APIError, partial: str) -> QianshiError:
        """The one place where the openai client's exceptions become the server's."""
        if isinstance(exc, openai.APIStatusError):
            return _status_error(exc, partial)
        if isinstance(exc, openai.APITimeoutError) and partial:  # httpx's read timeout, our backstop
            return BackendTimeout("the LLM stopped sending", reason="LLM_STALLED", partial_text=partial)
        if isinstance(exc, openai.APIConnectionError):
            if partial:
                return BackendFailed(
                    "the connection to the LLM server was lost mid-stream",
                    reason="LLM_INCOMPLETE",
                    partial_text=partial,
                )
            return BackendUnavailable(
                "the LLM server is unreachable",
                reason="LLM_UNAVAILABLE",
                retry_after_s=1.0,
                partial_text=partial,
            )
        # An error chunk mid-stream (``data: {"error": {...}}``), which vLLM sends when generation fails.
        log.warning("LLM stream error: %s", exc.message)
        return BackendFailed(
            "the LLM server reported an error mid-stream", reason="LLM_ERROR", partial_text=partial
        )


def _status_error(exc: openai.APIStatusError, partial: str) -> QianshiError:
    """HTTP error statuses mean what they mean for the server's relay: its table decides."""
    header = exc.response.headers.get("retry-after")
    return openai_errors.translate(
        openai_errors.StatusError(exc.status_code, exc.message, openai_errors.retry_after(header)), partial
    )


async def _close(stream: openai.AsyncStream[object]) -> None:
    """Close the HTTP response so the server sees the client leave (and vLLM aborts the request).

    Shielded, so a second cancel cannot leave the connection open, and time-boxed, so a wedged
    transport cannot hang the caller.
    """
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await asyncio.shield(stream.close())
