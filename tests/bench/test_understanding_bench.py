"""A smoke run of ``python -m bench.understanding`` so it cannot rot: the report's structure, never
its speed (timings are the benchmark's, not pass/fail)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_measure_reports_accuracy_per_kind_and_cost_per_question(tmp_path: Path) -> None:
    out = tmp_path / "understanding.json"
    command = [sys.executable, "-m", "bench.understanding", "--repeat", "1", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report == json.loads(done.stdout)
    assert report["everyday"]["questions"] >= 400
    for name in ("vernacular_questions", "vernacular_fresh"):
        accuracy = report[name]["accuracy"]
        assert {"all", "mazu60", "guanyin100", "cantonese", "taiwanese", "two-worries"} <= set(accuracy)
        assert report[name]["secondary"]["questions"] >= 8
    assert {"resolve", "reading_topic", "per_request"} <= set(report["us_per_question"])
