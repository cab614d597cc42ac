"""The house checks run with the tests: ruff (lint and format) and mypy over the project's code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ["server", "client", "tests", "scripts", "bench"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint():
    result = run("ruff", "check", *CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = run("ruff", "format", "--check", *CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy():
    result = run("mypy", "server", "client")
    assert result.returncode == 0, result.stdout + result.stderr
