"""The relay level: N Qianshi streams all receiving long answers at once, in turn for each variant.

Relay latency (engine to caller) and server CPU per delta and per engine token are measured only in
the window in which 90 % of the streams are receiving text (no ticks then, nothing else to do).
"""

from __future__ import annotations

from typing import Any

from bench import analysis, costs
from bench.procs import Proc
from bench.run import Settings, _head, drive

RELAY_VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "qianshi": ("qianshi", ()),
    "qianshi-each-token": ("qianshi", ("--llm-stream-interval", "1")),
    "qianshi-interval-8": ("qianshi", ("--llm-stream-interval", "8")),
    "before": ("before", ()),
}
"""The relay level's designs: Qianshi as configured by default (vLLM's stream_interval 4: the engine
sends four tokens a chunk), Qianshi asking for every token in a chunk of its own (as before) and for
eight a chunk, and the code before."""


def run_relay(
    settings: Settings, standin: Proc, n: int, level: int, design: str = "qianshi"
) -> dict[str, Any]:
    """``n`` Qianshi streams with long answers; relay latency and server CPU per delta are measured
    in the window in which 90 % of them are receiving text (no ticks then, nothing else to do)."""
    server, flags = RELAY_VARIANTS[design]
    extra = ("--llm-model", f"standin:{settings.relay_profile}", "--max-generations", str(max(n, 64)), *flags)
    d = drive(settings, standin, server, n, level, extra, tag=f"relay-{design}")
    figures = _head(d, settings)
    figures["design"] = f"{design}-relay"
    figures["standin_profile"] = settings.relay_profile
    window = analysis.generation_window(d.streams)
    relay: dict[str, Any] = {
        "window_s": None,
        "generating_streams_min": 0,
        "peak_generating_streams": analysis.peak_generating(d.streams),
        "server_cpu_us_per_delta": None,
        "server_cpu_us_per_token": None,
    }
    if window is not None:
        start, end = window
        deltas, tokens = analysis.deltas_between(d.streams, start, end)
        cpu = costs.server_cpu_between(d.sampler, start, end)
        relay = {
            "window_s": round(end - start, 2),
            "generating_streams_min": min(analysis.generating_at(d.streams, t) for t in (start, end)),
            "peak_generating_streams": analysis.peak_generating(d.streams),
            "deltas": deltas,
            "engine_tokens": tokens,
            "server_cpu_s": round(cpu, 3),
            "server_cpu_us_per_delta": round(cpu * 1e6 / deltas, 1) if deltas else None,
            "server_cpu_us_per_token": round(cpu * 1e6 / tokens, 1) if tokens else None,
            **analysis.relay(d.streams, costs.timelines(settings.standin_url, d.streams), start, end),
        }
    figures["relay"] = relay
    figures["costs"] = costs.costs(d.sampler, d.streams, d.t0, d.t_end, d.t0 + d.ramp_s + 0.5, d.clients)
    figures["costs"]["loop_lag_p99_ms"] = costs.lag_p99_ms(*d.lag)
    figures["costs"]["loop_lag_source"] = "server metric qianshi_event_loop_lag_seconds (bucketed)"
    return figures


def variants(before: bool) -> list[str]:
    """The relay level's designs in this run (``before`` only with a ``--before`` checkout)."""
    return [name for name in RELAY_VARIANTS if name != "before" or before]
