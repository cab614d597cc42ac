"""gRPC-Web and Connect through the gateway, called with the real ``buf curl`` against a real server.

Each test runs once per protocol. What a direct gRPC caller of the same server gets is the reference:
the same events in the same order, the same status with the same details, byte for byte.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2
from qianshi.client import AsyncClient
from qianshi.server.gateway.settings import Settings
from qianshi.server.main import Running
from qianshi.v1 import events_pb2, interpret_service_pb2, interpret_service_pb2_grpc

from tests.gateway import bufcurl
from tests.gateway.bufcurl import PROTOCOLS, Call
from tests.gateway.harness import Gateway, gateway
from tests.service.conftest import retrieval_held, server_with

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.parametrize("protocol", PROTOCOLS)]

REQUEST = {"set_id": "mazu60", "number": 23, "question": "我今年換工作會順利嗎？"}
BAD = {"set_id": "mazu60", "number": 0, "question": ""}


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def relay(fast_backend: Running) -> AsyncIterator[Gateway]:
    async with gateway(Settings(backend=f"127.0.0.1:{fast_backend.port}")) as value:
        yield value


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def held_relay(backend: Running) -> AsyncIterator[Gateway]:
    """In front of the server whose retrieval the tests can hold (a task that stays live)."""
    async with gateway(Settings(backend=f"127.0.0.1:{backend.port}")) as value:
        yield value


def event(value: dict) -> events_pb2.ProgressEvent:
    return json_format.ParseDict(value, events_pb2.ProgressEvent())


async def direct_status(
    port: int, request: interpret_service_pb2.InterpretRequest, **kw
) -> status_pb2.Status:
    """The status a direct gRPC caller of the server gets for ``request``."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = interpret_service_pb2_grpc.InterpretServiceStub(channel).Interpret(request, **kw)
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            async for _ in call:
                pass
    trailers = dict(failed.value.trailing_metadata() or ())
    return status_pb2.Status.FromString(trailers["grpc-status-details-bin"])


async def test_an_interpretation_streams_to_its_end_every_event_in_order(relay, fast_backend, protocol):
    result = await bufcurl.call(relay.url, protocol, "Interpret", REQUEST)
    assert result.returncode == 0, result.stderr
    events = [event(m) for m in result.messages]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].HasField("accepted") and events[-1].HasField("result")
    assert {"poem", "passages", "text_delta"} <= {e.WhichOneof("payload") for e in events}
    # exactly the server's log of the task, as a direct gRPC caller reads it
    async with AsyncClient(f"127.0.0.1:{fast_backend.port}") as client:
        log = [e async for e in client.watch(events[0].task_id)]
    assert events == log


async def test_watch_after_seq_5_gets_the_rest_exactly_once(relay, fast_backend, protocol):
    first = await bufcurl.call(relay.url, protocol, "Interpret", REQUEST)
    whole = [event(m) for m in first.messages]
    task_id = whole[0].task_id
    result = await bufcurl.call(relay.url, protocol, "Watch", {"task_id": task_id, "after_seq": 5})
    assert result.returncode == 0, result.stderr
    rest = [event(m) for m in result.messages]
    assert [e.seq for e in rest] == list(range(6, len(whole) + 1))
    assert rest == whole[5:]


async def test_a_bad_request_gets_the_servers_status_and_details(relay, fast_backend, protocol):
    result = await bufcurl.call(relay.url, protocol, "Interpret", BAD)
    assert result.error is not None and result.messages == []
    assert result.error["code"] == "invalid_argument"
    direct = await direct_status(
        fast_backend.port, json_format.ParseDict(BAD, interpret_service_pb2.InterpretRequest())
    )
    assert result.error["message"] == direct.message
    assert bufcurl.error_details(result.error) == list(direct.details)  # type URLs and bytes
    bad = error_details_pb2.BadRequest()
    assert result.error["details"][1]["type"] == "google.rpc.BadRequest"
    bad.ParseFromString(bufcurl.error_details(result.error)[1].value)
    assert {v.field for v in bad.field_violations} == {"number", "question"}


async def test_unknown_poem_is_not_found_and_unary_calls_match_grpc(relay, fast_backend, protocol):
    missing = await bufcurl.call(relay.url, protocol, "GetPoem", {"set_id": "mazu60", "number": 61})
    assert missing.error is not None and missing.error["code"] == "not_found"
    poem = await bufcurl.call(relay.url, protocol, "GetPoem", {"set_id": "guandi100", "number": 7})
    sets = await bufcurl.call(relay.url, protocol, "ListSets", {})
    async with grpc.aio.insecure_channel(f"127.0.0.1:{fast_backend.port}") as channel:
        stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)
        want_poem = await stub.GetPoem(interpret_service_pb2.GetPoemRequest(set_id="guandi100", number=7))
        want_sets = await stub.ListSets(interpret_service_pb2.ListSetsRequest())
    assert json_format.ParseDict(poem.messages[0], interpret_service_pb2.GetPoemResponse()) == want_poem
    assert json_format.ParseDict(sets.messages[0], interpret_service_pb2.ListSetsResponse()) == want_sets


async def test_a_client_that_goes_away_cancels_the_task_on_the_server(held_relay, backend, protocol):
    """buf curl is killed while the task waits at its retrieval: only the gateway's cancelled gRPC
    call can end the task (the request's policy is the default, cancel at once)."""
    async with retrieval_held(backend):
        curl = await Call(held_relay.url, protocol, "Interpret", REQUEST).start()
        async with asyncio.timeout(30):
            first = event(await curl.next_message())
        await curl.kill()
        async with asyncio.timeout(10):
            await backend.registry.wait_ended(first.task_id)
    async with AsyncClient(f"127.0.0.1:{backend.port}") as client:
        log = [e async for e in client.watch(first.task_id)]
    assert log[-1].HasField("error")
    assert log[-1].error.status.code == grpc.StatusCode.CANCELLED.value[0]


async def test_cancel_through_the_relay_ends_the_stream_with_cancelled(held_relay, backend, protocol):
    async with retrieval_held(backend):
        curl = await Call(held_relay.url, protocol, "Interpret", REQUEST).start()
        async with asyncio.timeout(30):
            first = event(await curl.next_message())
        reply = await bufcurl.call(held_relay.url, protocol, "Cancel", {"task_id": first.task_id})
        assert reply.messages == [{"taskId": first.task_id, "cancelled": True}]
        async with asyncio.timeout(30):
            rest = await curl.finish()
    assert rest.error is not None and rest.error["code"] == "canceled"
    assert event(rest.messages[-1]).HasField("error")  # the terminal event, then the same status


async def test_the_deadline_is_passed_on(held_relay, backend, protocol):
    """A 3 s deadline (buf curl sends its ``--timeout`` as ``grpc-timeout`` / ``connect-timeout-ms``)
    reaches the server: it ends the task just before the deadline (a tenth of the time left, at most
    0.25 s) with its own DEADLINE_EXCEEDED event and status. A task that was never told would wait at
    its retrieval until released. (On a crowded machine buf curl's own clock may fire before that
    event has crossed the gateway; the server's log of the task says what the server did either way.)"""
    async with retrieval_held(backend):
        result = await bufcurl.call(held_relay.url, protocol, "Interpret", REQUEST, timeout_s=3.0)
    assert result.error is not None and result.error["code"] == "deadline_exceeded"
    first = event(result.messages[0])
    async with AsyncClient(f"127.0.0.1:{backend.port}") as client:
        log = [e async for e in client.watch(first.task_id)]
    assert log[-1].error.status.code == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    last = event(result.messages[-1])
    if last.HasField("error"):  # the server's end arrived first: then its status is the call's
        assert result.error["message"] == last.error.status.message
        assert bufcurl.error_details(result.error) == list(last.error.status.details)


async def test_the_token_is_passed_on(built_state: Path, tmp_path: Path, protocol):
    async with (
        server_with(built_state, tmp_path, "--auth-tokens", "s3cret") as secured,
        gateway(Settings(backend=f"127.0.0.1:{secured.port}", token_cookie="qs_token")) as gw,
    ):
        refused = await bufcurl.call(gw.url, protocol, "ListSets", {})
        wrong = await bufcurl.call(gw.url, protocol, "ListSets", {}, "Authorization: Bearer wrong")
        header = await bufcurl.call(gw.url, protocol, "ListSets", {}, "Authorization: Bearer s3cret")
        cookie = await bufcurl.call(gw.url, protocol, "ListSets", {}, "Cookie: a=b; qs_token=s3cret")
        malformed = await bufcurl.call(gw.url, protocol, "ListSets", {}, "Authorization: Basic czNjcmV0")
    assert refused.error is not None and refused.error["code"] == "unauthenticated"
    assert wrong.error is not None and wrong.error["code"] == "unauthenticated"
    assert header.returncode == 0 and header.messages[0]["sets"]
    assert cookie.returncode == 0 and cookie.messages[0]["sets"]
    assert malformed.error is not None and malformed.error["code"] == "unauthenticated"
    assert [d["type"] for d in malformed.error["details"]] == ["google.rpc.ErrorInfo"]


async def test_the_trace_context_is_passed_on(fast_backend, protocol):
    """A page's W3C trace context reaches the server as call metadata, as a gRPC caller's does."""
    seen: list[dict[str, str]] = []

    class Recorder(interpret_service_pb2_grpc.InterpretServiceServicer):
        async def ListSets(self, request, context):
            seen.append(dict(context.invocation_metadata() or ()))
            return interpret_service_pb2.ListSetsResponse()

    server = grpc.aio.server()
    interpret_service_pb2_grpc.add_InterpretServiceServicer_to_server(Recorder(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    try:
        async with gateway(Settings(backend=f"127.0.0.1:{port}")) as gw:
            result = await bufcurl.call(
                gw.url, protocol, "ListSets", {}, f"traceparent: {parent}", "tracestate: qs=1"
            )
    finally:
        await server.stop(None)
    assert result.returncode == 0, result.stderr
    assert seen[0]["traceparent"] == parent and seen[0]["tracestate"] == "qs=1"
