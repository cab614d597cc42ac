"""A real redis-server for the shared event log's tests (Debian's ``redis-server`` package).

Started once per session on a free loopback port, with persistence off (``restartable_redis``: one of a
test's own, which it may restart); the fixture waits for the server's own "Ready to accept
connections" line (no sleeps). Missing redis-server skips the tests
locally and fails them under CI (``CI`` set), where scripts/test.sh installs it.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

READY_TIMEOUT_S = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisProcess:
    """One redis-server on a fixed loopback port, persistence off; ``restart`` loses every key, as a
    restarted Redis without persistence does."""

    def __init__(self, binary: str, port: int, workdir: Path, extra: list[str] | None = None) -> None:
        self.binary, self.port, self.workdir = binary, port, workdir
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(self.workdir), *self.extra]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            _wait_ready(self.proc)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()

    def restart(self) -> None:
        self.stop()
        self.start()


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/test.sh installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return binary


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisProcess(redis_binary(), _free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def restartable_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server of one test's own, which the test may restart."""
    server = RedisProcess(redis_binary(), _free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _wait_ready(proc: subprocess.Popen[bytes]) -> None:
    """Read the server's log until it says it is ready (bounded by READY_TIMEOUT_S)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    seen = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"Ready to accept connections" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                raise RuntimeError(f"redis-server did not start: {seen[-2000:].decode(errors='replace')}")
            if sel.select(timeout=left):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError(f"redis-server exited: {seen[-2000:].decode(errors='replace')}")
                seen += chunk


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of one test's own, so tests sharing the server never see each other's keys."""
    return "qtest" + uuid.uuid4().hex[:8]
