"""The in-process vLLM generator: ``AsyncLLM`` on this host's GPUs (the optional extra ``qianshi[vllm]``).

vLLM is imported only when an engine is built (``load_engine``) or sampling parameters are made, so
the server imports and runs without it. Tests inject an ``engine`` with AsyncLLM's interface and a
``sampling_params`` factory instead.

The prompt is rendered with the model's own chat template and counted with its own tokenizer, so the
passages are trimmed against the real context (``max_model_len - max_tokens``); tokenizing is CPU work
and runs in a worker thread, and the engine receives the token ids so it does not tokenize again.
Outputs are requested as ``RequestOutputKind.DELTA``: each output carries only the new text and
token ids.

Aborting: vLLM aborts a request when its ``generate`` iterator is cancelled or closed, but not when
the loop over it is merely left (FACTS.md). So the ``finally`` of ``stream`` calls
``engine.abort(request_id)`` for any request that did not finish — cancelled, closed by the consumer,
stalled, failed — and then closes the iterator; both shielded and time-boxed.

Foreign exceptions are translated in ``_translate`` only: a dead engine is UNAVAILABLE, a rejected
request (validation) INTERNAL ``LLM_REJECTED``, anything else INTERNAL ``LLM_ERROR``; a stall past
``stall_timeout_s`` or the request's deadline is DEADLINE_EXCEEDED. The text so far is always kept.
vLLM's exception classes are recognised by name, which keeps this module importable without vLLM.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from qianshi.server.backends.generation.prompt import PROMPT_VERSION, build_messages
from qianshi.server.errors import BackendFailed, BackendTimeout, BackendUnavailable, QianshiError
from qianshi.server.writing import GenerationChunk, GenerationRequest

TEMPLATE_MARGIN_TOKENS = 64
"""Tokens the chat template may add beyond the per-message overhead ``build_messages`` counts."""
CLEANUP_TIMEOUT_S = 1.0


class Engine(Protocol):
    """What this generator uses of ``vllm.v1.engine.async_llm.AsyncLLM``."""

    def generate(self, prompt: Any, sampling_params: Any, request_id: str) -> AsyncIterator[Any]: ...

    async def abort(self, request_id: str) -> None: ...

    def get_tokenizer(self) -> Any:
        """The tokenizer (a coroutine of it in older vLLM releases)."""
        ...


def load_engine(
    model_path: str,
    *,
    dtype: str = "auto",
    max_model_len: int = 0,
    gpu_memory_utilization: float = 0.9,
    tensor_parallel_size: int = 1,
) -> Engine:
    """Build an ``AsyncLLM`` for ``model_path`` (loads the weights onto the GPUs: minutes, blocking).

    Called before the gRPC server starts. The engine's worker processes are spawned, not forked:
    forking after gRPC's threads exist can hang (FACTS.md).
    """
    try:
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM
    except ImportError as exc:
        raise BackendUnavailable(
            "--llm vllm needs vLLM on this host: pip install 'qianshi[vllm]'", reason="LLM_UNAVAILABLE"
        ) from exc
    os.environ.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
    args = AsyncEngineArgs(
        model=model_path,
        dtype=dtype,
        max_model_len=max_model_len or None,
        gpu_memory_utilization=gpu_memory_utilization,
        tensor_parallel_size=tensor_parallel_size,
    )
    engine: Engine = AsyncLLM.from_engine_args(args)
    return engine


def delta_sampling_params(**options: Any) -> Any:
    """vLLM ``SamplingParams`` that stream deltas (only the new text and tokens of each step)."""
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind

    return SamplingParams(output_kind=RequestOutputKind.DELTA, **options)


class _Stalled(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VLLMGenerator:
    """Streams interpretations from an in-process vLLM engine."""

    name = "vllm"

    def __init__(
        self,
        model_path: str,
        *,
        dtype: str = "auto",
        max_model_len: int = 0,
        gpu_memory_utilization: float = 0.9,
        tensor_parallel_size: int = 1,
        stall_timeout_s: float = 30.0,
        engine: Engine | None = None,
        sampling_params: Callable[..., Any] = delta_sampling_params,
    ) -> None:
        self.model = model_path
        self.stall_timeout_s = stall_timeout_s
        self._owned = engine is None
        self._engine: Engine = engine or load_engine(
            model_path,
            dtype=dtype,
            max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization,
            tensor_parallel_size=tensor_parallel_size,
        )
        self._sampling_params = sampling_params
        config = getattr(self._engine, "model_config", None)
        self.max_model_len = max_model_len or int(getattr(config, "max_model_len", 0) or 0)
        self._tokenizer: Any = None

    async def aclose(self) -> None:
        """Shut the engine down (seconds: its processes exit), on the event loop's thread, blocking it,
        as vLLM's own server does: from another thread, the engine's output handler (a task on this
        loop) would see the engine core gone before ``shutdown`` cancels it, and log EngineDeadError."""
        shutdown = getattr(self._engine, "shutdown", None)
        if self._owned and shutdown is not None:
            shutdown()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        """Generate the interpretation for ``request``; aborts the engine request unless it finished."""
        prompt_ids, max_tokens = await self._prompt(request)
        options: dict[str, Any] = {"max_tokens": max_tokens}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.seed is not None:
            options["seed"] = request.seed
        params = self._sampling_params(**options)
        request_id = f"qianshi-{request.request_id}-{secrets.token_hex(4)}"
        outputs = self._engine.generate({"prompt_token_ids": prompt_ids}, params, request_id)
        parts: list[str] = []
        finished = False
        finish = ""
        prompt_tokens = len(prompt_ids)
        completion_tokens = 0
        try:
            while not finished:
                out = await self._next(outputs, request.deadline)
                if out is None:
                    break
                if getattr(out, "prompt_token_ids", None):
                    prompt_tokens = len(out.prompt_token_ids)
                finished = bool(out.finished)
                for completion in out.outputs[:1]:
                    tokens = len(completion.token_ids or ())
                    completion_tokens += tokens
                    finish = completion.finish_reason or finish
                    if completion.text or tokens:
                        parts.append(completion.text)
                        yield GenerationChunk(text=completion.text, tokens=tokens)
        except _Stalled as stalled:
            message = (
                f"the engine produced nothing for {self.stall_timeout_s:.1f} s"
                if stalled.reason == "LLM_STALLED"
                else "the deadline passed before the engine finished"
            )
            raise BackendTimeout(message, reason=stalled.reason, partial_text="".join(parts)) from None
        except QianshiError:
            raise
        except Exception as exc:
            raise _translate(exc, "".join(parts)) from exc
        finally:
            if not finished:
                await _cleanup(self._engine.abort(request_id))
            closer = getattr(outputs, "aclose", None)
            if closer is not None:
                await _cleanup(closer())
        if not finished:
            raise BackendFailed(
                "the engine stream ended before the request finished",
                reason="LLM_INCOMPLETE",
                partial_text="".join(parts),
            )
        if finish in ("abort", "error"):
            raise BackendFailed(
                f"the engine ended the request ({finish})", reason="LLM_ABORTED", partial_text="".join(parts)
            )
        yield GenerationChunk(
            final=True,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=finish or "stop",
            model=self.model,
            prompt_version=PROMPT_VERSION,
        )

    async def _next(self, outputs: AsyncIterator[Any], deadline: float | None) -> Any:
        limit, reason = self.stall_timeout_s, "LLM_STALLED"
        if deadline is not None and deadline - time.monotonic() < limit:
            limit, reason = deadline - time.monotonic(), "DEADLINE_EXCEEDED"
            if limit <= 0:
                raise _Stalled(reason)
        try:
            async with asyncio.timeout(limit):
                return await anext(outputs)
        except StopAsyncIteration:
            return None
        except TimeoutError:
            raise _Stalled(reason) from None

    async def _prompt(self, request: GenerationRequest) -> tuple[list[int], int]:
        """The prompt's token ids and the max tokens left for the answer; tokenizing runs in a thread."""
        if self._tokenizer is None:
            tokenizer = self._engine.get_tokenizer()
            self._tokenizer = await tokenizer if inspect.isawaitable(tokenizer) else tokenizer
        try:
            return await asyncio.to_thread(self._render, self._tokenizer, request)
        except QianshiError:
            raise
        except Exception as exc:
            raise BackendFailed(
                "the prompt could not be rendered for this model", reason="LLM_PROMPT"
            ) from exc

    def _render(self, tokenizer: Any, request: GenerationRequest) -> tuple[list[int], int]:
        context = self.max_model_len or 1 << 30
        budget = context - request.max_tokens - TEMPLATE_MARGIN_TOKENS

        def count(text: str) -> int:
            return len(tokenizer.encode(text, add_special_tokens=False))

        messages = build_messages(request, max_prompt_tokens=budget, count_tokens=count)
        try:
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception:  # a template without a system role (Gemma, Mistral v1): fold it into the user turn
            merged = [{"role": "user", "content": messages[0]["content"] + "\n\n" + messages[1]["content"]}]
            text = tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True)
        ids = list(tokenizer.encode(text, add_special_tokens=False))
        max_tokens = min(request.max_tokens, context - len(ids))
        if max_tokens < 1:
            raise BackendFailed(
                f"the question and the poem alone exceed the model's context ({context} tokens)",
                reason="LLM_PROMPT_TOO_LONG",
            )
        return ids, max_tokens


def _translate(exc: Exception, partial: str) -> QianshiError:
    """The one place where vLLM's exceptions become the server's (recognised by class name)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "EngineDeadError" in names:
        return BackendUnavailable("the vLLM engine has died", reason="LLM_ENGINE_DEAD", partial_text=partial)
    if names & {"VLLMValidationError", "VLLMClientError", "ValueError"}:
        return BackendFailed(
            "the vLLM engine rejected the request", reason="LLM_REJECTED", partial_text=partial
        )
    return BackendFailed("the vLLM engine failed", reason="LLM_ERROR", partial_text=partial)


async def _cleanup(step: Any) -> None:
    """Await a clean-up step shielded from a second cancel and bounded in time; its errors are moot."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLEANUP_TIMEOUT_S):
            await asyncio.shield(step)
