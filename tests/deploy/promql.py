"""Just enough PromQL reading to check a Grafana dashboard against the metrics the code exports.

``parse`` finds, in one panel expression, every series selector (metric name and label matchers) and
every label named by a grouping clause (``by``, ``without``, ``on``, ``ignoring``, ``group_left``,
``group_right``); Grafana's ``label_values(metric, label)`` reads as a selector and a grouping label.
``Exported`` is what a ``/metrics`` page offers: each sample name (``…_bucket``, ``…_count``,
``…_total`` included) with its label names and values. ``problems`` lists what an expression asks for
that the page does not have. An identifier followed by ``(`` that is not in ``FUNCTIONS`` is refused,
so a typo in a function name cannot pass as a metric.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

AGGREGATIONS = {"sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "quantile"}
FUNCTIONS = AGGREGATIONS | {
    "rate",
    "irate",
    "increase",
    "delta",
    "deriv",
    "histogram_quantile",
    "clamp_min",
    "clamp_max",
    "abs",
    "sort",
    "sort_desc",
    "vector",
    "scalar",
    "time",
    "label_values",
}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset"}
TARGET_LABELS = {"job", "instance"}
"""Labels Prometheus adds to every scraped series (not exported by the process itself)."""

_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*")
      | (?P<range>\[[^\]]*\])
      | (?P<matchers>\{[^}]*\})
      | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
      | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
      | (?P<punct>[(),])
      | (?P<op>[-+*/%^=!<>~]+)
      | (?P<space>\s+)""",
    re.X,
)
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[tuple[str, str, str], ...] = ()
    """(label, operator, value) for each ``{label op "value"}``."""


@dataclass
class Query:
    selectors: list[Selector] = field(default_factory=list)
    grouping: set[str] = field(default_factory=set)
    """Every label a grouping clause or ``label_values`` names."""


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(expr):
        m = _TOKEN.match(expr, i)
        if m is None:
            raise ValueError(f"cannot read {expr[i:]!r} in {expr!r}")
        i = m.end()
        kind = m.lastgroup
        assert kind is not None
        if kind != "space":
            out.append((kind, m.group()))
    return out


def _matchers(text: str) -> tuple[tuple[str, str, str], ...]:
    body, found, i = text[1:-1], [], 0
    while body[i:].strip():
        m = _MATCHER.match(body, i)
        if m is None:
            raise ValueError(f"cannot read the matchers {text!r}")
        found.append((m[1], m[2], m[3]))
        i = m.end()
    return tuple(found)


def _labels_in_parens(tokens: list[tuple[str, str]], i: int) -> tuple[set[str], int]:
    """The labels of ``( a, b )`` starting at ``tokens[i]``; return them and the index after ``)``."""
    assert tokens[i] == ("punct", "("), tokens[i:]
    labels, i = set(), i + 1
    while tokens[i] != ("punct", ")"):
        kind, text = tokens[i]
        if kind == "ident":
            labels.add(text)
        elif tokens[i] != ("punct", ","):
            raise ValueError(f"unexpected {text!r} in a label list")
        i += 1
    return labels, i + 1


def parse(expr: str) -> Query:
    query = Query()
    tokens = _tokens(expr)
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        after = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        if kind == "ident" and text in GROUPING:
            if after == ("punct", "("):
                labels, i = _labels_in_parens(tokens, i + 1)
                query.grouping |= labels
            else:  # group_left / group_right without a label list
                i += 1
            continue
        if kind == "ident" and text == "label_values":
            # label_values(metric[{…}], label): a selector, and a label it must have
            _, metric = tokens[i + 2]
            j = i + 3
            matchers: tuple[tuple[str, str, str], ...] = ()
            if tokens[j][0] == "matchers":
                matchers, j = _matchers(tokens[j][1]), j + 1
            assert tokens[j] == ("punct", ",") and tokens[j + 2] == ("punct", ")"), expr
            query.selectors.append(Selector(metric, matchers))
            query.grouping.add(tokens[j + 1][1])
            i = j + 3
            continue
        if kind == "ident" and after == ("punct", "("):
            if text not in FUNCTIONS:
                raise ValueError(f"unknown function {text!r} in {expr!r}")
            i += 1
            continue
        if kind == "ident" and text not in FUNCTIONS | KEYWORDS:
            if after[0] == "matchers":
                query.selectors.append(Selector(text, _matchers(after[1])))
                i += 2
            else:
                query.selectors.append(Selector(text))
                i += 1
            continue
        if kind == "matchers":
            raise ValueError(f"a selector without a metric name in {expr!r}")
        i += 1
    return query


@dataclass
class Exported:
    """Sample names of a ``/metrics`` page, each with its labels' values; and each sample's family."""

    labels: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    family: dict[str, str] = field(default_factory=dict)

    def add(self, text: str) -> None:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                values = self.labels.setdefault(sample.name, defaultdict(set))
                for label, value in sample.labels.items():
                    values[label].add(value)
                self.family[sample.name] = family.name


def problems(expr: str, exported: Exported) -> list[str]:
    """What ``expr`` asks for that ``exported`` lacks: unknown metrics, labels and label values."""
    query, found = parse(expr), []
    if not query.selectors:
        found.append("queries no metric")
    for selector in query.selectors:
        labels = exported.labels.get(selector.metric)
        if labels is None:
            found.append(f"{selector.metric} is not exported")
            continue
        for label, op, value in selector.matchers:
            if label in TARGET_LABELS:
                continue
            if label not in labels:
                found.append(f"{selector.metric} has no label {label!r}")
            elif "$" in value:
                continue  # a dashboard variable: its values come from label_values
            elif op in ("=", "!=") and value not in labels[label]:
                found.append(f"{selector.metric}{{{label}}} never has the value {value!r}")
            elif op in ("=~", "!~") and not any(re.fullmatch(value, v) for v in labels[label]):
                found.append(
                    f"{selector.metric}{{{label}}}: {value!r} matches none of {sorted(labels[label])}"
                )
    for label in query.grouping - TARGET_LABELS:
        for selector in query.selectors:
            if selector.metric in exported.labels and label not in exported.labels[selector.metric]:
                found.append(f"grouping by {label!r}, which {selector.metric} does not have")
    return found
