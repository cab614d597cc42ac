"""Authentication, ownership, TLS and size limits, on real servers over real channels.

One server has authentication on (a tokens file with named callers, plus a token from
QIANSHI_AUTH_TOKENS; reflection closed, health open); two more serve TLS, one of them requiring client
certificates. Certificates are made for the test with the ``openssl`` command.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from unittest import mock

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from qianshi.client import AsyncClient
from qianshi.client import errors as client_errors
from qianshi.server.service import auth
from qianshi.server.serving import Running
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from tests.reliability.conftest import read_events, reason, request, server_with

session_loop = pytest.mark.asyncio(loop_scope="session")
Stub = interpret_service_pb2_grpc.InterpretServiceStub
ALICE, BOB, CAROL = "alice-secret-token", "bob-secret-token", "carol-from-env"


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def secured(built_state, tmp_path_factory) -> AsyncIterator[tuple[Running, grpc.aio.Channel]]:
    folder = tmp_path_factory.mktemp("auth")
    tokens = folder / "tokens"
    tokens.write_text(
        f"# callers of the test\nalice {auth.hash_line(ALICE)}\n\nbob {auth.hash_line(BOB)}  # bob\n"
    )
    flags = ("--auth-tokens-file", str(tokens), "--auth-open-reflection", "false", "--grounded-pace", "0.02")
    with mock.patch.dict(os.environ, {"QIANSHI_AUTH_TOKENS": f" {CAROL} ,"}):
        starting = server_with(built_state, folder, *flags)
        srv = await starting.__aenter__()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
            yield srv, channel
    finally:
        await starting.__aexit__(None, None, None)


# --- tokens ---------------------------------------------------------------------------------------------


def test_tokens_file_lines_and_errors():
    text = f"# comment\n\nops {auth.hash_line('a')}\n{auth.hash_line('b')}   # unnamed\n"
    tokens = auth.TokenSet(auth.parse_tokens_file(text))
    assert tokens.match("a").identity == "ops"
    assert tokens.match("b").identity == "sha256:" + hashlib.sha256(b"b").hexdigest()[:16]
    assert tokens.match("c") is None and tokens.match(None) is None
    with pytest.raises(ValueError, match="line 2"):
        auth.parse_tokens_file("ok " + auth.hash_line("x") + "\nsha256:1234\n")
    with pytest.raises(ValueError, match="cannot read"):
        auth.TokenSet.load("/nonexistent/tokens")


def test_the_hash_helper_prints_a_tokens_file_line():
    out = subprocess.run(
        [sys.executable, "-m", "qianshi.server.service.auth", "hash", "s3cret", "ci"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "ci sha256:" + hashlib.sha256(b"s3cret").hexdigest()


# --- authentication -------------------------------------------------------------------------------------


@session_loop
async def test_calls_without_a_valid_token_are_unauthenticated(secured):
    _, channel = secured
    stub = Stub(channel)
    for metadata in ((), bearer("wrong"), (("authorization", f"Basic {ALICE}"),), bearer("")):
        events, error = await read_events(stub.Interpret(request(), metadata=metadata, timeout=10))
        assert events == [] and error is not None
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED and reason(error) == "UNAUTHENTICATED"
        for call in (
            stub.ListSets(pb.ListSetsRequest(), metadata=metadata, timeout=10),
            stub.Cancel(pb.CancelRequest(task_id="t_" + "A" * 22), metadata=metadata, timeout=10),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await call
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for token in (ALICE, BOB, CAROL):  # the file's named callers and the environment's token
        sets = await stub.ListSets(pb.ListSetsRequest(), metadata=bearer(token), timeout=10)
        assert len(sets.sets) == 3


@session_loop
async def test_health_is_open_and_reflection_is_closed_as_configured(secured):
    _, channel = secured
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def ask():
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stub.ServerReflectionInfo(ask(), timeout=10):
            pass
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    async for reply in stub.ServerReflectionInfo(ask(), metadata=bearer(ALICE), timeout=10):
        assert "qianshi.v1.InterpretService" in {s.name for s in reply.list_services_response.service}
        break


@session_loop
async def test_only_the_caller_that_started_a_task_can_watch_or_cancel_it(secured):
    _, channel = secured
    stub = Stub(channel)
    keep = pb.DISCONNECT_POLICY_KEEP_RUNNING
    call = stub.Interpret(request(disconnect_policy=keep, request_id="same-id"), metadata=bearer(ALICE))
    first = await call.read()
    task_id = first.task_id
    assert task_id.startswith("t_") and len(task_id) == 24
    for token in (BOB, CAROL):  # another caller: the task does not exist for them
        events, error = await read_events(
            stub.Watch(pb.WatchRequest(task_id=task_id), metadata=bearer(token))
        )
        assert events == [] and error.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Cancel(pb.CancelRequest(task_id=task_id), metadata=bearer(token))
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    # the same request_id from another caller starts that caller's own task
    theirs = stub.Interpret(request(disconnect_policy=keep, request_id="same-id"), metadata=bearer(BOB))
    assert (await theirs.read()).task_id != task_id
    theirs.cancel()
    watched, error = await read_events(stub.Watch(pb.WatchRequest(task_id=task_id), metadata=bearer(ALICE)))
    assert error is None and watched[0].seq == 1 and watched[-1].HasField("result")
    call.cancel()


@session_loop
async def test_oversized_metadata_is_refused(secured):
    _, channel = secured
    stub = Stub(channel)
    metadata = (*bearer(ALICE), ("x-padding", "p" * 9000))  # past --max-metadata-bytes (8 KiB)
    for _ in range(5):  # soft and hard limit are the same: refused every time, not by chance
        events, error = await read_events(stub.Interpret(request(), metadata=metadata, timeout=10))
        assert events == [] and error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


# --- TLS ------------------------------------------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Path:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by it."""
    folder = tmp_path_factory.mktemp("pki")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        cwd=folder,
    )
    for name, ext in (
        ("server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ):
        (folder / f"{name}.ext").write_text(ext)
        _openssl(
            "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=folder
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            "2",
            "-extfile",
            f"{name}.ext",
            cwd=folder,
        )
    return folder


async def _first_event(client: AsyncClient) -> str:
    async with asyncio.timeout(20):
        async for event in client.interpret("mazu60", 23, "我今年換工作會順利嗎？"):
            return event.task_id
    raise AssertionError("no event")


@session_loop
async def test_tls_serves_clients_that_trust_the_ca(built_state, tmp_path, certificates):
    pki = certificates
    flags = ("--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"))
    async with server_with(built_state, tmp_path, *flags) as srv:
        target = f"127.0.0.1:{srv.port}"
        async with AsyncClient(target, root_certificates=pki / "ca.pem") as client:
            assert (await _first_event(client)).startswith("t_")
        async with AsyncClient(target) as plaintext:  # no TLS: the handshake never completes
            with pytest.raises(client_errors.Unavailable):
                await plaintext.list_sets(timeout=5)
        async with AsyncClient(target, tls=True) as untrusting:  # the system's CAs do not know ours
            with pytest.raises(client_errors.Unavailable):
                await untrusting.list_sets(timeout=5)


@session_loop
async def test_mutual_tls_requires_a_client_certificate(built_state, tmp_path, certificates):
    pki = certificates
    flags = ("--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"))
    flags += ("--tls-client-ca", str(pki / "ca.pem"))
    async with server_with(built_state, tmp_path, *flags) as srv:
        target = f"127.0.0.1:{srv.port}"
        async with AsyncClient(
            target,
            root_certificates=pki / "ca.pem",
            client_cert=pki / "client.pem",
            client_key=pki / "client.key",
        ) as client:
            assert (await _first_event(client)).startswith("t_")
        async with AsyncClient(target, root_certificates=pki / "ca.pem") as anonymous:
            with pytest.raises(client_errors.Unavailable):
                await anonymous.list_sets(timeout=5)
