"""A real redis-server for the shared event log's tests (Debian's ``redis-server`` package).

Started once per session on a free loopback port, with persistence off (``restartable_redis``: one of a
test's own, which it may restart); the fixture waits for the server's own "Ready to accept
connections" line (no sleeps). Missing redis-server skips the tests
locally and fails them under CI (``CI`` set), where scripts/test.sh installs it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.redis_nodes import RedisProcess, free_port

__all__ = ["RedisProcess", "redis_binary", "redis_prefix", "redis_url", "restartable_redis"]


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/test.sh installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return binary


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisProcess(redis_binary(), free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def restartable_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server of one test's own, which the test may restart."""
    server = RedisProcess(redis_binary(), free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of one test's own, so tests sharing the server never see each other's keys."""
    return "qtest" + uuid.uuid4().hex[:8]
