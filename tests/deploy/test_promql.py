"""The PromQL reader the dashboard check relies on: it must see every selector, label and grouping."""

from __future__ import annotations

import pytest

from tests.deploy.promql import Exported, Selector, parse, problems

PAGE = """\
# TYPE demo_gap_seconds histogram
demo_gap_seconds_bucket{stage="retrieval",le="1.5"} 3.0
demo_gap_seconds_bucket{stage="retrieval",le="+Inf"} 4.0
demo_gap_seconds_count{stage="retrieval"} 4.0
demo_gap_seconds_sum{stage="retrieval"} 2.0
# TYPE demo_requests_total counter
demo_requests_total{route="/v1/sets",status="200"} 1.0
demo_requests_total{route="/v1/sets",status="404"} 1.0
# TYPE demo_open gauge
demo_open 2.0
"""


@pytest.fixture
def page() -> Exported:
    exported = Exported()
    exported.add(PAGE)
    return exported


def test_selectors_and_grouping_are_found():
    query = parse(
        'histogram_quantile(0.99, sum by (le, stage) (rate(demo_gap_seconds_bucket{instance=~"$instance"}[$__rate_interval])))'
        " / ignoring(stage) group_left sum(demo_open)"
    )
    assert query.selectors == [
        Selector("demo_gap_seconds_bucket", (("instance", "=~", "$instance"),)),
        Selector("demo_open"),
    ]
    assert query.grouping == {"le", "stage"}
    values = parse("label_values(demo_open, instance)")
    assert values.selectors == [Selector("demo_open")] and values.grouping == {"instance"}


def test_a_dashboard_in_step_with_the_page_has_no_problems(page):
    for expr in (
        'sum by (status) (rate(demo_requests_total{status=~"[45].."}[5m]))',
        '1 - sum(rate(demo_gap_seconds_bucket{le="1.5"}[5m])) / sum(rate(demo_gap_seconds_count[5m]))',
        'sum by (le, stage) (rate(demo_gap_seconds_bucket{stage!="retrieval", job="x"}[1m]))',
        "label_values(demo_requests_total, route)",
    ):
        assert problems(expr, page) == [], expr


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("rate(demo_gap_seconds[5m])", "demo_gap_seconds is not exported"),  # a histogram has no bare series
        ("demo_requests", "demo_requests is not exported"),  # a counter's samples end in _total
        ('demo_open{route="/"}', "demo_open has no label 'route'"),
        ('demo_requests_total{status="500"}', "demo_requests_total{status} never has the value '500'"),
        ('demo_requests_total{status=~"5.."}', "demo_requests_total{status}: '5..' matches none of"),
        ("sum by (kind) (demo_requests_total)", "grouping by 'kind', which demo_requests_total"),
        ("label_values(demo_open, route)", "grouping by 'route', which demo_open"),
        ("1 + 2", "queries no metric"),
    ],
)
def test_each_drift_is_found(page, expr, problem):
    assert any(p.startswith(problem) for p in problems(expr, page)), problems(expr, page)


def test_an_unknown_function_is_refused_rather_than_read_as_a_metric():
    with pytest.raises(ValueError, match="unknown function 'rat'"):
        parse("rat(demo_open[5m])")
