"""One metrics endpoint for ``--workers N``: the supervisor scrapes its workers when it is scraped.

Each worker serves its own metrics (``ServerMetrics``) on a private loopback port. ``WorkerMetrics``
is a Prometheus collector that, on every scrape of the supervisor's ``--metrics-listen``, reads each
worker's exposition, adds a ``worker`` label (``"0"``, ``"1"`` …) to every sample and merges the
families, so one endpoint shows every process and ``sum by (…)`` adds them up. It also reports
``qianshi_worker_up{worker}`` (1 when the worker answered this scrape).

Why scraping rather than prometheus_client's multiprocess mode: the workers keep their metrics
exactly as a single server does — gauges read live values at scrape time (active tasks, streams,
queue depth), which multiprocess mode cannot do (it supports only values written to its memory-mapped
files, with a per-gauge aggregation mode) — nothing needs an environment variable set before
prometheus_client is imported, and a worker that dies leaves no files behind to clean. The price is
one loopback HTTP request per worker per scrape.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
SCRAPE_TIMEOUT_S = 5.0

Targets = Callable[[], Sequence[tuple[str, int]]]
"""Returns the workers to scrape now: ``(worker label, metrics port on 127.0.0.1)`` pairs."""


class WorkerMetrics(Collector):
    """Collects the metrics of every worker, labelled by worker (see the module docstring)."""

    def __init__(self, targets: Targets, timeout_s: float = SCRAPE_TIMEOUT_S) -> None:
        self._targets = targets
        self._timeout_s = timeout_s

    def describe(self) -> list[Metric]:
        return []  # the families are only known by scraping: never collect at registration

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        up = GaugeMetricFamily(
            "qianshi_worker_up", "1 when the worker answered this scrape", labels=["worker"]
        )
        for label, port in self._targets():
            try:
                text = self._scrape(port)
            except OSError as exc:
                log.warning("worker %s did not answer the metrics scrape: %s", label, exc)
                up.add_metric([label], 0.0)
                continue
            up.add_metric([label], 1.0)
            for family in text_string_to_metric_families(text):
                merged = families.get(family.name)
                if merged is None:
                    merged = Metric(family.name, family.documentation, family.type, family.unit)
                    families[family.name] = merged
                for sample in family.samples:
                    merged.samples.append(sample._replace(labels={**sample.labels, "worker": label}))
        yield from families.values()
        yield up

    def _scrape(self, port: int) -> str:
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=self._timeout_s) as response:
            return str(response.read().decode("utf-8"))


def workers_registry(targets: Targets) -> CollectorRegistry:
    """A registry that serves the workers' merged metrics (give it to ``metrics.start_exporter``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkerMetrics(targets))
    return registry
