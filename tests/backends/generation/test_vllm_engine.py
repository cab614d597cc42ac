"""The in-process vLLM generator against a stand-in engine with AsyncLLM's interface.

``FakeEngine.generate`` async-iterates DELTA outputs shaped like vLLM's ``RequestOutput`` /
``CompletionOutput`` and, like vLLM, does nothing on its own when its iterator is merely left;
``abort`` records the request id. The generator must abort every request that did not finish — on
cancel, on the consumer closing the stream, on a stall — and only those.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from qianshi.server.backends.generation.prompt import PROMPT_VERSION
from qianshi.server.backends.generation.vllm_engine import VLLMGenerator
from qianshi.server.domain import Passage, PassageKind
from qianshi.server.errors import BackendFailed, BackendTimeout, BackendUnavailable
from qianshi.server.writing import GenerationChunk

from tests.backends.generation.test_prompt import request


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    finish_reason: str | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt_token_ids: list[int] | None
    outputs: list[CompletionOutput]
    finished: bool


class FakeTokenizer:
    """One token per character; remembers the last rendered prompt."""

    def __init__(self) -> None:
        self.rendered = ""

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return [ord(ch) for ch in text]

    def apply_chat_template(
        self, messages: list[dict[str, str]], tokenize: bool, add_generation_prompt: bool
    ) -> str:
        self.rendered = "".join(f"<|{m['role']}|>{m['content']}" for m in messages) + "<|assistant|>"
        return self.rendered


class EngineDeadError(Exception):
    """Named like vLLM's (the generator recognises vLLM's exceptions by name)."""


@dataclass
class FakeEngine:
    pieces: tuple[str, ...] = ("婚姻", "允成[1]", "，日出", "雲散[2]。")
    hold_after: int | None = None
    """Wait on ``gate`` after yielding this many outputs (None: never; 0: before the first)."""
    error: Exception | None = None
    finish: str = "stop"
    max_model_len: int = 4096
    prefill_s: float = 0.0
    """Silence before the first output (the engine pacing itself, like queueing and prefill)."""
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    aborted_event: asyncio.Event = field(default_factory=asyncio.Event)
    aborted: list[str] = field(default_factory=list)
    requests: list[tuple[Any, Any, str]] = field(default_factory=list)
    tokenizer: FakeTokenizer = field(default_factory=FakeTokenizer)

    def __post_init__(self) -> None:
        self.model_config = SimpleNamespace(max_model_len=self.max_model_len)

    def get_tokenizer(self) -> FakeTokenizer:
        return self.tokenizer

    async def generate(
        self, prompt: Any, sampling_params: Any, request_id: str
    ) -> AsyncIterator[RequestOutput]:
        self.requests.append((prompt, sampling_params, request_id))
        self.started.set()
        prompt_ids = prompt["prompt_token_ids"]
        await asyncio.sleep(self.prefill_s)
        for i, piece in enumerate(self.pieces):
            if i == self.hold_after:
                await self.gate.wait()
            if self.error is not None and i == 2:
                raise self.error
            last = i == len(self.pieces) - 1
            completion = CompletionOutput(0, piece, [i] * len(piece), self.finish if last else None)
            yield RequestOutput(request_id, prompt_ids if i == 0 else None, [completion], last)

    async def abort(self, request_id: str) -> None:
        self.aborted.append(request_id)
        self.aborted_event.set()


def generator(engine: FakeEngine, **options: Any) -> VLLMGenerator:
    return VLLMGenerator("models/qwen", engine=engine, sampling_params=lambda **kw: kw, **options)


async def drain(gen: VLLMGenerator, **overrides: object) -> list[GenerationChunk]:
    async with asyncio.timeout(10):
        return [chunk async for chunk in gen.stream(request(**overrides))]


async def test_deltas_concatenate_and_a_finished_request_is_not_aborted():
    engine = FakeEngine()
    chunks = await drain(generator(engine))
    assert "".join(c.text for c in chunks[:-1]) == "婚姻允成[1]，日出雲散[2]。"
    final = chunks[-1]
    assert final.final
    assert final.finish_reason == "stop"
    assert final.completion_tokens == sum(len(p) for p in engine.pieces)
    prompt, params, _ = engine.requests[0]
    assert final.prompt_tokens == len(prompt["prompt_token_ids"]) > 0
    assert (final.model, final.prompt_version) == ("models/qwen", PROMPT_VERSION)
    assert params == {
        "max_tokens": 256,
        "temperature": 0.3,
        "frequency_penalty": 0.8,
        "repetition_detection": (2, 64, 3),
        "stream_interval": 4,
    }
    assert "<|system|>" in engine.tokenizer.rendered
    assert "婚姻能成嗎" in engine.tokenizer.rendered
    assert engine.aborted == []


async def test_sampling_options_pass_through():
    engine = FakeEngine()
    await drain(generator(engine), temperature=0.3, seed=7)
    assert engine.requests[0][1] == {
        "max_tokens": 256,
        "temperature": 0.3,
        "seed": 7,
        "frequency_penalty": 0.8,
        "repetition_detection": (2, 64, 3),
        "stream_interval": 4,
    }


async def test_cancel_mid_stream_aborts_the_engine_request():
    engine = FakeEngine(hold_after=2)
    task = asyncio.ensure_future(drain(generator(engine)))
    async with asyncio.timeout(10):
        await engine.started.wait()
    async with asyncio.timeout(1.0):  # the bound: cancel reaches the engine within 1 s
        task.cancel()
        await engine.aborted_event.wait()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.aborted == [engine.requests[0][2]]


async def test_cancel_during_the_silent_prefill_aborts():
    engine = FakeEngine(hold_after=0)
    task = asyncio.ensure_future(drain(generator(engine)))
    async with asyncio.timeout(10):
        await engine.started.wait()
    async with asyncio.timeout(1.0):
        task.cancel()
        await engine.aborted_event.wait()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_consumer_closing_the_stream_aborts():
    engine = FakeEngine(hold_after=3)
    stream = generator(engine).stream(request())
    async with asyncio.timeout(10):
        assert (await anext(stream)).text == "婚姻"
    await stream.aclose()  # type: ignore[attr-defined]
    assert engine.aborted == [engine.requests[0][2]]


async def test_a_stall_times_out_keeps_the_text_and_aborts():
    engine = FakeEngine(hold_after=2)
    with pytest.raises(BackendTimeout) as info:
        await drain(generator(engine, stall_timeout_s=0.1))
    assert info.value.reason == "LLM_STALLED"
    assert info.value.partial_text == "婚姻允成[1]"
    assert len(engine.aborted) == 1


async def test_the_deadline_bounds_the_wait():
    engine = FakeEngine(hold_after=0)
    with pytest.raises(BackendTimeout) as info:
        await drain(generator(engine), deadline=time.monotonic() + 0.1)
    assert info.value.reason == "DEADLINE_EXCEEDED"


@pytest.mark.parametrize(
    ("error", "expected", "reason"),
    [
        (EngineDeadError(), BackendUnavailable, "LLM_ENGINE_DEAD"),
        (RuntimeError("boom"), BackendFailed, "LLM_ERROR"),
        (ValueError("bad"), BackendFailed, "LLM_REJECTED"),
    ],
)
async def test_engine_errors_are_translated_with_the_text_so_far(error, expected, reason):
    engine = FakeEngine(error=error)
    with pytest.raises(expected) as info:
        await drain(generator(engine))
    assert info.value.reason == reason
    assert info.value.partial_text == "婚姻允成[1]"


async def test_an_aborted_finish_is_a_failure():
    with pytest.raises(BackendFailed, match="abort"):
        await drain(generator(FakeEngine(finish="abort")))


async def test_passages_are_trimmed_to_the_context_never_the_question():
    many = tuple(
        Passage(f"p{i}", PassageKind.JUDGMENT, "婚姻", f"第{i}段" + "長" * 300, 10.0 - i, citation=i)
        for i in range(1, 7)
    )
    engine = FakeEngine(max_model_len=2000)
    chunks = await drain(generator(engine), passages=many)
    rendered = engine.tokenizer.rendered
    assert "婚姻能成嗎" in rendered
    assert "[1]" in rendered
    assert "[6]" not in rendered
    assert len(rendered) + 256 <= 2000
    assert chunks[-1].final


async def test_max_tokens_shrinks_to_what_the_context_leaves():
    engine = FakeEngine(max_model_len=700)
    await drain(generator(engine), max_tokens=650)
    prompt, params, _ = engine.requests[0]
    assert params["max_tokens"] == 700 - len(prompt["prompt_token_ids"]) < 650


async def test_an_async_get_tokenizer_is_awaited():
    class OlderEngine(FakeEngine):
        async def get_tokenizer(self) -> FakeTokenizer:  # type: ignore[override]
            return self.tokenizer

    chunks = await drain(generator(OlderEngine()))
    assert chunks[-1].final


def test_the_server_imports_and_fails_clearly_without_vllm():
    """In a fresh interpreter where ``import vllm`` fails, whether or not vLLM is installed here."""
    script = textwrap.dedent(
        """
        import sys

        class NoVLLM:
            def find_spec(self, name, path=None, target=None):
                if name == "vllm" or name.startswith("vllm."):
                    raise ImportError("vllm is not installed")
                return None

        sys.meta_path.insert(0, NoVLLM())
        import qianshi.server.main, qianshi.server.wiring
        from qianshi.server.backends.generation.vllm_engine import load_engine
        from qianshi.server.errors import BackendUnavailable
        try:
            load_engine("models/qwen")
        except BackendUnavailable as exc:
            print(exc.message)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'qianshi[vllm]'" in done.stdout
