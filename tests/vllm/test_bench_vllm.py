"""A smoke run of ``python -m bench vllm`` against the session's vLLM, so the benchmark cannot rot: it
checks the report's structure and that every stream got its text, never the speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.vllm_cpu.procs import VLLMServer

pytestmark = [pytest.mark.vllm, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]


def test_the_vllm_benchmark_writes_a_complete_report(
    vllm_server: VLLMServer, vllm_venv: Path, tmp_path: Path
):
    out = tmp_path / "results"
    command = [
        sys.executable, "-m", "bench", "vllm", "--vllm-url", vllm_server.url,
        "--streams", "1,2", "--tokens", "24", "--rounds", "1", "--relay-rounds", "1", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "QIANSHI_VLLM_VENV": str(vllm_venv)}
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=840, check=False, env=env
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads((out / "vllm-latest.json").read_text())
    assert set(report["summary"]) == {
        f"{d}@{n}" for d in ("direct", "qianshi", "qianshi-sdk") for n in (1, 2)
    }
    assert all(row["failed"] == 0 for row in report["summary"].values())
    assert all(run["tokens"] == 24 * run["streams"] for run in report["runs"])
    assert [w["wave"] for w in report["warmup"]["waves"]] == [1, 2]
    assert set(report["relay_alone"]["1"]["cpu_us_per_chunk"]) == {"lean", "lean-orjson", "sdk"}
    assert report["targets"] and (out / "vllm.png").stat().st_size > 0
    assert json.loads(done.stdout)["summary"] == report["summary"]
