"""Prometheus metrics of the server (``--metrics-listen``), and a helper for the gateway's.

Nothing in the pipeline knows about metrics. They are collected at three seams:

- ``MeteredEventLog`` decorates the ``EventLog``: every appended event passes its observers once.
  ``ServerMetrics.observe`` derives the cadence (the gap since the task's previous event, labelled by
  stage), stage durations, time to first token, tokens, outcomes by status code and queue depth from
  the events themselves — a dict lookup and a histogram observe per event, because it sits on the hot
  path of every stream. Tracing (``tracing.py``) and log context (``logs.py``) observe the same way.
- The gRPC transport's interceptor (``service/telemetry.py``) reports every RPC's method and final
  status code to ``ServerMetrics.rpc_ended`` (admission rejections are ``Interpret`` ending
  RESOURCE_EXHAUSTED).
- Gauges read live values when scraped: active tasks (the registry), active streams (the servicer),
  queued tasks; ``watch_loop_lag`` measures event-loop lag.

Every metric lives in the ``CollectorRegistry`` of its ``ServerMetrics`` (never the global one), so a
test can run several servers in one process. The exporter is prometheus_client's threaded HTTP server.
With ``--llm vllm`` the engine runs in this process and registers its own ``vllm:*`` metrics (running
and waiting requests, KV cache use, TTFT …) in prometheus_client's global registry; ``ForeignMetrics``
serves them beside ours, as ``vllm serve``'s ``/metrics`` would.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from qianshi.server.domain import Stage
from qianshi.server.errors import ErrorCode
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.eventlog import EventLog, TaskMeta

log = logging.getLogger(__name__)

GAP_BUCKETS = (0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0)
"""Around the tick intervals (0.8 s retrieval, 1.2 s generation): the cadence invariant is readable."""
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0)
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
RATE_BUCKETS = (1.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0)


class Observer(Protocol):
    """Sees every event appended to the log (after it is stored), in the appending task's context."""

    def observe(self, event: ev.Event) -> None: ...

    def forget(self, task_id: str) -> None:
        """The task's log expires: drop whatever was kept about it."""
        ...


class MeteredEventLog:
    """An ``EventLog`` that shows each appended event to its observers; otherwise the inner log."""

    def __init__(self, inner: EventLog, *observers: Observer) -> None:
        self.inner = inner
        self.observers = observers

    async def create(self, meta: TaskMeta) -> str:
        return await self.inner.create(meta)

    async def claimed(self, owner: str, request_id: str) -> str | None:
        return await self.inner.claimed(owner, request_id)

    async def meta(self, task_id: str) -> TaskMeta | None:
        return await self.inner.meta(task_id)

    async def append(self, event: ev.Event) -> None:
        await self.inner.append(event)
        for observer in self.observers:
            try:
                observer.observe(event)
            except Exception:  # an observer's bug must never fail a task
                log.exception("event observer %s failed", type(observer).__name__)

    def follow(self, task_id: str, after_seq: int) -> AsyncIterator[ev.Event]:
        return self.inner.follow(task_id, after_seq)

    async def expire(self, task_id: str, retention_s: float) -> None:
        await self.inner.expire(task_id, retention_s)
        for observer in self.observers:
            observer.forget(task_id)

    async def aclose(self) -> None:
        await self.inner.aclose()


class ServerMetrics:
    """The server's metrics, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry if registry is not None else CollectorRegistry()
        # The two per-event metrics are kept in plain Python (a bisect and two adds, no lock: only the
        # event loop's thread writes them) and handed to prometheus_client at scrape time.
        self._gap = {stage: LoopHistogram(GAP_BUCKETS) for stage in Stage}
        self._kind = {cls: [0] for cls in ev._KINDS}
        r.register(_PerEventCollector(self))
        self.stage_duration = Histogram(
            "qianshi_stage_duration_seconds",
            "Measured stage durations",
            ["stage"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "qianshi_time_to_first_token_seconds",
            "From the start of generation to its first text",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.tokens = Counter("qianshi_tokens_total", "Tokens of finished tasks", ["kind"], registry=r)
        self.tokens_per_second = Histogram(
            "qianshi_generation_tokens_per_second",
            "Generation speed of finished tasks",
            buckets=RATE_BUCKETS,
            registry=r,
        )
        self.finished = Counter(
            "qianshi_tasks_finished_total", "Tasks ended, by status code", ["code"], registry=r
        )
        self.rpcs = Counter(
            "qianshi_rpcs_total", "RPCs ended, by method and status code", ["method", "code"], registry=r
        )
        self.rejections = Counter(
            "qianshi_admission_rejections_total",
            "Interpret calls refused over capacity (RESOURCE_EXHAUSTED)",
            registry=r,
        )
        self.loop_lag = Histogram(
            "qianshi_event_loop_lag_seconds",
            "How late the event loop wakes a 100 ms sleep",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.active_tasks = Gauge("qianshi_active_tasks", "Tasks running on this server", registry=r)
        self.active_streams = Gauge("qianshi_active_streams", "Interpret and Watch streams open", registry=r)
        self.queued_tasks = Gauge(
            "qianshi_queued_tasks", "Tasks waiting in a queue (their last tick had a position)", registry=r
        )
        self.queued_tasks.set_function(lambda: len(self._queued))
        # Children resolved once: the per-event path does no label lookups.
        self._stage = {stage: self.stage_duration.labels(stage.value) for stage in Stage}
        self._codes = {code: self.finished.labels(code.value) for code in ErrorCode}
        self._ok = self.finished.labels("OK")
        self._last: dict[str, float] = {}
        self._queued: set[str] = set()

    def track(self, active_tasks: Callable[[], float], active_streams: Callable[[], float]) -> None:
        """Read these gauges from the live objects at scrape time."""
        self.active_tasks.set_function(active_tasks)
        self.active_streams.set_function(active_streams)

    # Observer ----------------------------------------------------------------------------------------

    def observe(self, event: ev.Event) -> None:
        now = time.monotonic()
        task_id, payload = event.task_id, event.payload
        previous = self._last.get(task_id)
        if previous is not None:
            self._gap[event.stage].observe(now - previous)
        self._kind[type(payload)][0] += 1
        if type(payload) is ev.Tick:
            if payload.queue_position > 0:
                self._queued.add(task_id)
            elif self._queued:
                self._queued.discard(task_id)
        elif self._queued:
            self._queued.discard(task_id)
        if isinstance(payload, ev.StageCompleted):
            self._stage[payload.stage].observe(payload.duration_s)
        elif isinstance(payload, ev.Result):
            self._ok.inc()
            self._finish(payload)
            self._last.pop(task_id, None)
            return
        elif isinstance(payload, ev.Failure):
            self._codes[payload.code].inc()
            self._last.pop(task_id, None)
            return
        self._last[task_id] = now

    def _finish(self, result: ev.Result) -> None:
        if result.time_to_first_token_s is not None:
            self.ttft.observe(result.time_to_first_token_s)
        self.tokens.labels("prompt").inc(result.prompt_tokens)
        self.tokens.labels("completion").inc(result.completion_tokens)
        if result.tokens_per_second > 0:
            self.tokens_per_second.observe(result.tokens_per_second)

    def forget(self, task_id: str) -> None:
        self._last.pop(task_id, None)
        self._queued.discard(task_id)

    # RPCs --------------------------------------------------------------------------------------------

    def rpc_ended(self, method: str, code: str) -> None:
        self.rpcs.labels(method, code).inc()
        if code == "RESOURCE_EXHAUSTED" and method.endswith("/Interpret"):
            self.rejections.inc()


class LoopHistogram:
    """A histogram written from one thread only (the event loop's): ``observe`` is a bisect and two adds."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative (le, count) pairs as Prometheus wants them (a consistent-enough snapshot)."""
        out, running = [], 0
        for bound, count in zip((*map(floatToGoString, self.bounds), "+Inf"), list(self.counts), strict=True):
            running += count
            out.append((bound, float(running)))
        return out


class _PerEventCollector(Collector):
    """Exposes ``qianshi_event_gap_seconds`` and ``qianshi_events_total`` at scrape time."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        gap = HistogramMetricFamily(
            "qianshi_event_gap_seconds",
            "Time between consecutive events of a task, by the stage it was in (the stream's cadence)",
            labels=["stage"],
        )
        for stage, histogram in self.metrics._gap.items():
            gap.add_metric([stage.value], histogram.buckets(), histogram.total)
        yield gap
        events = CounterMetricFamily("qianshi_events", "Events appended, by payload kind", labels=["kind"])
        for cls, count in self.metrics._kind.items():
            events.add_metric([ev._KINDS[cls]], float(count[0]))
        yield events


class ForeignMetrics(Collector):
    """The metrics another library in this process registered globally, by name prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def collect(self) -> Iterator[Metric]:
        from prometheus_client import REGISTRY

        for metric in REGISTRY.collect():
            if metric.name.startswith(self.prefix):
                yield metric


async def watch_loop_lag(metrics: ServerMetrics | GatewayMetrics, interval_s: float = 0.1) -> None:
    """Forever: sleep ``interval_s`` and record how late the loop woke up (its lag) in ``metrics.loop_lag``."""
    observe = metrics.loop_lag.observe
    while True:
        start = time.monotonic()
        await asyncio.sleep(interval_s)
        observe(max(time.monotonic() - start - interval_s, 0.0))


@dataclass(slots=True)
class Exporter:
    """A running metrics endpoint (prometheus_client's threaded HTTP server)."""

    server: Any
    port: int

    async def aclose(self) -> None:
        await asyncio.to_thread(self.server.shutdown)
        self.server.server_close()


async def start_exporter(listen: str, registry: CollectorRegistry) -> Exporter:
    """Serve ``registry`` at ``http://listen/metrics`` (``HOST:PORT``; port 0 picks a free one)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    server, _thread = await asyncio.to_thread(start_http_server, int(port), host, registry)
    return Exporter(server, int(server.server_port))


@dataclass(frozen=True, slots=True)
class GatewayMetrics:
    """The gateway's metrics (see ``gateway_metrics``)."""

    registry: CollectorRegistry
    open_streams: Gauge
    """SSE streams open now: ``inc()`` when one starts, ``dec()`` in its ``finally``."""
    requests: Counter
    """Requests ended, labelled ``route`` (the route's pattern, not the raw path) and ``status``."""
    events_relayed: Counter
    """Events relayed to browsers, labelled ``kind`` (the SSE ``event:`` name)."""
    loop_lag: Histogram
    """How late the gateway's event loop wakes a 100 ms sleep (``watch_loop_lag``, run by the app)."""


def gateway_metrics(registry: CollectorRegistry | None = None) -> GatewayMetrics:
    """The gateway's metrics in ``registry`` (a new one by default); serve them with ``start_exporter``."""
    r = registry if registry is not None else CollectorRegistry()
    return GatewayMetrics(
        registry=r,
        open_streams=Gauge(
            "qianshi_gateway_open_streams", "Streams open to browsers (SSE, gRPC-Web, Connect)", registry=r
        ),
        requests=Counter(
            "qianshi_gateway_requests_total",
            "HTTP requests ended, by route and status",
            ["route", "status"],
            registry=r,
        ),
        events_relayed=Counter(
            "qianshi_gateway_events_relayed_total",
            "Events relayed to browsers (SSE, gRPC-Web, Connect), by kind",
            ["kind"],
            registry=r,
        ),
        loop_lag=Histogram(
            "qianshi_gateway_event_loop_lag_seconds",
            "How late the gateway's event loop wakes a 100 ms sleep",
            buckets=LAG_BUCKETS,
            registry=r,
        ),
    )
