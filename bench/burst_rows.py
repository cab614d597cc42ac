"""The summary's rows of the burst and solo levels (burst.py)."""

from __future__ import annotations

from typing import Any


def burst_rows(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary's rows of the burst and solo levels."""
    rows = []
    for lv in levels:
        if lv.get("level") not in ("burst", "solo"):
            continue
        t = lv["time_to_ms"]
        rows.append(
            {
                "level": lv["level"],
                "design": lv["design"],
                "n": lv["n"],
                "first_event_ms_p50_p99": [lv["first_event_ms"]["p50"], lv["first_event_ms"]["p99"]],
                "poem_ms_p50_p99": [t["poem"]["p50"], t["poem"]["p99"]],
                "passages_ms_p50_p99": [t["passages"]["p50"], t["passages"]["p99"]],
                "result_ms_p50_p99": [t["result"]["p50"], t["result"]["p99"]],
                "in_server_poem_passages_ms_p50_p99": [
                    lv["in_server_ms"]["poem_and_passages"]["p50"],
                    lv["in_server_ms"]["poem_and_passages"]["p99"],
                ],
                "longest_silence_s": lv["longest_silence_s"],
                "errors": lv["errors"],
                "server_cpu_ms_per_task": lv["costs"]["server_cpu_ms_per_task"],
                "loop_lag_p99_ms": lv["costs"].get("loop_lag_p99_ms"),
                "eta_median_abs_error_s": (lv.get("eta") or {}).get("median_abs_error_s"),
                "other_cpu_share": lv["costs"]["other_cpu_share"],
                "rounds": len(lv.get("rounds", [])) or 1,
            }
        )
    return rows
