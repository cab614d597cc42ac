"""What the scale-out benchmarks share: a private redis-server, server replicas, the machine's load.

Every process is started with the project's interpreter (or Debian's ``redis-server``) and announces
itself on a line of its own, which is waited for (no sleeps).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from bench.procs import Proc, copy_state, free_port, python


def start_redis(workdir: Path) -> tuple[Proc, str]:
    """A redis-server without persistence on a free loopback port; returns it and its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = Proc("redis", [*argv, "--dir", str(workdir)], watch="stdout")
    proc.wait_for("Ready to accept connections", 30)
    return proc, f"redis://127.0.0.1:{port}/0"


def start_replica(
    index: Path, into: Path, name: str, flags: Sequence[str], *, ready: str = "serving on port"
) -> tuple[Proc, int]:
    """``qianshi-server`` on a private copy of the built index; returns it and its port."""
    state = copy_state(index, into)
    argv = python(
        "-m",
        "qianshi.server.main",
        *("--listen", "127.0.0.1:0", "--state-dir", str(state), "--log-level", "WARNING"),
        *flags,
    )
    proc = Proc(name, argv)
    line = proc.wait_for(ready, 180)
    return proc, int(line.split("serving on port ", 1)[1].split()[0])


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, min, p50, p90, p99 and max of ``values`` (None when empty)."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0, "min": None, "p50": None, "p90": None, "p99": None, "max": None}

    def at(q: float) -> float:
        return round(ordered[min(int(q * len(ordered)), len(ordered) - 1)], 4)

    return {
        "n": len(ordered),
        "min": round(ordered[0], 4),
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": round(ordered[-1], 4),
    }


class Load:
    """The machine's load during a run: load averages and CPU busy share (the host is shared)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.load_before = os.getloadavg()
        psutil.cpu_percent(None)

    def report(self) -> dict[str, Any]:
        return {
            "cpus": os.cpu_count(),
            "loadavg_1m_before": round(self.load_before[0], 2),
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
            "cpu_busy_percent": psutil.cpu_percent(None),
            "seconds": round(time.monotonic() - self.started, 1),
        }


def write_report(
    out: Path, name: str, report: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write ``report`` (plus ``extra``) to ``<out>/<name>-<time>.json``; returns the report with its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({**report, **(extra or {})}, indent=1))
    return {**report, "written": str(path)}
