"""The figures of ``python -m bench vllm`` (bench/vllm_bench.py): per design and stream count, medians over
the rounds, TTFT quantiles over every stream, the paired ratios to direct, and the issue's targets."""

from __future__ import annotations

import statistics
from typing import Any

from bench import analysis


def summarize(runs: list[dict[str, Any]], designs: list[str], streams: list[int]) -> dict[str, Any]:
    """Per design and stream count: medians over the rounds, TTFT quantiles over every stream, and the
    ratios to direct (paired: the same requests in the same round)."""
    out: dict[str, Any] = {}
    for n in streams:
        base = {r["round"]: r for r in runs if r["design"] == "direct" and r["streams"] == n}
        for design in designs:
            mine = [r for r in runs if r["design"] == design and r["streams"] == n]
            ttft = [t for r in mine for t in r["ttft_s"].values()]
            overhead = [
                t - base[r["round"]]["ttft_s"][s]
                for r in mine
                if r["round"] in base
                for s, t in r["ttft_s"].items()
                if s in base[r["round"]]["ttft_s"]
            ]
            ratio = [
                r["tokens_per_s"] / base[r["round"]]["tokens_per_s"]
                for r in mine
                if base.get(r["round"], {}).get("tokens_per_s")
            ]
            out[f"{design}@{n}"] = {
                "design": design,
                "streams": n,
                "rounds": len(mine),
                "failed": sum(r["failed"] for r in mine),
                "ttft_ms": dist(ttft, 1000),
                "ttft_overhead_ms": dist(overhead, 1000) if design != "direct" else None,
                "ttft_from_open_ms": dist([t for r in mine for t in r["ttft_from_open_s"]], 1000),
                "tokens_per_s": median([r["tokens_per_s"] for r in mine]),
                "tokens_per_s_ratio_to_direct": round(statistics.median(ratio), 3) if ratio else None,
                "server_cpu_us_per_token": median([r["server_cpu_us_per_token"] for r in mine]),
                "vllm_cpu_us_per_token": median([r["vllm_cpu_us_per_token"] for r in mine]),
                "loop_lag_p99_ms": median([r["loop_lag_p99_ms"] for r in mine]),
                "max_gap_s": max((r["max_gap_s"] for r in mine), default=None),
            }
    return out


def targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for key, row in summary.items():
        if row["design"] != "qianshi":
            continue
        overhead = (row["ttft_overhead_ms"] or {}).get("p50")
        checks.append(
            {
                "target": f"TTFT overhead p50 <= 10 ms ({key})",
                "value_ms": overhead,
                "met": overhead is not None and overhead <= 10,
            }
        )
        if row["streams"] == 8:
            ratio = row["tokens_per_s_ratio_to_direct"]
            checks.append(
                {
                    "target": "tokens/s through Qianshi >= 95 % of direct at 8 streams",
                    "value": ratio,
                    "met": ratio is not None and ratio >= 0.95,
                }
            )
        cpu = row["server_cpu_us_per_token"]
        checks.append(
            {
                "target": f"server CPU per engine token <= 60 us ({key})",
                "value_us": cpu,
                "met": cpu is not None and cpu <= 60,
            }
        )
    return checks


def dist(values: list[float], scale: float) -> dict[str, Any]:
    return analysis.dist(values, scale, digits=2) if values else {"n": 0}


def median(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def max_bucket(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> float | None:
    """An upper bound of the largest loop lag between two scrapes: the lowest bucket holding every
    sample taken meanwhile (None: no sample, or beyond the largest bucket)."""
    start = dict(before)
    grown = [(le, count - start.get(le, 0.0)) for le, count in after]
    total = grown[-1][1] if grown else 0.0
    bound = next((le for le, count in grown if count >= total), None) if total else None
    return bound if bound is not None and bound != float("inf") else None
