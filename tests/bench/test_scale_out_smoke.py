"""Smoke runs of the scale-out benchmarks (``python -m bench.lease_kill``, ``bench.claim_cost``,
``bench.workers_rate``, ``bench.cluster_wait``) so they cannot rot: tiny settings, the report's structure, never the speed.
They share the test session's built index (copied where the benchmarks look for theirs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from qianshi.server.backends.retrieval.store_copy import copy_tree

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.redis


def bench(out: Path, module: str, *args: str) -> dict:
    command = [sys.executable, "-m", f"bench.{module}", "--out", str(out), *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout)
    assert Path(report["written"]).exists()
    assert report["load"]["cpus"] >= 1
    return report


@pytest.mark.timeout(600)
def test_the_scale_out_benchmarks_run_and_report(built_state, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    out = tmp_path / "results"
    index = out / ".state" / "index"
    copy_tree(built_state, index)
    (index / "built").write_text("the index in qdrant/ is built\n")

    claim = bench(out, "claim_cost", "--starts", "50", "--rounds", "1")
    assert set(claim["sequential"]["us_per_start"]) == {"claim", "no_claim", "before"}
    assert "claim_minus_no_claim" in claim["concurrent_64"]["claim_overhead_us"]

    lease = bench(out, "lease_kill", "--kills", "1", "--lease", "1", "--tick", "0.25")
    assert lease["expiry_to_event_s"]["n"] == 1 and lease["kill_to_event_s"]["max"] is not None

    rate = bench(
        out, "workers_rate", "--rounds", "1", "--seconds", "1", "--warmup", "0.5", "--concurrency", "4"
    )
    assert set(rate["median_streams_per_s"]) == {"workers_1", "workers_2"}
    assert all(r[0]["failed"] == 0 for r in rate["rounds"].values())


@pytest.mark.timeout(300)
def test_the_cluster_wait_benchmark_runs_and_reports(tmp_path):
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server or redis-cli is not installed")
    command = [sys.executable, "-m", "bench.cluster_wait", "--out", str(tmp_path)]
    command += ["--tasks", "2", "--events", "3", "--rounds", "1", "--kills", "1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout)
    assert Path(report["written"]).exists()
    for level in ("at_once", "one_at_a_time"):
        assert set(report[level]["designs"]) == {"xadd", "append", "append_wait"}
        assert report[level]["designs"]["append_wait"]["terminal_latency_us"]["n"] >= 1
    assert report["failover"]["kills"] == 1 and report["failover"]["replica_promoted_every_time"]
