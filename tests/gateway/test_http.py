"""The gateway over real HTTP, in front of a real server: frames, headers, resume, errors, cancel."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from google.protobuf import json_format
from grpc_health.v1 import health_pb2
from qianshi.client import AsyncClient, payload_kind
from qianshi.server.gateway.settings import Settings
from qianshi.server.serving import Running
from qianshi.v1 import events_pb2

from tests.gateway.harness import Gateway, frames, gateway, iter_frames
from tests.service.conftest import retrieval_held, server_with

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUESTION = "我今年換工作會順利嗎？"
PARAMS = {"set": "mazu60", "number": "23", "question": QUESTION}
UNKNOWN_TASK = "t_" + "A" * 22


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def gw(fast_backend: Running) -> AsyncIterator[Gateway]:
    async with gateway(Settings(backend=f"127.0.0.1:{fast_backend.port}", grace_s=5)) as value:
        yield value


def parse(data: str) -> events_pb2.ProgressEvent:
    return json_format.Parse(data, events_pb2.ProgressEvent())


async def test_a_stream_is_the_tasks_log_framed_as_sse(gw, fast_backend):
    async with gw.client() as http, http.stream("GET", "/v1/interpret", params=PARAMS) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "no-cache" in response.headers["cache-control"]
        assert response.headers["x-accel-buffering"] == "no"
        got = await frames(response)
    events = [parse(f.data) for f in got]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(
        f.id == f"{e.task_id}:{e.seq}" and f.event == payload_kind(e)
        for f, e in zip(got, events, strict=True)
    )
    assert got[0].retry == 1000 and all(f.retry is None for f in got[1:])
    assert got[0].event == "accepted" and got[-1].event == "result"
    assert {"poem", "passages", "text_delta"} <= {f.event for f in got}
    # exactly the server's log of the task
    async with AsyncClient(f"127.0.0.1:{fast_backend.port}") as client:
        log = [e async for e in client.watch(events[0].task_id)]
    assert log == events


async def test_post_takes_a_json_body(gw):
    body = {
        "set": "guanyin100",
        "number": 7,
        "question": "Will we marry?",
        "category": "婚姻",
        "locale": "en",
    }
    async with gw.client() as http, http.stream("POST", "/v1/interpret", json=body) as response:
        assert response.status_code == 200
        got = await frames(response)
    first, last = parse(got[0].data), parse(got[-1].data)
    assert (first.accepted.category, first.accepted.locale) == ("婚姻", "en")
    assert last.HasField("result") and last.result.text


@pytest.mark.parametrize(
    ("method", "path", "options", "status", "field"),
    [
        ("GET", "/v1/interpret", {"params": {**PARAMS, "question": ""}}, 400, "question"),
        ("GET", "/v1/interpret", {"params": {**PARAMS, "number": "abc"}}, 400, "number"),
        ("GET", "/v1/interpret", {"params": {"set": "mazu60", "question": QUESTION}}, 400, "number"),
        ("GET", "/v1/interpret", {"params": {**PARAMS, "locale": "fr"}}, 400, "locale"),
        ("GET", "/v1/interpret", {"params": {**PARAMS, "request_id": "bad id"}}, 400, "request_id"),
        ("GET", "/v1/interpret", {"params": {**PARAMS, "set": "nosuchset"}}, 404, None),
        ("GET", "/v1/interpret", {"params": {**PARAMS, "number": "61"}}, 404, None),
        (
            "GET",
            "/v1/interpret",
            {"params": PARAMS, "headers": {"Last-Event-ID": "garbage"}},
            400,
            "Last-Event-ID",
        ),
        ("POST", "/v1/interpret", {"content": b"{not json"}, 400, "body"),
        ("POST", "/v1/interpret", {"json": [1, 2]}, 400, "body"),
        ("POST", "/v1/interpret", {"json": {**PARAMS, "question": "問" * 40_000}}, 400, "body"),
        ("POST", "/v1/interpret", {"json": {**PARAMS, "number": True}}, 400, "number"),
        ("GET", f"/v1/tasks/{UNKNOWN_TASK}/events", {}, 404, None),
        ("GET", "/v1/tasks/nope/events", {}, 400, "task_id"),
        ("GET", f"/v1/tasks/{UNKNOWN_TASK}/events", {"params": {"after": "-1"}}, 400, "after"),
        ("GET", f"/v1/tasks/{UNKNOWN_TASK}/events", {"params": {"after": "x"}}, 400, "after"),
        ("POST", f"/v1/tasks/{UNKNOWN_TASK}/cancel", {}, 404, None),
        ("GET", "/v1/sets/guandi100/poems/0", {}, 400, "number"),
        ("GET", "/v1/sets/guandi100/poems/abc", {}, 400, "number"),
        ("GET", "/v1/sets/guandi100/poems/101", {}, 404, None),
        ("GET", "/v1/sets/nosuchset/poems/1", {}, 404, None),
    ],
)
async def test_errors_before_the_stream_are_http_statuses(gw, method, path, options, status, field):
    async with gw.client() as http:
        response = await http.request(method, path, **options)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == status
    assert error["status"] == {400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}[status]
    assert error["message"]
    if field is not None:
        assert field in {v["field"] for v in error["fieldViolations"]}


async def test_head_starts_nothing(gw, fast_backend):
    async with gw.client() as http:
        for path in ("/v1/interpret", f"/v1/tasks/{UNKNOWN_TASK}/events"):
            response = await http.head(path, params=PARAMS)
            assert response.status_code == 200 and response.headers["x-accel-buffering"] == "no"
    assert fast_backend.registry.active == 0


async def test_last_event_id_resumes_with_every_event_exactly_once(gw):
    async with gw.client() as http:
        async with http.stream("GET", "/v1/interpret", params=PARAMS) as response:
            head = await frames(response, limit=4)  # then the connection is dropped
        resume = {"Last-Event-ID": head[-1].id or ""}
        async with http.stream("GET", "/v1/interpret", params=PARAMS, headers=resume) as response:
            assert response.status_code == 200
            rest = await frames(response)
        whole = head + rest
        assert [f.seq for f in whole] == list(range(1, len(whole) + 1))
        assert whole[-1].event == "result"
        task_id = head[0].json["taskId"]

        # the same log through the after= endpoint …
        async with http.stream("GET", f"/v1/tasks/{task_id}/events", params={"after": 2}) as response:
            tail = await frames(response)
        assert [f.data for f in tail] == [f.data for f in whole[2:]]
        # … where a reconnecting EventSource's Last-Event-ID wins over the URL's after=
        again = {"Last-Event-ID": f"{task_id}:5"}
        async with http.stream("GET", f"/v1/tasks/{task_id}/events?after=0", headers=again) as response:
            assert (await frames(response, limit=1))[0].seq == 6
        other = {"Last-Event-ID": f"{UNKNOWN_TASK}:5"}
        response = await http.get(f"/v1/tasks/{task_id}/events", headers=other)
        assert response.status_code == 400

        # a reconnect after the terminal event: 204 tells EventSource to stop
        final = {"Last-Event-ID": whole[-1].id or ""}
        response = await http.get("/v1/interpret", params=PARAMS, headers=final)
        assert response.status_code == 204
        response = await http.get(f"/v1/tasks/{task_id}/events", params={"after": len(whole)})
        assert response.status_code == 204


async def test_a_browser_disconnect_cancels_the_grpc_call(backend):
    """The task can only end while its retrieval is held if the gateway's call went away (and the
    server's grace window then ran out): a call left open would keep it waiting forever."""
    settings = Settings(backend=f"127.0.0.1:{backend.port}", grace_s=0.2)
    async with gateway(settings) as gw, gw.client() as http:
        async with retrieval_held(backend):
            async with http.stream("GET", "/v1/interpret", params=PARAMS) as response:
                task_id = (await frames(response, limit=1))[0].json["taskId"]
            async with asyncio.timeout(10):
                await backend.registry.wait_ended(task_id)
        async with http.stream("GET", f"/v1/tasks/{task_id}/events") as response:
            log = await frames(response)
    assert log[-1].event == "error"
    assert log[-1].json["error"]["status"]["code"] == 1  # CANCELLED


async def test_cancel_ends_the_stream_with_an_error_frame(backend):
    async with gateway(Settings(backend=f"127.0.0.1:{backend.port}")) as gw, gw.client() as http:
        async with http.stream("GET", "/v1/interpret", params=PARAMS) as response:
            stream = iter_frames(response)
            first = await anext(stream)
            task_id = first.json["taskId"]
            foreign = await http.post(
                f"/v1/tasks/{task_id}/cancel", headers={"Origin": "https://elsewhere.example"}
            )
            assert foreign.status_code == 403
            reply = await http.post(f"/v1/tasks/{task_id}/cancel", headers={"Origin": gw.url})
            assert reply.status_code == 200
            assert reply.json() == {"taskId": task_id, "cancelled": True}
            rest = [frame async for frame in stream]
        assert rest[-1].event == "error" and rest[-1].json["error"]["status"]["code"] == 1
        assert [f.seq for f in [first, *rest]] == list(range(1, len(rest) + 2))
        again = await http.post(f"/v1/tasks/{task_id}/cancel")
        assert again.json() == {"taskId": task_id, "cancelled": False}


async def test_silence_gets_a_heartbeat_comment(fast_backend):
    settings = Settings(backend=f"127.0.0.1:{fast_backend.port}", heartbeat_s=0.05, grace_s=0.2)
    seen: list[str] = []
    async with (
        gateway(settings) as gw,
        gw.client() as http,
        retrieval_held(fast_backend),
    ):
        async with http.stream("GET", "/v1/interpret", params=PARAMS) as response:
            async for frame in iter_frames(response):
                seen.extend(frame.comments)
                if len(seen) >= 2:
                    break
    assert seen[:2] == ["heartbeat", "heartbeat"]


async def test_full_server_is_429_with_retry_after(built_state: Path, tmp_path: Path):
    async with (
        server_with(built_state, tmp_path, "--max-active-tasks", "1") as small,
        gateway(Settings(backend=f"127.0.0.1:{small.port}")) as gw,
        gw.client() as http,
        retrieval_held(small),
    ):
        async with http.stream("GET", "/v1/interpret", params=PARAMS) as busy:
            stream = iter_frames(busy)
            task_id = (await anext(stream)).json["taskId"]
            response = await http.get("/v1/interpret", params=PARAMS)
            assert response.status_code == 429
            assert response.headers["retry-after"] == "1"
            error = response.json()["error"]
            assert error["status"] == "RESOURCE_EXHAUSTED" and error["retryAfter"] == 1.0
            assert (await http.post(f"/v1/tasks/{task_id}/cancel")).json()["cancelled"]
            assert [f.event async for f in stream][-1] == "error"


async def test_look_ups_and_health(gw, fast_backend):
    async with gw.client() as http:
        sets = (await http.get("/v1/sets")).json()["sets"]
        assert {s["id"]: s["count"] for s in sets} == {"mazu60": 60, "guanyin100": 100, "guandi100": 100}
        poem = (await http.get("/v1/sets/guandi100/poems/7")).json()["poem"]
        assert poem["number"] == 7 and len(poem["verseLines"]) == 4
        health = await http.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "SERVING"
        await fast_backend.health.set(
            "qianshi.v1.InterpretService", health_pb2.HealthCheckResponse.NOT_SERVING
        )
        try:
            health = await http.get("/healthz")
        finally:
            await fast_backend.health.set(
                "qianshi.v1.InterpretService", health_pb2.HealthCheckResponse.SERVING
            )
        assert health.status_code == 503 and health.json()["status"] == "NOT_SERVING"


async def test_an_unreachable_backend_is_503():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"  # nothing listens there once closed
    async with gateway(Settings(backend=dead)) as gw, gw.client() as http:
        for path, params in (("/v1/sets", None), ("/v1/interpret", PARAMS), ("/healthz", None)):
            response = await http.get(path, params=params)
            assert response.status_code == 503, path
        assert response.json()["status"] == "UNREACHABLE"
        assert (await http.get("/v1/sets")).json()["error"]["status"] == "UNAVAILABLE"


async def test_the_page_is_served_offline_ready(gw):
    async with gw.client() as http:
        page = await http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        bodies = [page.text]
        for asset in ("/static/app.js", "/static/style.css"):
            response = await http.get(asset)
            assert response.status_code == 200
            bodies.append(response.text)
    for body in bodies:  # nothing is fetched from elsewhere: no CDN, no web fonts
        assert (
            "http://" not in body and "https://" not in body and "@import" not in body and "url(" not in body
        )
