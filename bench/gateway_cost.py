"""What the gateway's CPU costs per event relayed: gRPC-Web and Connect side by side with SSE.

    python -m bench.gateway_cost [--rounds 7] [--tasks 96] [--concurrency 16] [--pace 0.005]

One ``qianshi-server`` (grounded generator, ``--grounded-pace`` between clauses so text arrives as a
stream of deltas), one ``qianshi-gateway`` in front of it, and one client process
(``bench/gateway_client.py``), each a process of its own on loopback. Each round runs the same
``--tasks`` interpretations, ``--concurrency`` at a time, once per protocol — SSE (``GET
/v1/interpret``), gRPC-Web and Connect (``/qianshi.v1.InterpretService/Interpret``, binary protobuf;
and Connect with protobuf JSON, connect-web's default; no compression) — in an order that rotates round by round, so drift in the machine's load hits them
alike. The gateway's CPU time (user + system, from the kernel via psutil) over a protocol's run,
divided by the events the client received, is that protocol's CPU per event; the server's and the
client's are reported beside it. Prints JSON: every run, and per protocol the median over rounds and
its ratio to SSE (the median of the per-round ratios). Writes it to ``--out``/gateway-cost-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from bench.procs import Proc, copy_state, free_port, python, server_argv, start_server
from bench.run import build_index

PROTOCOLS = ("sse", "grpcweb", "connect", "connect-json")


def cpu_s(proc: Proc) -> float:
    times = proc.ps.cpu_times()
    return float(times.user + times.system)


def machine_busy_s() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + t.irq + t.softirq + t.steal)


def start_gateway(backend_port: int) -> tuple[Proc, str]:
    port = free_port()
    argv = python(
        "-m", "qianshi.server.gateway.main",
        "--listen", f"127.0.0.1:{port}", "--backend", f"127.0.0.1:{backend_port}", "--log-level", "INFO",
    )  # fmt: skip
    proc = Proc("gateway", argv)
    proc.wait_for("Application startup complete", 60)
    return proc, f"http://127.0.0.1:{port}"


def one_run(
    procs: dict[str, Proc], client: Proc, protocol: str, tasks: int, concurrency: int
) -> dict[str, Any]:
    before = {name: cpu_s(p) for name, p in procs.items()}
    busy = machine_busy_s()
    client.send(f"run {protocol} {tasks} {concurrency}")
    line = client.wait_for("done ", 600)
    spent = {name: cpu_s(p) - before[name] for name, p in procs.items()}
    result = json.loads(line.split(" ", 1)[1])
    events = max(result["events"], 1)
    ours = sum(spent.values())
    cores = len(os.sched_getaffinity(0))
    return {
        "protocol": protocol,
        **result,
        "gateway_cpu_us_per_event": 1e6 * spent["gateway"] / events,
        "server_cpu_us_per_event": 1e6 * spent["server"] / events,
        "client_cpu_us_per_event": 1e6 * spent["client"] / events,
        "events_per_s": result["events"] / result["wall_s"],
        "other_load": max(0.0, (machine_busy_s() - busy - ours) / (result["wall_s"] * cores)),
    }


def summarize(runs: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for protocol in PROTOCOLS:
        mine = [r for r in runs if r["protocol"] == protocol]
        out[protocol] = {
            key: round(statistics.median(r[key] for r in mine), 2)
            for key in ("gateway_cpu_us_per_event", "server_cpu_us_per_event", "client_cpu_us_per_event",
                        "events_per_s", "other_load")
        }  # fmt: skip
        out[protocol]["events_per_task"] = mine[0]["events"] / max(mine[0]["tasks"], 1)
        out[protocol]["failed"] = sum(r["failed"] for r in mine)
    cost = {(r["round"], r["protocol"]): r["gateway_cpu_us_per_event"] for r in runs}
    for protocol in PROTOCOLS[1:]:
        per_round = [cost[i, protocol] / cost[i, "sse"] for i in range(rounds)]
        out[protocol]["gateway_cpu_to_sse"] = round(statistics.median(per_round), 3)
        out[protocol]["gateway_cpu_to_sse_per_round"] = [round(x, 3) for x in per_round]
    return out


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.gateway_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=7, help="rounds; each runs every protocol once")
    p.add_argument("--tasks", type=int, default=96, help="interpretations per protocol per round")
    p.add_argument("--concurrency", type=int, default=16, help="streams open at once")
    p.add_argument("--pace", type=float, default=0.005, help="the server's --grounded-pace (s per clause)")
    p.add_argument("--out", default="bench/results", help="folder for the JSON report")
    args = p.parse_args()
    out = Path(args.out)
    index = build_index(out / ".state" / "index")
    state = copy_state(index, out / ".state" / "gateway-cost")
    argv = server_argv(
        "qianshi", state, "http://127.0.0.1:9/v1", 0.8, 10_000, free_port(), ("--grounded-pace", str(args.pace)),
        "grounded",
    )  # fmt: skip
    procs: dict[str, Proc] = {}
    try:
        procs["server"], port = start_server(argv, "server")
        procs["gateway"], url = start_gateway(port)
        procs["client"] = Proc(
            "client", python("-m", "bench.gateway_client", url), stdin=True, watch="stdout"
        )
        procs["client"].wait_for("ready", 60)
        for protocol in PROTOCOLS:  # warm-up: connections, caches, the server's estimates
            one_run(procs, procs["client"], protocol, args.concurrency, args.concurrency)
        runs = []
        for i in range(args.rounds):
            order = PROTOCOLS[i % len(PROTOCOLS) :] + PROTOCOLS[: i % len(PROTOCOLS)]
            runs += [
                {"round": i, **one_run(procs, procs["client"], pr, args.tasks, args.concurrency)}
                for pr in order
            ]
        procs["client"].send("quit")
    finally:
        for proc in procs.values():
            proc.stop()
    report = {
        "benchmark": "gateway_cost",
        "command": "python -m bench.gateway_cost "
        + " ".join(f"--{k} {v}" for k, v in vars(args).items() if k != "out"),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version()},
        "summary": summarize(runs, args.rounds),
        "runs": runs,
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"gateway-cost-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({"report": str(path), **{k: report[k] for k in ("command", "summary")}}, indent=2))


if __name__ == "__main__":
    main()
