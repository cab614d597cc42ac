"""From what the clients recorded to the report's figures (pure functions; see bench/README.md).

Definitions, all at the client, in wall-clock seconds of one machine:

- gap: the time between two consecutive receipts on a stream, counting the call's opening as the
  first "receipt" and, for a stream still open when the window closed, the window's end as the last
  one (that silence is real, only cut short). Streams refused at open (an RPC error before any
  event) are counted as ``failed`` and have no gaps.
- silent stream: one with a gap longer than 2 × the tick interval.
- first event / poem: receipt of the first event / of the ``poem`` event minus the call's opening.
- relay: receipt of a text delta minus the time the stand-in sent the newest token in it (its
  ``/standin/timeline``). ``clause`` deltas end in clause punctuation, so coalescing flushed them the
  moment that token arrived: their relay is the pipeline's added latency. ``window`` deltas were
  flushed by the 40 ms coalescing window, which held the newest token up to that long on purpose.
- ETA error: for each live event with an estimate, |eta − (receipt of the terminal event − receipt of
  this event)|, over the streams that ended with a result.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qianshi.server.pipeline.coalesce import CLAUSE_END

from bench.client import Stream

RECEIVED, SEQ, KIND, PERCENT, ETA, ELAPSED, SERVER_TIME, TEXT_END, LAST_CHAR, TOKENS = range(10)


def pct(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (nearest rank) of sorted ``values``; None when empty."""
    if not values:
        return None
    return values[min(max(math.ceil(q * len(values)) - 1, 0), len(values) - 1)]


def dist(values: Iterable[float], scale: float = 1.0, digits: int = 4) -> dict[str, Any]:
    """n / p50 / p99 / max of ``values`` × ``scale``."""
    ordered = sorted(v * scale for v in values)
    out: dict[str, Any] = {"n": len(ordered)}
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        value = pct(ordered, q)
        out[name] = None if value is None else round(value, digits)
    out["max"] = round(ordered[-1], digits) if ordered else None
    return out


def failed(stream: Stream) -> bool:
    return not stream.events and stream.outcome.startswith("rpc:")


def gaps_of(stream: Stream) -> list[float]:
    times = [stream.opened, *(e[RECEIVED] for e in stream.events)]
    if stream.outcome == "window":
        times.append(stream.ended)
    return [b - a for a, b in itertools.pairwise(times)]


def cadence(streams: Sequence[Stream], tick_s: float) -> tuple[dict[str, Any], list[float]]:
    """Gap distribution, silent streams, first-event and poem times; also every gap (for the plot)."""
    live = [s for s in streams if not failed(s)]
    all_gaps: list[float] = []
    silent = 0
    first: list[float] = []
    poem: list[float] = []
    for s in live:
        gaps = gaps_of(s)
        all_gaps.extend(gaps)
        silent += any(g > 2 * tick_s for g in gaps)
        if s.events:
            first.append(s.events[0][RECEIVED] - s.opened)
        poem.extend(e[RECEIVED] - s.opened for e in s.events if e[KIND] == "poem")
    outcomes: dict[str, int] = {}
    for s in streams:
        outcomes[s.outcome] = outcomes.get(s.outcome, 0) + 1
    figures = {
        "streams": len(streams),
        "failed_at_open": len(streams) - len(live),
        "retries_cancelled_at_open": sum(s.retries for s in streams),
        "outcomes": outcomes,
        "gap_s": dist(all_gaps),
        "silent_streams": silent,
        "silent_threshold_s": 2 * tick_s,
        "first_event_ms": dist(first, 1000, 2),
        "no_event": len(live) - len(first),
        "poem_ms": dist(poem, 1000, 2),
        "no_poem": len(live) - len(poem),
    }
    return figures, all_gaps


def relay(
    streams: Iterable[Stream],
    timelines: Mapping[int, Mapping[int, float]],
    start: float = 0.0,
    end: float = math.inf,
) -> dict[str, Any]:
    """Relay latency of the text deltas (received between ``start`` and ``end``) of the streams whose
    stand-in timeline is known."""
    clause: list[float] = []
    window: list[float] = []
    to_emit: list[float] = []
    unmatched = 0
    for s in streams:
        sent = timelines.get(s.seed)
        if sent is None:
            continue
        for e in s.events:
            if e[KIND] != "text_delta" or not start <= e[RECEIVED] <= end:
                continue
            at = sent.get(e[TEXT_END])
            if at is None:
                unmatched += 1
                continue
            (clause if e[LAST_CHAR] in CLAUSE_END else window).append(e[RECEIVED] - at)
            to_emit.append(e[SERVER_TIME] - at)
    return {
        "clause_ms": dist(clause, 1000, 2),
        "window_ms": dist(window, 1000, 2),
        "all_ms": dist(clause + window, 1000, 2),
        "to_server_event_ms": dist(to_emit, 1000, 2),
        "unmatched": unmatched,
    }


def eta_error(streams: Iterable[Stream]) -> dict[str, Any]:
    """Median (and p90) absolute error of the ETA against the real remaining time."""
    errors: list[float] = []
    relative: list[float] = []
    tasks = 0
    for s in streams:
        if s.outcome != "result" or len(s.events) < 2:
            continue
        tasks += 1
        end = s.events[-1][RECEIVED]
        for e in s.events[:-1]:
            if e[ETA] >= 0:
                actual = end - e[RECEIVED]
                errors.append(abs(e[ETA] - actual))
                if actual > 0.5:
                    relative.append(abs(e[ETA] - actual) / actual)
    errors.sort()
    relative.sort()
    return {
        "tasks": tasks,
        "estimates": len(errors),
        "median_abs_error_s": _round(pct(errors, 0.5), 3),
        "p90_abs_error_s": _round(pct(errors, 0.9), 3),
        "median_relative_error": _round(pct(relative, 0.5), 3),
    }


def stream_seconds(streams: Iterable[Stream], until: float) -> float:
    return sum(max(min(s.ended, until) - s.opened, 0.0) for s in streams if not failed(s))


def open_at(streams: Iterable[Stream], when: float) -> int:
    return sum(1 for s in streams if s.opened <= when < s.ended and not failed(s))


def text_deltas(streams: Iterable[Stream]) -> int:
    return sum(1 for s in streams for e in s.events if e[KIND] == "text_delta")


def generating_at(streams: Iterable[Stream], when: float) -> int:
    """Streams between their first and last text delta at ``when``."""
    count = 0
    for s in streams:
        times = [e[RECEIVED] for e in s.events if e[KIND] == "text_delta"]
        count += bool(times) and times[0] <= when <= times[-1]
    return count


def peak_generating(streams: Sequence[Stream]) -> int:
    """Most streams receiving text at once (between their first delta and their end)."""
    edges: list[tuple[float, int]] = []
    for s in streams:
        times = [e[RECEIVED] for e in s.events if e[KIND] == "text_delta"]
        if times:
            edges += [(times[0], 1), (max(s.ended, times[-1]), -1)]
    level = peak = 0
    for _, step in sorted(edges):
        level += step
        peak = max(peak, level)
    return peak


def generation_window(streams: Sequence[Stream], share: float = 0.9) -> tuple[float, float] | None:
    """The interval in which at least ``share`` of the streams that got text were receiving it: from
    the time that share had its first delta to the time the first (1 - share) had their last."""
    spans = []
    for s in streams:
        times = [e[RECEIVED] for e in s.events if e[KIND] == "text_delta"]
        if times:
            spans.append((times[0], times[-1]))
    if not spans:
        return None
    firsts = sorted(a for a, _ in spans)
    lasts = sorted(b for _, b in spans)
    start = firsts[min(math.ceil(share * len(firsts)) - 1, len(firsts) - 1)]
    end = lasts[min(int((1 - share) * len(lasts)), len(lasts) - 1)]
    return (start, end) if end > start else None


def deltas_between(streams: Iterable[Stream], start: float, end: float) -> tuple[int, int]:
    """Text deltas received in [start, end] and the engine tokens they carried."""
    deltas = tokens = 0
    for s in streams:
        for e in s.events:
            if e[KIND] == "text_delta" and start <= e[RECEIVED] <= end:
                deltas += 1
                tokens += e[TOKENS]
    return deltas, tokens


def histogram_quantile(buckets: Sequence[tuple[float, float]], q: float) -> float | None:
    """Prometheus-style quantile from cumulative ``(upper bound, count)`` pairs (linear in a bucket)."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = upper, count
    return lower


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
