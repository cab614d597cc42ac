"""``python -m bench.workers_rate``: streams per second sustained by ``--workers 1`` and ``--workers 2``,
side by side in one run.

Both servers share a private redis-server (``--event-log redis://…``, which ``--workers 2`` needs; the
one-worker server uses it too, so the comparison is of workers alone) and the grounded generator
without pacing (``--grounded-pace 0``: every stream is CPU work in the server — retrieval on Qdrant
Edge, composing the text and every event, all in the worker's interpreter). A
closed-loop client runs in another process (``python -m bench.workers_rate client``): ``--concurrency``
streams at once over 16 connections (the kernel spreads connections, not calls, across workers),
each starting the next ``Interpret`` when its stream ends; it counts streams that ended with a result
during ``--seconds`` after a warm-up. Designs alternate round by round, so a busy moment of the
shared machine hits all alike. Prints a JSON report (streams/s per design per round, the medians, the ratio 2 / 1, the machine's
load) and writes it to ``<out>/workers-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import grpc
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from bench.procs import Proc, python
from bench.run import build_index
from bench.scale_out_procs import Load, start_redis, start_replica, write_report

CONNECTIONS = 16
DESIGNS = {
    "workers_1": ["--workers", "1"],
    "workers_2": ["--workers", "2"],
}
QUESTIONS = ("今年換工作會順利嗎？", "婚姻能成嗎？", "這次投資能賺錢嗎？", "家人的病何時會好？")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.workers_rate", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command")
    c = sub.add_parser("client", help="(internal) the closed-loop client process")
    c.add_argument("--target", required=True)
    c.add_argument("--concurrency", type=int, default=64)
    c.add_argument("--warmup", type=float, default=3.0)
    c.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--concurrency", type=int, default=64, help="streams open at once")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds before counting")
    p.add_argument("--seconds", type=float, default=15.0, help="seconds counted per round")
    p.add_argument("--rounds", type=int, default=2, help="rounds per design (alternating)")
    p.add_argument("--out", default="bench/results", help="folder for the report")
    return p


# --- the client process ---------------------------------------------------------------------------------


async def client(args: argparse.Namespace) -> dict[str, Any]:
    options = [("grpc.use_local_subchannel_pool", 1)]  # one TCP connection per channel
    channels = [grpc.aio.insecure_channel(args.target, options) for _ in range(CONNECTIONS)]
    stubs = [interpret_service_pb2_grpc.InterpretServiceStub(c) for c in channels]
    for channel in channels:
        await channel.channel_ready()
    rng = random.Random(7)
    start = time.monotonic()
    count_from, count_to = start + args.warmup, start + args.warmup + args.seconds
    done = failed = 0

    async def loop(i: int) -> None:
        nonlocal done, failed
        stub = stubs[i % CONNECTIONS]
        while time.monotonic() < count_to:
            request = pb.InterpretRequest(
                set_id="mazu60", number=rng.randint(1, 60), question=rng.choice(QUESTIONS)
            )
            ok = False
            try:
                async for event in stub.Interpret(request, timeout=60):
                    ok = event.HasField("result")
            except grpc.aio.AioRpcError:
                ok = False
            if count_from <= time.monotonic() < count_to:
                done += ok
                failed += not ok

    await asyncio.gather(*(loop(i) for i in range(args.concurrency)))
    for channel in channels:
        await channel.close()
    return {"streams": done, "failed": failed, "streams_per_s": round(done / args.seconds, 1)}


# --- the parent -----------------------------------------------------------------------------------------


def measure(port: int, args: argparse.Namespace) -> dict[str, Any]:
    argv = python("-m", "bench.workers_rate", "client", "--target", f"127.0.0.1:{port}")
    argv += [
        "--concurrency",
        str(args.concurrency),
        "--warmup",
        str(args.warmup),
        "--seconds",
        str(args.seconds),
    ]
    proc = Proc("client", argv, watch="stdout")
    line = proc.wait_for("streams_per_s", args.warmup + args.seconds + 120)
    proc.stop()
    result: dict[str, Any] = json.loads(line)
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    work = out / ".state" / "workers"
    load = Load()
    index = build_index(out / ".state" / "index")
    redis, url = start_redis(work / "redis")
    flags = [
        "--event-log",
        url,
        "--grounded-pace",
        "0",
        "--max-active-tasks",
        "5000",
        "--shutdown-grace",
        "1",
    ]
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in DESIGNS}
    try:
        for r in range(args.rounds):
            for name, extra in DESIGNS.items():
                ready = "workers)" if "--workers" in extra[:1] and extra[1] != "1" else "serving on port"
                server, port = start_replica(index, work / name, name, [*flags, *extra], ready=ready)
                try:
                    got = measure(port, args)
                finally:
                    server.stop()
                rounds[name].append(got)
                print(f"round {r + 1}: {name}: {got['streams_per_s']} streams/s", file=sys.stderr)
    finally:
        redis.stop()
    medians = {
        name: sorted(r["streams_per_s"] for r in runs)[len(runs) // 2] for name, runs in rounds.items()
    }
    report = {
        "benchmark": "workers_rate",
        "settings": {k: getattr(args, k) for k in ("concurrency", "warmup", "seconds", "rounds")},
        "rounds": rounds,
        "median_streams_per_s": medians,
        "ratio_2_over_1": round(medians["workers_2"] / medians["workers_1"], 2)
        if medians["workers_1"]
        else None,
        "load": load.report(),
    }
    return write_report(out, "workers", report)


def main() -> None:
    args = parser().parse_args()
    if args.command == "client":
        print(json.dumps(asyncio.run(client(args))), flush=True)
        return
    print(json.dumps(run(args), indent=1))


if __name__ == "__main__":
    main()
