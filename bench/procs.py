"""The processes of a benchmark run: the stand-in, the servers, the clients, and what they cost.

Every process is started with the project's interpreter and announces itself on a line of its own
(the stand-in: ``standin listening on URL``; the servers: ``… serving on port N``; the clients:
``ready`` / ``done``), so nothing here waits by sleeping. ``Sampler`` reads CPU time and resident
memory of the processes from the kernel (psutil) every 100 ms, in a thread of the parent.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import psutil  # type: ignore[import-untyped]
from qianshi.server.backends.retrieval.store_copy import copy_tree

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_S = 0.1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A child process whose stdout or stderr lines are read by a thread and can be waited for."""

    def __init__(self, name: str, argv: Sequence[str], *, stdin: bool = False, watch: str = "stderr") -> None:
        self.name = name
        self.popen = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if watch == "stdout" else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.log: list[str] = []
        streams = [self.popen.stderr] + ([self.popen.stdout] if watch == "stdout" else [])
        for stream in streams:
            threading.Thread(
                target=self._pump, args=(stream, stream is self.popen.stderr), daemon=True
            ).start()
        self.ps = psutil.Process(self.popen.pid)

    def _pump(self, stream: IO[str] | None, is_stderr: bool) -> None:
        assert stream is not None
        for line in stream:
            if is_stderr:
                self.log.append(line.rstrip())
                del self.log[:-200]
            self.lines.put(line.rstrip())
        if is_stderr:
            self.lines.put(None)  # end of the process's output

    def wait_for(self, needle: str, timeout: float) -> str:
        """The first output line containing ``needle``; RuntimeError with the process's log otherwise."""
        end = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(end - time.monotonic(), 0.01))
            except queue.Empty:
                line = ""
            if line is not None and needle in line:
                return line
            if line is None or time.monotonic() >= end:  # None: its stderr closed, it is exiting
                tail = "\n".join(self.log[-30:])
                raise RuntimeError(f"{self.name}: no '{needle}' (exit {self.popen.poll()}):\n{tail}")

    def send(self, line: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def pids(self) -> list[int]:
        """This process and its children (the old engine's retrieval worker; an index builder)."""
        with contextlib.suppress(psutil.Error):
            return [self.popen.pid, *(c.pid for c in self.ps.children(recursive=True))]
        return [self.popen.pid]

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def start_standin(ttft: str, rate: float, tokens: int) -> tuple[Proc, str]:
    """The vLLM stand-in in its own process; returns it and its base URL."""
    argv = python("-m", "bench.standin", "--port", "0", "--ttft", ttft, "--rate", str(rate))
    proc = Proc("standin", [*argv, "--tokens", str(tokens)], watch="stdout")
    line = proc.wait_for("listening on", 30)
    return proc, line.rsplit(" ", 1)[-1].strip()


STANDIN_GUARD = ("--llm-guard", "off")
"""Qianshi's servers run against the stand-in without the guard (issue 19): the stand-in's text is no
reading of the slip and repeats its sentences, so the guard cuts it as a loop after ~80 tokens (even
in ``flag`` mode) and the relay goes unmeasured. What the guard costs per delta is measured apart, on
real text (``python -m bench.guard_cost``). The code before issue 19 has no guard: the ``before``
design runs without the flag."""


def server_argv(
    design: str,
    state: Path,
    url: str,
    tick: float,
    capacity: int,
    metrics_port: int,
    extra: Sequence[str] = (),
    llm: str = "openai",
    before: Path | None = None,
) -> list[str]:
    """The command line of one design's server (Qianshi with the flags the benchmark needs).
    ``llm``: ``openai`` (the stand-in at ``url``) or ``grounded`` (``--grounded-pace 0``).
    ``before``: the checkout (with its own ``.venv``) that the ``before`` design runs."""
    generator: tuple[str, ...] = (
        ("--llm", "openai", "--llm-url", url, "--llm-model", "standin")
        if llm == "openai"
        else ("--llm", "grounded", "--grounded-pace", "0")
    )
    if llm == "openai" and design in ("qianshi", "old-engine"):
        generator += STANDIN_GUARD
    if design in ("qianshi", "old-engine", "before"):
        module = "bench.baselines.old_engine" if design == "old-engine" else "qianshi.server.main"
        head = python("-m", module)
        if design == "before":
            if before is None:
                raise ValueError("the before design needs --before CHECKOUT")
            head = [str(before / ".venv" / "bin" / "python"), "-m", module]
            extra = ("--qdrant-path", str(state / "qdrant-before"), *extra)
        return [
            *head,
            *("--listen", "127.0.0.1:0", "--state-dir", str(state), "--log-level", "WARNING"),
            *generator,
            *("--tick-retrieval", str(tick), "--tick-generation", str(tick)),
            *("--max-active-tasks", str(capacity), "--max-queued-generations", str(capacity)),
            *("--metrics-listen", f"127.0.0.1:{metrics_port}", "--shutdown-grace", "1"),
            *extra,
        ]
    module = {
        "naive": "bench.baselines.naive_server",
        "threadpool": "bench.baselines.threadpool_server",
        "bare": "bench.baselines.bare_server",
    }[design]
    return python(
        "-m",
        module,
        *("--state-dir", str(state), "--llm-url", url, "--tick", str(tick), "--llm", llm),
        *("--lag-file", str(state / "lag.json")),
        *extra,
    )


def start_server(argv: list[str], name: str) -> tuple[Proc, int]:
    proc = Proc(name, argv)
    line = proc.wait_for("serving on port", 120)
    return proc, int(line.split("serving on port ", 1)[1].split()[0])


def copy_state(master: Path, into: Path) -> Path:
    """A private copy of the built state folder (each server learns its own estimates)."""
    if into.exists():
        shutil.rmtree(into)
    copy_tree(master, into, ignore=shutil.ignore_patterns("*.lock", "lag.json"))
    return into


def start_clients(jobs: list[dict[str, Any]]) -> list[Proc]:
    """Start the client processes with their jobs and wait until each is connected (``ready``)."""
    clients = []
    for i, job in enumerate(jobs):
        proc = Proc(f"client{i}", python("-m", "bench.client"), stdin=True, watch="stdout")
        proc.send(json.dumps(job))
        clients.append(proc)
    for proc in clients:
        proc.wait_for("ready", 120)
    return clients


class Sampler:
    """CPU seconds and RSS of named processes every 100 ms; read at any time with ``at``.

    ``machine`` is the CPU time of every process on the machine, so the share of it spent outside the
    benchmark (other work on a shared host) can be reported next to the figures it disturbs."""

    def __init__(self, procs: dict[str, Proc]) -> None:
        self.procs = procs
        self.times: list[float] = []
        self.rows: list[dict[str, tuple[float, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample()

    def _sample(self) -> None:
        row: dict[str, tuple[float, int]] = {}
        for name, proc in self.procs.items():
            children = (0.0, 0)
            for k, pid in enumerate(proc.pids()):
                with contextlib.suppress(psutil.Error):
                    p = psutil.Process(pid)
                    cpu = p.cpu_times()
                    value = (cpu.user + cpu.system, p.memory_info().rss)
                    if k == 0:
                        row[name] = value
                    else:
                        children = (children[0] + value[0], children[1] + value[1])
            row[f"{name}.children"] = children
        busy = psutil.cpu_times()
        row["machine"] = (busy.user + busy.nice + busy.system + busy.irq + busy.softirq + busy.steal, 0)
        self.times.append(time.time())
        self.rows.append(row)

    def at(self, when: float) -> dict[str, tuple[float, int]]:
        """The last sample taken at or before ``when`` (the first one if none)."""
        i = bisect.bisect_right(self.times, when) - 1
        return self.rows[max(i, 0)]


@contextlib.contextmanager
def running(procs: Sequence[Proc]) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            proc.stop()


def wait_quiet(max_wait_s: float, threshold: float = 0.15) -> float:
    """Wait (up to ``max_wait_s``) for a second in which the machine's CPU is less than ``threshold``
    busy — a shared host runs other people's work; returns the busy share of the last second."""
    end = time.monotonic() + max_wait_s
    cores = len(os.sched_getaffinity(0))
    while True:
        before = psutil.cpu_times()
        time.sleep(1.0)
        after = psutil.cpu_times()
        busy = sum(
            getattr(after, f) - getattr(before, f) for f in ("user", "nice", "system", "irq", "softirq")
        )
        share = busy / cores
        if share < threshold or time.monotonic() >= end:
            return round(share, 3)
