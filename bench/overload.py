"""Offer a real server twice its ``--max-active-tasks`` at once and measure what the admitted streams see.

The server runs in a child process (the real ``qianshi-server`` on a built index); this process is the
client. Every stream is opened at once; the excess must be refused with RESOURCE_EXHAUSTED and a
retry hint before any work, and the admitted streams must keep their cadence: the gap between two
consecutive events of a stream stays within the stage's tick interval plus scheduling slack.

It prints one JSON object: admitted and refused counts, how fast refusals came, and the gaps (p50,
p99, max) measured on arrival at the client and from the server's own ``elapsed`` stamps.

    python -m bench.overload --state-dir ~/.local/state/qianshi --limit 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

import grpc
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from bench.open_burst import server


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    pick = lambda q: ordered[min(int(len(ordered) * q), len(ordered) - 1)]  # noqa: E731
    return {
        "p50_ms": round(pick(0.5) * 1000, 1),
        "p99_ms": round(pick(0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def offer(port: int, streams: int) -> dict[str, Any]:
    client_gaps: list[float] = []
    server_gaps: list[float] = []
    refused_after: list[float] = []
    outcomes: dict[str, int] = {}
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)

        async def one(i: int) -> None:
            opened = time.monotonic()
            call = stub.Interpret(
                pb.InterpretRequest(set_id="mazu60", number=i % 60 + 1, question="我今年換工作會順利嗎？"),
                timeout=300,
            )
            last_at: float | None = None
            last_elapsed: float | None = None
            try:
                async for event in call:
                    now, elapsed = time.monotonic(), event.elapsed.ToTimedelta().total_seconds()
                    if last_at is not None and last_elapsed is not None:
                        client_gaps.append(now - last_at)
                        server_gaps.append(elapsed - last_elapsed)
                    last_at, last_elapsed = now, elapsed
                outcome = "result"
            except grpc.aio.AioRpcError as error:
                outcome = error.code().name
                if last_at is None:
                    refused_after.append(time.monotonic() - opened)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(streams)))
        took = time.monotonic() - started
    return {
        "outcomes": outcomes,
        "seconds": round(took, 1),
        "refused_within": _quantiles(refused_after),
        "client_gap": _quantiles(client_gaps),
        "server_gap": _quantiles(server_gaps),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__.split("\n\n")[0])
    p.add_argument("--state-dir", default=os.environ.get("QIANSHI_STATE_DIR", ""))
    p.add_argument("--limit", type=int, default=500, help="--max-active-tasks of the server")
    p.add_argument("--factor", type=float, default=2.0, help="offered streams = factor × limit")
    args = p.parse_args(argv)
    streams = int(args.limit * args.factor)
    with server("qianshi", args.state_dir, [], args.limit) as port:
        result = asyncio.run(offer(port, streams))
    print(json.dumps({"limit": args.limit, "offered": streams, **result}))


if __name__ == "__main__":
    main()
