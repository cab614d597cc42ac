"""``python -m bench.router_bench``: time to first token and tokens/s through ``vllm-router`` (two
``vllm serve`` behind it, round robin) against one ``vllm serve`` direct.

Everything real and on loopback (``bench/vllm_cpu``): vLLM's CPU build with the tiny model, both
vLLMs started at once, the router in its own small venv. The same chat request bodies (fixed length:
``ignore_eos``; the same seeds) go to the first vLLM directly and to the router, streamed by a plain
aiohttp client (``vllm_streams.direct``): one stream at a time, then ``--streams`` at once, designs
alternating round by round. Reported per design and level: time to first token (p50, p90), tokens/s
per stream (median) and in all, with ratios router ÷ direct. The two vLLMs share this machine's
cores: the router's figures are the hop's cost plus two engines on the same CPU, not two machines'
worth. Prints the JSON report and writes it to ``<out>/router-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.scale_out_procs import Load, percentiles, write_report
from bench.vllm_cpu import router, venv
from bench.vllm_cpu.procs import Run, VLLMServer, free_port
from bench.vllm_streams import Streamed, direct


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.router_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--tokens", type=int, default=200, help="tokens per answer (ignore_eos)")
    p.add_argument("--streams", type=int, default=8, help="streams at once in the second level")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per level")
    p.add_argument("--out", default="bench/results", help="folder for the report")
    return p


def body(seed: int, tokens: int) -> dict[str, Any]:
    return {
        "model": "tiny",
        "messages": [{"role": "user", "content": f"第{seed}籤：今年換工作會順利嗎？"}],
        "max_tokens": tokens,
        "ignore_eos": True,
        "seed": seed,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def level(streams: list[Streamed], wall_s: float) -> dict[str, Any]:
    ok = [s for s in streams if not s.error]
    return {
        "streams": len(streams),
        "errors": sorted({s.error for s in streams if s.error}),
        "ttft_ms": percentiles([s.ttft * 1000 for s in ok]),
        "tokens_per_s_per_stream_median": round(statistics.median(s.rate for s in ok), 1) if ok else None,
        "tokens_per_s_total": round(sum(s.tokens for s in ok) / wall_s, 1) if wall_s > 0 else None,
    }


async def measure(args: argparse.Namespace, urls: dict[str, str]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        for url in urls.values():  # warm both paths (and both vLLMs behind the router)
            await asyncio.gather(*(direct(session, url, body(s, 16), s) for s in range(4)))
        for label, count in (("one_stream", 1), (f"{args.streams}_streams", args.streams)):
            runs: dict[str, list[Streamed]] = {name: [] for name in urls}
            walls: dict[str, float] = {name: 0.0 for name in urls}
            for r in range(args.rounds):
                for name, url in urls.items():
                    seeds = [1000 * r + i for i in range(count)]
                    started = time.monotonic()
                    runs[name] += await asyncio.gather(
                        *(direct(session, url, body(s, args.tokens), s) for s in seeds)
                    )
                    walls[name] += time.monotonic() - started
            designs = {name: level(runs[name], walls[name]) for name in urls}
            d, rt = designs["direct"], designs["router"]
            ratios = {
                "ttft_p50": round(rt["ttft_ms"]["p50"] / d["ttft_ms"]["p50"], 2),
                "tokens_per_s_per_stream": round(
                    rt["tokens_per_s_per_stream_median"] / d["tokens_per_s_per_stream_median"], 2
                ),
                "tokens_per_s_total": round(rt["tokens_per_s_total"] / d["tokens_per_s_total"], 2),
            }
            report[label] = {"designs": designs, "router_over_direct": ratios}
    return report


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    where = venv.ensure(say)
    model = venv.model(where, say)
    router_venv = router.ensure(say)
    run = Run(where)
    vllms = [VLLMServer(run, venv.python(where), model, name=f"vllm-{i}", unpinned=True) for i in range(2)]
    front = None
    try:
        for server in vllms:
            server.wait_ready()
        metrics = ["--prometheus-host", "127.0.0.1", "--prometheus-port", str(free_port())]
        workers = [s.url.removesuffix("/v1") for s in vllms]
        front = router.Router(run, router_venv, workers, metrics).wait_ready()
        load = Load()
        report = asyncio.run(measure(args, {"direct": vllms[0].url, "router": front.url}))
    finally:
        if front is not None:
            front.stop()
        for server in vllms:
            server.stop()
        run.close()
    config = {"tokens": args.tokens, "streams": args.streams, "rounds": args.rounds, "load": load.report()}
    config["command"] = "python -m bench.router_bench " + " ".join(argv if argv is not None else sys.argv[1:])
    print(json.dumps(write_report(Path(args.out), "router", {"config": config, **report}), indent=1))


if __name__ == "__main__":
    main()
