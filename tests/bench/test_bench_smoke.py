"""A smoke run of the benchmark (``python -m bench run``) so it cannot rot.

Ten streams per design with tiny timings, all three designs and the relay level, a burst of ten per
design (the old engine too), the solo level, Qianshi's start-up times, and the hold levels (Qianshi,
grpc.aio alone, and ``--workers 2`` with a Redis log) with issue 20's goal lines, through the real entry point
in a subprocess: it checks the report's structure, never the speed (the benchmark's figures are not
pass/fail). Most of the time goes to building the old engine's index once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = {"qianshi", "naive", "threadpool"}


@pytest.mark.timeout(600)
def test_smoke_run_writes_a_complete_report(tmp_path: Path) -> None:
    out = tmp_path / "results"
    command = [
        sys.executable, "-m", "bench", "run",
        "--n", "10", "--ttft", "0.05", "--tokens", "12", "--rate", "200", "--hold", "4",
        "--warmup", "2", "--relay-n", "10", "--relay-profile", "tokens=40,ttft=0.05",
        "--burst", "10", "--startup-designs", "qianshi", "--out", str(out),
        "--hold-levels", "10", "--hold-designs", "qianshi,bare", "--workers-n", "10",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=540, check=False)
    assert done.returncode == 0, done.stderr[-4000:]

    summary = json.loads(done.stdout)
    report = json.loads((out / "latest.json").read_text())
    assert summary["levels"] and summary["targets"]
    assert report["settings"]["ns"] == [10]
    assert (out / "gaps.png").stat().st_size > 0
    assert [p for p in report["plots"] if not (out / p).exists()] == []
    assert len(list(out.glob("report-*.json"))) == 1

    levels = {level["design"]: level for level in report["levels"] if "level" not in level}
    relays = {"qianshi-relay", "qianshi-each-token-relay", "qianshi-interval-8-relay"}
    assert set(levels) == DESIGNS | relays
    for design in DESIGNS:
        level = levels[design]
        assert level["n"] == 10
        assert level["streams"] == 10
        assert level["failed_at_open"] == 0
        assert set(level["gap_s"]) == {"n", "p50", "p99", "max"}
        assert level["gap_s"]["n"] > 0
        assert level["first_event_ms"]["n"] == 10
        assert isinstance(level["silent_streams"], int)
        for key in ("server_cpu_us_per_stream_s", "server_kib_per_open_stream", "loop_lag_p99_ms"):
            assert key in level["costs"]
    ours = levels["qianshi"]
    assert ours["outcomes"].get("result") == 10
    assert ours["relay"]["all_ms"]["n"] > 0 and ours["relay"]["unmatched"] == 0
    assert ours["eta"]["tasks"] == 10 and ours["eta"]["median_abs_error_s"] is not None
    assert ours["poem_ms"]["n"] == 10
    assert set(report["ratios"]["10"]) == {"qianshi_over_naive_gap_p99", "qianshi_over_threadpool_gap_p99"}
    for name in relays:
        relay = levels[name]["relay"]
        assert "server_cpu_us_per_delta" in relay and "window_s" in relay, name
    assert {t["target"] for t in report["targets"]} >= {"gap p99 (s)", "server CPU per delta (µs)"}

    bursts = {lv["design"]: lv for lv in report["levels"] if lv.get("level") == "burst"}
    assert set(bursts) == DESIGNS | {"old-engine", "bare"}
    for design, level in bursts.items():
        assert level["errors"] == 0 and level["outcomes"] == {"result": 10}, design
        assert {"poem", "passages", "result"} <= set(level["time_to_ms"])
        assert level["time_to_ms"]["result"]["n"] == 10
        assert level["costs"]["server_cpu_ms_per_task"] >= 0, design  # /proc counts 10 ms ticks
    assert bursts["old-engine"]["costs"]["server_children_cpu_s"] > 0  # its search worker: ~60 ms a search
    [solo] = [lv for lv in report["levels"] if lv.get("level") == "solo"]
    assert solo["in_server_ms"]["poem_and_passages"]["n"] == solo["n"]
    [start] = report["startup"]
    assert start["design"] == "qianshi" and start["first_build_s"] > 0 and start["existing_index_s"] > 0
    assert (out / "burst.png").exists() and len(summary["burst"]) == 6
    assert {"burst result p99 (ms)", "start to SERVING, existing index (s)"} <= {
        t["target"] for t in report["targets"]
    }

    held = {lv["design"]: lv for lv in report["levels"] if lv.get("level") in ("hold", "workers")}
    assert set(held) == {"qianshi", "bare", "qianshi --workers 2 (redis)"}
    for design, level in held.items():
        assert level["failed_at_open"] == 0 and level["memory"]["open_streams_at_sample"] == 10, design
        assert level["memory"]["server_kib_per_open_stream"] is not None, design
    assert len(summary["hold"]) == 3
    goals = {t["target"] for t in report["targets"] if t.get("issue") == 20}
    assert {"burst result p99 <= naive's (ms)", "memory per open stream (KiB)"} <= goals
    assert any(g.startswith("workers 2 + redis: gap p99") for g in goals)
    assert "relay: server CPU per engine token (µs)" in goals


@pytest.mark.timeout(300)
def test_held_memory_reports_every_design(tmp_path: Path) -> None:
    out = tmp_path / "held.json"
    command = [
        sys.executable, "-m", "bench.held_memory", "--n", "10", "--moments", "1,2", "--at", "1",
        "--designs", "qianshi-objects,bare", "--out", str(out), "--state", str(tmp_path / "state"),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(out.read_text())
    designs = {d["design"]: d for d in report["designs"]}
    assert set(designs) == {"qianshi-objects", "bare"}
    for name, design in designs.items():
        assert design["failed"] == 0, name
        assert [s["s"] for s in design["samples"]] == [1.0, 2.0]
        allocators = design["allocators_at_1s_per_stream"]
        assert allocators["python_blocks"] > 0 and allocators["malloc_in_use"] > 0, name
    assert designs["qianshi-objects"]["samples"][-1]["events_per_stream"] >= 1
