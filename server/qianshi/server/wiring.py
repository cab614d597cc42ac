"""Builds the configured backends from the server's options (the only place that chooses them)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from qianshi.server.pipeline.eventlog import EventLog
from qianshi.server.pipeline.seams import Generator, Retriever
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry
from qianshi.server.writing import GenerationRequest

if TYPE_CHECKING:
    from qianshi.server.backends.generation.sampling import Sampling


def retriever(args: argparse.Namespace, state_dir: Path) -> Retriever:
    """The retriever: a Qdrant server when ``--qdrant-url`` is set, else Qdrant Edge in-process."""
    corpus_path = Path(args.corpus).expanduser() if args.corpus else None
    if args.qdrant_url:
        from qianshi.server.backends.retrieval.corpus import load_corpus
        from qianshi.server.backends.retrieval.remote import ServerRetriever

        return ServerRetriever(
            url=args.qdrant_url,
            api_key=args.qdrant_api_key or None,
            timeout_s=args.qdrant_timeout,
            shard_number=args.qdrant_shards or None,
            replication_factor=args.qdrant_replication or None,
            corpus=load_corpus(corpus_path) if corpus_path else None,
            cache_dir=state_dir / "cache",
        )
    from qianshi.server.backends.retrieval.embedded import EmbeddedRetriever

    if args.retrieval_workers:
        logging.getLogger(__name__).warning(
            "--retrieval-workers (QIANSHI_RETRIEVAL_WORKERS) is deprecated and ignored: the embedded "
            "store runs in-process on Qdrant Edge; the option goes away in the next release"
        )
    path = Path(args.qdrant_path).expanduser() if args.qdrant_path else state_dir / "qdrant"
    return EmbeddedRetriever(path, cache_dir=state_dir / "cache", corpus_path=corpus_path)


async def worker_stores(
    args: argparse.Namespace, state_dir: Path, count: int, progress: Callable[[int, int], None] | None = None
) -> list[str]:
    """For ``--workers``: build or open the embedded index once, before the workers start. Returns
    each worker's ``--qdrant-path``: the same folder for all of them — Qdrant Edge shards written
    without a write-ahead log take no lock, so any number of processes open them (and a copy per
    worker would cost the shards' apparent size, hundreds of MB, each). With ``--qdrant-url`` the
    workers share the Qdrant server and keep their options as they are.

    The one place that knows how the embedded engine keeps its store: adapt it with the engine.
    """
    if args.qdrant_url:
        return [args.qdrant_path] * count
    built = retriever(args, state_dir)
    built.launch()
    try:
        await built.start(progress)
    finally:
        await built.aclose()
    source = Path(args.qdrant_path).expanduser() if args.qdrant_path else state_dir / "qdrant"  # noqa: ASYNC240
    return [str(source)] * count


def generator(args: argparse.Namespace) -> Generator:
    """The generator named by ``--llm``: an LLM behind the guard (``--llm-guard``, whose fallback is
    the grounded reading) and behind the grounded fallback for failures (``--llm-fallback grounded``)."""
    from qianshi.server.backends.generation.grounded.generator import GroundedGenerator

    grounded = GroundedGenerator(pace_s=args.grounded_pace)
    if args.llm == "grounded":
        return grounded
    llm = _llm(args)
    if args.llm_guard != "off":
        from qianshi.server.backends.generation.guard.generator import GuardedGenerator

        if args.llm_guard_window < 0:
            raise SystemExit("--llm-guard-window must not be negative")
        llm = GuardedGenerator(llm, grounded, args.llm_guard, args.llm_guard_window)
    if args.llm_fallback == "grounded":
        from qianshi.server.backends.generation.fallback import FallbackGenerator

        return FallbackGenerator(llm, grounded)
    return llm


def _sampling(args: argparse.Namespace) -> Sampling:
    from qianshi.server.backends.generation.sampling import Sampling, parse_detection

    try:
        detection = parse_detection(args.llm_repetition_detection)
    except ValueError as exc:
        raise SystemExit(f"--llm-repetition-detection: {exc}") from None
    if not 0.0 <= args.llm_temperature <= 2.0:
        raise SystemExit("--llm-temperature must be between 0 and 2")
    if args.llm_repetition_penalty <= 0:
        raise SystemExit("--llm-repetition-penalty must be above 0")
    if not -2.0 <= args.llm_frequency_penalty <= 2.0:
        raise SystemExit("--llm-frequency-penalty must be between -2 and 2")
    if not 1 <= args.llm_stream_interval <= 64:
        raise SystemExit("--llm-stream-interval must be between 1 and 64")
    return Sampling(
        args.llm_temperature,
        args.llm_frequency_penalty,
        args.llm_repetition_penalty,
        detection,
        args.llm_stream_interval,
    )


def _llm(args: argparse.Namespace) -> Generator:
    if args.llm == "vllm":
        from qianshi.server.backends.generation.vllm_engine import VLLMGenerator

        if not args.model:
            raise SystemExit("--llm vllm needs --model PATH")
        return VLLMGenerator(
            args.model,
            dtype=args.dtype,
            max_model_len=args.max_model_len,
            gpu_memory_utilization=args.gpu_memory_utilization,
            tensor_parallel_size=args.tensor_parallel_size,
            stall_timeout_s=args.llm_stall_timeout,
            prompt_version=args.prompt_version,
            sampling=_sampling(args),
        )
    from qianshi.server.backends.generation.openai_api import OpenAIGenerator, discover_model
    from qianshi.server.errors import BackendUnavailable

    model, context = args.llm_model, args.llm_context_tokens
    if not model:
        try:
            model, served_context = discover_model(args.llm_url, args.llm_api_key, args.llm_connect_timeout)
        except BackendUnavailable as exc:
            raise SystemExit(f"--llm openai: {exc.message}") from None
        context = served_context or context
    return OpenAIGenerator(
        args.llm_url,
        model,
        args.llm_api_key,
        timeout_s=args.llm_timeout,
        connect_timeout_s=args.llm_connect_timeout,
        stall_timeout_s=args.llm_stall_timeout,
        max_context_tokens=context,
        headers=trace_headers(args),
        prompt_version=args.prompt_version,
        sampling=_sampling(args),
    )


def event_log(args: argparse.Namespace) -> EventLog:
    """The event log named by ``--event-log``: ``memory`` (this replica), ``redis://…`` (one Redis,
    shared) or ``redis-cluster://HOST:PORT[,HOST:PORT…]`` (a Redis Cluster, shared)."""
    choice = args.event_log.strip()
    if choice in ("", "memory"):
        return MemoryEventLog()
    if shared_event_log(args):
        from qianshi.server.tasks.redis.log import RedisEventLog

        try:
            return RedisEventLog(
                choice,
                lease_s=args.lease,
                tick_s=args.lease_tick,
                wait_replicas=args.event_log_wait,
                wait_ms=int(args.event_log_wait_ms),
            )
        except ValueError as exc:
            raise SystemExit(f"--event-log / --lease / --lease-tick: {exc}") from None
    raise SystemExit(
        "--event-log must be memory, redis://HOST:PORT/DB or redis-cluster://HOST:PORT[,HOST:PORT…],"
        f" got {choice!r}"
    )


def shared_event_log(args: argparse.Namespace) -> bool:
    """True when ``--event-log`` names a log that several server processes can share."""
    schemes = ("redis://", "rediss://", "unix://", "redis-cluster://", "rediss-cluster://")
    return args.event_log.strip().startswith(schemes)


def trace_headers(args: argparse.Namespace) -> Callable[[GenerationRequest], Mapping[str, str]] | None:
    """With ``--otel``: the hook that gives the LLM request the current span's W3C trace context."""
    if not args.otel:
        return None
    from qianshi.server.observability.tracing import current_traceparent

    return lambda _request: current_traceparent()


class Operations:
    """What runs beside the pipeline: the (shared) event log, metrics, tracing, log context.

    ``events`` is the log the registry uses (observed by metrics, tracing and the log context);
    ``interceptors`` go to the gRPC server; ``start`` starts the metrics exporter; ``run`` runs the
    loop-lag monitor, the cross-replica cancel listener and the replica lease until cancelled;
    ``aclose`` releases them all.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        from qianshi.server.observability import logs, metrics, tracing
        from qianshi.server.service import telemetry

        self.args = args
        self.log = event_log(args)
        self.metrics = metrics.ServerMetrics() if args.metrics_listen else None
        if self.metrics is not None and args.llm == "vllm":  # the in-process engine's own vllm:* metrics
            self.metrics.registry.register(metrics.ForeignMetrics("vllm:"))
        self.tracer = tracing.setup(args.otel_endpoint) if args.otel else None
        observers: list[metrics.Observer] = [logs.LogContext()]
        observers += [o for o in (self.metrics, self.tracer) if o is not None]
        self.events: EventLog = metrics.MeteredEventLog(self.log, *observers)
        before = tracing.capture_incoming if self.tracer is not None else None
        self.interceptors = [telemetry.RpcInterceptor(self.metrics, before)] if self.metrics or before else []
        self.remote_cancel: Callable[[str], Awaitable[bool]] | None
        self.remote_cancel = getattr(self.log, "request_cancel", None)
        self._exporter: metrics.Exporter | None = None

    async def start(self) -> int | None:
        """Start the metrics exporter (before serving, so its port is known); returns the port."""
        from qianshi.server.observability import metrics

        if self.metrics is None:
            return None
        self._exporter = await metrics.start_exporter(self.args.metrics_listen, self.metrics.registry)
        logging.getLogger(__name__).info("metrics on port %d", self._exporter.port)
        return self._exporter.port

    async def run(self, registry: Registry, streams: Callable[[], float]) -> None:
        """Watch the loop, listen for cancel requests of other replicas and hold this replica's
        lease (a shared log), until cancelled."""
        from qianshi.server.observability import metrics

        async with asyncio.TaskGroup() as group:
            if self.metrics is not None:
                self.metrics.track(lambda: registry.active, streams)
                group.create_task(metrics.watch_loop_lag(self.metrics))
            listen = getattr(self.log, "listen_cancels", None)
            if listen is not None:
                group.create_task(listen(registry.cancel_local))
            maintain = getattr(self.log, "maintain", None)
            if maintain is not None:
                group.create_task(maintain())

    async def aclose(self) -> None:
        if self._exporter is not None:
            await self._exporter.aclose()
        if self.tracer is not None:
            await asyncio.to_thread(self.tracer.shutdown)
        await self.events.aclose()
