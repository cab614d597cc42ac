"""``python -m bench.claim_cost``: what claiming a request id costs when a task starts (shared log).

Against a private redis-server, side by side in one run (rounds interleaved, so a busy moment of the
shared machine hits every design alike), ``RedisEventLog.create`` of a new task:

- ``claim``: with a request id — the one script that claims it (``SET NX``) and creates the meta;
- ``no_claim``: without a request id — the same script, nothing to claim;
- ``before``: what ``create`` did before claims existed (``MULTI``: ``HSET`` + ``EXPIRE``).

Per design: wall and CPU (this process) microseconds per start, sequential (one start at a time: the
latency a caller sees) and 64 at once (the throughput of one process). ``claim_overhead_us`` is
``claim`` − ``no_claim`` (the claim itself) and ``claim`` − ``before`` (the change on start). Prints a
JSON report and writes it to ``<out>/claim-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from qianshi.server.pipeline.eventlog import TaskMeta
from qianshi.server.tasks.redis.log import RedisEventLog

from bench.scale_out_procs import Load, start_redis, write_report

Start = Callable[[int], Awaitable[Any]]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.claim_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("--starts", type=int, default=2000, help="starts per design per round")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    p.add_argument("--out", default="bench/results", help="folder for the report")
    return p


def designs(log: RedisEventLog, run: str) -> dict[str, Start]:
    async def claim(i: int) -> Any:
        return await log.create(TaskMeta(f"t_{run}_c{i}", "alice", f"req-{run}-{i}"))

    async def no_claim(i: int) -> Any:
        return await log.create(TaskMeta(f"t_{run}_n{i}", "alice", ""))

    async def before(i: int) -> Any:
        key = log.keys.meta(f"t_{run}_b{i}")
        async with log._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"owner": "alice", "request_id": f"req-{run}-b{i}"})
            pipe.expire(key, int(log.create_ttl_s))
            return await pipe.execute()

    return {"claim": claim, "no_claim": no_claim, "before": before}


async def timed(start: Start, first: int, count: int, concurrency: int) -> tuple[float, float]:
    """Wall and CPU microseconds per start."""
    wall, cpu = time.perf_counter(), time.process_time()
    if concurrency == 1:
        for i in range(first, first + count):
            await start(i)
    else:
        for base in range(first, first + count, concurrency):
            await asyncio.gather(*(start(i) for i in range(base, min(base + concurrency, first + count))))
    return (time.perf_counter() - wall) / count * 1e6, (time.process_time() - cpu) / count * 1e6


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    load = Load()
    redis_proc, url = start_redis(out / ".state" / "claim-redis")
    log = RedisEventLog(url, prefix="bench" + uuid.uuid4().hex[:6])
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {}
    try:
        await log.ping()
        starts = designs(log, "warm")
        for start in starts.values():  # connections, script loading
            await timed(start, 0, 200, 1)
        for r in range(args.rounds):
            starts = designs(log, f"r{r}")
            for mode, concurrency in (("sequential", 1), ("concurrent_64", 64)):
                for name, start in starts.items():
                    base = 0 if mode == "sequential" else args.starts
                    got = await timed(start, base, args.starts, concurrency)
                    samples.setdefault(mode, {}).setdefault(name, []).append(got)
    finally:
        await log.aclose()
        redis_proc.stop()
    figures: dict[str, Any] = {}
    for mode, by_design in samples.items():
        med = {name: _median(values) for name, values in by_design.items()}
        figures[mode] = {
            "us_per_start": {name: {"wall": round(w, 1), "cpu": round(c, 1)} for name, (w, c) in med.items()},
            "claim_overhead_us": {
                "claim_minus_no_claim": _diff(med["claim"], med["no_claim"]),
                "claim_minus_before": _diff(med["claim"], med["before"]),
            },
        }
    report = {
        "benchmark": "claim_cost",
        "settings": {"starts": args.starts, "rounds": args.rounds},
        **figures,
        "load": load.report(),
    }
    return report


def _median(values: list[tuple[float, float]]) -> tuple[float, float]:
    walls, cpus = sorted(v[0] for v in values), sorted(v[1] for v in values)
    return walls[len(walls) // 2], cpus[len(cpus) // 2]


def _diff(a: tuple[float, float], b: tuple[float, float]) -> dict[str, float]:
    return {"wall": round(a[0] - b[0], 1), "cpu": round(a[1] - b[1], 1)}


def main() -> None:
    args = parser().parse_args()
    report = asyncio.run(run(args))
    print(json.dumps(write_report(Path(args.out), "claim", report), indent=1))


if __name__ == "__main__":
    main()
