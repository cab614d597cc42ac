"""The report's verdicts: ratios between the designs, the issue's targets, and the printed summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bench.burst_rows import burst_rows

Level = dict[str, Any]


def _find(levels: Sequence[Level], design: str, n: int, kind: str | None = None) -> Level | None:
    """The sweep level (``kind`` None) or the burst / solo level of ``design`` at ``n``."""
    return next(
        (lv for lv in levels if lv["design"] == design and lv["n"] == n and lv.get("level") == kind), None
    )


def ratios(levels: Sequence[Level]) -> dict[str, dict[str, float | None]]:
    """Per N: Qianshi's gap p99 over each baseline's (a baseline's silence is cut at the window's
    end, so with the window longer than the baseline's blocking work these are upper bounds)."""
    out: dict[str, dict[str, float | None]] = {}
    for ours in (lv for lv in levels if lv["design"] == "qianshi" and "level" not in lv):
        row: dict[str, float | None] = {}
        for design in ("naive", "threadpool"):
            other = _find(levels, design, ours["n"])
            if other is None:
                continue
            theirs = other["gap_s"]["p99"]
            row[f"qianshi_over_{design}_gap_p99"] = (
                round(ours["gap_s"]["p99"] / theirs, 4)
                if theirs and ours["gap_s"]["p99"] is not None
                else None
            )
        out[str(ours["n"])] = row
    return out


def _check(
    levels: Sequence[Level], n: int, name: str, limit: float, get: Callable[[Level], float | None]
) -> dict[str, Any]:
    level = _find(levels, "qianshi", n)
    value = None if level is None else get(level)
    return {
        "target": name,
        "n": n,
        "limit": limit,
        "value": value,
        "met": None if value is None else value <= limit,
    }


def _burst_checks(levels: Sequence[Level], startups: Sequence[Level], tick_s: float) -> list[dict[str, Any]]:
    """Issue 12's targets: the 1,000-stream burst, poem + passages alone, start-up times."""
    checks = []
    ours = [lv for lv in levels if lv["design"] == "qianshi" and lv.get("level") == "burst"]
    burst = max(ours, key=lambda lv: lv["n"], default=None)  # the issue's level is N = 1,000
    if burst is not None:
        for name, limit, value in (
            ("burst result p99 (ms)", 5000.0, burst["time_to_ms"]["result"]["p99"]),
            ("burst first event p99 (ms)", 100.0, burst["first_event_ms"]["p99"]),
            ("burst longest silence (s)", round(1.25 * tick_s, 3), burst["longest_silence_s"]),
            ("burst errors", 0, burst["errors"]),
            ("burst server CPU per task (ms)", 4.0, burst["costs"]["server_cpu_ms_per_task"]),
        ):
            checks.append(_verdict(name, burst["n"], limit, value))
    solo = next((lv for lv in levels if lv.get("level") == "solo"), None)
    if solo is not None:
        value = solo["in_server_ms"]["poem_and_passages"]["p99"]
        checks.append(_verdict("poem + passages in the server, one stream, p99 (ms)", 1, 2.0, value))
    for start in (s for s in startups if s["design"] == "qianshi"):
        checks.append(_verdict("start to SERVING, first build (s)", 1, 5.0, start["first_build_s"]))
        checks.append(_verdict("start to SERVING, existing index (s)", 1, 2.0, start["existing_index_s"]))
    return checks


def _verdict(name: str, n: int, limit: float, value: float | None) -> dict[str, Any]:
    return {
        "target": name,
        "n": n,
        "limit": limit,
        "value": value,
        "met": None if value is None else value <= limit,
    }


def targets(
    levels: Sequence[Level], startups: Sequence[Level] = (), tick_s: float = 0.8
) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it was met (None: not measured)."""
    checks = [
        _check(levels, 1000, "gap p99 (s)", 0.84, lambda lv: lv["gap_s"]["p99"]),
        _check(levels, 1000, "gap max (s)", 1.2, lambda lv: lv["gap_s"]["max"]),
        _check(levels, 1000, "silent streams", 0, lambda lv: lv["silent_streams"]),
        _check(levels, 1000, "first event p99 (ms)", 10.0, lambda lv: lv["first_event_ms"]["p99"]),
        _check(levels, 1000, "poem p99 (ms)", 50.0, lambda lv: lv["poem_ms"]["p99"]),
        _check(levels, 10000, "gap p99 (s)", 1.0, lambda lv: lv["gap_s"]["p99"]),
    ]
    relay = next((lv for lv in levels if lv["design"] == "qianshi-relay"), None)
    if relay is not None:
        figures = relay["relay"]
        for name, limit, value in (
            ("relay p99, clause-flushed deltas (ms)", 5.0, (figures.get("clause_ms") or {}).get("p99")),
            ("relay p99, all deltas (ms)", 5.0, (figures.get("all_ms") or {}).get("p99")),
            ("server CPU per delta (µs)", 30.0, figures.get("server_cpu_us_per_delta")),
        ):
            met = None if value is None else value <= limit
            checks.append({"target": name, "n": relay["n"], "limit": limit, "value": value, "met": met})
    for lv in (lv for lv in levels if lv["design"] == "qianshi" and lv["n"] >= 1000 and "level" not in lv):
        check = _check(
            levels, lv["n"], "server memory per open stream (KiB)", 30.0,
            lambda x: x["costs"]["server_kib_per_open_stream"],
        )  # fmt: skip
        if lv["silent_streams"]:  # streams still queued in gRPC, not yet tasks: not the same measure
            check["target"] += " (server overloaded: not comparable)"
            check["met"] = None
        checks.append(check)
    for n, row in ratios(levels).items():
        if int(n) >= 100 and "qianshi_over_naive_gap_p99" in row:
            value = row["qianshi_over_naive_gap_p99"]
            checks.append(
                {
                    "target": "gap p99 Qianshi / naive",
                    "n": int(n),
                    "limit": 0.05,
                    "value": value,
                    "met": None if value is None else value <= 0.05,
                }
            )
    return checks + _burst_checks(levels, startups, tick_s)


def _verdict_line(t: dict[str, Any]) -> str:
    if t["limit"] is None and t["value"] is not None:
        return f"INFO N={t['n']:>6,} {t['target']}: {t['value']}"
    mark = "MET " if t["met"] else "MISS" if t["met"] is False else "n/a "
    issue = f"[issue {t['issue']}] " if "issue" in t else ""
    against = f"; {t['against']}" if "against" in t else ""
    return f"{mark} N={t['n']:>6,} {issue}{t['target']}: {t['value']} (limit {t['limit']}{against})"


def hold_rows(levels: Sequence[Level]) -> list[dict[str, Any]]:
    """The summary's rows of the hold and --workers levels (hold.py)."""
    return [
        {
            "level": lv["level"],
            "design": lv["design"],
            "n": lv["n"],
            "kib_per_open_stream": lv["memory"]["server_kib_per_open_stream"],
            "growth_bytes_per_stream_s_held": lv["memory"].get("growth_bytes_per_stream_s_held"),
            "cpu_us_per_stream_s_held": lv["costs"]["server_cpu_us_per_stream_s_held"],
            "gap_s": [lv["gap_s"]["p50"], lv["gap_s"]["p99"], lv["gap_s"]["max"]],
            "silent": lv["silent_streams"],
            "failed_at_open": lv["failed_at_open"],
            "first_ms": [lv["first_event_ms"]["p50"], lv["first_event_ms"]["p99"]],
            "loop_lag_p99_ms": lv["costs"].get("loop_lag_p99_ms"),
            "other_cpu_share": lv["costs"]["other_cpu_share"],
        }
        for lv in levels
        if lv.get("level") in ("hold", "workers")
    ]


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The printed summary: the headline figures per design and N, the ratios and the targets."""
    rows = []
    for lv in report["levels"]:
        if "level" in lv:
            continue
        costs = lv["costs"]
        row = {
            "design": lv["design"],
            "n": lv["n"],
            "gap_s": [lv["gap_s"]["p50"], lv["gap_s"]["p99"], lv["gap_s"]["max"]],
            "silent": lv["silent_streams"],
            "failed": lv["failed_at_open"],
            "first_ms": [lv["first_event_ms"]["p50"], lv["first_event_ms"]["p99"]],
            "poem_ms": [lv["poem_ms"]["p50"], lv["poem_ms"]["p99"]],
            "cpu_us_per_stream_s": costs["server_cpu_us_per_stream_s"],
            "kib_per_stream": costs["server_kib_per_open_stream"],
            "loop_lag_p99_ms": costs["loop_lag_p99_ms"],
            "bench_cpu_share": costs["bench_cpu_share"],
            "other_cpu_share": costs["other_cpu_share"],
        }
        relay = lv.get("relay") or {}
        if "clause_ms" in relay:
            row["relay_clause_ms"] = [relay["clause_ms"]["p50"], relay["clause_ms"]["p99"]]
            row["relay_all_ms"] = [relay["all_ms"]["p50"], relay["all_ms"]["p99"]]
        if lv["design"].endswith("-relay"):
            row["relay_window_s"] = relay.get("window_s")
            row["generating_streams_min"] = relay.get("generating_streams_min")
            row["cpu_us_per_delta"] = relay.get("server_cpu_us_per_delta")
            row["cpu_us_per_token"] = relay.get("server_cpu_us_per_token")
        elif "eta" in lv:
            row["cpu_us_per_delta"] = costs["server_cpu_us_per_delta"]
            row["eta_median_abs_error_s"] = lv["eta"]["median_abs_error_s"]
        rows.append(row)
    return {
        "command": report["command"],
        "duration_s": report["duration_s"],
        "levels": rows,
        "burst": burst_rows(report["levels"]),
        "startup": report.get("startup", []),
        "ratios": report["ratios"],
        "targets": [_verdict_line(t) for t in report["targets"]],
        "hold": hold_rows(report["levels"]),
    }
