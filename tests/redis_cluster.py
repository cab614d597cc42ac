"""A real Redis Cluster for the tests: six Debian ``redis-server`` 7.0 nodes on loopback (free ports),
three masters with a replica each (``bench.redis_nodes.start_cluster`` says how it is started and
when it is ready). Missing binaries skip the tests locally and fail them under CI (scripts/test.sh
installs redis-server and redis-tools).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.redis_nodes import Cluster
from bench.redis_nodes import start_cluster as _start
from tests.redis_server import redis_binary


def redis_cli() -> str:
    found = shutil.which("redis-cli")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("redis-cli is not installed (scripts/test.sh installs redis-tools)")
        pytest.skip("redis-cli is not installed (apt-get install redis-tools)")
    return found


def start_cluster(workdir: Path) -> Cluster:
    """A cluster of six on free ports (skipped, or failed under CI, without the binaries)."""
    return _start(workdir, redis_binary(), redis_cli())


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The session's cluster (tests that kill nodes start their own: ``own_cluster``)."""
    cluster = start_cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A cluster of this test's own, whose nodes it may kill."""
    cluster = start_cluster(tmp_path / "cluster")
    try:
        yield cluster
    finally:
        cluster.stop()
