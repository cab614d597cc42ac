"""``python -m bench run``: the never-silent stream under load, side by side with the baselines.

    python -m bench run --quick                      # N = 1, 100, 1,000; about two minutes
    python -m bench run                              # N = 1, 100, 1,000, 5,000, 10,000
    python -m bench run --n 100 --designs qianshi --ttft 1-3 --tokens 160
    python -m bench run --n "" --burst 1,300,1000    # only the burst levels (burst.py)
    python -m bench vllm                             # against a real vLLM (CPU build): bench/vllm_bench.py
    python -m bench readings                         # real LLM readings (SmolLM2): bench/readings.py

Everything starts on loopback: the vLLM stand-in (its own process), each design's server (its own
process), and one or two client processes. Writes
``<out>/report-<time>.json`` and ``<out>/latest.json``, ``<out>/gaps.png`` and ``<out>/progress.png``,
and prints a JSON summary with the ratios and the targets. What each figure means: bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import burst, goals, hold, plots, readings, vllm_bench
from bench.procs import start_standin
from bench.relay_level import run_relay, variants
from bench.report import ratios, summary, targets
from bench.run import RELAY_PROFILE, Settings, prepare, run_level

DESIGNS = ("qianshi", "naive", "threadpool")
BURST_DESIGNS = ("qianshi", "naive", "threadpool", "old-engine", "bare", "before")
HOLD_DESIGNS = ("qianshi", "bare", "naive", "threadpool", "before")
MODES: dict[str, dict[str, Any]] = {
    "quick": {
        "ns": [1, 100, 1000],
        "burst": [1000],
        "ttft": "1",
        "tokens": 30,
        "hold_s": 17.0,
        "warmup_tasks": 16,
    },
    "full": {
        "ns": [1, 100, 1000, 5000, 10000],
        "burst": [1, 300, 1000],
        "ttft": "1-3",
        "tokens": 160,
        "hold_s": 30.0,
        "warmup_tasks": 24,
    },
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the benchmark and write the report")
    r.add_argument("--quick", action="store_true", help="N = 1, 100, 1,000 with short timings")
    r.add_argument("--n", default=None, help="comma-separated stream counts (default: by mode; '' for none)")
    r.add_argument(
        "--burst", default=None, help="comma-separated burst levels: N streams within ~1 s ('' for none)"
    )
    r.add_argument(
        "--burst-designs", default=",".join(BURST_DESIGNS[:-1]), help="designs of the burst levels"
    )
    r.add_argument(
        "--before", default="", help="a checkout with its own .venv: burst and start-up run its server too"
    )
    r.add_argument(
        "--startup-designs",
        default="qianshi,old-engine",
        help="designs whose start-up is timed ('' for none)",
    )
    r.add_argument("--designs", default=",".join(DESIGNS), help="comma-separated: qianshi,naive,threadpool")
    r.add_argument("--out", default="bench/results", help="folder for the report, the plots and the index")
    r.add_argument("--tick", type=float, default=0.8, help="tick interval of every stage (s)")
    r.add_argument("--ttft", default="", help="stand-in time to first token: seconds or a range 1-3")
    r.add_argument("--rate", type=float, default=50.0, help="stand-in tokens per second")
    r.add_argument("--tokens", type=int, default=0, help="stand-in tokens per answer")
    r.add_argument("--hold", type=float, default=0.0, help="seconds the window stays open after the ramp")
    r.add_argument(
        "--open-rate", type=float, default=0.0, help="streams opened per second (0: max(100, N / 20))"
    )
    r.add_argument("--wave-interval", type=float, default=0.01, help="seconds between waves of opens")
    r.add_argument("--warmup", type=int, default=-1, help="warm-up tasks that teach the estimates")
    r.add_argument("--clients", type=int, default=0, help="client processes (0: by N)")
    r.add_argument(
        "--relay-n",
        type=int,
        default=-1,
        help="streams of the relay level (0: none; default 100 with the sweep)",
    )
    r.add_argument("--relay-profile", default=RELAY_PROFILE, help="stand-in profile of the relay level")
    r.add_argument(
        "--quiet-wait", type=float, default=0.0, help="wait up to S s for a quiet machine per level"
    )
    r.add_argument("--profile", action="store_true", help="record the servers with py-spy (needs py-spy)")
    r.add_argument(
        "--hold-levels", default="", help="N streams kept open, memory per stream (e.g. 1000,10000)"
    )
    r.add_argument(
        "--hold-designs", default="qianshi,bare,naive,threadpool", help="designs of the hold levels"
    )
    r.add_argument(
        "--hold-large-designs", default="qianshi,bare", help="designs of the hold levels above 2,000 streams"
    )
    r.add_argument(
        "--burst-rounds", type=int, default=1, help="rounds of the burst levels, designs interleaved (median)"
    )
    r.add_argument(
        "--workers-n", type=int, default=0, help="streams of the --workers 2 + Redis level (0: none)"
    )
    vllm_bench.parser(sub)
    readings.parser(sub)
    return p


def settings_from(args: argparse.Namespace) -> tuple[Settings, str]:
    mode = "quick" if args.quick else "full"
    defaults = MODES[mode]
    designs = [d.strip() for d in args.designs.split(",") if d.strip()]
    burst_designs = [d.strip() for d in args.burst_designs.split(",") if d.strip()]
    if args.before and "before" not in burst_designs:
        burst_designs.append("before")
    unknown = (set(designs) - set(DESIGNS)) | (set(burst_designs) - set(BURST_DESIGNS))
    if unknown:
        raise SystemExit(f"unknown designs: {', '.join(sorted(unknown))}")
    ns = _counts(args.n, defaults["ns"])
    settings = Settings(
        out=Path(args.out),
        designs=designs,
        ns=ns,
        tick_s=args.tick,
        ttft=args.ttft or defaults["ttft"],
        rate=args.rate,
        tokens=args.tokens or defaults["tokens"],
        hold_s=args.hold or defaults["hold_s"],
        open_rate=args.open_rate,
        wave_interval_s=args.wave_interval,
        warmup_tasks=defaults["warmup_tasks"] if args.warmup < 0 else args.warmup,
        clients=args.clients,
        profile=args.profile,
        relay_n=args.relay_n,
        relay_profile=args.relay_profile,
        quiet_wait_s=args.quiet_wait,
        burst_ns=_counts(args.burst, defaults["burst"]),
        burst_designs=burst_designs,
        before=Path(args.before).expanduser().resolve() if args.before else None,
        hold_ns=_counts(args.hold_levels, []),
        hold_designs=[d.strip() for d in args.hold_designs.split(",") if d.strip()]
        + (["before"] if args.before and args.hold_levels else []),
        workers_n=args.workers_n,
        hold_large_designs=[d.strip() for d in args.hold_large_designs.split(",") if d.strip()],
        burst_rounds=max(1, args.burst_rounds),
    )
    unknown_hold = set(settings.hold_designs) - set(HOLD_DESIGNS)
    if unknown_hold:
        raise SystemExit(f"unknown hold designs: {', '.join(sorted(unknown_hold))}")
    return settings, mode


def _counts(text: str | None, default: list[int]) -> list[int]:
    if text is None:
        return list(default)
    return [int(x) for x in text.split(",") if x.strip()]


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings, mode = settings_from(args)
    settings.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    standin, settings.standin_url = start_standin(settings.ttft, settings.rate, settings.tokens)
    levels: list[dict[str, Any]] = []
    startups: list[dict[str, Any]] = []
    try:
        settings.state = prepare(settings, standin)
        for level, n in enumerate(settings.ns):
            for design in settings.designs:
                print(f"[bench] {design} N={n:,} …", file=sys.stderr, flush=True)
                levels.append(
                    run_level(settings, standin, design, n, level * len(DESIGNS) + DESIGNS.index(design))
                )
        relay_n = settings.relay_n if settings.relay_n >= 0 else (100 if settings.ns else 0)
        if relay_n > 0 and "qianshi" in settings.designs:
            for k, design in enumerate(variants(settings.before is not None)):
                print(f"[bench] relay {design} N={relay_n:,} …", file=sys.stderr, flush=True)
                level = len(settings.ns) * len(DESIGNS) + (k * 97)
                levels.append(run_relay(settings, standin, relay_n, level, design))
        base = (len(settings.ns) + 1) * len(DESIGNS)
        rounds: list[dict[str, Any]] = []
        for r in range(settings.burst_rounds):
            for k, n in enumerate(settings.burst_ns):
                for design in _rotated(settings.burst_designs, r):
                    print(f"[bench] burst {design} N={n:,} (round {r + 1}) …", file=sys.stderr, flush=True)
                    level = base + k * len(BURST_DESIGNS) + BURST_DESIGNS.index(design)
                    rounds.append({**burst.run_burst(settings, standin, design, n, level), "round": r + 1})
        levels += burst.merge_rounds(rounds)
        if settings.burst_ns and "qianshi" in settings.burst_designs:
            print("[bench] solo …", file=sys.stderr, flush=True)
            levels.append(
                burst.run_solo(settings, standin, base + len(settings.burst_ns) * len(BURST_DESIGNS))
            )
        levels += _hold_levels(settings, base + (len(settings.burst_ns) + 1) * len(BURST_DESIGNS))
        if settings.burst_ns:
            startup_designs = [d.strip() for d in args.startup_designs.split(",") if d.strip()]
            for design in [*startup_designs, *(["before"] if settings.before else [])]:
                if design in settings.burst_designs:
                    print(f"[bench] start-up {design} …", file=sys.stderr, flush=True)
                    startups.append(burst.startup(settings, design))
    finally:
        standin.stop()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    sweep = [lv for lv in levels if lv["design"] in DESIGNS and "level" not in lv]
    if sweep:
        plots.gaps(sweep, settings.tick_s, settings.out / "gaps.png")
    bursts = [lv for lv in levels if lv.get("level") == "burst"]
    if bursts:
        plots.burst(bursts, settings.out / "burst.png")
    ours = max((lv for lv in bursts if lv["design"] == "qianshi"), key=lambda lv: lv["n"], default=None)
    burst_progress = ours is not None and plots.progress(
        ours["_"]["streams"], ours["n"], settings.out / "progress-burst.png"
    )
    sample = _progress_level(levels)
    has_progress = sample is not None and plots.progress(
        sample["_"]["streams"], sample["n"], settings.out / "progress.png"
    )
    report = {
        "command": "python -m bench " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("__main__.py") else "",
        "mode": mode,
        "started": stamp,
        "duration_s": round(time.time() - started, 1),
        "machine": {
            "cores": len(os.sched_getaffinity(0)),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
        },
        "settings": {
            "designs": settings.designs,
            "ns": settings.ns,
            "tick_s": settings.tick_s,
            "standin": {
                "ttft_s": settings.ttft,
                "rate_tokens_per_s": settings.rate,
                "tokens": settings.tokens,
            },
            "hold_s": settings.hold_s,
            "opens": {
                "streams_per_s": settings.open_rate or "max(100, N / 20)",
                "wave_interval_s": settings.wave_interval_s,
            },
            "warmup_tasks": settings.warmup_tasks,
            "relay": {"n": settings.relay_n, "standin_profile": settings.relay_profile},
            "burst": {
                "ns": settings.burst_ns,
                "designs": settings.burst_designs,
                "rounds": settings.burst_rounds,
            },
        },
        "levels": [{k: v for k, v in level.items() if k != "_"} for level in levels],
        "startup": startups,
        "ratios": ratios(levels),
        "targets": targets(levels, startups, settings.tick_s) + goals.goals(levels, settings.tick_s),
        "plots": [
            *(["gaps.png"] if sweep else []),
            *(["progress.png"] if has_progress else []),
            *(["burst.png"] if bursts else []),
            *(["progress-burst.png"] if burst_progress else []),
        ],
    }
    text = json.dumps(report, indent=2, ensure_ascii=False)
    (settings.out / f"report-{stamp}.json").write_text(text)
    (settings.out / "latest.json").write_text(text)
    return report


def _rotated(designs: list[str], by: int) -> list[str]:
    """The designs in another order each round, so none always runs first (or last) on a busy host."""
    k = by % len(designs) if designs else 0
    return designs[k:] + designs[:k]


def _hold_levels(settings: Settings, base: int) -> list[dict[str, Any]]:
    """The hold levels and the --workers level, on a stand-in that never sends a first token."""
    if not settings.hold_ns and not settings.workers_n:
        return []
    out: list[dict[str, Any]] = []
    standin, url = hold.start_hold_standin()
    held = dataclasses.replace(settings, standin_url=url)
    try:
        for k, n in enumerate(settings.hold_ns):
            designs = settings.hold_designs if n <= 2000 else settings.hold_large_designs
            for design in (d for d in designs if d in HOLD_DESIGNS):
                print(f"[bench] hold {design} N={n:,} …", file=sys.stderr, flush=True)
                level = base + k * len(HOLD_DESIGNS) + HOLD_DESIGNS.index(design)
                out.append(hold.run_hold(held, standin, design, n, level))
        if settings.workers_n:
            print(f"[bench] --workers 2 + redis N={settings.workers_n:,} …", file=sys.stderr, flush=True)
            level = base + len(settings.hold_ns) * len(HOLD_DESIGNS)
            out.append(hold.run_workers(held, standin, settings.workers_n, level))
    finally:
        standin.stop()
    return out


def _progress_level(levels: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The Qianshi level whose sample best shows progress: the largest N the server kept up with (no
    silent stream) that has finished streams, else the largest with finished streams."""
    ours = [
        lv
        for lv in levels
        if lv["design"] == "qianshi" and "level" not in lv and lv["outcomes"].get("result", 0) >= 3
    ]
    kept_up = [lv for lv in ours if lv["silent_streams"] == 0]
    return max(kept_up or ours, key=lambda lv: lv["n"], default=None)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "vllm":
        print(json.dumps(vllm_bench.run(args), indent=2, ensure_ascii=False))
        return
    if args.command == "readings":
        readings.main(args)
        return
    report = run(args)
    print(json.dumps(summary(report), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
