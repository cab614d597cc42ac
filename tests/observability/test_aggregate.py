"""The supervisor's metrics endpoint (``--workers``): every worker's metrics, labelled by worker, from
real exporters on loopback; a worker that does not answer is reported down, not fatal."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server
from prometheus_client.parser import text_string_to_metric_families
from qianshi.server.observability.aggregate import workers_registry


@pytest.fixture
def exporters() -> Iterator[list[int]]:
    """Two workers' exporters with the same metric families and different values."""
    servers, ports = [], []
    for i in range(2):
        registry = CollectorRegistry()
        Counter("qianshi_rpcs_total", "RPCs", ["method"], registry=registry).labels("Watch").inc(i + 1)
        Gauge("qianshi_active_tasks", "Tasks", registry=registry).set(10 + i)
        Histogram("qianshi_gap_seconds", "Gaps", buckets=(0.5, 1.0), registry=registry).observe(0.7)
        server, thread = start_http_server(0, "127.0.0.1", registry)
        servers.append((server, thread))
        ports.append(int(server.server_port))
    yield ports
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_workers_metrics_are_merged_under_a_worker_label(exporters):
    targets = [("0", exporters[0]), ("1", exporters[1]), ("2", closed_port())]
    text = generate_latest(workers_registry(lambda: targets)).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}  # it parses: one family each
    rpcs = {
        s.labels["worker"]: s.value for s in families["qianshi_rpcs"].samples if s.name.endswith("_total")
    }
    assert rpcs == {"0": 1.0, "1": 2.0}
    assert {s.labels["worker"]: s.value for s in families["qianshi_active_tasks"].samples} == {
        "0": 10,
        "1": 11,
    }
    buckets = [s for s in families["qianshi_gap_seconds"].samples if s.name.endswith("_bucket")]
    assert {(s.labels["worker"], s.labels["le"]) for s in buckets} >= {("0", "1.0"), ("1", "+Inf")}
    up = {s.labels["worker"]: s.value for s in families["qianshi_worker_up"].samples}
    assert up == {"0": 1.0, "1": 1.0, "2": 0.0}
    assert text.count("# TYPE qianshi_active_tasks gauge") == 1
