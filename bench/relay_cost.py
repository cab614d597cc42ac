"""The relay alone: CPU per engine chunk of a generator's ``stream``, drained straight, no pipeline.

    python -m bench.relay_cost --url http://127.0.0.1:8000/v1 [--streams 1 8] [--tokens 500]
        [--rounds 5] [--relays lean,lean-orjson,sdk]

``lean`` is the server's relay (``openai_api``: aiohttp, ``sse.EventReader``, ``json``), ``lean-orjson``
the same decoding with ``orjson`` (to see whether the decoder matters), ``sdk`` the openai-SDK relay
it replaced (``bench/baselines/openai_sdk.py``). Each run opens N streams at once against the server
at ``--url`` (``python -m bench vllm`` points it at a real ``vllm serve``) and divides this process's
CPU time by the text chunks received; kinds are interleaved round by round so load drift hits them
alike. Prints JSON: every run, and per N the median per kind and its ratio to ``lean``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import statistics
import time
from typing import Any

from qianshi.server.backends.generation import openai_api
from qianshi.server.backends.generation.openai_api import OpenAIGenerator, discover_model

from tests.backends.generation.test_prompt import request

RELAYS = ("lean", "lean-orjson", "sdk")


def generator(relay: str, url: str, model: str) -> Any:
    openai_api.loads = json.loads
    if relay == "sdk":
        from bench.baselines.openai_sdk import SDKGenerator

        return SDKGenerator(url, model, max_context_tokens=2048)
    if relay == "lean-orjson":
        import orjson

        openai_api.loads = orjson.loads
    return OpenAIGenerator(url, model, max_context_tokens=2048)


async def one_run(relay: str, url: str, model: str, streams: int, tokens: int, seed: int) -> dict[str, Any]:
    gen = generator(relay, url, model)
    chunks = 0

    async def drain(i: int) -> None:
        nonlocal chunks
        wanted = dataclasses.replace(
            request(), request_id=f"relay-{seed}-{i}", seed=seed + i, max_tokens=tokens
        )
        async for chunk in gen.stream(wanted):
            chunks += not chunk.final

    try:
        await drain(-1)  # connections and first-call caches, not measured
        chunks = 0
        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.gather(*(drain(i) for i in range(streams)))
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    finally:
        await gen.aclose()
        openai_api.loads = json.loads
    return {
        "relay": relay,
        "streams": streams,
        "chunks": chunks,
        "cpu_s": round(cpu, 4),
        "cpu_us_per_chunk": round(cpu * 1e6 / max(chunks, 1), 1),
        "chunks_per_s": round(chunks / wall, 1),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    relays = [r for r in args.relays.split(",") if r]
    model = args.model or discover_model(args.url)[0]
    gc.collect()
    gc.freeze()  # as the server does once started
    runs = []
    for round_ in range(args.rounds):
        for n in args.streams:
            for relay in relays:
                runs.append(await one_run(relay, args.url, model, n, args.tokens, 10_000 * round_ + 100 * n))
    summary: dict[str, Any] = {}
    for n in args.streams:
        median = {
            r: statistics.median(x["cpu_us_per_chunk"] for x in runs if x["relay"] == r and x["streams"] == n)
            for r in relays
        }
        base = median.get("lean")
        summary[str(n)] = {
            "cpu_us_per_chunk": {r: round(v, 1) for r, v in median.items()},
            "ratio_to_lean": {r: round(v / base, 2) for r, v in median.items()} if base else None,
        }
    return {"runs": runs, "summary": summary}


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.relay_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="an OpenAI-compatible server's base URL (…/v1)")
    p.add_argument("--model", default="", help="default: the first the server lists")
    p.add_argument("--streams", type=int, nargs="+", default=[1, 8])
    p.add_argument("--tokens", type=int, default=500)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--relays", default=",".join(RELAYS))
    print(json.dumps(asyncio.run(main_async(p.parse_args())), indent=2))


if __name__ == "__main__":
    main()
