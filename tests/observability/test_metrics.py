"""Metrics from the event-log seam, the RPC interceptor, the loop-lag monitor and the exporter."""

from __future__ import annotations

import asyncio
import urllib.request

import grpc
import pytest
from qianshi.server.domain import Stage
from qianshi.server.observability import metrics
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.eventlog import TaskMeta
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.service import telemetry
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry

from tests.fakes import FakeGenerator, FakeRetriever, spec

FAST = PipelineConfig(tick_retrieval_s=0.02, tick_generation_s=0.03, coalesce_window_s=0.005)


def value(m: metrics.ServerMetrics, name: str, **labels: str) -> float:
    found = m.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


async def run_task(m: metrics.ServerMetrics, tmp_path, retriever=None) -> list[ev.Event]:
    log = metrics.MeteredEventLog(MemoryEventLog(), m)
    interpreter = Interpreter(
        retriever or FakeRetriever(), FakeGenerator(), Estimates(tmp_path / "e.json"), FAST
    )
    async with Registry(interpreter, log) as registry:
        m.track(lambda: registry.active, lambda: 0)
        task_id = await registry.start(spec(), "", None)
        async with asyncio.timeout(10), registry.subscribe(task_id, "", 0) as stream:
            return [e async for e in stream]


async def test_a_task_is_metered_from_its_events(tmp_path):
    m = metrics.ServerMetrics()
    events = await run_task(m, tmp_path)
    assert value(m, "qianshi_tasks_finished_total", code="OK") == 1
    gaps = sum(value(m, "qianshi_event_gap_seconds_count", stage=s.value) for s in Stage)
    assert gaps == len(events) - 1  # one gap between each pair of consecutive events
    deltas = sum(isinstance(e.payload, ev.TextDelta) for e in events)
    assert value(m, "qianshi_events_total", kind="text_delta") == deltas
    assert value(m, "qianshi_stage_duration_seconds_count", stage="retrieval") == 1
    assert value(m, "qianshi_stage_duration_seconds_count", stage="generation") == 1
    assert value(m, "qianshi_time_to_first_token_seconds_count") == 1
    assert value(m, "qianshi_tokens_total", kind="completion") == 6
    assert value(m, "qianshi_tokens_total", kind="prompt") == 10
    assert value(m, "qianshi_active_tasks") == 0
    assert not m._last  # nothing kept about ended tasks


async def test_outcomes_are_counted_by_status_code(tmp_path):
    m = metrics.ServerMetrics()
    log = metrics.MeteredEventLog(MemoryEventLog(), m)
    retriever = FakeRetriever(asyncio.Event())
    interpreter = Interpreter(retriever, FakeGenerator(), Estimates(tmp_path / "e.json"), FAST)
    async with Registry(interpreter, log) as registry:
        m.track(lambda: registry.active, lambda: 0)
        task_id = await registry.start(spec(), "", None)
        async with asyncio.timeout(10):
            await retriever.entered.wait()
            assert value(m, "qianshi_active_tasks") == 1
            await registry.cancel(task_id, "")
            await registry.wait_ended(task_id)
    assert value(m, "qianshi_tasks_finished_total", code="CANCELLED") == 1
    assert value(m, "qianshi_tasks_finished_total", code="OK") == 0


async def test_queued_tasks_gauge_follows_the_ticks():
    m = metrics.ServerMetrics()
    log = metrics.MeteredEventLog(MemoryEventLog(), m)
    await log.create(TaskMeta("t1", "", ""))

    def event(seq: int, payload: ev.Payload) -> ev.Event:
        return ev.Event("t1", seq, Stage.GENERATION, 1.0, "", 0.0, None, 0.0, payload)

    await log.append(event(1, ev.Tick(0.5, queue_position=3)))
    assert value(m, "qianshi_queued_tasks") == 1
    await log.append(event(2, ev.Tick(1.0, queue_position=0)))
    assert value(m, "qianshi_queued_tasks") == 0
    await log.append(event(3, ev.Tick(1.5, queue_position=1)))
    await log.expire("t1", 60.0)
    assert value(m, "qianshi_queued_tasks") == 0


async def test_an_observer_failure_never_fails_the_append(caplog):
    class Broken:
        def observe(self, event: ev.Event) -> None:
            raise RuntimeError("bug")

        def forget(self, task_id: str) -> None:
            return None

    inner = MemoryEventLog()
    log = metrics.MeteredEventLog(inner, Broken())
    await log.create(TaskMeta("t1", "", ""))
    await log.append(ev.Event("t1", 1, Stage.DONE, 100.0, "", 0.0, 0.0, 0.0, ev.Tick(0.0)))
    assert "event observer Broken failed" in caplog.text
    async with asyncio.timeout(5):
        async for event in inner.follow("t1", 0):
            assert event.seq == 1
            break


async def test_loop_lag_is_observed():
    m = metrics.ServerMetrics()
    seen: list[float] = []
    enough = asyncio.Event()

    class Recorder:
        def observe(self, lag: float) -> None:
            seen.append(lag)
            if len(seen) == 3:
                enough.set()

    m.loop_lag = Recorder()  # type: ignore[assignment]
    async with asyncio.timeout(10), asyncio.TaskGroup() as group:
        watcher = group.create_task(metrics.watch_loop_lag(m, interval_s=0.01))
        await enough.wait()
        watcher.cancel()
    assert all(lag >= 0 for lag in seen)


async def test_the_exporter_serves_the_registry_over_http():
    m = metrics.ServerMetrics()
    m.rpc_ended("qianshi.v1.InterpretService/Interpret", "RESOURCE_EXHAUSTED")
    exporter = await metrics.start_exporter("127.0.0.1:0", m.registry)
    try:
        assert exporter.port > 0

        def get() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{exporter.port}/metrics", timeout=10) as response:
                return response.read().decode()

        text = await asyncio.to_thread(get)
    finally:
        await exporter.aclose()
    assert "qianshi_admission_rejections_total 1.0" in text
    assert "# TYPE qianshi_event_gap_seconds histogram" in text
    assert (
        'qianshi_rpcs_total{code="RESOURCE_EXHAUSTED",method="qianshi.v1.InterpretService/Interpret"} 1.0'
        in text
    )


def test_an_in_process_engines_global_metrics_are_served_beside_ours():
    """``--llm vllm``: the engine registers ``vllm:*`` globally; the server's registry serves them too
    (and nothing else of the global registry)."""
    from prometheus_client import REGISTRY, Gauge

    engine = Gauge("vllm:num_requests_running", "Requests running", ["engine"])  # the global registry
    try:
        engine.labels(engine="0").set(3)
        m = metrics.ServerMetrics()
        m.registry.register(metrics.ForeignMetrics("vllm:"))
        assert value(m, "vllm:num_requests_running", engine="0") == 3
        assert m.registry.get_sample_value("process_cpu_seconds_total") is None
    finally:
        REGISTRY.unregister(engine)


def test_gateway_metrics_live_in_their_own_registry():
    g = metrics.gateway_metrics()
    g.open_streams.inc()
    g.requests.labels("/api/interpret", "200").inc()
    g.events_relayed.labels("text_delta").inc(3)
    assert g.registry.get_sample_value("qianshi_gateway_open_streams") == 1
    assert g.registry.get_sample_value("qianshi_gateway_events_relayed_total", {"kind": "text_delta"}) == 3
    g.loop_lag.observe(0.002)
    assert g.registry.get_sample_value("qianshi_gateway_event_loop_lag_seconds_count") == 1


async def test_the_gateway_watches_its_loop_lag_while_its_lifespan_runs(monkeypatch):
    from qianshi.server.gateway import app as gateway_app
    from qianshi.server.gateway.settings import Settings

    started, stopped = asyncio.Event(), asyncio.Event()
    watched: list[metrics.GatewayMetrics | metrics.ServerMetrics] = []

    async def watch(m: metrics.GatewayMetrics | metrics.ServerMetrics, interval_s: float = 0.1) -> None:
        watched.append(m)
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    monkeypatch.setattr(gateway_app, "watch_loop_lag", watch)
    app = gateway_app.create_app(Settings(backend="127.0.0.1:9"))  # the channel connects lazily: never here
    async with asyncio.timeout(10):
        async with app.router.lifespan_context(app):
            await started.wait()
            assert not stopped.is_set()
        assert stopped.is_set()  # the lifespan's end cancelled it, and waited for it
    assert watched == [app.state.gateway.metrics]


# the interceptor, on a real grpc.aio server -----------------------------------------------------------


def _handlers() -> grpc.GenericRpcHandler:
    async def full(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "full")
        raise AssertionError("unreachable")

    async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return request

    async def chunks(request: bytes, context: grpc.aio.ServicerContext):
        for piece in (b"a", b"b"):
            yield piece

    async def written(request: bytes, context: grpc.aio.ServicerContext) -> None:
        await context.write(b"x")
        await context.abort(grpc.StatusCode.NOT_FOUND, "gone")

    return grpc.method_handlers_generic_handler(
        "qianshi.v1.InterpretService",
        {
            "Interpret": grpc.unary_unary_rpc_method_handler(full),
            "GetPoem": grpc.unary_unary_rpc_method_handler(echo),
            "Watch": grpc.unary_stream_rpc_method_handler(chunks),
            "Other": grpc.unary_stream_rpc_method_handler(written),
        },
    )


@pytest.fixture
async def metered_server():
    m = metrics.ServerMetrics()
    seen: list[object] = []
    server = grpc.aio.server(interceptors=[telemetry.RpcInterceptor(m, seen.append)])
    server.add_generic_rpc_handlers((_handlers(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield m, port, seen
    finally:
        await server.stop(None)


async def test_the_interceptor_counts_every_rpc_by_code(metered_server):
    m, port, seen = metered_server
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel, asyncio.timeout(10):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await channel.unary_unary("/qianshi.v1.InterpretService/Interpret")(b"q")
        assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert await channel.unary_unary("/qianshi.v1.InterpretService/GetPoem")(b"q") == b"q"
        assert [x async for x in channel.unary_stream("/qianshi.v1.InterpretService/Watch")(b"q")] == [
            b"a",
            b"b",
        ]
        call = channel.unary_stream("/qianshi.v1.InterpretService/Other")(b"q")
        with pytest.raises(grpc.aio.AioRpcError):
            async for _ in call:
                pass
    rpcs = "qianshi_rpcs_total"
    assert value(m, rpcs, method="qianshi.v1.InterpretService/Interpret", code="RESOURCE_EXHAUSTED") == 1
    assert value(m, rpcs, method="qianshi.v1.InterpretService/GetPoem", code="OK") == 1
    assert value(m, rpcs, method="qianshi.v1.InterpretService/Watch", code="OK") == 1
    assert value(m, rpcs, method="qianshi.v1.InterpretService/Other", code="NOT_FOUND") == 1
    assert value(m, "qianshi_admission_rejections_total") == 1
    assert len(seen) == 4  # ``before`` ran once per call
