"""Open thousands of streams at once and count how they fail before their first event.

FACTS.md records that opening ≥ 2,000 streams in one burst made 1–20 % fail with CANCELLED. This
script reproduces the burst against a real server in another process and varies the suspects one at a
time, so the cause can be told apart from the noise:

- ``--server qianshi`` (the real server, which needs ``--state-dir`` with a built index) or
  ``--server bare`` (a minimal grpc.aio server streaming a few messages: no pipeline at all);
- ``--channels K``: the streams spread over K channels (K HTTP/2 connections) instead of one;
- ``--client-option KEY=VALUE`` (repeatable): client channel arguments, for example
  ``grpc.max_concurrent_streams`` or ``grpc.keepalive_time_ms``;
- ``--server-option KEY=VALUE`` (repeatable, bare server only): server channel arguments;
- ``--with-client``: open them through ``qianshi.client.AsyncClient`` (which retries a stream that
  failed with CANCELLED before its first event, re-sending the same ``request_id``).

It prints one JSON object: how many streams got their first event, how many failed before it and with
which status and details, and how long the burst took.

    python -m bench.open_burst --server bare --streams 3000
    python -m bench.open_burst --server qianshi --state-dir ~/.local/state/qianshi --with-client
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
from qianshi.client import AsyncClient, RetryPolicy
from qianshi.server.backends.retrieval.store_copy import copy_tree
from qianshi.v1 import events_pb2, interpret_service_pb2_grpc
from qianshi.v1 import interpret_service_pb2 as pb

_BARE = r"""
import asyncio, sys, grpc
from qianshi.v1 import events_pb2, interpret_service_pb2_grpc as g

class Bare(g.InterpretServiceServicer):
    async def Interpret(self, request, context):
        for seq in range(1, 4):
            await context.write(events_pb2.ProgressEvent(task_id="t", seq=seq))
            await asyncio.sleep(0.5)

async def main():
    pairs = (a.split("=", 1) for a in sys.argv[1:])
    options = [(k, int(v) if v.lstrip("-").isdigit() else v) for k, v in pairs]
    server = grpc.aio.server(options=options)
    g.add_InterpretServiceServicer_to_server(Bare(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"serving on port {port}", file=sys.stderr, flush=True)
    await server.wait_for_termination()

asyncio.run(main())
"""


def _option(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    return key, int(value) if value.lstrip("-").isdigit() else value


@contextlib.contextmanager
def server(kind: str, state_dir: str, options: list[str], max_active: int) -> Iterator[int]:
    """Start the server in a child process; yield its port."""
    if kind == "bare":
        argv = [sys.executable, "-c", _BARE, *options]
        workdir = None
    else:
        if not state_dir:
            raise SystemExit("--server qianshi needs --state-dir with a built index")
        workdir = tempfile.mkdtemp(prefix="burst-")
        copy_tree(Path(state_dir).expanduser(), Path(workdir) / "state")
        argv = [sys.executable, "-m", "qianshi.server.main", "--listen", "127.0.0.1:0"]
        argv += ["--state-dir", str(Path(workdir) / "state"), "--max-active-tasks", str(max_active)]
        argv += ["--log-level", "WARNING"]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if (found := re.search(r"serving on port (\d+)", line)) is not None:
                break
        else:
            raise SystemExit("the server did not start")
        yield int(found[1])
    finally:
        proc.terminate()
        proc.wait(30)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


async def burst_raw(port: int, streams: int, channels: int, options: list[tuple[str, Any]]) -> dict[str, Any]:
    """Open ``streams`` Interpret calls at once with bare stubs (no retry); read each one's first event."""
    outcomes: Counter[str] = Counter()
    details: Counter[str] = Counter()
    async with contextlib.AsyncExitStack() as stack:
        stubs = []
        for _ in range(channels):
            channel = await stack.enter_async_context(grpc.aio.insecure_channel(f"127.0.0.1:{port}", options))
            stubs.append(interpret_service_pb2_grpc.InterpretServiceStub(channel))

        async def one(i: int) -> None:
            call = stubs[i % channels].Interpret(
                pb.InterpretRequest(
                    set_id="mazu60", number=i % 60 + 1, question="工作順利嗎", request_id=f"b-{i}"
                ),
                timeout=120,
            )
            try:
                event = await call.read()
                outcomes["first event" if isinstance(event, events_pb2.ProgressEvent) else "empty"] += 1
            except grpc.aio.AioRpcError as error:
                outcomes[error.code().name] += 1
                details[f"{error.code().name}: {error.details()}"] += 1
            finally:
                call.cancel()

        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(streams)))
        took = time.monotonic() - started
    return {"outcomes": dict(outcomes), "details": dict(details.most_common(5)), "seconds": round(took, 2)}


async def burst_client(port: int, streams: int) -> dict[str, Any]:
    """The same burst through ``AsyncClient`` (retries CANCELLED before the first event, same request_id)."""
    outcomes: Counter[str] = Counter()
    retry = RetryPolicy(attempts=5)
    async with AsyncClient(f"127.0.0.1:{port}", retry=retry) as client:

        async def one(i: int) -> None:
            stream: AsyncIterator[Any] = client.interpret("mazu60", i % 60 + 1, "工作順利嗎", timeout=120)
            try:
                async with contextlib.aclosing(stream):  # type: ignore[type-var]
                    async for _ in stream:
                        outcomes["first event"] += 1
                        break
            except Exception as error:  # the client's error classes
                outcomes[type(error).__name__] += 1

        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(streams)))
        took = time.monotonic() - started
    return {"outcomes": dict(outcomes), "seconds": round(took, 2)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.open_burst", description=__doc__.split("\n\n")[0])
    p.add_argument("--server", choices=("qianshi", "bare"), default="bare")
    p.add_argument("--target", default="", help="an already running server (HOST:PORT) instead")
    p.add_argument("--state-dir", default=os.environ.get("QIANSHI_STATE_DIR", ""))
    p.add_argument("--streams", type=int, default=3000)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--client-option", action="append", default=[])
    p.add_argument("--server-option", action="append", default=[])
    p.add_argument("--with-client", action="store_true")
    args = p.parse_args(argv)
    options = [_option(o) for o in args.client_option]

    async def run(port: int) -> list[dict[str, Any]]:
        results = []
        for _ in range(args.rounds):
            if args.with_client:
                results.append(await burst_client(port, args.streams))
            else:
                results.append(await burst_raw(port, args.streams, args.channels, options))
        return results

    if args.target:
        results = asyncio.run(run(int(args.target.rsplit(":", 1)[1])))
    else:
        with server(args.server, args.state_dir, args.server_option, args.streams * 2) as port:
            results = asyncio.run(run(port))
    report = {
        "server": args.server,
        "streams": args.streams,
        "channels": args.channels,
        "client_options": args.client_option,
        "server_options": args.server_option,
        "with_client": args.with_client,
        "rounds": results,
    }
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
