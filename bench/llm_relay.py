"""How well the pipeline relays an LLM's stream: cadence, added latency and CPU per delta.

Drives the pipeline in-process (``Interpreter`` + ``Registry`` over an instant fake retriever and the
real ``OpenAIGenerator``) against the vLLM stand-in running in a subprocess with realistic timing
(time to first token 1–3 s, 30–60 tokens/s), at each requested concurrency, and prints JSON:

- ``gap_prefill_ms`` / ``gap_generation_ms``: gaps between consecutive events as a reader of the
  task's stream receives them, during the silent prefill (generation started → first text) and
  while text flows (first text → result); p50 / p99 / max;
- ``relay_ms``: for each text delta, receipt time minus the time the stand-in sent the newest token
  in it (the relay's added latency: HTTP, the client, coalescing's flush, the event log); and
  ``relay_oldest_ms`` for the oldest token in it (adds the time coalescing held it);
- ``cpu_us_per_delta`` / ``cpu_us_per_token``: this process's CPU time (everything but the stand-in)
  divided by the deltas relayed and by the engine chunks received.

    python -m bench.llm_relay --streams 1 100 [--gc-freeze] [--relays lean,sdk,lean-orjson] [--rounds 3]

``--relays`` runs each relay in turn, interleaved round by round, against the same stand-in:
``lean`` (the server's relay: aiohttp + ``sse.EventReader`` + ``json``), ``lean-orjson`` (the same
with ``orjson.loads``, to see whether the decoder matters), ``sdk`` (the openai SDK relay it replaced,
``bench/baselines/openai_sdk.py``). The JSON then has ``ratios``: each relay's CPU per engine chunk
over ``lean``'s, per stream count (medians over the rounds).

Also ``loop_lag_ms`` (how late a 10 ms sleep of this process wakes up). The stand-in's own CPU is
not counted; on a 2-core machine it shares the cores, so run it where the numbers are quiet.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from qianshi.server.backends.generation import openai_api
from qianshi.server.backends.generation.openai_api import OpenAIGenerator
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry
from qianshi.server.writing import GenerationRequest

from tests.fakes import FakeRetriever, spec


@contextmanager
def standin_process(ttft: str, tokens: int) -> Iterator[str]:
    """The stand-in in its own process (its CPU must not count as ours); yields its base URL."""
    command = [sys.executable, "-m", "bench.standin", "--port", "0", "--ttft", ttft, "--tokens", str(tokens)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the stand-in's handshake: "standin listening on URL"
        if "listening on" not in line:
            raise RuntimeError(f"the stand-in did not start: {line!r}")
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        proc.wait(10)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(pct(values, 0.5), 1),
        "p99": round(pct(values, 0.99), 1),
        "max": round(max(values, default=float("nan")), 1),
    }


RELAYS = ("lean", "lean-orjson", "sdk")


def make_relay(relay: str, url: str, headers: Any) -> Any:
    """The generator for ``relay``; ``lean-orjson`` swaps the lean relay's decoder for this run."""
    openai_api.loads = json.loads
    if relay == "sdk":
        from bench.baselines.openai_sdk import SDKGenerator

        return SDKGenerator(url, "standin", headers=headers)
    if relay == "lean-orjson":
        import orjson

        openai_api.loads = orjson.loads
    return OpenAIGenerator(url, "standin", headers=headers)


async def one_run(url: str, streams: int, first_seed: int, tmp: Path, relay: str = "lean") -> dict[str, Any]:
    def rate_header(request: GenerationRequest) -> dict[str, str]:
        return {"x-standin-profile": f"rate={30 + (request.seed or 0) % 31}"}  # 30–60 tokens/s

    generator = make_relay(relay, url, rate_header)
    interpreter = Interpreter(
        FakeRetriever(), generator, Estimates(tmp / f"estimates-{streams}.json"), PipelineConfig()
    )
    received: list[list[tuple[float, float, ev.Event]]] = []
    seeds = [first_seed + i for i in range(streams)]

    async def follow(registry: Registry, seed: int) -> None:
        task_id = await registry.start(spec(seed=seed, max_tokens=512), "", None)
        mine: list[tuple[float, float, ev.Event]] = []
        received.append(mine)
        async with registry.subscribe(task_id, "", 0) as stream:
            async for event in stream:
                mine.append((time.monotonic(), time.time(), event))

    lags: list[float] = []
    done = asyncio.Event()

    async def watch_loop() -> None:
        """The event loop's lag: how late a 10 ms sleep wakes up."""
        while not done.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append((time.monotonic() - before - 0.01) * 1000)

    cpu_before = time.process_time()
    async with Registry(interpreter, MemoryEventLog()) as registry, asyncio.TaskGroup() as group:
        watcher = group.create_task(watch_loop())
        async with asyncio.TaskGroup() as streams_group:
            for seed in seeds:
                streams_group.create_task(follow(registry, seed))
        done.set()
        await watcher
    cpu = time.process_time() - cpu_before
    await generator.aclose()

    async with httpx.AsyncClient(base_url=url.removesuffix("/v1"), timeout=30) as client:
        timelines = {}
        for seed in seeds:
            reply = await client.get("/standin/timeline", params={"seed": seed})
            timelines[seed] = dict(reply.json()["sent"])
    prefill_gaps: list[float] = []
    generation_gaps: list[float] = []
    relay_lat: list[float] = []
    relay_emit: list[float] = []
    relay_oldest: list[float] = []
    deltas = tokens = failures = 0
    for seed, mine in zip(seeds, received, strict=True):
        sent = timelines[seed]
        offsets = sorted(sent)
        phase = ""
        previous = None
        for mono, wall, event in mine:
            payload = event.payload
            if isinstance(payload, ev.StageStarted) and payload.stage.value == "generation":
                phase = "prefill"
            elif isinstance(payload, ev.TextDelta):
                deltas += 1
                tokens += payload.tokens
                end = payload.offset + len(payload.text)
                if end in sent:
                    relay_lat.append((wall - sent[end]) * 1000)
                    relay_emit.append((event.timestamp - sent[end]) * 1000)
                    oldest = next(o for o in offsets if o > payload.offset)
                    relay_oldest.append((wall - sent[oldest]) * 1000)
            elif isinstance(payload, ev.Failure):
                failures += 1
            if previous is not None and phase:
                (prefill_gaps if phase == "prefill" else generation_gaps).append((mono - previous) * 1000)
            if isinstance(payload, ev.TextDelta):
                phase = "generation"
            previous = mono
    return {
        "relay": relay,
        "streams": streams,
        "failures": failures,
        "gap_prefill_ms": summary(prefill_gaps),
        "gap_generation_ms": summary(generation_gaps),
        "relay_ms": summary(relay_lat),
        "relay_to_emit_ms": summary(relay_emit),
        "relay_oldest_ms": summary(relay_oldest),
        "loop_lag_ms": summary(lags),
        "deltas": deltas,
        "engine_chunks": tokens,
        "tokens_per_delta": round(tokens / max(deltas, 1), 2),
        "cpu_s": round(cpu, 3),
        "cpu_us_per_delta": round(cpu * 1e6 / max(deltas, 1), 1),
        "cpu_us_per_token": round(cpu * 1e6 / max(tokens, 1), 1),
        "mean_ttft_s": round(
            statistics.fmean(
                [
                    r.payload.time_to_first_token_s or 0
                    for r in (m[-1][2] for m in received)
                    if isinstance(r.payload, ev.Result)
                ]
                or [0.0]
            ),
            2,
        ),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results = []
    relays = [r.strip() for r in args.relays.split(",") if r.strip()]
    if unknown := set(relays) - set(RELAYS):
        raise SystemExit(f"unknown relays: {sorted(unknown)}")
    with standin_process(args.ttft, args.tokens) as url, tempfile.TemporaryDirectory() as tmp:
        for relay in relays:  # warm-up: imports, connections, first-call caches
            await one_run(url, 1, 1, Path(tmp), relay)
        if args.gc_freeze:
            # What a server does once started: move the start-up objects out of the collector's
            # sight and collect the young generation less often, so no collection stalls the loop.
            gc.collect()
            gc.freeze()
            gc.set_threshold(10_000, 20, 100)
        for round_ in range(args.rounds):
            for i, streams in enumerate(args.streams):
                for relay in relays:
                    seed = 100_000 * round_ + 1000 * (i + 1)
                    run = await one_run(url, streams, seed, Path(tmp), relay)
                    results.append(run | {"round": round_, "gc_freeze": args.gc_freeze})
    openai_api.loads = json.loads
    return {"runs": results, "ratios": ratios(results, relays, args.streams)}


def ratios(results: list[dict[str, Any]], relays: list[str], streams: list[int]) -> dict[str, Any]:
    """Median CPU per engine chunk of each relay, and its ratio to the lean relay's, per stream count."""
    out: dict[str, Any] = {}
    for n in streams:
        median = {
            relay: statistics.median(
                r["cpu_us_per_token"] for r in results if r["relay"] == relay and r["streams"] == n
            )
            for relay in relays
        }
        base = median.get("lean")
        out[str(n)] = {
            "cpu_us_per_engine_chunk": {k: round(v, 1) for k, v in median.items()},
            "ratio_to_lean": {k: round(v / base, 2) for k, v in median.items()} if base else None,
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.llm_relay", description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", type=int, nargs="+", default=[1, 100], help="concurrent streams per run")
    p.add_argument("--ttft", default="1-3", help="stand-in time to first token (seconds, or a range)")
    p.add_argument("--tokens", type=int, default=160, help="tokens per answer")
    p.add_argument("--gc-freeze", action="store_true", help="gc.freeze() and a higher gen-0 threshold first")
    p.add_argument("--relays", default="lean", help=f"comma-separated, run in turn: {', '.join(RELAYS)}")
    p.add_argument("--rounds", type=int, default=1, help="rounds of every (streams, relay) run, interleaved")
    args = p.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
