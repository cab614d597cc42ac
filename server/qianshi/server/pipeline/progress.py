"""Honest progress: percent and ETA from real signals, with learned durations between them.

The bar is split into spans by the stages' expected durations (learned, see ``estimates``). Inside a
stage, *milestones* are reached only by real signals — the poem found, the passages found, the first
token, tokens generated against the expected output length. Between two signals time fills the gap at
the learned pace, but never past the next milestone: when a stage runs slower than usual the bar
waits for the signal instead of inventing one. ``percent`` never decreases and stays below 100 until
the terminal event.
"""

from __future__ import annotations

from dataclasses import dataclass

from qianshi.server.domain import Stage

ACCEPTED_SPAN = 1.0
"""Percent reserved for admission."""
LIVE_CAP = 99.0
"""Highest percent before the terminal event."""
_RETRIEVAL_MILESTONES = {"poem": 0.3, "passages": 1.0}


@dataclass(frozen=True, slots=True)
class Plan:
    """What a task expects, from learned estimates, at the moment it is accepted."""

    retrieval_s: float
    ttft_s: float
    output_units: float
    """Expected output length: tokens, or characters for generators without tokens."""
    units_per_s: float

    @property
    def generation_s(self) -> float:
        return self.ttft_s + self.output_units / max(self.units_per_s, 1e-6)


class Progress:
    """Tracks one task; every method takes ``now`` (``time.monotonic()``) so tests drive the clock."""

    def __init__(self, plan: Plan, now: float) -> None:
        self.plan = plan
        total = plan.retrieval_s + plan.generation_s
        share = plan.retrieval_s / total if total > 0 else 0.1
        retrieval_span = min(max((LIVE_CAP - ACCEPTED_SPAN) * share, 3.0), 40.0)
        self._spans = {
            Stage.ACCEPTED: (0.0, ACCEPTED_SPAN),
            Stage.RETRIEVAL: (ACCEPTED_SPAN, ACCEPTED_SPAN + retrieval_span),
            Stage.GENERATION: (ACCEPTED_SPAN + retrieval_span, LIVE_CAP),
        }
        self.stage = Stage.ACCEPTED
        self.stage_started = now
        self._floor = 0.0  # fraction of the current stage reached by signals
        self._units = 0.0
        self._first_unit_at: float | None = None
        self._percent = 0.0
        self._wait_until: float | None = None

    # signals ---------------------------------------------------------------------------------------

    def enter(self, stage: Stage, now: float) -> None:
        self.stage, self.stage_started, self._floor = stage, now, 0.0

    def retrieval_signal(self, milestone: str) -> None:
        self._floor = max(self._floor, _RETRIEVAL_MILESTONES[milestone])

    def replan(self, plan: Plan) -> None:
        """Newer expectations (learned while the task waited in a queue) for the ETA from now on; the
        bar's spans stay as they were, so percent keeps its meaning and never goes back."""
        self.plan = plan

    def waiting(self, expected_s: float | None, now: float) -> None:
        """The task waits in a queue and expects to for ``expected_s`` more (None: it does not wait)."""
        self._wait_until = None if expected_s is None else now + expected_s

    def generated(self, units: float, now: float) -> None:
        """``units`` more tokens (or characters) were generated."""
        if self._first_unit_at is None:
            self._first_unit_at = now
        self._units += units

    # readings --------------------------------------------------------------------------------------

    @property
    def units(self) -> float:
        return self._units

    @property
    def first_unit_at(self) -> float | None:
        return self._first_unit_at

    def stage_elapsed(self, now: float) -> float:
        return max(0.0, now - self.stage_started)

    def percent(self, now: float) -> float:
        lo, hi = self._spans.get(self.stage, (LIVE_CAP, LIVE_CAP))
        value = lo + (hi - lo) * self._fraction(now)
        self._percent = max(self._percent, min(value, LIVE_CAP))
        return round(self._percent, 2)

    def eta(self, now: float) -> float | None:
        """Seconds until the end, or None when the task has outrun every estimate. A queue the task
        waits in counts: its expected wait comes first."""
        left = self._eta(now)
        if self._wait_until is None or left is None:
            return left
        return left + max(self._wait_until - now, 0.0)

    def _eta(self, now: float) -> float | None:
        plan, elapsed = self.plan, self.stage_elapsed(now)
        if self.stage is Stage.ACCEPTED:
            return plan.retrieval_s + plan.generation_s
        if self.stage is Stage.RETRIEVAL:
            return max(plan.retrieval_s - elapsed, 0.0) + plan.generation_s
        if self.stage is Stage.GENERATION:
            if self._first_unit_at is None:
                wait = plan.ttft_s - elapsed
                return None if wait < -plan.ttft_s else max(wait, 0.0) + plan.output_units / plan.units_per_s
            left = plan.output_units - self._units
            if left <= 0:
                return None
            return left / self._rate(now)
        return 0.0

    def _rate(self, now: float) -> float:
        """Units per second: measured in this task once a few arrived, else learned."""
        if self._first_unit_at is not None and self._units >= 8:
            span = now - self._first_unit_at
            if span > 0.05:
                return max(self._units / span, 1e-3)
        return self.plan.units_per_s

    def _fraction(self, now: float) -> float:
        plan, elapsed = self.plan, self.stage_elapsed(now)
        if self.stage is Stage.RETRIEVAL:
            nxt = min((m for m in _RETRIEVAL_MILESTONES.values() if m > self._floor), default=1.0)
            by_time = elapsed / plan.retrieval_s if plan.retrieval_s > 0 else 0.0
            return max(self._floor, min(by_time, nxt * 0.95))
        if self.stage is Stage.GENERATION:
            total = plan.generation_s
            ttft_share = plan.ttft_s / total if total > 0 else 0.0
            if self._first_unit_at is None:
                by_time = elapsed / total if total > 0 else 0.0
                return min(by_time, ttft_share * 0.95)
            done = min(self._units / max(plan.output_units, 1.0), 0.99)
            return ttft_share + (1 - ttft_share) * done
        return 0.0
