"""A smoke run of ``python -m bench.gateway_cost`` (one round of four interpretations per protocol)
so it cannot rot: the report's structure, every protocol relays the same events, never the speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_smoke_run_compares_every_protocol_with_sse(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "bench.gateway_cost",
        "--rounds", "1", "--tasks", "4", "--concurrency", "2", "--out", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    printed = json.loads(done.stdout)
    report = json.loads(Path(printed["report"]).read_text())
    summary = report["summary"]
    assert set(summary) == {"sse", "grpcweb", "connect", "connect-json"}
    assert {s["failed"] for s in summary.values()} == {0}
    assert len({s["events_per_task"] for s in summary.values()}) == 1  # the same events on every path
    for protocol in ("grpcweb", "connect", "connect-json"):
        assert summary[protocol]["gateway_cpu_to_sse"] > 0
    assert report["command"].startswith("python -m bench.gateway_cost")
