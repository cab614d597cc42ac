"""``buf curl`` (the buf CLI from npm, in .tools/) as the tests' gRPC-Web and Connect client.

buf curl reads the schema from the repository's protos (``--schema`` the buf workspace at the root),
prints every response message as pretty JSON on stdout and, for a failed call, the error as JSON on
stderr (``{"code": "invalid_argument", "message", "details": [{"type", "value"}]}``) with a non-zero
exit code. ``Call`` runs it as a child process of the test's event loop, so the in-process server and
gateway keep serving while the test waits on it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import any_pb2

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = ("grpcweb", "connect")
SERVICE = "qianshi.v1.InterpretService"


def buf_or_skip() -> str:
    """The buf CLI; skip when it is missing, unless in CI (then fail).

    The platform package's binary, not ``.bin/buf``: that is a Node.js script that starts the binary
    as its child, so killing it (a client that goes away) would leave the real client connected.
    """
    native = sorted((ROOT / ".tools" / "node_modules" / "@bufbuild").glob("buf-*/bin/buf"))
    path = str(native[0]) if native else shutil.which("buf")
    if path is None:
        message = "buf is not installed (scripts/test.sh installs it from npm into .tools/)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def split_json(text: str) -> list[Any]:
    """The JSON values printed one after another (buf curl's output of a stream)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return values
        value, at = decoder.raw_decode(text, at)
        values.append(value)


def error_details(error: dict[str, Any]) -> list[any_pb2.Any]:
    """The ``details`` of buf curl's error JSON as ``google.protobuf.Any`` (type URL and bytes)."""
    out = []
    for detail in error.get("details", []):
        raw = base64.b64decode(detail["value"] + "=" * (-len(detail["value"]) % 4))
        out.append(any_pb2.Any(type_url="type.googleapis.com/" + detail["type"], value=raw))
    return out


@dataclass
class Result:
    returncode: int
    messages: list[Any]
    error: dict[str, Any] | None
    stderr: str


class Call:
    """One ``buf curl`` call, started as a child process; read its messages as they come."""

    def __init__(
        self,
        url: str,
        protocol: str,
        method: str,
        body: dict[str, Any],
        *headers: str,
        timeout_s: float | None = None,
    ) -> None:
        deadline = ["--timeout", f"{timeout_s}s"] if timeout_s is not None else []
        self.argv = [
            buf_or_skip(), "curl", "--protocol", protocol, "--schema", str(ROOT), *deadline,
            "--data", json.dumps(body, ensure_ascii=False),
            *(arg for header in headers for arg in ("--header", header)),
            f"{url}/{SERVICE}/{method}",
        ]  # fmt: skip
        self.process: asyncio.subprocess.Process | None = None
        self._buffer = ""

    async def start(self) -> Call:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return self

    async def next_message(self) -> Any:
        """The next message printed (waits for it; fails if the output ends first)."""
        assert self.process is not None and self.process.stdout is not None
        decoder = json.JSONDecoder()
        while True:
            text = self._buffer.lstrip()
            if text:
                try:
                    value, end = decoder.raw_decode(text)
                except json.JSONDecodeError:
                    pass
                else:
                    self._buffer = text[end:]
                    return value
            line = await self.process.stdout.readline()
            if not line:
                raise AssertionError(f"buf curl ended before another message: {self._buffer!r}")
            self._buffer += line.decode()

    async def kill(self) -> None:
        """Kill buf curl, as a browser tab that closes: its connection drops without a goodbye."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def finish(self) -> Result:
        """Wait for the call to end; every message it printed (after those already read)."""
        assert self.process is not None
        out, err = await self.process.communicate()
        text = self._buffer + out.decode()
        stderr = err.decode()
        error = None
        if self.process.returncode != 0:
            start = stderr.find("{")
            error = split_json(stderr[start:])[0] if start >= 0 else None
        return Result(self.process.returncode or 0, split_json(text), error, stderr)


async def call(
    url: str, protocol: str, method: str, body: dict[str, Any], *headers: str, timeout_s: float | None = None
) -> Result:
    """Run one call to its end (``timeout_s``: the call's deadline)."""
    running = await Call(url, protocol, method, body, *headers, timeout_s=timeout_s).start()
    async with asyncio.timeout(60):
        return await running.finish()
