"""One benchmark level: a design's server, N streams from the client processes, and its figures.

``prepare`` builds the index once (``<out>/.state/index``; embedded Qdrant) and, for each run, a
state folder whose learned estimates were warmed up by a few real tasks against the run's stand-in
(so ETAs are measured after warm-up). ``drive`` gives a server a private copy of that folder, starts
the client processes, lets them open N streams in waves and samples CPU and memory of every process
while they run. ``run_level`` turns that into a level's figures (analysis.py, costs.py); the relay
level (``relay_level.py``) drives it too."""

from __future__ import annotations

import math
import pickle
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qianshi.server.backends.retrieval.corpus import load_shipped_corpus

from bench import analysis, costs
from bench.client import Stream
from bench.procs import (
    Proc,
    Sampler,
    copy_state,
    free_port,
    server_argv,
    start_clients,
    start_server,
    wait_quiet,
)

QUESTIONS = (
    "這次換工作會順利嗎？",
    "我和他的感情會有結果嗎？",
    "家母的病什麼時候會好？",
    "今年適合投資做生意嗎？",
    "明年的考試能考上嗎？",
    "搬家到台北好不好？",
    "這場官司能贏嗎？",
    "遺失的東西找得回來嗎？",
)
STREAMS_PER_CHANNEL = 1000
STREAMS_PER_CLIENT = 500
"""Above this, a second client process (the machine has two cores; more would only compete)."""
RELAY_PROFILE = "tokens=500,ttft=0.3"
"""The relay level's answers by default (the stand-in's per-request profile): long enough that every
stream is receiving text at once after the last one's retrieval."""


@dataclass(slots=True)
class Settings:
    out: Path
    designs: list[str]
    ns: list[int]
    tick_s: float = 0.8
    ttft: str = "1"
    rate: float = 50.0
    tokens: int = 30
    hold_s: float = 15.0
    open_rate: float = 0.0
    """Streams opened per second; 0: max(100, N / 20) (a 1,000-stream level opens in 10 s, larger
    ones in 20 s): arrivals as a steady service sees them, in waves every ``wave_interval_s``."""
    wave_interval_s: float = 0.01
    warmup_tasks: int = 16
    clients: int = 0
    """Client processes; 0: one per 500 streams, at most two."""
    relay_n: int = -1
    """Streams of the relay level (0: none; -1: 100 when the sweep runs)."""
    relay_profile: str = RELAY_PROFILE
    quiet_wait_s: float = 0.0
    """Before each level, wait up to this long for the machine to be quiet (a shared host)."""
    burst_ns: list[int] = field(default_factory=list)
    """Burst levels (burst.py): N streams opened within about a second, grounded generator."""
    burst_designs: list[str] = field(default_factory=list)
    burst_rounds: int = 1
    """Rounds of the burst levels, the designs interleaved; each figure is the median over the rounds."""
    before: Path | None = None
    """A checkout of the code before this change, with its own .venv (the ``before`` design)."""
    profile: bool = False
    """Record the Qianshi server with py-spy during each level (``<out>/profile-<design>-<N>.txt``)."""
    hold_ns: list[int] = field(default_factory=list)
    """Hold levels (hold.py): N streams kept open, memory per open stream."""
    hold_designs: list[str] = field(default_factory=list)
    hold_large_designs: list[str] = field(default_factory=list)
    """The designs of the hold levels above 2,000 streams (the baselines' servers take long to fill)."""
    workers_n: int = 0
    """Streams of the ``--workers 2`` + Redis level (hold.py); 0: none."""
    standin_url: str = ""
    state: Path = field(default_factory=Path)


def poems() -> list[tuple[str, int]]:
    return [(s.id, n) for s in load_shipped_corpus().sets for n in range(1, s.count + 1)]


def build_index(folder: Path, designs: Sequence[str] = ("qianshi",), before: Path | None = None) -> Path:
    """A state folder with the built index (built once; later runs reuse it): Qianshi's Edge shards
    in ``qdrant/``; with the ``old-engine`` design qdrant-client's local store in ``qdrant-old/``, with
    the ``before`` design the one the checkout builds in ``qdrant-before/``."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [("qianshi", "built-edge")]
    wanted += [(d, f"built-{d}") for d in ("old-engine", "before") if d in designs]
    for design, marker in wanted:
        if (folder / marker).exists():
            continue
        url = "http://127.0.0.1:9/v1"
        argv = server_argv(design, folder, url, 0.8, 10, free_port(), (), "grounded", before)
        server, _ = start_server(argv, f"index ({design})")
        server.stop()
        (folder / marker).write_text(f"the index of {design} is built\n")
    return folder


def prepare(settings: Settings, standin: Proc) -> Path:
    """The run's state folder: the index, and estimates learned from ``warmup_tasks`` real tasks."""
    designs = [*settings.designs, *settings.burst_designs]
    index = build_index(settings.out / ".state" / "index", designs, settings.before)
    state = copy_state(index, settings.out / ".state" / "run")
    if settings.warmup_tasks <= 0:
        return state
    generators = ["openai"] if "qianshi" in settings.designs and settings.ns else []
    generators += ["grounded"] if "qianshi" in settings.burst_designs and settings.burst_ns else []
    for llm in generators:
        argv = server_argv("qianshi", state, settings.standin_url, settings.tick_s, 100, free_port(), (), llm)
        server, port = start_server(argv, f"warm-up ({llm})")
        try:
            specs = _requests(settings.warmup_tasks, 10_000_000, random.Random(7))
            out = state / "warmup.pickle"
            job = _job(settings, port, specs, hold_s=120.0, wave=4, interval=0.5, out=out)
            for client in start_clients([job]):
                client.send(f"go {time.time() + 0.1}")
                client.wait_for("done", 300)
                client.stop()
        finally:
            server.stop()  # saves the learned estimates into the state folder
    return state


def _requests(n: int, seed_base: int, rng: random.Random) -> list[dict[str, Any]]:
    keys = poems()
    out = []
    for i in range(n):
        set_id, number = rng.choice(keys)
        question = rng.choice(QUESTIONS)
        out.append(
            {"index": i, "set_id": set_id, "number": number, "question": question, "seed": seed_base + i}
        )
    return out


def _job(
    settings: Settings,
    port: int,
    specs: list[dict[str, Any]],
    *,
    hold_s: float,
    wave: int,
    interval: float,
    out: Path,
    warm: bool = False,
) -> dict[str, Any]:
    return {
        "target": f"127.0.0.1:{port}",
        "channels": max(1, math.ceil(len(specs) / STREAMS_PER_CHANNEL)),
        "streams": specs,
        "wave_size": wave,
        "wave_interval_s": interval,
        "hold_s": hold_s,
        "retries": 3,
        "warm_poems": poems() if warm else [],
        "out": str(out),
    }


@dataclass(slots=True)
class Drive:
    """What one driven level left: the streams and the measurements around them."""

    design: str
    n: int
    streams: list[Stream]
    results: list[dict[str, Any]]
    sampler: Sampler
    t0: float
    t_end: float
    ramp_s: float
    clients: int
    channels: int
    state: Path
    lag: tuple[list[tuple[float, float]], list[tuple[float, float]]]
    quiet_before: float | None


@dataclass(frozen=True, slots=True)
class Opens:
    """How a level opens its streams, when not at the sweep's steady rate."""

    wave: int
    interval_s: float
    hold_s: float
    llm: str = "openai"
    tag: str = ""
    """Tells this level's state folder apart from a sweep level of the same design and N."""


def drive(
    settings: Settings,
    standin: Proc,
    design: str,
    n: int,
    level: int,
    extra: Sequence[str] = (),
    opens: Opens | None = None,
    tag: str = "",
) -> Drive:
    """Start ``design``'s server, run ``n`` streams against it from the client processes, stop it.
    ``tag`` (or ``opens.tag``) tells this level's state folder and profile apart from others of the
    same design and N."""
    quiet = wait_quiet(settings.quiet_wait_s) if settings.quiet_wait_s > 0 else None
    tag = opens.tag if opens is not None and opens.tag else tag
    tag = f"{tag}-" if tag else ""
    state = copy_state(settings.state, settings.out / ".state" / "levels" / f"{tag}{design}-{n}")
    metrics_port = free_port()
    capacity = max(2 * n + 100, 2000)
    llm = opens.llm if opens is not None else "openai"
    argv = server_argv(
        design,
        state,
        settings.standin_url,
        settings.tick_s,
        capacity,
        metrics_port,
        extra,
        llm,
        settings.before,
    )
    server, port = start_server(argv, design)
    specs = _requests(n, 1_000_000 * (level + 1), random.Random(level))
    count = settings.clients or min(2, math.ceil(n / STREAMS_PER_CLIENT))
    interval = opens.interval_s if opens is not None else settings.wave_interval_s
    wave = opens.wave if opens is not None else wave_size(settings, n)
    hold_s = opens.hold_s if opens is not None else settings.hold_s
    jobs = [
        _job(
            settings,
            port,
            specs[c::count],
            hold_s=hold_s,
            wave=wave,
            interval=interval,
            out=state / f"client{c}.pickle",
            warm=c == 0,
        )
        for c in range(count)
    ]
    ramp_s = ((n - 1) // wave) * interval
    metered = design in ("qianshi", "old-engine", "before")
    try:
        clients = start_clients(jobs)
        try:
            before = costs.scrape_lag(metrics_port) if metered else []
            procs = {"server": server, "standin": standin, **{f"client{i}": c for i, c in enumerate(clients)}}
            profile = settings.out / f"profile-{tag}{design}-{n}.txt"
            spy = _py_spy(server, profile) if settings.profile else None
            with Sampler(procs) as sampler:
                t0 = time.time() + 0.2
                for client in clients:
                    client.send(f"go {t0}")
                for client in clients:
                    client.wait_for("done", ramp_s + hold_s + 300)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
            after = costs.scrape_lag(metrics_port) if metered else []
        finally:
            for client in clients:
                client.stop()
    finally:
        server.stop()
    results = [pickle.loads((state / f"client{c}.pickle").read_bytes()) for c in range(count)]
    streams: list[Stream] = sorted((s for r in results for s in r["streams"]), key=lambda s: s.index)
    t_end = max((s.ended for s in streams), default=t0)
    channels = sum(j["channels"] for j in jobs)
    return Drive(
        design,
        n,
        streams,
        results,
        sampler,
        t0,
        t_end,
        ramp_s,
        count,
        channels,
        state,
        (before, after),
        quiet,
    )


def wave_size(settings: Settings, n: int) -> int:
    rate = settings.open_rate or max(100.0, n / 20)
    return max(1, round(rate * settings.wave_interval_s))


def _head(d: Drive, settings: Settings) -> dict[str, Any]:
    figures, gaps = analysis.cadence(d.streams, settings.tick_s)
    return {
        "design": d.design,
        "n": d.n,
        "clients": d.clients,
        "channels": d.channels,
        "opens_per_s": round(wave_size(settings, d.n) / settings.wave_interval_s, 1),
        "ramp_s": round(d.ramp_s, 2),
        "window_s": round(d.t_end - d.t0, 2),
        "machine_busy_before": d.quiet_before,
        **figures,
        "client_loop_lag_p99_ms": round(1000 * max(r["client_lag_p99_s"] for r in d.results), 2),
        "_": {"gaps": gaps, "streams": d.streams},
    }


def run_level(settings: Settings, standin: Proc, design: str, n: int, level: int) -> dict[str, Any]:
    """Run ``n`` streams against ``design``; the level's figures (raw data under ``_``)."""
    d = drive(settings, standin, design, n, level)
    figures = _head(d, settings)
    t_memory = d.t0 + d.ramp_s + settings.tick_s + 0.3
    figures["costs"] = costs.costs(d.sampler, d.streams, d.t0, d.t_end, t_memory, d.clients)
    if design == "qianshi":
        figures["costs"]["loop_lag_p99_ms"] = costs.lag_p99_ms(*d.lag)
        figures["costs"]["loop_lag_source"] = "server metric qianshi_event_loop_lag_seconds (bucketed)"
        figures["relay"] = analysis.relay(d.streams, costs.timelines(settings.standin_url, d.streams))
        figures["eta"] = analysis.eta_error(d.streams)
    else:
        figures["costs"]["loop_lag_p99_ms"] = costs.baseline_lag_p99_ms(d.state / "lag.json", d.t0, d.t_end)
        figures["costs"]["loop_lag_source"] = "the baseline's own 100 ms sleep probe"
    return figures


def _py_spy(server: Proc, path: Path) -> subprocess.Popen[bytes]:
    """py-spy recording the server and its child processes (collapsed stacks, 200 Hz) until SIGINT."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    argv = [
        exe,
        "record",
        "--pid",
        str(server.popen.pid),
        "--rate",
        "200",
        "--format",
        "raw",
        "--subprocesses",
        "--output",
        str(path),
    ]
    return subprocess.Popen([*argv, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
