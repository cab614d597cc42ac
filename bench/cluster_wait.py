"""``python -m bench.cluster_wait``: what the Redis Cluster log's durability costs per event.

Starts a six-node Redis Cluster on loopback (``bench.redis_nodes``: three masters, a replica each)
and writes tasks' events through ``RedisEventLog`` three ways, rounds interleaved so a busy moment
of the shared machine hits every design alike:

- ``xadd``: plain XADD (what a single Redis gets): no gap check, no wait;
- ``append``: the ``APPEND`` script (event ``seq`` only right after ``seq - 1``), no wait
  (``--event-log-wait 0``);
- ``append_wait``: the script, and each terminal event acknowledged by a replica (``WAIT 1``) before
  the call returns (the default on a cluster).

Each task is created, then writes ``--events`` events one after another (the last one terminal), with
``--tasks`` tasks at once (and one at a time: the latency one caller sees). Reported per design:
microseconds of wall time per event over the whole run and CPU of this process per event, and the
latency of one append call, non-terminal and terminal (p50, p90), with ratios against ``xadd`` and
against ``append`` (the cost of the WAIT alone).

Then the failover a stream sees (``--kills``): a task writes an event every 50 ms while a reader on
another log follows it; the master holding the task's slot is SIGKILLed; reported per kill are the
longest an append waited (the writer is held for the failover) and the longest silence the reader
saw; the killed node is started again (it rejoins as a replica) before the next kill. Prints the
JSON report and writes it to ``<out>/cluster-wait-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from qianshi.server.domain import Stage
from qianshi.server.errors import ErrorCode
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.eventlog import TaskMeta
from qianshi.server.tasks.ids import new_task_id
from qianshi.server.tasks.redis.io import BatchWriter
from qianshi.server.tasks.redis.log import RedisEventLog

from bench.redis_nodes import Cluster, start_cluster
from bench.scale_out_procs import Load, percentiles, write_report

DESIGNS = ("xadd", "append", "append_wait")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.cluster_wait", description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=64, help="tasks writing at once")
    p.add_argument("--events", type=int, default=20, help="events per task (the last one terminal)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per design")
    p.add_argument("--kills", type=int, default=3, help="masters SIGKILLed under a stream (0: none)")
    p.add_argument("--out", default="bench/results", help="folder for the report")
    return p


def make_log(url: str, design: str) -> RedisEventLog:
    log = RedisEventLog(url, prefix=f"qbench-{design}", wait_replicas=1 if design == "append_wait" else 0)
    if design == "xadd":  # what a single Redis gets: the writer without the script, no durable end
        log._writer = BatchWriter(log._redis, int(log.create_ttl_s), log._mirror, None)
        log._durable = None
    return log


def event(task_id: str, seq: int, last: bool) -> ev.Event:
    payload: ev.Payload = (
        ev.Failure(ErrorCode.CANCELLED, "over", "CANCELLED") if last else ev.TextDelta("字" * 8, seq * 8)
    )
    return ev.Event(task_id, seq, Stage.GENERATION, float(seq), "m", 0.1, None, time.time(), payload)


async def one_task(log: RedisEventLog, events: int, lat: dict[str, list[float]]) -> None:
    task_id = new_task_id()
    await log.create(TaskMeta(task_id, "", ""))
    for seq in range(1, events + 1):
        last = seq == events
        started = time.perf_counter()
        await log.append(event(task_id, seq, last))
        lat["terminal" if last else "event"].append((time.perf_counter() - started) * 1e6)


async def measure(log: RedisEventLog, tasks: int, events: int) -> dict[str, Any]:
    lat: dict[str, list[float]] = {"event": [], "terminal": []}
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one_task(log, events, lat) for _ in range(tasks)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = tasks * events
    return {"wall_us_per_event": wall * 1e6 / n, "cpu_us_per_event": cpu * 1e6 / n, **lat}


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "wall_us_per_event": round(statistics.median(r["wall_us_per_event"] for r in rounds), 1),
        "cpu_us_per_event": round(statistics.median(r["cpu_us_per_event"] for r in rounds), 1),
        "event_latency_us": percentiles([x for r in rounds for x in r["event"]]),
        "terminal_latency_us": percentiles([x for r in rounds for x in r["terminal"]]),
    }


def ratios(designs: dict[str, Any], base: str) -> dict[str, dict[str, float]]:
    out = {}
    for name, d in designs.items():
        b = designs[base]
        out[name] = {
            "wall_per_event": round(d["wall_us_per_event"] / b["wall_us_per_event"], 2),
            "cpu_per_event": round(d["cpu_us_per_event"] / b["cpu_us_per_event"], 2),
            "terminal_p50": round(d["terminal_latency_us"]["p50"] / b["terminal_latency_us"]["p50"], 2),
            "event_p50": round(d["event_latency_us"]["p50"] / b["event_latency_us"]["p50"], 2),
        }
    return out


async def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    logs = {name: make_log(url, name) for name in DESIGNS}
    try:
        for log in logs.values():  # warm: connections, scripts, the slot map
            await measure(log, 4, 3)
        report: dict[str, Any] = {}
        for label, tasks in (("at_once", args.tasks), ("one_at_a_time", 1)):
            rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in DESIGNS}
            for _ in range(args.rounds):
                for name, log in logs.items():
                    rounds[name].append(await measure(log, tasks, args.events))
            designs = {name: summary(r) for name, r in rounds.items()}
            report[label] = {
                "tasks": tasks,
                "designs": designs,
                "vs_xadd": ratios(designs, "xadd"),
                "vs_append": ratios(designs, "append"),
            }
        durable = logs["append_wait"]._durable
        report["unacknowledged_terminal_events"] = durable.unacknowledged if durable else None
        return report
    finally:
        for log in logs.values():
            await log.aclose()


async def follow(reader: RedisEventLog, task_id: str, gaps: list[float]) -> None:
    """Read a task to its end, noting the silence before each event."""
    last = time.monotonic()
    async for _ in reader.follow(task_id, 0):
        now = time.monotonic()
        gaps.append(now - last)
        last = now


async def failover(cluster: Cluster, kills: int) -> dict[str, Any]:
    """Masters SIGKILLed under a steady writer and a reader (see the module docstring)."""
    held, silent, promoted = [], [], []
    for kill in range(kills):
        writer = RedisEventLog(cluster.url, prefix="qbench-kill", block_s=0.5, lease_s=30.0)
        reader = RedisEventLog(cluster.url, prefix="qbench-kill", block_s=0.5, lease_s=30.0)
        gaps: list[float] = []
        try:
            task_id = new_task_id()
            await writer.create(TaskMeta(task_id, "", ""))
            await writer.append(event(task_id, 1, False))
            reading = asyncio.create_task(follow(reader, task_id, gaps))
            victim = cluster.node_of(writer.keys.events(task_id))
            longest = 0.0
            for seq in range(2, 200):
                if seq == 40:
                    cluster.kill(victim)
                started = time.monotonic()
                await writer.append(event(task_id, seq, seq == 199))
                longest = max(longest, time.monotonic() - started)
                await asyncio.sleep(0.05)
            async with asyncio.timeout(30):
                await reading
            held.append(longest)
            silent.append(max(gaps))
            promoted.append(cluster.node_of(writer.keys.events(task_id)) is not victim)
        finally:
            await writer.aclose()
            await reader.aclose()
        cluster.revive(victim)
        cluster.wait_ok(limit_s=60.0)
        print(
            f"kill {kill + 1}: writer held {longest:.2f} s, reader silent {max(gaps):.2f} s", file=sys.stderr
        )
    return {
        "kills": kills,
        "writer_held_s": percentiles(held),
        "reader_silent_s": percentiles(silent),
        "replica_promoted_every_time": all(promoted),
    }


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    load = Load()
    with tempfile.TemporaryDirectory(prefix="qianshi-cluster-") as folder:
        cluster = start_cluster(Path(folder))
        try:
            report = asyncio.run(run(args, cluster.url))
            if args.kills:
                report["failover"] = asyncio.run(failover(cluster, args.kills))
        finally:
            cluster.stop()
    config = {"tasks": args.tasks, "events": args.events, "rounds": args.rounds, "load": load.report()}
    config["command"] = "python -m bench.cluster_wait " + " ".join(argv if argv is not None else sys.argv[1:])
    result = write_report(Path(args.out), "cluster-wait", {"config": config, **report})
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
