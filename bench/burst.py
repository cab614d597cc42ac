"""The burst level: N people ask within about a second, and how long each of them waits.

N streams are opened in waves of 250 every 0.25 s (1,000 streams within 1 s) against a server with
the grounded generator at ``--grounded-pace 0`` (no model: what is measured is the service itself).
Each stream runs to its end (at most ``BURST_HOLD_S``). Reported, at the client, from the call's
first opening: time to the poem, to the passages and to the result (p50 / p99), the first event's
p99, the longest silence (the largest gap of any stream), the errors (streams that did not end with a
result); in the server: poem + passages (the ``passages`` event's elapsed time since ``accepted``),
its CPU per task (every process of the server: the old engine's worker too), its loop lag, and the
ETA's error. The designs: Qianshi, the naive and thread-pool baselines (same engine, Qdrant Edge,
in their own interpreter), ``old-engine`` (today's Qianshi with qdrant-client's local mode in a worker
process, the engine before Qdrant Edge: baselines/old_engine.py), ``bare`` (grpc.aio alone: the
floor) and, with ``--before CHECKOUT``, ``before`` (the server of another checkout, for example the
commit before this change, run with its own virtual environment).

The solo level times poem + passages for one stream at a time (100 streams, one every 20 ms).
``startup`` times a server from its start to "serving": on an empty folder (the first build) and on
the index it built (a restart).
"""

from __future__ import annotations

import copy
import shutil
import statistics
import time
from typing import Any

from bench import analysis, costs, stages
from bench.client import Stream
from bench.procs import Proc, free_port, server_argv, start_server
from bench.run import Drive, Opens, Settings, _head, drive

BURST_WAVE = 250
BURST_INTERVAL_S = 0.25
BURST_HOLD_S = 240.0
SOLO = Opens(wave=1, interval_s=0.02, hold_s=10.0, llm="grounded", tag="solo")
SOLO_N = 100


def _after_open(streams: list[Stream], kind: str) -> list[float]:
    return [
        next(e[analysis.RECEIVED] for e in s.events if e[analysis.KIND] == kind) - s.opened
        for s in streams
        if any(e[analysis.KIND] == kind for e in s.events)
    ]


def _in_server(streams: list[Stream], kind: str) -> list[float]:
    """The server's elapsed time (since ``accepted``) at the first ``kind`` event of each stream."""
    return [
        next(e[analysis.ELAPSED] for e in s.events if e[analysis.KIND] == kind)
        for s in streams
        if any(e[analysis.KIND] == kind for e in s.events)
    ]


def figures(d: Drive, settings: Settings) -> dict[str, Any]:
    """A burst or solo level's figures (raw data under ``_``)."""
    out = _head(d, settings)
    streams = d.streams
    out["time_to_ms"] = {
        kind: analysis.dist(_after_open(streams, kind), 1000, 1) for kind in ("poem", "passages", "result")
    }
    out["in_server_ms"] = {
        "poem": analysis.dist(_in_server(streams, "poem"), 1000, 3),
        "poem_and_passages": analysis.dist(_in_server(streams, "passages"), 1000, 3),
        "result": analysis.dist(_in_server(streams, "result"), 1000, 2),
    }
    out["longest_silence_s"] = out["gap_s"]["max"]
    out["errors"] = sum(s.outcome != "result" for s in streams)
    # From the last sample before the first open to the one taken after the clients were done: a
    # short burst ends between two 100 ms samples, and what the server spends then is the burst's.
    before, after = d.sampler.at(d.t0), d.sampler.rows[-1]

    def cpu(name: str) -> float:
        return after.get(name, (0.0, 0))[0] - before.get(name, (0.0, 0))[0]

    server_cpu = cpu("server") + cpu("server.children")
    window = max(d.t_end - d.t0, 1e-9)
    clients = sum(cpu(f"client{i}") for i in range(d.clients))
    ours = server_cpu + cpu("standin") + clients
    out["costs"] = {
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_ms_per_task": round(server_cpu * 1000 / max(d.n, 1), 3),
        "server_children_cpu_s": round(cpu("server.children"), 3),
        "clients_cpu_s": round(clients, 3),
        "bench_cpu_share": round(ours / (window * costs.cores()), 3),
        "other_cpu_share": round(max(cpu("machine") - ours, 0.0) / (window * costs.cores()), 3),
    }
    profile = settings.out / f"profile-{d.state.name}.txt"
    if settings.profile and profile.exists():
        out["stages"] = stages.stages(profile, out["costs"]["server_cpu_ms_per_task"])
    if d.design in ("qianshi", "old-engine", "before"):
        out["costs"]["loop_lag_p99_ms"] = costs.lag_p99_ms(*d.lag)
        out["costs"]["loop_lag_max_bucket_ms"] = costs.lag_max_bucket_ms(*d.lag)
        out["eta"] = analysis.eta_error(streams)
    else:
        out["costs"]["loop_lag_p99_ms"] = costs.baseline_lag_p99_ms(d.state / "lag.json", d.t0, d.t_end)
    return out


def run_burst(settings: Settings, standin: Proc, design: str, n: int, level: int) -> dict[str, Any]:
    opens = Opens(BURST_WAVE, BURST_INTERVAL_S, BURST_HOLD_S, llm="grounded", tag="burst")
    out = figures(drive(settings, standin, design, n, level, opens=opens), settings)
    out["level"] = "burst"
    out["opens"] = {"wave": BURST_WAVE, "interval_s": BURST_INTERVAL_S}
    return out


_MEDIANS = (
    ("first_event_ms", "p50"),
    ("first_event_ms", "p99"),
    ("time_to_ms", "poem", "p50"),
    ("time_to_ms", "poem", "p99"),
    ("time_to_ms", "passages", "p50"),
    ("time_to_ms", "passages", "p99"),
    ("time_to_ms", "result", "p50"),
    ("time_to_ms", "result", "p99"),
    ("in_server_ms", "poem_and_passages", "p50"),
    ("in_server_ms", "poem_and_passages", "p99"),
    ("longest_silence_s",),
    ("costs", "server_cpu_ms_per_task"),
    ("costs", "other_cpu_share"),
    ("costs", "loop_lag_p99_ms"),
    ("eta", "median_abs_error_s"),
)


def merge_rounds(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One level per design and N: with several rounds, each figure of ``_MEDIANS`` is the median of
    the rounds' (the first round's level carries the rest, and the plots' raw data); errors add up;
    every round's figures stay under ``rounds``."""
    out: list[dict[str, Any]] = []
    keys = list(dict.fromkeys((lv["design"], lv["n"]) for lv in rounds))
    for design, n in keys:
        mine = [lv for lv in rounds if lv["design"] == design and lv["n"] == n]
        if len(mine) == 1:
            out.append(mine[0])
            continue
        merged = copy.deepcopy({k: v for k, v in mine[0].items() if k != "_"})
        merged["_"] = mine[0]["_"]
        for path in _MEDIANS:
            values = [v for v in (_get(lv, path) for lv in mine) if v is not None]
            if values:
                _set(merged, path, round(statistics.median(values), 4))
        merged["errors"] = sum(lv["errors"] for lv in mine)
        merged["round"] = "median"
        merged["rounds"] = [{k: v for k, v in lv.items() if k != "_"} for lv in mine]
        out.append(merged)
    return out


def _get(level: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = level
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _set(level: dict[str, Any], path: tuple[str, ...], value: float) -> None:
    target = level
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def run_solo(settings: Settings, standin: Proc, level: int) -> dict[str, Any]:
    out = figures(drive(settings, standin, "qianshi", SOLO_N, level, opens=SOLO), settings)
    out["level"] = "solo"
    out["opens"] = {"wave": SOLO.wave, "interval_s": SOLO.interval_s}
    return out


def startup(settings: Settings, design: str) -> dict[str, Any]:
    """Seconds from the server's start to "serving": on a folder without an index (the first build;
    jieba's dictionary cache is there already, as after any earlier start) and on the index it built."""
    folder = settings.out / ".state" / "startup" / design
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    cache = settings.state / "cache"
    if cache.is_dir():
        shutil.copytree(cache, folder / "cache")
    result: dict[str, Any] = {"design": design}
    for name in ("first_build_s", "existing_index_s"):
        url, tick = settings.standin_url, settings.tick_s
        argv = server_argv(design, folder, url, tick, 100, free_port(), (), "grounded", settings.before)
        started = time.monotonic()
        server, _ = start_server(argv, f"start-up ({design})")
        result[name] = round(time.monotonic() - started, 2)
        server.stop()
    return result
