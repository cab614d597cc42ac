"""``qianshi-server --workers N``: N server processes on one port, under one supervisor process.

One Python process drives its streams from one event loop on one core; ``--workers N`` uses N cores
on one host. The supervisor (the process you start) runs no gRPC itself:

1. It refuses to start unless the event log is shared (``--event-log redis://…``): the kernel hands
   each connection to any worker, so a ``Watch``, a ``Cancel`` or a ``request_id`` retry may reach a
   worker that does not run the task, and only a shared log lets every worker find every task.
2. It builds (or opens) the embedded index once (``wiring.worker_stores``); every worker then opens
   the same Qdrant Edge shards (written without a write-ahead log, they take no lock).
3. It picks the port — for ``PORT`` 0 it binds a free one with ``SO_REUSEPORT`` and holds it until
   the workers listen — and starts the workers with multiprocessing's *spawn* (FACTS.md: never fork
   a process that may hold gRPC state). Each worker is ``serving.serve`` with ``SO_REUSEPORT`` on that
   port, its own replica id and lease in the shared log; the kernel spreads connections across them.
4. Metrics: each worker serves its own on a private loopback port; the supervisor serves
   ``--metrics-listen`` and scrapes the workers when scraped (``observability/aggregate.py`` says
   why, rather than prometheus_client's multiprocess mode).
5. SIGTERM/SIGINT are passed to every worker, which drains as a single server does; the supervisor
   exits once all have (and should it die, each worker gets SIGTERM from the kernel: Linux's
   parent-death signal). A worker that dies after it served is started again (the others end its
   running tasks with REPLICA_LOST when its lease expires); one that fails before serving, three
   times in a row, stops the whole server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from qianshi.server import serving, wiring

log = logging.getLogger("qianshi.server.workers")
READY_TIMEOUT_S = 300.0
MAX_START_FAILURES = 3
_PR_SET_PDEATHSIG = 1


def check(args: argparse.Namespace) -> None:
    """Refuse a ``--workers`` setting that cannot work, with a clear message (SystemExit)."""
    if args.workers < 1:
        raise SystemExit(f"--workers must be at least 1, got {args.workers}")
    if args.workers > 1 and not wiring.shared_event_log(args):
        raise SystemExit(
            f"--workers {args.workers} needs a shared event log (--event-log redis://HOST:PORT/DB or redis-cluster://…): each"
            " connection may reach any worker, and only a shared log lets every worker find every task"
        )


@dataclass(slots=True)
class _Worker:
    index: int
    store: str
    process: BaseProcess | None = None
    pipe: Connection | None = None
    metrics_port: int | None = None
    serving: bool = False
    start_failures: int = 0


class Supervisor:
    """Starts, watches and stops the workers (see the module docstring)."""

    def __init__(self, args: argparse.Namespace, host: str, port: int, stores: list[str]) -> None:
        self.args = args
        self.host = host
        self.port = port
        self.workers = [_Worker(i, store) for i, store in enumerate(stores)]
        self._context = multiprocessing.get_context("spawn")
        self.stopping = False

    def worker_args(self, worker: _Worker) -> argparse.Namespace:
        args = copy.copy(self.args)
        args.listen = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        args.workers = 1
        args.reuse_port = True
        if worker.store:
            args.qdrant_path = worker.store
        args.metrics_listen = "127.0.0.1:0" if self.args.metrics_listen else ""
        return args

    def start(self, worker: _Worker) -> None:
        parent, child = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=run_worker, args=(self.worker_args(worker), child), name=f"qianshi-worker-{worker.index}"
        )
        process.start()
        child.close()
        worker.process, worker.pipe, worker.serving, worker.metrics_port = process, parent, False, None

    def on_message(self, worker: _Worker) -> None:
        assert worker.pipe is not None
        try:
            message = worker.pipe.recv()
        except (EOFError, OSError):
            worker.pipe.close()
            worker.pipe = None
            return
        if message[0] == "ready":
            worker.serving, worker.metrics_port, worker.start_failures = True, message[1], 0

    def metrics_targets(self) -> list[tuple[str, int]]:
        return [(str(w.index), w.metrics_port) for w in self.workers if w.metrics_port is not None]

    def signal_all(self, signum: int) -> None:
        for worker in self.workers:
            if worker.process is not None and worker.process.is_alive():
                with contextlib.suppress(ProcessLookupError, TypeError):
                    os.kill(worker.process.pid, signum)  # type: ignore[arg-type]

    def supervise(self, wakeup: socket.socket, on_all_ready: Callable[[], None]) -> int:
        """Run until every worker has exited after a stop (0), or a worker cannot start (1)."""
        announced = False
        while True:
            waitables: list[Any] = [wakeup]
            for worker in self.workers:
                if worker.process is not None:
                    waitables.append(worker.process.sentinel)
                if worker.pipe is not None:
                    waitables.append(worker.pipe)
            if len(waitables) == 1:
                return 0  # every worker has exited
            ready_list = wait(waitables, timeout=None if announced else READY_TIMEOUT_S)
            if not ready_list:
                log.error("the workers did not start within %.0f s: stopping", READY_TIMEOUT_S)
                return 1
            for ready in ready_list:
                if ready is wakeup:
                    with contextlib.suppress(OSError):
                        wakeup.recv(64)
                    continue
                for worker in self.workers:
                    if worker.pipe is not None and ready is worker.pipe:
                        self.on_message(worker)
                    elif (
                        worker.process is not None
                        and ready == worker.process.sentinel
                        and self._exited(worker) != 0
                    ):
                        return 1
            if not announced and all(w.serving for w in self.workers):
                announced = True
                on_all_ready()

    def _exited(self, worker: _Worker) -> int:
        """A worker's process ended: start it again unless stopping; nonzero when the server must stop."""
        assert worker.process is not None
        worker.process.join()
        code, served = worker.process.exitcode, worker.serving
        worker.process, worker.serving, worker.metrics_port = None, False, None
        if worker.pipe is not None:
            worker.pipe.close()
            worker.pipe = None
        if self.stopping:
            return 0
        if not served:
            worker.start_failures += 1
            if worker.start_failures >= MAX_START_FAILURES:
                log.error(
                    "worker %d failed to start %d times (exit %s): stopping",
                    worker.index,
                    worker.start_failures,
                    code,
                )
                self.stopping = True
                self.signal_all(signal.SIGTERM)
                return 1
        log.error("worker %d exited (code %s); starting it again", worker.index, code)
        self.start(worker)
        return 0


def run_worker(args: argparse.Namespace, pipe: Connection) -> None:
    """A worker process: ``serving.serve`` on the shared port; reports its metrics port once serving."""
    _drain_when_orphaned()
    serving.configure_logging(args)

    def ready(running: serving.Running) -> None:
        pipe.send(("ready", running.metrics_port))

    try:
        asyncio.run(serving.serve(args, on_ready=ready))
    except KeyboardInterrupt:
        pass
    finally:
        pipe.close()


def _drain_when_orphaned() -> None:
    """Linux: SIGTERM this worker (it drains) if the supervisor dies, so no worker outlives it."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def reserve_port(listen: str) -> tuple[str, int, socket.socket | None]:
    """``(host, port, holder)`` for ``HOST:PORT``; for port 0 a free port, held by ``holder`` (bound
    with SO_REUSEPORT, not listening) until the workers listen on it."""
    host, _, port_text = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    port = int(port_text)
    if port != 0:
        return host, port, None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, 0))
    return host, int(holder.getsockname()[1]), holder


def main(args: argparse.Namespace) -> None:
    """Run ``--workers N`` (called by ``main.main``)."""
    check(args)
    state_dir = Path(args.state_dir).expanduser()
    state_dir.mkdir(parents=True, exist_ok=True)
    log.info("preparing the index once for %d workers", args.workers)
    stores = asyncio.run(wiring.worker_stores(args, state_dir, args.workers, serving.progress_bar("index")))
    host, port, holder = reserve_port(args.listen)
    supervisor = Supervisor(args, host, port, stores)
    try:
        exporter = _serve_metrics(args.metrics_listen, supervisor) if args.metrics_listen else None
    except OSError as exc:
        raise SystemExit(f"--metrics-listen {args.metrics_listen}: {exc}") from None

    def announce() -> None:
        nonlocal holder
        if holder is not None:  # the workers listen: the port is theirs
            holder.close()
            holder = None
        print(f"qianshi-server serving on port {port} ({args.workers} workers)", file=sys.stderr, flush=True)

    try:
        with _signals_forwarded(supervisor) as wakeup:
            for worker in supervisor.workers:
                supervisor.start(worker)
            code = supervisor.supervise(wakeup, announce)
    finally:
        supervisor.stopping = True
        supervisor.signal_all(signal.SIGTERM)
        for worker in supervisor.workers:
            if worker.process is not None:
                worker.process.join()
        if exporter is not None:
            exporter.shutdown()
        if holder is not None:
            holder.close()
    if code:
        raise SystemExit(code)


@contextlib.contextmanager
def _signals_forwarded(supervisor: Supervisor) -> Iterator[socket.socket]:
    """SIGTERM/SIGINT stop the workers; yields a socket that becomes readable on a signal."""
    wakeup, writer = socket.socketpair()
    wakeup.setblocking(False)
    writer.setblocking(False)

    def on_signal(signum: int, _frame: Any) -> None:
        supervisor.stopping = True
        supervisor.signal_all(signal.SIGTERM)

    previous_fd = signal.set_wakeup_fd(writer.fileno())
    handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield wakeup
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        wakeup.close()
        writer.close()


def _serve_metrics(listen: str, supervisor: Supervisor) -> Any:
    from prometheus_client import start_http_server
    from qianshi.server.observability.aggregate import workers_registry

    host, _, port = listen.rpartition(":")
    server, _thread = start_http_server(
        int(port), host.strip("[]") or "0.0.0.0", workers_registry(supervisor.metrics_targets)
    )
    log.info("metrics of %d workers on port %d", len(supervisor.workers), server.server_port)
    return server
