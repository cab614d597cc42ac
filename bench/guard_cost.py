"""The guard's CPU per delta: texts replayed through ``TextGuard`` in pieces the size of a model's deltas.

    python -m bench.guard_cost [--texts bench/readings/readings-after-qianshi-interpret-v2.jsonl]

A model streams a token at a time: 3–4 characters of English, 1–2 of Chinese. Each text is cut into
pieces of those sizes and fed to a fresh guard for its slip, timing every ``feed`` (and the closing
``finish``) with ``perf_counter_ns``; the guard converts Chinese with OpenCC inside ``feed``, so its cost
is included. Without ``--texts``, the grounded readings of every shipped poem for a few questions in
each locale stand in for a model's (the same lengths and scripts). Prints p50 / p99 / mean µs per delta
by locale, with the share of deltas that released text.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from qianshi.server.backends.generation.grounded.generator import compose_chunks
from qianshi.server.backends.generation.guard.generator import quotes
from qianshi.server.backends.generation.guard.text import TextGuard
from qianshi.server.writing import GenerationRequest, reading_of

from bench.grounded_text import requests

PIECE = {"en": 4, "zh-Hant": 2, "zh-Hans": 2}
SAMPLE_QUESTIONS = (
    ("en", "Will my mother recover from her surgery?"),
    ("en", "Should I move to Taipei or stay in Tainan?"),
    ("zh-Hant", "我今年換工作會順利嗎？"),
    ("zh-Hant", "官司要和解還是繼續打？"),
)


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _time(request: GenerationRequest, text: str) -> tuple[list[float], int]:
    reading = reading_of(request)
    guard = TextGuard(request.locale, reading, quotes(request), "fallback")
    spent: list[float] = []
    released = 0
    for piece in pieces(text, PIECE.get(request.locale, 2)):
        t0 = time.perf_counter_ns()
        out = guard.feed(piece)
        spent.append((time.perf_counter_ns() - t0) / 1000)
        released += bool(out)
        if guard.stopped:
            break
    t0 = time.perf_counter_ns()
    guard.finish()
    guard.report(reading.response.answer)
    spent.append((time.perf_counter_ns() - t0) / 1000)
    return spent, released


def measure(cases: Iterable[tuple[GenerationRequest, str]]) -> dict[str, Any]:
    by_locale: dict[str, list[float]] = {}
    released: dict[str, int] = {}
    for request, text in cases:
        spent, out = _time(request, text)
        by_locale.setdefault(request.locale, []).extend(spent)
        released[request.locale] = released.get(request.locale, 0) + out
    report: dict[str, Any] = {}
    for locale, spent in sorted(by_locale.items()):
        spent.sort()
        report[locale] = {
            "deltas": len(spent),
            "p50_us": round(statistics.median(spent), 2),
            "p99_us": round(spent[int(0.99 * (len(spent) - 1))], 2),
            "mean_us": round(statistics.fmean(spent), 2),
            "released_share": round(released[locale] / len(spent), 3),
        }
    return report


def replay(readings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The guard's cost on the texts of ``bench readings`` (each reading's own slip and question)."""
    found = {(r.poem.set_id, r.poem.number, r.question, r.locale): r for r in _requests(readings)}
    cases = [
        (found[(r["set_id"], r["number"], r["question"], r["locale"])], r["text"])
        for r in readings
        if (r["set_id"], r["number"], r["question"], r["locale"]) in found
    ]
    return measure(cases)


def _requests(readings: Sequence[dict[str, Any]]) -> list[GenerationRequest]:
    asked = sorted({(r["locale"], r["question"]) for r in readings})
    wanted = {(r["set_id"], r["number"], r["question"], r["locale"]) for r in readings}
    out = []
    for req in requests(asked):
        key = (req.poem.set_id, req.poem.number, req.question, req.locale)
        if key in wanted:
            out.append(req)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.guard_cost", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--texts", default="", help="a readings-*.jsonl of bench readings (default: grounded texts)"
    )
    args = p.parse_args(argv)
    if args.texts:
        readings = [
            json.loads(line) for line in Path(args.texts).read_text(encoding="utf-8").splitlines() if line
        ]
        report = replay([r for r in readings if r.get("text")])
    else:
        reqs = [replace(r, max_tokens=512) for r in requests(SAMPLE_QUESTIONS)]
        report = measure((r, "".join(compose_chunks(r))) for r in reqs)
    json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
