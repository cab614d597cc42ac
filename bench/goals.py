"""Issue 20's goals, each one line of the report (MET / MISS), against the baselines of the same run.

Faster to the answer than the naive design under a burst, at half the memory per stream:

- the 1,000-stream burst: result p99 ≤ the naive design's (moonshot: ≤ 2 × grpc.aio alone's), poem
  p99 ≤ 300 ms, first event p99 ≤ grpc.aio alone's, longest silence ≤ 1.0 s, no errors;
- memory per open stream (the hold levels) ≤ 30 KiB at 1,000 and at 10,000 streams (moonshot: ≤ the
  naive design's at 1,000);
- 10,000 streams on ``--workers 2`` with the Redis log: gap p99 ≤ 1.05 × tick, no silent stream;
  memory and CPU per stream are reported beside it;
- the relay: ≤ 40 µs of server CPU per engine token at 100 streams (the stand-in).

The real-vLLM goal (≥ 95 % of direct tokens/s at 8 streams) is a line of ``python -m bench vllm``'s
report (vllm_summary.py). A goal whose levels did not run reads ``n/a``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Level = dict[str, Any]
BURST_N = 1000


def _level(levels: Sequence[Level], design: str, n: int, kind: str) -> Level | None:
    return next(
        (lv for lv in levels if lv["design"] == design and lv["n"] == n and lv.get("level") == kind), None
    )


def _line(target: str, n: int, value: float | None, limit: float | None, against: str = "") -> dict[str, Any]:
    met = None if value is None or limit is None else value <= limit
    out = {"target": target, "n": n, "limit": limit, "value": value, "met": met, "issue": 20}
    if against:
        out["against"] = against
    return out


def _p99(level: Level | None, *path: str) -> float | None:
    value: Any = level
    for key in path:
        if value is None:
            return None
        value = value.get(key)
    return None if value is None else float(value)


def burst_goals(levels: Sequence[Level]) -> list[dict[str, Any]]:
    ours = _level(levels, "qianshi", BURST_N, "burst")
    naive = _level(levels, "naive", BURST_N, "burst")
    bare = _level(levels, "bare", BURST_N, "burst")
    result = _p99(ours, "time_to_ms", "result", "p99")
    naive_result = _p99(naive, "time_to_ms", "result", "p99")
    bare_result = _p99(bare, "time_to_ms", "result", "p99")
    return [
        _line("burst result p99 <= naive's (ms)", BURST_N, result, naive_result, "naive, same run"),
        _line(
            "burst result p99 <= 2 x grpc.aio alone's (ms, moonshot)",
            BURST_N,
            result,
            None if bare_result is None else 2 * bare_result,
            "bare, same run",
        ),
        _line("burst poem p99 (ms)", BURST_N, _p99(ours, "time_to_ms", "poem", "p99"), 300.0),
        _line(
            "burst first event p99 <= grpc.aio alone's (ms)",
            BURST_N,
            _p99(ours, "first_event_ms", "p99"),
            _p99(bare, "first_event_ms", "p99"),
            "bare, same run",
        ),
        _line("burst longest silence (s)", BURST_N, _p99(ours, "longest_silence_s"), 1.0),
        _line("burst errors", BURST_N, _p99(ours, "errors"), 0),
    ]


def memory_goals(levels: Sequence[Level]) -> list[dict[str, Any]]:
    lines = []
    for lv in (x for x in levels if x["design"] == "qianshi" and x.get("level") == "hold"):
        value = lv["memory"]["server_kib_per_open_stream"]
        lines.append(_line("memory per open stream (KiB)", lv["n"], value, 30.0))
        naive = _level(levels, "naive", lv["n"], "hold")
        if lv["n"] == BURST_N and naive is not None:
            limit = naive["memory"]["server_kib_per_open_stream"]
            lines.append(_line("memory per open stream <= naive's (KiB, moonshot)", lv["n"], value, limit))
    return lines


def workers_goals(levels: Sequence[Level], tick_s: float) -> list[dict[str, Any]]:
    lines = []
    for lv in (x for x in levels if x.get("level") == "workers"):
        n, tick = lv["n"], lv.get("tick_s", tick_s)
        lines.append(
            _line(
                f"workers 2 + redis: gap p99 (s; tick {tick} s)", n, lv["gap_s"]["p99"], round(1.05 * tick, 3)
            )
        )
        lines.append(_line("workers 2 + redis: silent streams", n, lv["silent_streams"], 0))
        failed = lv.get("failed_at_open", 0)
        lines.append(_line("workers 2 + redis: streams failed at open", n, failed, 0))
        info = _line("workers 2 + redis: memory per open stream (KiB, reported)", n, None, None)
        info["value"] = lv["memory"]["server_kib_per_open_stream"]
        lines.append(info)
        info = _line("workers 2 + redis: server CPU per stream-second (µs, reported)", n, None, None)
        info["value"] = lv["costs"]["server_cpu_us_per_stream_s_held"]
        lines.append(info)
    return lines


def relay_goals(levels: Sequence[Level]) -> list[dict[str, Any]]:
    relay = next((lv for lv in levels if lv["design"] == "qianshi-relay"), None)
    if relay is None:
        return []
    value = relay["relay"].get("server_cpu_us_per_token")
    line = _line("relay: server CPU per engine token (µs)", relay["n"], value, 40.0)
    before = next((lv for lv in levels if lv["design"] == "before-relay"), None)
    if before is not None:
        line["against"] = f"before: {before['relay'].get('server_cpu_us_per_token')} µs, same run"
    return [line]


def goals(levels: Sequence[Level], tick_s: float) -> list[dict[str, Any]]:
    """Every issue-20 line that the run's levels can answer."""
    return [
        *burst_goals(levels),
        *memory_goals(levels),
        *workers_goals(levels, tick_s),
        *relay_goals(levels),
    ]
