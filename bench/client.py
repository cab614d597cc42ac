"""The load generator: one client process running many Interpret streams over a few channels.

The benchmark runs one or more of these (``python -m bench.client``) so the client's CPU is not the
server's. Protocol on stdin/stdout: the parent writes one JSON job line; the process opens its
channels, waits until they are connected, fetches ``warm_poems`` once with GetPoem (a server that has
been up for a while has every poem cached) and prints ``ready``; the parent writes ``go <t0>`` (a wall
time); the process opens its streams in waves from ``t0`` (stream ``i`` at ``t0 + (i // wave) *
interval``), records every event, cancels what is still open at ``t0 + ramp + hold`` (or ends early
when all its streams have ended), pickles the records to ``job["out"]`` and prints ``done``.

A call that fails with CANCELLED before its first event is opened again (FACTS.md: a burst of
opens can fail that way), at most ``retries`` times; nothing else is retried. Each record is
``Stream`` below; each event is the tuple ``EVENT_FIELDS``.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from qianshi.v1 import interpret_service_pb2, interpret_service_pb2_grpc

EVENT_FIELDS = (
    "received",
    "seq",
    "kind",
    "percent",
    "eta",
    "elapsed",
    "server_time",
    "text_end",
    "last_char",
    "tokens",
)
"""received: client wall time; eta: -1 when absent; text_end: offset after a text delta's text (-1);
last_char and tokens: of a text delta ("" and 0 otherwise)."""
CHANNEL_OPTIONS = [
    ("grpc.use_local_subchannel_pool", 1),  # one TCP connection per channel, not one shared
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
]


@dataclass(slots=True)
class Stream:
    """What one stream saw."""

    index: int
    seed: int
    opened: float = 0.0
    """Wall time the first call was opened (a retry after CANCELLED-at-open keeps it)."""
    ended: float = 0.0
    """Wall time the stream ended: its terminal event, its failure, or the end of the window."""
    outcome: str = ""
    """``result``, ``error``, ``rpc:<CODE>``, or ``window`` (still open when the window closed)."""
    retries: int = 0
    events: list[tuple[Any, ...]] = field(default_factory=list)


def _seconds(value: Any) -> float:
    return value.seconds + value.nanos * 1e-9


async def _one(
    stub: Any,
    request: interpret_service_pb2.InterpretRequest,
    record: Stream,
    retries: int,
    stop: asyncio.Event,
) -> None:
    events = record.events
    append = events.append
    clock = time.time
    record.opened = clock()  # a retried call is the same caller still waiting: timed from the first
    while True:
        call = stub.Interpret(request)
        try:
            async for e in call:
                received = clock()
                kind = e.WhichOneof("payload")
                end, last, tokens = -1, "", 0
                if kind == "text_delta":
                    delta = e.text_delta
                    end, last, tokens = delta.offset + len(delta.text), delta.text[-1:], delta.tokens
                eta = _seconds(e.eta) if e.HasField("eta") else -1.0
                server_time = _seconds(e.timestamp)
                append(
                    (
                        received,
                        e.seq,
                        kind,
                        e.percent,
                        eta,
                        _seconds(e.elapsed),
                        server_time,
                        end,
                        last,
                        tokens,
                    )
                )
            record.ended = clock()
            record.outcome = events[-1][2] if events else "empty"
            return
        except asyncio.CancelledError:
            call.cancel()
            record.ended = clock()
            record.outcome = "window"
            raise
        except grpc.aio.AioRpcError as exc:
            record.ended = clock()
            code = exc.code()
            if (
                code == grpc.StatusCode.CANCELLED
                and not events
                and not stop.is_set()
                and record.retries < retries
            ):
                record.retries += 1
                continue
            record.outcome = "error" if events and events[-1][2] == "error" else f"rpc:{code.name}"
            return


async def _lag(samples: list[float], stop: asyncio.Event) -> None:
    """This process's own loop lag (a 50 ms sleep's lateness): a busy client would blur the figures."""
    while not stop.is_set():
        start = time.monotonic()
        await asyncio.sleep(0.05)
        samples.append(time.monotonic() - start - 0.05)


async def _until_ready(
    stub: interpret_service_pb2_grpc.InterpretServiceStub, set_id: str, number: int
) -> None:
    """Wait until the server answers GetPoem: UNAVAILABLE (NOT_READY while a worker opens its index)
    is retried after the server's hint, for up to two minutes."""
    deadline = time.monotonic() + 120
    while True:
        try:
            await stub.GetPoem(interpret_service_pb2.GetPoemRequest(set_id=set_id, number=number))
            return
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run the job; returns what is pickled to ``job["out"]``."""
    target = job["target"]
    channels = [grpc.aio.insecure_channel(target, CHANNEL_OPTIONS) for _ in range(max(1, job["channels"]))]
    for channel in channels:
        await asyncio.wait_for(channel.channel_ready(), 30)
    stubs = [interpret_service_pb2_grpc.InterpretServiceStub(c) for c in channels]
    warm = job.get("warm_poems", ())
    if warm:
        for stub in stubs:  # each channel's server (a worker of --workers N) may still open its index
            await _until_ready(stub, *warm[0])
    for set_id, number in warm:  # the server's poem cache, as after a while in service
        await stubs[0].GetPoem(interpret_service_pb2.GetPoemRequest(set_id=set_id, number=number))
    print("ready", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    t0 = float(line.split()[1])
    wave, interval = job["wave_size"], job["wave_interval_s"]
    specs = job["streams"]
    records = [Stream(s["index"], s["seed"]) for s in specs]
    last_wave = max((s["index"] // wave for s in specs), default=0)
    deadline = t0 + last_wave * interval + job["hold_s"]
    stop = asyncio.Event()
    lags: list[float] = []
    lag_task = asyncio.ensure_future(_lag(lags, stop))
    tasks: list[asyncio.Task[None]] = []

    async def open_all() -> None:
        for k, (spec, record) in enumerate(zip(specs, records, strict=True)):
            at = t0 + (spec["index"] // wave) * interval
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            request = interpret_service_pb2.InterpretRequest(
                set_id=spec["set_id"], number=spec["number"], question=spec["question"], locale="zh-Hant"
            )
            request.options.seed = spec["seed"]
            stub = stubs[k % len(stubs)]
            tasks.append(asyncio.ensure_future(_one(stub, request, record, job["retries"], stop)))

    opener = asyncio.ensure_future(open_all())
    await asyncio.wait((opener,), timeout=max(deadline - time.time(), 0.0))
    while time.time() < deadline and not all(t.done() for t in tasks):
        await asyncio.wait(tasks, timeout=max(deadline - time.time(), 0.0))
    stop.set()
    opener.cancel()
    for task in tasks:
        task.cancel()
    await asyncio.gather(opener, *tasks, return_exceptions=True)
    await lag_task
    for channel in channels:
        await channel.close()
    lags.sort()
    return {
        "t0": t0,
        "deadline": deadline,
        "streams": records,
        "client_lag_p99_s": lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
        "client_lag_max_s": lags[-1] if lags else 0.0,
    }


def main() -> None:
    job = json.loads(sys.stdin.readline())
    result = asyncio.run(run(job))
    with open(job["out"], "wb") as out:
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
    print("done", flush=True)


if __name__ == "__main__":
    from bench import client  # so the pickled records are bench.client.Stream, not __main__.Stream

    client.main()
