"""Learned estimates: expected stage durations, output lengths, token rates — and their error.

Each estimate is an exponentially weighted mean (and mean absolute deviation) keyed by what it
measures and the backend or model it was measured on ("retrieval/embedded",
"generation/openai/Qwen2-7B/tokens" …). They start from priors, learn from every finished task, and
persist as JSON in the state directory so a restarted server estimates as well as the one before it.
The error of each prediction against what actually happened is tracked the same way ("…/error"), so
the quality of the ETA is measured, not assumed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ALPHA = 0.2
"""Weight of the newest observation; ~10 tasks to forget an old regime."""

PRIORS: dict[str, float] = {
    "retrieval": 0.15,
    "generation/ttft": 0.5,
    "generation/tokens": 300.0,
    "generation/rate": 40.0,
    "generation/duration": 6.0,
}
"""Starting points before anything was learned, by the estimate's family (its key up to the backend)."""


@dataclass(slots=True)
class Estimate:
    mean: float
    deviation: float
    count: int

    def observe(self, value: float) -> None:
        if self.count == 0:
            self.mean, self.deviation = value, abs(value) * 0.25
        else:
            self.deviation += ALPHA * (abs(value - self.mean) - self.deviation)
            self.mean += ALPHA * (value - self.mean)
        self.count += 1


class Estimates:
    """A small persistent table of learned estimates. Safe to call from the event loop."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._table: dict[str, Estimate] = {}
        self._dirty = False
        self._lock = threading.Lock()
        if path is not None and path.exists():
            self._load(path)

    def expected(self, key: str, family: str) -> float:
        """The learned mean for ``key``, or the prior of its ``family`` before anything was learned."""
        found = self._table.get(key)
        if found is not None and found.count:
            return found.mean
        return PRIORS[family]

    def learned(self, key: str) -> Estimate | None:
        found = self._table.get(key)
        return found if found is not None and found.count else None

    def observe(self, key: str, value: float, *, predicted: float | None = None) -> None:
        """Learn ``value`` for ``key``; with ``predicted``, also learn the prediction's error."""
        if not math.isfinite(value) or value < 0:
            return
        self._table.setdefault(key, Estimate(0.0, 0.0, 0)).observe(value)
        if predicted is not None:
            self._table.setdefault(f"{key}/error", Estimate(0.0, 0.0, 0)).observe(abs(value - predicted))
        self._dirty = True

    def snapshot(self) -> dict[str, dict[str, float]]:
        return {
            k: {"mean": e.mean, "deviation": e.deviation, "count": e.count} for k, e in self._table.items()
        }

    def save(self) -> None:
        """Write the table atomically (blocking: call it from a worker thread under load)."""
        if self._path is None or not self._dirty:
            return
        with self._lock:
            data = json.dumps({"version": 1, "estimates": self.snapshot()}, ensure_ascii=False, indent=1)
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".estimates-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
            os.replace(tmp, self._path)
            self._dirty = False

    def _load(self, path: Path) -> None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            for key, e in raw["estimates"].items():
                self._table[key] = Estimate(float(e["mean"]), float(e["deviation"]), int(e["count"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A damaged file must not stop the server: the priors are a safe start.
            log.warning("ignoring unreadable estimates file %s: %s", path, type(exc).__name__)
