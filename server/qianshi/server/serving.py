"""One server process: ``serve`` runs the gRPC service on the embedded defaults (or the configured
backends) until told to stop; ``configure_logging`` and ``progress_bar`` are what its start-up shows.

``main`` (a single process) and ``workers`` (each worker process of ``--workers N``) both run
``serve``; neither imports the other's module for it, so the import graph has one direction:
``main`` → ``workers`` → ``serving``.

Start-up order: the embedded store is checked and, when it must be built, its builder process is
spawned first (FACTS.md: no fork after gRPC runs); the gRPC server starts with health NOT_SERVING so
probes can see it; the build is awaited (with a progress bar) and the index opened; then health turns
SERVING. SIGTERM/SIGINT drain: health goes NOT_SERVING, new
calls are refused, running tasks get the shutdown grace, then end with UNAVAILABLE (SERVER_DRAINING).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from qianshi.server import wiring
from qianshi.server.observability import logs
from qianshi.server.pipeline.admission import GenerationSlots
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.pipeline.requests import Limits
from qianshi.server.pipeline.seams import Retriever
from qianshi.server.pipeline.workqueue import WorkQueue
from qianshi.server.service import auth, security
from qianshi.server.service.interpret_service import InterpretService
from qianshi.server.tasks.registry import Registry
from qianshi.v1 import interpret_service_pb2, interpret_service_pb2_grpc

log = logging.getLogger("qianshi.server")
SERVICE_NAME = interpret_service_pb2.DESCRIPTOR.services_by_name["InterpretService"].full_name
ESTIMATES_SAVE_S = 10.0


@dataclass(slots=True)
class Running:
    """What ``serve`` reports once it is serving (tests and embedders use it)."""

    port: int
    servicer: InterpretService
    registry: Registry
    stop: asyncio.Event
    """Set it to shut the server down gracefully (what SIGTERM does)."""
    health: HealthServicer
    metrics_port: int | None = None
    """The port of ``--metrics-listen`` (None when metrics are off)."""


async def serve(
    args: argparse.Namespace,
    *,
    on_ready: Callable[[Running], None] | None = None,
    stop: asyncio.Event | None = None,
    retriever: Retriever | None = None,
) -> None:
    """Run the server until ``stop`` is set (or SIGTERM/SIGINT when ``stop`` is None). ``retriever``
    replaces the one the options name (the benchmark measures another engine with it)."""
    stop = stop or _signal_event()
    state_dir = Path(args.state_dir).expanduser()  # noqa: ASYNC240 - start-up, before anything is served
    state_dir.mkdir(parents=True, exist_ok=True)
    estimates = Estimates(state_dir / "estimates.json")
    retriever = retriever or wiring.retriever(args, state_dir)
    generator = wiring.generator(args)
    ops = wiring.Operations(args)
    interpreter = Interpreter(
        retriever,
        generator,
        estimates,
        PipelineConfig(
            tick_retrieval_s=args.tick_retrieval,
            tick_generation_s=args.tick_generation,
            work_through_generation=args.llm == "grounded" and args.grounded_pace == 0,
        ),
        slots=_generation_slots(args),
        work=WorkQueue(),
    )
    try:
        tokens = auth.TokenSet.load(args.auth_tokens_file, args.auth_tokens)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    limits = Limits(
        default_max_tokens=args.max_tokens, default_grace_s=args.default_grace, max_grace_s=args.max_grace
    )
    health = HealthServicer()
    retriever.launch()  # a build process is spawned before gRPC runs (FACTS.md)
    try:
        async with Registry(
            interpreter,
            ops.events,
            max_active=args.max_active_tasks,
            retention_s=args.retention,
            remote_cancel=ops.remote_cancel,
        ) as registry:
            servicer = InterpretService(
                registry, retriever, {}, limits, tokens.identify, max_write_stall_s=args.max_write_stall
            )
            servicer.ready = False
            guards = auth.interceptors(
                tokens, open_health=args.auth_open_health, open_reflection=args.auth_open_reflection
            )
            # Never share the port by accident; ``--workers`` shares it on purpose (workers.py).
            reuse_port = 1 if getattr(args, "reuse_port", False) else 0
            server = grpc.aio.server(
                options=[("grpc.so_reuseport", reuse_port), *security.server_options(args)],
                interceptors=[*ops.interceptors, *guards, security.RequestGuard()],
            )
            interpret_service_pb2_grpc.add_InterpretServiceServicer_to_server(servicer, server)
            health_pb2_grpc.add_HealthServicer_to_server(health, server)
            reflection.enable_server_reflection(
                (
                    SERVICE_NAME,
                    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                    reflection.SERVICE_NAME,
                ),
                server,
            )
            port = security.add_port(server, args)
            for name in ("", SERVICE_NAME):
                await health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
            await server.start()
            log.info("listening on %s (port %d); opening the index", args.listen, port)
            try:
                await retriever.start(progress_bar("index"))
            except BaseException:
                await server.stop(0)  # health said NOT_SERVING meanwhile; now the port closes
                raise
            servicer.sets = {s.id: s for s in await retriever.sets()}
            servicer.ready = True
            for name in ("", SERVICE_NAME):
                await health.set(name, health_pb2.HealthCheckResponse.SERVING)
            # Start-up objects (the corpus, the stubs, the index's metadata) never die: freeze them
            # out of the collector, and collect less often, so a full collection does not stall the
            # loop for 100+ ms under thousands of streams (measured in bench/llm_relay.py).
            gc.collect()
            gc.freeze()
            gc.set_threshold(10_000, 20, 100)
            metrics_port = await ops.start()
            print(f"qianshi-server serving on port {port}", file=sys.stderr, flush=True)
            if on_ready is not None:
                on_ready(Running(port, servicer, registry, stop, health, metrics_port))
            async with asyncio.TaskGroup() as group:
                saver = group.create_task(_save_periodically(estimates))
                operations = group.create_task(ops.run(registry, lambda: servicer.streams))
                await stop.wait()
                log.info("shutting down: draining for up to %.1f s", args.shutdown_grace)
                await health.enter_graceful_shutdown()
                await registry.drain(args.shutdown_grace)
                await server.stop(1.0)
                saver.cancel()
                operations.cancel()
    finally:
        await ops.aclose()
        await asyncio.to_thread(estimates.save)
        await generator.aclose()
        await retriever.aclose()


def _generation_slots(args: argparse.Namespace) -> GenerationSlots | None:
    """The LLM's slot pool (admission.py); the grounded generator is not an engine and is not limited."""
    if args.llm == "grounded" or args.max_generations <= 0:
        return None
    return GenerationSlots(args.max_generations, args.max_queued_generations)


async def _save_periodically(estimates: Estimates) -> None:
    while True:
        await asyncio.sleep(ESTIMATES_SAVE_S)
        await asyncio.to_thread(estimates.save)


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, event.set)
    return event


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A progress callback that draws a bar on a terminal, or logs every 10 % otherwise."""
    tty = sys.stderr.isatty()
    last = [-1]

    def report(done: int, total: int) -> None:
        pct = 100 if total <= 0 else int(done * 100 / total)
        if tty:
            filled = pct * 30 // 100
            end = "\n" if done >= total else ""
            print(
                f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {pct:3d}%",
                end=end,
                file=sys.stderr,
                flush=True,
            )
        elif pct // 10 != last[0] // 10 or done >= total:
            log.info("%s: %d/%d (%d%%)", label, done, total, pct)
        last[0] = pct

    return report


def configure_logging(args: argparse.Namespace) -> None:
    logs.configure(args.log_level, args.log_format, sys.stderr)
    for noisy in ("httpx", "httpx2", "httpcore"):  # one INFO line per LLM request otherwise
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
