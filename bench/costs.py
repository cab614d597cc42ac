"""What a level cost the server: CPU, memory, event-loop lag — and the stand-in's timelines for relay.

CPU and resident memory come from the ``Sampler`` (the kernel's counters, every 100 ms). The Qianshi
server's loop lag is its own metric, ``qianshi_event_loop_lag_seconds`` (how late a 100 ms sleep
wakes), read from ``/metrics`` before and after the level: the p99 is interpolated inside the
histogram's bucket, so it is as coarse as the buckets (… 50, 100, 250, 500 ms). The baselines write
the same probe's samples to a file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import httpx

from bench import analysis
from bench.client import Stream
from bench.procs import Sampler

RELAY_SAMPLE = 400
"""Streams whose stand-in timeline is fetched for the relay latency."""
_BUCKET = re.compile(r'^qianshi_event_loop_lag_seconds_bucket\{(?:[^}]*,)?le="([^"]+)"[^}]*\} (\S+)$', re.M)


def cores() -> int:
    return len(os.sched_getaffinity(0))


def costs(
    sampler: Sampler, streams: list[Stream], t0: float, t_end: float, t_memory: float, clients: int
) -> dict[str, Any]:
    """CPU per stream-second (over the window, and after the ramp: from ``t_memory`` on, when no
    stream is opening) and per delta, memory per open stream (RSS at ``t_memory`` minus RSS at ``t0``,
    over the streams open at ``t_memory``), and every process's CPU in the window."""
    before, after = sampler.at(t0), sampler.at(t_end)

    def cpu(name: str, at: dict[str, tuple[float, int]] = after) -> float:
        return at.get(name, (0.0, 0))[0] - before.get(name, (0.0, 0))[0]

    server_cpu = cpu("server")
    deltas = analysis.text_deltas(streams)
    stream_s = analysis.stream_seconds(streams, t_end)
    open_then = analysis.open_at(streams, t_memory)
    rss0, rss_mem, rss_end = before["server"][1], sampler.at(t_memory)["server"][1], after["server"][1]
    window = max(t_end - t0, 1e-9)
    clients_cpu = sum(cpu(f"client{i}") for i in range(clients))
    ours = server_cpu + cpu("server.children") + cpu("standin") + clients_cpu
    ramp_cpu = cpu("server", sampler.at(t_memory))
    steady_cpu = server_cpu_between(sampler, t_memory, t_end)
    steady_s = analysis.stream_seconds(streams, t_end) - analysis.stream_seconds(streams, t_memory)
    return {
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_us_per_stream_s": round(server_cpu * 1e6 / stream_s, 1) if stream_s else None,
        "server_cpu_us_per_stream_s_after_ramp": round(steady_cpu * 1e6 / steady_s, 1)
        if steady_s > 1
        else None,
        "text_deltas": deltas,
        "server_cpu_us_per_delta": round(server_cpu * 1e6 / deltas, 1) if deltas else None,
        "server_cpu_ms_per_open": round(ramp_cpu * 1000 / max(len(streams), 1), 3),
        "server_rss_before_mib": round(rss0 / 2**20, 1),
        "open_streams_at_memory_sample": open_then,
        "server_kib_per_open_stream": round((rss_mem - rss0) / 1024 / open_then, 2) if open_then else None,
        "server_rss_growth_kib_per_stream_after": round((rss_end - rss_mem) / 1024 / max(len(streams), 1), 2),
        "retrieval_worker_cpu_s": round(cpu("server.children"), 3),
        "standin_cpu_s": round(cpu("standin"), 3),
        "clients_cpu_s": round(clients_cpu, 3),
        "bench_cpu_share": round(ours / (window * cores()), 3),
        "other_cpu_share": round(max(cpu("machine") - ours, 0.0) / (window * cores()), 3),
    }


def server_cpu_between(sampler: Sampler, start: float, end: float) -> float:
    return sampler.at(end)["server"][0] - sampler.at(start)["server"][0]


def scrape_lag(port: int) -> list[tuple[float, float]]:
    """The loop-lag histogram's cumulative buckets from the server's ``/metrics`` (with ``--workers``,
    every worker's, summed per bucket)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    summed: dict[float, float] = {}
    for le, count in _BUCKET.findall(text):
        summed[float(le)] = summed.get(float(le), 0.0) + float(count)
    return sorted(summed.items())


def lag_p99_ms(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> float | None:
    start = dict(before)
    delta = [(le, count - start.get(le, 0.0)) for le, count in after]
    value = analysis.histogram_quantile(delta, 0.99)
    return None if value is None else round(value * 1000, 2)


def lag_max_bucket_ms(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> float | None:
    """The upper bound of the highest lag bucket that got an observation in the window (the longest
    stall is at most this long, and longer than the bucket below)."""
    start = dict(before)
    below = 0.0
    highest = None
    for le, count in after:
        gained = count - start.get(le, 0.0)
        if gained > below:
            highest = le
        below = gained
    return None if highest is None else round(highest * 1000, 1)


def baseline_lag_p99_ms(path: Path, t0: float, t_end: float) -> float | None:
    """From a baseline's lag file; a loop still blocked at the end reports its lag when it wakes."""
    if not path.exists():
        return None
    lags = sorted(lag for at, lag in json.loads(path.read_text()) if t0 <= at <= t_end + 60)
    value = analysis.pct(lags, 0.99)
    return None if value is None else round(value * 1000, 2)


def timelines(url: str, streams: list[Stream]) -> dict[int, dict[int, float]]:
    """When the stand-in sent each character offset, for a sample of the streams that got text."""
    chosen = [s for s in streams if any(e[analysis.KIND] == "text_delta" for e in s.events)][:RELAY_SAMPLE]
    out: dict[int, dict[int, float]] = {}
    with httpx.Client(base_url=url.removesuffix("/v1"), timeout=30) as http:
        for s in chosen:
            sent = http.get("/standin/timeline", params={"seed": s.seed}).json()["sent"]
            out[s.seed] = {int(offset): float(at) for offset, at in sent}
    return out
