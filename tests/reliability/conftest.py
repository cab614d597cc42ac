"""Shared pieces of the reliability tests: real servers (in-process or as a child process), the vLLM
stand-in behind a router that takes a fault from the question, and small readers of statuses.

Every fault in these tests is injected for real: a killed process, a closed port, a listener that
never answers, an LLM server that stalls, errs or hangs up. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from qianshi.server.backends.retrieval.store_copy import copy_tree
from qianshi.v1 import events_pb2
from qianshi.v1 import interpret_service_pb2 as pb

from bench.standin import StandIn, serve_in_thread
from bench.standin_text import Profile
from tests.service.conftest import running, server_with

__all__ = ["running", "server_with"]

QUESTION = "我今年換工作會順利嗎？"
REPO = Path(__file__).resolve().parents[2]
_FAULT = re.compile(rb"FAULT\[([a-z_=0-9.,-]*)\]")


def request(**fields: Any) -> pb.InterpretRequest:
    values: dict[str, Any] = {"set_id": "mazu60", "number": 23, "question": QUESTION}
    values.update(fields)
    return pb.InterpretRequest(**values)


async def read_events(call: Any, limit_s: float = 30.0) -> tuple[list[events_pb2.ProgressEvent], Any]:
    """Every event of a streaming call and how it ended: None (OK) or the ``AioRpcError``."""
    events: list[events_pb2.ProgressEvent] = []
    async with asyncio.timeout(limit_s):
        try:
            while (event := await call.read()) is not grpc.aio.EOF:
                events.append(event)
        except grpc.aio.AioRpcError as error:
            return events, error
    return events, None


def reason(error: grpc.RpcError) -> str:
    """The ErrorInfo reason of a failed call ("" when it has none)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""


def retry_delay(error: grpc.RpcError) -> float | None:
    """The RetryInfo delay of a failed call, in seconds."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return float(info.retry_delay.seconds + info.retry_delay.nanos / 1e9)
    return None


def free_port() -> int:
    """A port nothing listens on (bound and closed again: connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of a process, from /proc (no psutil needed)."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long mode of these tests (``@pytest.mark.slow``) runs only when asked for with ``-m slow``."""
    if "slow" in (config.getoption("markexpr", "") or ""):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="long mode: run with -m slow")
    for item in items:
        if "slow" in item.keywords and here in Path(str(item.path)).parents:
            item.add_marker(skip)


# --- the vLLM stand-in, with the fault chosen by the question ------------------------------------------


class FaultRouter:
    """ASGI app in front of the stand-in: a chat request whose prompt contains ``FAULT[k=v,…]`` gets that
    stand-in profile (its ``x-standin-profile`` header), so a gRPC caller picks the fault per request."""

    def __init__(self, app: StandIn) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/chat/completions":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = list(scope.get("headers", []))
        if (found := _FAULT.search(body)) is not None:
            headers.append((b"x-standin-profile", found[1]))
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app({**scope, "headers": headers}, replay, send)


@pytest.fixture(scope="session")
def standin() -> Iterator[tuple[StandIn, str]]:
    """A stand-in vLLM server (fast by default) and its base URL."""
    app = StandIn(Profile(ttft=(0.05, 0.05), rate=400.0, tokens=60))
    with serve_in_thread(FaultRouter(app)) as url:  # type: ignore[arg-type]
        yield app, url


# --- a server in a child process ------------------------------------------------------------------------


class ServerProcess:
    """``python -m qianshi.server.main`` in a child process; ``port`` once it logged its port."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.argv = [sys.executable, "-m", "qianshi.server.main", "--listen", "127.0.0.1:0", *argv]
        self.env = {**os.environ, **(env or {})}
        self.lines: list[str] = []
        self.port = 0
        self._port_seen = threading.Event()
        self._new_line = threading.Condition()
        self._reader: threading.Thread | None = None
        self.process: subprocess.Popen[str] | None = None

    def start(self, *, serving: bool = True, limit_s: float = 60.0, ready: str = "") -> int:
        """Start it; wait until it serves (or, with ``serving=False``, only listens; or until a line
        matches ``ready``, whose group 1 is the port)."""
        self.process = subprocess.Popen(
            self.argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=self.env, cwd=REPO
        )
        pattern = re.compile(ready or (r"serving on port (\d+)" if serving else r"\(port (\d+)\)"))
        self._reader = threading.Thread(target=self._read, args=(pattern,), daemon=True)
        self._reader.start()
        if not self._port_seen.wait(limit_s) or not self.port:
            self.stop()
            raise RuntimeError("the server did not start:\n" + self.stderr)
        return self.port

    def _read(self, pattern: re.Pattern[str]) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            with self._new_line:
                self.lines.append(line)
                self._new_line.notify_all()
            if not self.port and (found := pattern.search(line)) is not None:
                self.port = int(found[1])
                self._port_seen.set()
        self._port_seen.set()

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, limit_s: float = 30.0) -> re.Match[str]:
        """The first stderr line matching ``pattern``, waiting for it to be written."""
        compiled = re.compile(pattern)
        with self._new_line:
            found = self._new_line.wait_for(
                lambda: next((m for line in self.lines if (m := compiled.search(line))), None), limit_s
            )
        if found is None:
            raise AssertionError(f"no line matching {pattern!r}:\n{self.stderr}")
        return found

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self, limit_s: float) -> int:
        assert self.process is not None
        return self.process.wait(limit_s)

    def stop(self, limit_s: float = 30.0) -> int | None:
        """SIGTERM (a graceful drain), then wait; SIGKILL only if it does not exit."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(limit_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(limit_s)
        if self._reader is not None:
            self._reader.join(limit_s)  # it has read to the end of stderr
        if self.process.stderr is not None:
            self.process.stderr.close()
        return self.process.returncode


@contextlib.contextmanager
def server_process(
    built: Path, tmp_path: Path, *flags: str, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    """A serving child-process server on a copy of the built state."""

    state = tmp_path / "state"
    copy_tree(built, state)
    proc = ServerProcess(["--state-dir", str(state), "--log-level", "WARNING", *flags], env)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
