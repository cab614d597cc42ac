"""The hold levels: N streams open at once and kept open — what each costs the server, and its cadence.

Every stream asks a stand-in whose first token never comes within the level (``HOLD_PROFILE``), so
once all are open each stream waits: for its first token (the ones holding a generation slot) or for
a slot (the rest, queued), ticking at the tick interval. That is the state a server holds most
streams in under load, and the one whose cost per stream decides how many fit in memory.

- **memory per open stream**: the server's resident memory once every stream is open and has
  settled (``SETTLE_S`` after the last wave) minus before the first, over the streams open then.
  With ``--workers`` the workers' memory is summed (the supervisor's too). The designs: Qianshi,
  ``bare`` (grpc.aio alone holding each stream after its first event: the floor under any design),
  the naive and thread-pool baselines, and ``before``.
- **memory growth while held**: resident memory again 1 s before the window closes; its growth since
  the first sample over the streams open and the seconds between, in bytes per stream-second held (a
  held stream hears a tick every tick interval, and its log keeps every event for ``Watch``).
- **CPU per open stream**: server CPU per stream-second over the hold, after the ramp (ticks, and
  whatever else an idle stream costs).
- **cadence**: the gap distribution of every stream over the whole level (its opening included) and
  the streams silent longer than 2 × tick.

``run_workers`` is the 10,000-stream level of issue 20: Qianshi with ``--workers 2`` and the Redis
event log (a private ``redis-server``), the clients in their own processes, streams opened in waves of
at most 500 (FACTS.md: larger waves lose calls to gRPC's backlog).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from bench import analysis, costs
from bench.procs import Proc, start_standin
from bench.run import Drive, Opens, Settings, _head, drive
from bench.scale_out_procs import start_redis

HOLD_PROFILE_TTFT = "3600"
"""The hold stand-in's time to first token (s): nothing is generated while a level runs."""
WAVE = 500
INTERVAL_S = 0.5
"""Up to 2,000 streams: 1,000 opens a second. Larger levels open 250 a second (``LARGE_INTERVAL_S``),
the rate a server process takes them in while it keeps the open ones ticking."""
LARGE_INTERVAL_S = 2.0
SETTLE_S = 3.0
"""After the last stream's first event, time for every stream to reach its waiting state before
memory is read."""
HOLD_S = 8.0
"""How long the streams stay open after the last wave (the CPU and cadence window)."""


def opens(n: int, tag: str) -> Opens:
    interval = INTERVAL_S if n <= 2000 else LARGE_INTERVAL_S
    return Opens(WAVE, interval, SETTLE_S + HOLD_S + n / 1000, tag=tag)


GENERATION_TICK_S = 1.2
TICKS = ("--tick-retrieval", "0.8", "--tick-generation", str(GENERATION_TICK_S))
"""The --workers level runs the server's default tick intervals: its held streams wait in the
generation stage (for a slot or a first token), ticking every 1.2 s; its goal is gap p99 ≤ 1.05 × that."""


def start_hold_standin() -> tuple[Proc, str]:
    """A stand-in whose first token never comes within a level."""
    return start_standin(HOLD_PROFILE_TTFT, 50.0, 30)


def figures(d: Drive, settings: Settings) -> dict[str, Any]:
    out = _head(d, settings)
    ramp_end = d.t0 + d.ramp_s
    firsts = [s.events[0][analysis.RECEIVED] for s in d.streams if s.events]
    t_memory = min(max([ramp_end, *firsts]) + SETTLE_S, d.t_end - 1.0)
    before, at = d.sampler.at(d.t0), d.sampler.at(t_memory)

    def rss(row: dict[str, tuple[float, int]]) -> int:
        return row.get("server", (0.0, 0))[1] + row.get("server.children", (0.0, 0))[1]

    def cpu(row: dict[str, tuple[float, int]]) -> float:
        return row.get("server", (0.0, 0))[0] + row.get("server.children", (0.0, 0))[0]

    open_then = analysis.open_at(d.streams, t_memory)
    t_late = max(d.t_end - 1.0, t_memory)
    late, open_late = d.sampler.at(t_late), analysis.open_at(d.streams, t_late)
    end = d.sampler.at(d.t_end)
    held_s = analysis.stream_seconds(d.streams, d.t_end) - analysis.stream_seconds(d.streams, t_memory)
    window = max(d.t_end - d.t0, 1e-9)
    machine = end["machine"][0] - before["machine"][0]
    ours = (
        cpu(end)
        - cpu(before)
        + sum(
            end.get(f"client{i}", (0.0, 0))[0] - before.get(f"client{i}", (0.0, 0))[0]
            for i in range(d.clients)
        )
    )
    out["level"] = "hold"
    out["memory"] = {
        "sampled_s_after_first_open": round(t_memory - d.t0, 2),
        "open_streams_at_sample": open_then,
        "server_rss_before_mib": round(rss(before) / 2**20, 1),
        "server_rss_held_mib": round(rss(at) / 2**20, 1),
        "server_kib_per_open_stream": round((rss(at) - rss(before)) / 1024 / open_then, 2)
        if open_then
        else None,
        "sampled_late_s_after_first_open": round(t_late - d.t0, 2),
        "server_kib_per_open_stream_late": round((rss(late) - rss(before)) / 1024 / open_late, 2)
        if open_late
        else None,
        "growth_bytes_per_stream_s_held": round((rss(late) - rss(at)) / open_late / (t_late - t_memory), 1)
        if open_late and t_late - t_memory > 1.0
        else None,
    }
    out["costs"] = {
        "server_cpu_us_per_stream_s_held": round((cpu(end) - cpu(at)) * 1e6 / held_s, 1)
        if held_s > 1
        else None,
        "server_cpu_s": round(cpu(end) - cpu(before), 2),
        "other_cpu_share": round(max(machine - ours, 0.0) / (window * costs.cores()), 3),
    }
    if d.design in ("qianshi", "before"):
        out["costs"]["loop_lag_p99_ms"] = costs.lag_p99_ms(*d.lag)
    return out


def run_hold(settings: Settings, standin: Proc, design: str, n: int, level: int) -> dict[str, Any]:
    """``n`` streams of ``design`` held open on the hold stand-in (``settings.standin_url`` is its)."""
    extra = ("--hold",) if design == "bare" else ()
    d = drive(settings, standin, design, n, level, extra, opens=opens(n, "hold"))
    return figures(d, settings)


def run_workers(settings: Settings, standin: Proc, n: int, level: int, workers: int = 2) -> dict[str, Any]:
    """``n`` Qianshi streams held open on ``--workers`` server processes sharing a Redis event log."""
    folder = settings.out / ".state" / "redis"
    if folder.exists():
        shutil.rmtree(folder)
    redis, url = start_redis(Path(folder))
    try:
        extra = ("--workers", str(workers), "--event-log", url, *TICKS)
        ticking = dataclasses.replace(settings, tick_s=GENERATION_TICK_S)  # gaps judged against it
        d = drive(ticking, standin, "qianshi", n, level, extra, opens=opens(n, f"workers{workers}"))
    finally:
        redis.stop()
    out = figures(d, ticking)
    out["tick_s"] = GENERATION_TICK_S
    out["level"] = "workers"
    out["design"] = f"qianshi --workers {workers} (redis)"
    out["workers"] = workers
    return out
