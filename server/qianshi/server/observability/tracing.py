"""OpenTelemetry spans for tasks and stages (``--otel``; the optional ``tracing`` extra).

Off by default, and this module imports without OpenTelemetry installed. When on:

- ``capture_incoming(context)`` (run by the gRPC interceptor at the start of every call) keeps the
  caller's W3C trace context (the ``traceparent`` / ``tracestate`` metadata) in a context variable.
  The registry starts a task's runner from the call's task, so the runner inherits it.
- ``Tracer`` is an event observer (``metrics.MeteredEventLog``): the ``accepted`` event opens the
  task's span ``qianshi.task`` (parented by the caller's context), ``stage_started`` /
  ``stage_completed`` open and close ``qianshi.retrieval`` / ``qianshi.generation`` under it, and the
  terminal event closes everything with the outcome. The pipeline itself knows nothing of tracing.
  Span times are the events' own timestamps.
- ``current_traceparent()`` returns the headers (``traceparent``, ``tracestate``) of the innermost
  open span of the task being run — the generation span while generating — for a backend to pass on to
  the vLLM server (the OpenAI client's ``extra_headers``). Outside a traced task it returns ``{}``.

No question text is ever put on a span (it is personal); tasks are identified by id.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from qianshi.server.pipeline import events as ev

log = logging.getLogger(__name__)

try:
    from opentelemetry import trace as _trace  # type: ignore[import-not-found, unused-ignore]
    from opentelemetry.trace import Status, StatusCode  # type: ignore[import-not-found, unused-ignore]
    from opentelemetry.trace.propagation.tracecontext import (  # type: ignore[import-not-found, unused-ignore]
        TraceContextTextMapPropagator,
    )
except ImportError:  # the optional extra is not installed
    _trace = None  # type: ignore[assignment]

_incoming: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "qianshi_incoming", default=None
)
_current: contextvars.ContextVar[Any] = contextvars.ContextVar("qianshi_span", default=None)
_HEADERS = ("traceparent", "tracestate")


def available() -> bool:
    """Whether OpenTelemetry is installed (``pip install 'qianshi[tracing]'``)."""
    return _trace is not None


class _HasMetadata(Protocol):
    def invocation_metadata(self) -> Any: ...


def capture_incoming(context: _HasMetadata) -> None:
    """Keep the call's W3C trace context for the task it may start (a no-op without one)."""
    carrier = {k: v for k, v in (context.invocation_metadata() or ()) if k in _HEADERS and isinstance(v, str)}
    _incoming.set(carrier or None)


def current_traceparent() -> dict[str, str]:
    """W3C trace context headers of the current task's innermost open span ({} when not tracing)."""
    span = _current.get()
    if span is None or _trace is None:
        return {}
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier, context=_trace.set_span_in_context(span))
    return carrier


@dataclass(slots=True)
class _Spans:
    task: Any
    stage: Any = None


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


class Tracer:
    """Opens and closes spans from a task's events (an event-log observer)."""

    def __init__(self, provider: Any = None) -> None:
        if _trace is None:
            raise RuntimeError("--otel needs OpenTelemetry: pip install 'qianshi[tracing]'")
        self._provider = provider
        self._tracer = _trace.get_tracer("qianshi.server", tracer_provider=provider)
        self._spans: dict[str, _Spans] = {}

    def shutdown(self) -> None:
        """Flush and stop the provider's exporters (blocking: run it in a thread)."""
        shutdown = getattr(self._provider, "shutdown", None)
        if shutdown is not None:
            shutdown()

    def observe(self, event: ev.Event) -> None:
        payload, task_id = event.payload, event.task_id
        if isinstance(payload, ev.Accepted):
            self._open_task(event, payload)
            return
        spans = self._spans.get(task_id)
        if spans is None:
            return
        at = _ns(event.timestamp)
        if isinstance(payload, ev.StageStarted):
            self._end_stage(spans, at)
            parent = _trace.set_span_in_context(spans.task)
            spans.stage = self._tracer.start_span(
                f"qianshi.{payload.stage.value}", context=parent, start_time=at
            )
            if payload.expected_s is not None:
                spans.stage.set_attribute("qianshi.expected_s", payload.expected_s)
            _current.set(spans.stage)
        elif isinstance(payload, ev.StageCompleted):
            if spans.stage is not None:
                spans.stage.set_attribute("qianshi.duration_s", payload.duration_s)
            self._end_stage(spans, at)
            _current.set(spans.task)
        elif isinstance(payload, ev.PoemFound):
            spans.task.set_attributes(
                {"qianshi.set_id": payload.poem.set_id, "qianshi.number": payload.poem.number}
            )
        elif isinstance(payload, ev.PassagesFound) and spans.stage is not None:
            spans.stage.set_attribute("qianshi.passages", len(payload.passages))
        elif isinstance(payload, ev.Result):
            spans.task.set_attributes(_result_attributes(payload))
            self._close(task_id, at, Status(StatusCode.OK), "OK")
        elif isinstance(payload, ev.Failure):
            status = Status(StatusCode.ERROR, f"{payload.code.value}: {payload.reason}")
            self._close(task_id, at, status, payload.code.value)

    def forget(self, task_id: str) -> None:
        if task_id in self._spans:  # ended without a terminal event (its log failed)
            self._close(task_id, None, Status(StatusCode.ERROR, "no terminal event"), "UNKNOWN")

    def _open_task(self, event: ev.Event, accepted: ev.Accepted) -> None:
        carrier = _incoming.get()
        parent = TraceContextTextMapPropagator().extract(carrier) if carrier else None
        span = self._tracer.start_span(
            "qianshi.task",
            context=parent,
            kind=_trace.SpanKind.SERVER,
            start_time=_ns(event.timestamp - event.elapsed_s),
            attributes={
                "qianshi.task_id": event.task_id,
                "qianshi.request_id": accepted.request_id,
                "qianshi.category": accepted.category,
                "qianshi.category_source": accepted.category_source.value,
                "qianshi.locale": accepted.locale,
                "qianshi.generator": accepted.generator,
            },
        )
        self._spans[event.task_id] = _Spans(span)
        _current.set(span)

    @staticmethod
    def _end_stage(spans: _Spans, at: int) -> None:
        if spans.stage is not None:
            spans.stage.end(end_time=at)
            spans.stage = None

    def _close(self, task_id: str, at: int | None, status: Any, code: str) -> None:
        spans = self._spans.pop(task_id)
        if spans.stage is not None:
            spans.stage.set_status(status)
            spans.stage.end(end_time=at)
        spans.task.set_attribute("rpc.grpc.status_code_name", code)
        spans.task.set_status(status)
        spans.task.end(end_time=at)
        _current.set(None)


def _result_attributes(result: ev.Result) -> Mapping[str, Any]:
    attributes: dict[str, Any] = {
        "qianshi.model": result.model,
        "gen_ai.usage.input_tokens": result.prompt_tokens,
        "gen_ai.usage.output_tokens": result.completion_tokens,
        "qianshi.tokens_per_second": result.tokens_per_second,
        "qianshi.fallback_used": result.fallback_used,
    }
    if result.time_to_first_token_s is not None:
        attributes["qianshi.time_to_first_token_s"] = result.time_to_first_token_s
    return attributes


def setup(endpoint: str, service_name: str = "qianshi-server") -> Tracer:
    """A ``Tracer`` exporting over OTLP/gRPC to ``endpoint`` (or the OTEL_EXPORTER_OTLP_* environment).

    Raises RuntimeError naming the missing package when the extra is not installed.
    """
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found, unused-ignore]
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.resources import Resource  # type: ignore[import-not-found, unused-ignore]
        from opentelemetry.sdk.trace import TracerProvider  # type: ignore[import-not-found, unused-ignore]
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise RuntimeError(f"--otel needs the tracing extra (pip install 'qianshi[tracing]'): {exc}") from exc
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Tracer(provider)
