"""Progress is honest: monotone, waits for signals instead of inventing them, 100 only at the end."""

from __future__ import annotations

from qianshi.server.domain import Stage
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.progress import LIVE_CAP, Plan, Progress

PLAN = Plan(retrieval_s=0.5, ttft_s=1.0, output_units=100, units_per_s=50)


def test_percent_never_decreases_and_stays_below_100():
    p = Progress(PLAN, 0.0)
    seen = [p.percent(0.0)]
    p.enter(Stage.RETRIEVAL, 0.0)
    for t in (0.1, 0.2, 5.0):
        seen.append(p.percent(t))
    p.retrieval_signal("poem")
    seen.append(p.percent(5.0))
    p.retrieval_signal("passages")
    seen.append(p.percent(5.0))
    p.enter(Stage.GENERATION, 5.0)
    seen.append(p.percent(5.0))
    for i in range(1, 200):
        p.generated(1, 6.0 + i * 0.02)
        seen.append(p.percent(6.0 + i * 0.02))
    assert seen == sorted(seen)
    assert max(seen) <= LIVE_CAP


def test_time_alone_never_passes_the_next_milestone():
    p = Progress(PLAN, 0.0)
    p.enter(Stage.RETRIEVAL, 0.0)
    stuck = p.percent(1000.0)  # far slower than usual, but no poem found yet
    p.retrieval_signal("poem")
    assert p.percent(1000.0) > stuck
    p.enter(Stage.GENERATION, 1000.0)
    before_first_token = p.percent(5000.0)
    p.generated(1, 5000.0)
    assert p.percent(5000.0) >= before_first_token


def test_eta_follows_the_measured_token_rate():
    p = Progress(PLAN, 0.0)
    p.enter(Stage.GENERATION, 0.0)
    assert p.eta(0.0) == PLAN.ttft_s + PLAN.output_units / PLAN.units_per_s
    for i in range(1, 51):
        p.generated(1, 1.0 + i * 0.1)  # 10 units/s, far slower than the learned 50
    eta = p.eta(6.0)
    assert eta is not None and 4.0 < eta < 6.0  # 50 units left at ~10/s
    for i in range(51, 120):
        p.generated(1, 6.0 + i * 0.01)
    assert p.eta(7.2) is None  # past the expected length: unknown, not made up


def test_estimates_learn_persist_and_measure_their_error(tmp_path):
    path = tmp_path / "estimates.json"
    first = Estimates(path)
    assert first.expected("retrieval/embedded", "retrieval") == 0.15
    for value in (1.0, 1.0, 1.0):
        first.observe("retrieval/embedded", value, predicted=0.5)
    first.save()
    again = Estimates(path)
    assert again.expected("retrieval/embedded", "retrieval") == first.expected(
        "retrieval/embedded", "retrieval"
    )
    error = again.learned("retrieval/embedded/error")
    assert error is not None and error.count == 3 and abs(error.mean - 0.5) < 1e-9


def test_a_damaged_estimates_file_falls_back_to_priors(tmp_path):
    path = tmp_path / "estimates.json"
    path.write_text("{not json")
    assert Estimates(path).expected("retrieval/x", "retrieval") == 0.15
