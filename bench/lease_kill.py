"""``python -m bench.lease_kill``: how long after a replica's lease expires do its tasks' readers hear
the end? (Scale-out, README "Running at scale".)

A watcher replica W and a runner replica R share a private redis-server; the LLM is the vLLM
stand-in, with answers long enough that every task is mid-stream when R dies. Each round: a task
starts on R, a ``Watch`` of it on W receives its text, R is SIGKILLed, and the time its lease would
expire is read from Redis at once (``PTTL`` of R's lease key). The figures:

- ``expiry_to_event_s``: lease expiry → the REPLICA_LOST event arriving at the Watch on W (what the
  sweep tick adds; the bound is ``--lease-tick``);
- ``kill_to_event_s``: SIGKILL → that event (what a reader waits in all; the bound is lease + tick);
- ``expiry_to_write_s``: lease expiry → the event's server timestamp (detection alone).

The next runner starts while the current one's lease runs out, so a round takes about lease + tick.
Prints a JSON report and writes it to ``<out>/lease-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import redis.asyncio as aioredis
from qianshi.server.tasks.redis.scripts import Keys
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from bench.procs import Proc, start_standin
from bench.run import build_index
from bench.scale_out_procs import Load, percentiles, start_redis, start_replica, write_report

Stub = interpret_service_pb2_grpc.InterpretServiceStub


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.lease_kill", description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=50, help="rounds: runners killed")
    p.add_argument("--lease", type=float, default=5.0, help="--lease of the replicas (s)")
    p.add_argument("--tick", type=float, default=1.0, help="--lease-tick of the replicas (s)")
    p.add_argument("--pool", type=int, default=2, help="runners started ahead of their round")
    p.add_argument("--out", default="bench/results", help="folder for the report")
    return p


async def one_round(runner: Proc, port: int, watcher_port: int, redis: aioredis.Redis) -> dict[str, float]:
    """Start a task on the runner, watch it on the watcher, kill the runner, time the end."""
    request = pb.InterpretRequest(set_id="mazu60", number=23, question="今年換工作會順利嗎？")
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{port}") as on_runner,
        grpc.aio.insecure_channel(f"127.0.0.1:{watcher_port}") as on_watcher,
    ):
        call = Stub(on_runner).Interpret(request, timeout=120)
        first = await call.read()
        watch = Stub(on_watcher).Watch(pb.WatchRequest(task_id=first.task_id), timeout=120)
        while not (await watch.read()).HasField("text_delta"):
            pass
        replica = (await redis.hget(Keys("qianshi").meta(first.task_id), "replica")).decode()
        runner.popen.kill()
        killed = time.time()
        pttl_ms = await redis.pttl(Keys("qianshi").lease(replica))
        expiry = killed + max(pttl_ms, 0) / 1000
        call.cancel()
        while True:
            try:
                event = await watch.read()
            except grpc.aio.AioRpcError:
                break  # the call ends with the terminal event's status
            if event is grpc.aio.EOF or event.HasField("error") or event.HasField("result"):
                break
        arrived = time.time()
    if not (event is not grpc.aio.EOF and event.HasField("error")):
        raise RuntimeError("the watch did not end with an error event")
    return {
        "expiry_to_event_s": arrived - expiry,
        "kill_to_event_s": arrived - killed,
        "expiry_to_write_s": event.timestamp.seconds + event.timestamp.nanos / 1e9 - expiry,
        "lease_left_at_kill_s": max(pttl_ms, 0) / 1000,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    work = out / ".state" / "lease"
    load = Load()
    index = await asyncio.to_thread(build_index, out / ".state" / "index")
    redis_proc, redis_url = start_redis(work / "redis")
    standin, url = start_standin("0.05", 20.0, 100_000)  # answers that outlast every round
    flags = ["--event-log", redis_url, "--lease", str(args.lease), "--lease-tick", str(args.tick)]
    flags += ["--llm", "openai", "--llm-url", url, "--llm-model", "standin", "--shutdown-grace", "0"]
    watcher, watcher_port = start_replica(index, work / "watcher", "watcher", flags)
    redis = aioredis.from_url(redis_url)
    rounds: list[dict[str, float]] = []
    log = (out / "lease-rounds.jsonl").open("a")  # every round as it is measured: a cut-short run keeps them

    def starting(i: int) -> asyncio.Future[tuple[Proc, int]]:
        # each runner on a folder of its own; a folder is reused once its runner is long dead
        into = work / f"r{i % (args.pool + 2)}"
        return asyncio.ensure_future(asyncio.to_thread(start_replica, index, into, f"r{i}", flags))

    try:
        pool = [starting(i) for i in range(args.pool)]  # starts overlap the rounds: starting is the slow part
        for i in range(args.kills):
            runner, port = await pool.pop(0)
            pool.append(starting(i + args.pool))
            rounds.append(await one_round(runner, port, watcher_port, redis))
            runner.popen.wait(10)
            log.write(json.dumps(rounds[-1]) + "\n")
            log.flush()
            print(
                f"kill {i + 1}/{args.kills}: {rounds[-1]['expiry_to_event_s']:.3f} s",
                file=sys.stderr,
                flush=True,
            )
        for leftover in pool:
            (await leftover)[0].stop()
    finally:
        log.close()
        await redis.aclose()
        for proc in (watcher, standin, redis_proc):
            proc.stop()
    report = {
        "benchmark": "lease_kill",
        "settings": {"kills": args.kills, "lease_s": args.lease, "tick_s": args.tick},
        **{key: percentiles([r[key] for r in rounds]) for key in rounds[0]},
        "bounds": {"expiry_to_event_s": args.tick, "kill_to_event_s": args.lease + args.tick},
        "load": load.report(),
    }
    return {**report, "rounds": rounds}


def main() -> None:
    args = parser().parse_args()
    report = asyncio.run(run(args))
    rounds = {"rounds": report.pop("rounds")}
    print(json.dumps(write_report(Path(args.out), "lease", report, rounds), indent=1))


if __name__ == "__main__":
    main()
