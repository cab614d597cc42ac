"""Tracing: spans per task and stage from the events, W3C context in from gRPC and out to the LLM.

The span tests need the ``tracing`` extra (OpenTelemetry SDK); without it they are skipped and only
the no-op path is tested.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from qianshi.server.errors import ErrorCode
from qianshi.server.observability import metrics, tracing
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry
from qianshi.server.writing import GenerationChunk, GenerationRequest

from tests.fakes import FakeGenerator, FakeRetriever, spec

FAST = PipelineConfig(tick_retrieval_s=0.02, tick_generation_s=0.03, coalesce_window_s=0.005)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class Metadata:
    """A gRPC context's metadata as the interceptor sees it."""

    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.pairs = pairs

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.pairs


class HeaderGenerator(FakeGenerator):
    """Records the trace headers an LLM request would carry."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.headers: dict[str, str] = {}

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        self.headers = tracing.current_traceparent()
        async for chunk in super().stream(request):
            yield chunk


def test_without_a_traced_task_there_are_no_headers():
    assert tracing.current_traceparent() == {}


def test_capture_keeps_only_trace_context_headers():
    tracing.capture_incoming(Metadata(("authorization", "secret"), ("x", "y")))
    assert tracing._incoming.get() is None


@pytest.fixture
def exporter():
    sdk = pytest.importorskip("opentelemetry.sdk.trace", reason="the tracing extra is not installed")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    memory.provider = provider
    yield memory
    provider.shutdown()


async def run(tracer: tracing.Tracer, generator: FakeGenerator, tmp_path, retriever=None) -> str:
    log = metrics.MeteredEventLog(MemoryEventLog(), tracer)
    interpreter = Interpreter(retriever or FakeRetriever(), generator, Estimates(tmp_path / "e.json"), FAST)
    async with Registry(interpreter, log) as registry:
        # What the interceptor does at the start of the call; the task's runner inherits it.
        tracing.capture_incoming(Metadata(("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01")))
        task_id = await registry.start(spec(request_id="req-1"), "", None)
        if retriever is not None:
            async with asyncio.timeout(10):
                await retriever.entered.wait()
            await registry.cancel(task_id, "")
        async with asyncio.timeout(10), registry.subscribe(task_id, "", 0) as stream:
            async for _ in stream:
                pass
    return task_id


async def test_a_task_and_its_stages_are_spans_under_the_callers_trace(exporter, tmp_path):
    tracer = tracing.Tracer(exporter.provider)
    generator = HeaderGenerator()
    task_id = await run(tracer, generator, tmp_path)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"qianshi.task", "qianshi.retrieval", "qianshi.generation"}
    task, retrieval, generation = (
        spans["qianshi.task"],
        spans["qianshi.retrieval"],
        spans["qianshi.generation"],
    )
    assert format(task.context.trace_id, "032x") == TRACE_ID
    assert format(task.parent.span_id, "016x") == PARENT_ID
    assert retrieval.parent.span_id == task.context.span_id
    assert generation.parent.span_id == task.context.span_id
    assert task.attributes["qianshi.task_id"] == task_id
    assert task.attributes["qianshi.request_id"] == "req-1"
    assert task.attributes["qianshi.set_id"] == "mazu60"
    assert task.attributes["gen_ai.usage.output_tokens"] == 6
    assert task.status.is_ok
    assert task.start_time <= retrieval.start_time <= retrieval.end_time <= generation.start_time
    assert generation.end_time <= task.end_time
    assert all("婚姻能成嗎" not in str(dict(s.attributes)) for s in spans.values())  # no question text
    # The LLM request carried the generation span's context.
    version, trace_id, span_id, _flags = generator.headers["traceparent"].split("-")
    assert (version, trace_id) == ("00", TRACE_ID)
    assert span_id == format(generation.context.span_id, "016x")
    assert tracer._spans == {}


async def test_a_failed_task_ends_its_spans_with_an_error(exporter, tmp_path):
    tracer = tracing.Tracer(exporter.provider)
    await run(tracer, FakeGenerator(), tmp_path, retriever=FakeRetriever(asyncio.Event()))
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"qianshi.task", "qianshi.retrieval"}
    assert not spans["qianshi.task"].status.is_ok
    assert spans["qianshi.task"].attributes["rpc.grpc.status_code_name"] == ErrorCode.CANCELLED.value
    assert not spans["qianshi.retrieval"].status.is_ok


def test_the_module_works_without_opentelemetry():
    """The extra is optional: blocked imports leave a no-op module and a clear error for --otel."""
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None\n"
        "from qianshi.server.observability import tracing\n"
        "assert not tracing.available()\n"
        "assert tracing.current_traceparent() == {}\n"
        "try:\n"
        "    tracing.Tracer()\n"
        "except RuntimeError as exc:\n"
        "    assert 'tracing' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('Tracer() without OpenTelemetry')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
