"""Where a held stream's bytes go, and how they grow while it waits.

    python -m bench.held_memory                  # ~2 min; report bench/plots/held-memory.json
    python -m bench.held_memory --trace          # + Python's objects per stream, by line (slower)

Three servers in turn, each in its own process on loopback against the hold stand-in (its first
token never comes, so every stream waits, ticking every 0.8 s): Qianshi as it is; Qianshi with its
memory log keeping every event as objects (``tasks.packed`` switched off: how the log held events
before); and grpc.aio alone holding each stream after one event (``bare --hold``: the floor). N
streams open in waves of 500 every 0.5 s; the server's resident memory is read at fixed moments
after the first open, minus before it, over N. At ``--at`` seconds the server reports, asked by a
signal, what its allocators hold since before the first open: Python's small-object blocks, and
glibc malloc's bytes in use and free (free bytes it cannot give back: fragmentation); with
``--trace``, Python's objects by the line of the server's code that allocated them (tracemalloc,
the innermost frame of Qianshi's code, else of grpc or asyncio).

The server runs under this module (``serve``): it installs the two signal handlers, switches
packing off when asked, and calls the server's own ``main``.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import importlib
import json
import os
import signal
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

DESIGNS = ("qianshi", "qianshi-objects", "bare")
MOMENTS_S = (3.0, 5.0, 8.0, 12.0, 16.0, 20.0)
WAVE, WAVE_INTERVAL_S = 500, 0.5
SETS = ("mazu60", "guanyin100", "guandi100")


# the server's side -------------------------------------------------------------------------------


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")
    ]  # fmt: skip


def _allocators() -> dict[str, int]:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return {
        "python_blocks": sys.getallocatedblocks(),
        "malloc_in_use": info.uordblks,
        "malloc_free": info.fordblks,
    }


def serve(report: Path, module: str, objects: bool, trace: bool, argv: Sequence[str]) -> None:
    """Run ``module``'s ``main(argv)``: SIGUSR1 marks "before", SIGUSR2 writes what grew to ``report``."""
    before: dict[str, Any] = {}

    def mark(*_: object) -> None:
        before["allocators"] = _allocators()
        if trace:
            tracemalloc.start(8)
            before["snapshot"] = tracemalloc.take_snapshot()

    def write(*_: object) -> None:
        now = _allocators()
        out: dict[str, Any] = {k: now[k] - before["allocators"][k] for k in now}
        if trace:
            ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
            after = tracemalloc.take_snapshot().filter_traces(ignore)
            diff = after.compare_to(before["snapshot"].filter_traces(ignore), "traceback")
            from bench.pipeline_cost import allocation_owner

            owners: Counter[str] = Counter()
            for d in diff:
                owners[allocation_owner(d.traceback)] += d.size_diff
            out["python_bytes"] = sum(owners.values())
            out["python_bytes_by_line"] = dict(owners.most_common(40))
            tracemalloc.stop()
        partial = report.with_suffix(".part")
        partial.write_text(json.dumps(out))
        partial.replace(report)  # whole, at once

    signal.signal(signal.SIGUSR1, mark)
    signal.signal(signal.SIGUSR2, write)
    if objects:
        from qianshi.server.tasks import memory_log

        memory_log.pack = lambda event: event
    importlib.import_module(module).main(list(argv))


# the driver's side -------------------------------------------------------------------------------


def _rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def _report(pid: int, report: Path, timeout_s: float = 120.0) -> dict[str, Any]:
    """Ask the server for its allocators' report and wait for the file (tracing takes a while)."""
    report.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR2)
    end = time.monotonic() + timeout_s
    while not report.exists():
        if time.monotonic() > end:
            raise TimeoutError(f"no report from the server in {timeout_s:.0f} s")
        time.sleep(0.05)
    result: dict[str, Any] = json.loads(report.read_text())
    return result


async def _drive(
    port: int, pid: int, n: int, at_s: float, report: Path, moments: Sequence[float]
) -> dict[str, Any]:
    import grpc
    from qianshi.v1 import interpret_service_pb2 as pb
    from qianshi.v1 import interpret_service_pb2_grpc as rpc

    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(2)]
    stubs = [rpc.InterpretServiceStub(c) for c in channels]
    heard = [0] * n

    async def one(i: int) -> None:
        request = pb.InterpretRequest(
            set_id=SETS[i % len(SETS)],
            number=1 + i % 60,
            question=f"第 {i} 位問：工作會順利嗎？",
            locale="zh-Hant",
        )
        try:
            async for _ in stubs[i % 2].Interpret(request):
                heard[i] += 1
        except grpc.aio.AioRpcError:
            heard[i] = -(10**9)  # failed: counted apart

    for channel in channels:
        await asyncio.wait_for(channel.channel_ready(), 30)
    os.kill(pid, signal.SIGUSR1)
    await asyncio.sleep(1.0)
    rss0 = _rss(pid)
    t0 = time.monotonic()
    streams = []
    for wave in range(0, n, WAVE):
        streams += [asyncio.ensure_future(one(i)) for i in range(wave, min(n, wave + WAVE))]
        await asyncio.sleep(WAVE_INTERVAL_S)
    samples = []
    allocators: dict[str, Any] = {}
    for moment in sorted({*moments, at_s}):
        await asyncio.sleep(max(t0 + moment - time.monotonic(), 0.0))
        samples.append(
            {
                "s": moment,
                "kib_per_stream": round((_rss(pid) - rss0) / 1024 / n, 2),
                "events_per_stream": round(sum(h for h in heard if h > 0) / n, 2),
            }
        )
        if moment == at_s:
            allocators = await asyncio.to_thread(_report, pid, report)
    failed = sum(h < 0 for h in heard)
    for stream in streams:
        stream.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    for channel in channels:
        await channel.close()
    first, last = samples[min(1, len(samples) - 1)], samples[-1]  # growth after the ramp settled
    per_stream = {k: round(v / n, 1) for k, v in allocators.items() if isinstance(v, int)}
    out: dict[str, Any] = {
        "n": n,
        "failed": failed,
        "samples": samples,
        "growth_bytes_per_stream_s": round((last["kib_per_stream"] - first["kib_per_stream"]) * 1024 / (last["s"] - first["s"]), 1)
        if last["s"] > first["s"]
        else None,
        "growth_bytes_per_event": round((last["kib_per_stream"] - first["kib_per_stream"]) * 1024 / events, 1)
        if (events := last["events_per_stream"] - first["events_per_stream"]) >= 1
        else None,
        f"allocators_at_{at_s:g}s_per_stream": per_stream,
    }  # fmt: skip
    if "python_bytes_by_line" in allocators:
        out["python_bytes_by_line_per_stream"] = {
            k: round(v / n) for k, v in allocators["python_bytes_by_line"].items()
        }
    return out


def run_design(
    design: str,
    n: int,
    at_s: float,
    trace: bool,
    state: Path,
    work: Path,
    moments: Sequence[float] = MOMENTS_S,
) -> dict[str, Any]:
    from bench.hold import start_hold_standin
    from bench.procs import Proc, copy_state, free_port, python, server_argv

    standin, url = start_hold_standin()
    try:
        folder = copy_state(state, work / f"state-{design}")
        argv = server_argv(design.removesuffix("-objects"), folder, url, 0.8, 2 * n + 100, free_port())
        if design == "bare":
            argv.append("--hold")
        module, args = argv[2], argv[3:]
        report = work / f"report-{design}.json"
        flags = [
            "--report",
            str(report),
            "--module",
            module,
            *(["--objects"] if design.endswith("-objects") else []),
        ]
        head = python("-m", "bench.held_memory", "serve", *flags, *(["--trace"] if trace else []), "--")
        server = Proc(design, [*head, *args])
        try:
            line = server.wait_for("serving on port", 120)
            port = int(line.split("serving on port ", 1)[1].split()[0])
            return {"design": design, **asyncio.run(_drive(port, server.popen.pid, n, at_s, report, moments))}
        finally:
            server.stop()
    finally:
        standin.stop()


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:
        p = argparse.ArgumentParser(prog="python -m bench.held_memory serve")
        p.add_argument("--report", type=Path, required=True)
        p.add_argument("--module", required=True)
        p.add_argument("--objects", action="store_true")
        p.add_argument("--trace", action="store_true")
        split = args.index("--")
        opts = p.parse_args(args[1:split])
        serve(opts.report, opts.module, opts.objects, opts.trace, args[split + 1 :])
        return
    p = argparse.ArgumentParser(prog="python -m bench.held_memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000, help="streams held open")
    p.add_argument("--designs", default=",".join(DESIGNS), help="comma-separated: " + ", ".join(DESIGNS))
    p.add_argument(
        "--at", type=float, default=3.0, help="seconds after the first open of the allocators' report"
    )
    p.add_argument("--trace", action="store_true", help="also Python's objects by line (tracemalloc)")
    p.add_argument(
        "--moments",
        default=",".join(f"{m:g}" for m in MOMENTS_S),
        help="seconds after the first open RSS is read",
    )
    p.add_argument(
        "--state",
        type=Path,
        default=Path("bench/results/.state/index"),
        help="the state folder (its index built on first use)",
    )
    p.add_argument("--out", type=Path, default=Path("bench/plots/held-memory.json"))
    opts = p.parse_args(args)
    from bench.run import build_index

    build_index(opts.state)  # once; later runs reuse it
    work = Path("bench/results/.held-memory")
    work.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.held_memory " + " ".join(args)
    results = []
    for design in opts.designs.split(","):
        print(f"[held-memory] {design} N={opts.n:,} …", file=sys.stderr, flush=True)
        moments = [float(m) for m in opts.moments.split(",")]
        results.append(run_design(design, opts.n, opts.at, opts.trace, opts.state, work, moments))
    report = {"command": command.strip(), "at": time.strftime("%Y-%m-%d %H:%M:%S"), "designs": results}
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
