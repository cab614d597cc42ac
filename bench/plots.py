"""The report's pictures (matplotlib, headless).

- ``gaps.png``: per design, the share of gaps longer than x (a survival curve, log-log) for each N,
  with the tick interval and the silence threshold (2 × tick) marked: the never-silent property
  is the curve dropping to nothing right after the tick line.
- ``progress.png``: for a sample of Qianshi streams, percent over time (left) and the ETA against the
  real remaining time (right).
- ``burst.png``: per design, the share of the burst's streams that have their result by time x (left)
  and the longest silence of each stream (right), at the largest burst.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.analysis import ETA, KIND, PERCENT, RECEIVED, gaps_of
from bench.client import Stream

DESIGN_TITLES = {
    "qianshi": "Qianshi (Qdrant Edge in-process, pacer)",
    "naive": "naive (blocking on the loop)",
    "threadpool": "thread pool (same interpreter)",
    "old-engine": "Qianshi on the old engine (qdrant-client local mode, worker)",
    "bare": "grpc.aio alone (the floor)",
    "before": "the server before this change",
}


def gaps(levels: Sequence[Mapping[str, Any]], tick_s: float, path: Path) -> None:
    designs = list(dict.fromkeys(level["design"] for level in levels))
    fig, axes = plt.subplots(1, len(designs), figsize=(5.2 * len(designs), 4.2), sharey=True, squeeze=False)
    for ax, design in zip(axes[0], designs, strict=True):
        for level in (lv for lv in levels if lv["design"] == design):
            values = sorted(level["_"]["gaps"])
            if not values:
                continue
            count = len(values)
            share = [(count - i) / count for i in range(count)]
            ax.step(
                values, share, where="post", label=f"N = {level['n']:,} (p99 {level['gap_s']['p99']:.2f} s)"
            )
        ax.axvline(tick_s, color="grey", linestyle=":", linewidth=1)
        ax.axvline(2 * tick_s, color="red", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1e-3, None)
        ax.set_title(DESIGN_TITLES.get(design, design), fontsize=10)
        ax.set_xlabel("gap between events at the client (s)")
        ax.grid(True, which="both", alpha=0.2)
        ax.legend(fontsize=8, loc="lower left")
    axes[0][0].set_ylabel("share of gaps longer than x")
    fig.suptitle(f"Inter-event gaps (tick {tick_s} s: dotted; silence threshold {2 * tick_s} s: dashed)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def progress(streams: Sequence[Stream], n: int, path: Path, sample: int = 6) -> bool:
    """Plot up to ``sample`` finished streams; False when none finished."""
    done = [s for s in streams if s.outcome == "result" and len(s.events) > 2]
    if not done:
        return False
    step = max(len(done) // sample, 1)
    chosen = done[::step][:sample]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for k, s in enumerate(chosen):
        color = f"C{k}"
        times = [e[RECEIVED] - s.opened for e in s.events]
        left.step(times, [e[PERCENT] for e in s.events], where="post", color=color)
        left.plot(times, [e[PERCENT] for e in s.events], ".", color=color, markersize=3)
        end = s.events[-1][RECEIVED]
        live = [e for e in s.events[:-1] if e[ETA] >= 0]
        right.plot(
            [e[RECEIVED] - s.opened for e in live], [e[ETA] for e in live], ".-", color=color, markersize=3
        )
        right.plot(
            [e[RECEIVED] - s.opened for e in live],
            [end - e[RECEIVED] for e in live],
            ":",
            color=color,
            linewidth=1,
        )
    kinds = {e[KIND] for s in chosen for e in s.events}
    left.set_title(
        f"percent over time ({len(chosen)} of {n:,} streams; events: {len(kinds)} kinds)", fontsize=10
    )
    left.set_xlabel("time since the call opened (s)")
    left.set_ylabel("percent")
    right.set_title("ETA sent (solid) vs. real remaining time (dotted)", fontsize=10)
    right.set_xlabel("time since the call opened (s)")
    right.set_ylabel("seconds")
    for ax in (left, right):
        ax.grid(True, alpha=0.2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def burst(levels: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Time to result and longest silence per stream, each design at the largest burst."""
    largest = max(level["n"] for level in levels)
    chosen = [level for level in levels if level["n"] == largest]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for level in chosen:
        streams: Sequence[Stream] = level["_"]["streams"]
        done = sorted(
            s.events[-1][RECEIVED] - s.opened for s in streams if s.outcome == "result" and s.events
        )
        label = DESIGN_TITLES.get(level["design"], level["design"])
        if done:
            left.step(done, [(i + 1) / len(streams) for i in range(len(done))], where="post", label=label)
        silences = sorted(max(gaps_of(s), default=0.0) for s in streams)
        right.step(
            silences, [(i + 1) / len(silences) for i in range(len(silences))], where="post", label=label
        )
    left.set_xscale("log")
    left.set_xlabel("time from opening to the result (s)")
    left.set_ylabel("share of streams with their result")
    left.set_title(f"{largest:,} streams opened within 1 s (grounded, pace 0)", fontsize=10)
    right.set_xlabel("longest silence of a stream (s)")
    right.set_ylabel("share of streams")
    right.set_title("longest gap between two events of a stream", fontsize=10)
    left.grid(True, which="both", alpha=0.2)
    right.grid(True, which="both", alpha=0.2)
    left.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def vllm(
    summary: Mapping[str, Mapping[str, Any]], path: Path, relay_alone: Mapping[str, Any] | None = None
) -> None:
    """``vllm.png``: per number of streams and design, tokens/s in all, TTFT p50 / p99, server CPU per
    chunk (and, hatched, the relay's own CPU per chunk measured alone)."""
    rows = list(summary.values())
    designs = list(dict.fromkeys(r["design"] for r in rows))
    streams = sorted({r["streams"] for r in rows})
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    width = 0.8 / max(len(designs), 1)
    for k, design in enumerate(designs):
        mine = {r["streams"]: r for r in rows if r["design"] == design}
        xs = [i + k * width for i in range(len(streams))]
        axes[0].bar(xs, [mine[n]["tokens_per_s"] or 0 for n in streams], width, label=design)
        p50 = [mine[n]["ttft_ms"].get("p50") or 0 for n in streams]
        p99 = [mine[n]["ttft_ms"].get("p99") or 0 for n in streams]
        axes[1].bar(xs, p99, width, color="none", edgecolor=f"C{k}", linestyle="--")
        axes[1].bar(xs, p50, width, color=f"C{k}", label=f"{design} (p50; dashed: p99)")
        if design != "direct":
            axes[2].bar(
                xs,
                [mine[n]["server_cpu_us_per_token"] or 0 for n in streams],
                width,
                color=f"C{k}",
                label=design,
            )
            kind = {"qianshi": "lean", "qianshi-sdk": "sdk"}.get(design, "")
            alone = [
                ((relay_alone or {}).get(str(n)) or {}).get("cpu_us_per_chunk", {}).get(kind) for n in streams
            ]
            if any(alone):
                axes[2].bar(
                    xs,
                    [a or 0 for a in alone],
                    width * 0.5,
                    color="white",
                    edgecolor="k",
                    hatch="//",
                    label=f"{design}: its relay alone",
                )
    titles = (
        "tokens/s, all streams (decode rates summed)",
        "time to first token (ms)",
        "server CPU per engine token (µs)",
    )
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xticks(
            [i + 0.4 - width / 2 for i in range(len(streams))],
            [f"{n} stream{'s' * (n > 1)}" for n in streams],
        )
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="y", alpha=0.2)
        ax.legend(fontsize=8)
    axes[2].axhline(60, color="red", linestyle="--", linewidth=1, label="target 60 µs")
    axes[2].legend(fontsize=8)
    fig.suptitle(
        "Real vLLM (CPU build, tiny model): read directly, through Qianshi, through Qianshi's old SDK relay"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
