"""Who may call the gateway: bearer tokens (header, cookie, query), CORS, and its own metrics."""

from __future__ import annotations

import pytest
from qianshi.server.gateway.settings import Settings
from qianshi.server.serving import Running

from tests.gateway.harness import frames, gateway, token_front

pytestmark = pytest.mark.asyncio(loop_scope="session")

PARAMS = {"set": "mazu60", "number": "23", "question": "我今年換工作會順利嗎？"}
ORIGIN = "https://temple.example"


@pytest.mark.parametrize(
    ("how", "status"),
    [
        ({}, 401),
        ({"headers": {"Authorization": "Bearer s3cret"}}, 200),
        ({"headers": {"Authorization": "bearer s3cret"}}, 200),
        ({"cookies": {"qs_token": "s3cret"}}, 200),
        ({"params": {"token": "s3cret"}}, 200),
        ({"headers": {"Authorization": "Bearer wrong"}}, 401),
        ({"params": {"token": "wrong"}}, 401),
        ({"headers": {"Authorization": "Basic czNjcmV0"}}, 401),  # not a bearer token: refused here
        ({"params": {"token": "s3 cret"}}, 401),  # cannot be sent as gRPC metadata
        # the header wins over the cookie, the cookie over the query
        ({"headers": {"Authorization": "Bearer wrong"}, "cookies": {"qs_token": "s3cret"}}, 401),
        ({"cookies": {"qs_token": "s3cret"}, "params": {"token": "wrong"}}, 200),
    ],
)
async def test_the_token_is_passed_on_however_the_browser_sends_it(fast_backend: Running, how, status):
    async with (
        token_front(f"127.0.0.1:{fast_backend.port}", "s3cret") as (front_address, front),
        gateway(Settings(backend=front_address, token_cookie="qs_token")) as gw,
    ):
        cookies = how.get("cookies")
        async with gw.client(cookies=cookies) as http:
            response = await http.get("/v1/sets", headers=how.get("headers"), params=how.get("params"))
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    else:
        assert front.seen == ["Bearer s3cret"]
        assert response.json()["sets"]


async def test_an_event_stream_carries_the_token_too(fast_backend: Running):
    async with (
        token_front(f"127.0.0.1:{fast_backend.port}", "s3cret") as (front_address, _),
        gateway(Settings(backend=front_address)) as gw,
        gw.client() as http,
    ):
        refused = await http.get("/v1/interpret", params=PARAMS)
        assert refused.status_code == 401
        async with http.stream("GET", "/v1/interpret", params={**PARAMS, "token": "s3cret"}) as response:
            assert response.status_code == 200
            assert (await frames(response))[-1].event == "result"
        http.cookies.set("qianshi_token", "s3cret")  # the default cookie name
        async with http.stream("GET", "/v1/interpret", params=PARAMS) as response:
            assert response.status_code == 200


async def test_cors_admits_the_configured_origins_only(fast_backend: Running):
    settings = Settings(backend=f"127.0.0.1:{fast_backend.port}", cors_origins=(ORIGIN,))
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "last-event-id"}
    async with gateway(settings) as gw, gw.client() as http:
        allowed = await http.options("/v1/interpret", headers={"Origin": ORIGIN, **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert "last-event-id" in allowed.headers["access-control-allow-headers"].lower()
        refused = await http.options(
            "/v1/interpret", headers={"Origin": "https://other.example", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers
        simple = await http.get("/v1/sets", headers={"Origin": ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ORIGIN
        # an allowed origin may also cancel (the Origin check of state-changing requests)
        cancel = await http.post(f"/v1/tasks/t_{'A' * 22}/cancel", headers={"Origin": ORIGIN})
        assert cancel.status_code == 404
    async with gateway(Settings(backend=f"127.0.0.1:{fast_backend.port}")) as gw, gw.client() as http:
        same_origin_only = await http.get("/v1/sets", headers={"Origin": ORIGIN})
        assert "access-control-allow-origin" not in same_origin_only.headers


async def test_the_gateway_counts_requests_streams_and_events(fast_backend: Running):
    async with gateway(Settings(backend=f"127.0.0.1:{fast_backend.port}")) as gw, gw.client() as http:
        async with http.stream("GET", "/v1/interpret", params=PARAMS) as response:
            relayed = await frames(response)
        await http.get("/v1/sets/mazu60/poems/0")
        text = (await http.get("/metrics")).text
    deltas = float(sum(f.event == "text_delta" for f in relayed))
    assert f'qianshi_gateway_events_relayed_total{{kind="text_delta"}} {deltas}' in text
    assert 'qianshi_gateway_requests_total{route="/v1/interpret",status="200"} 1.0' in text
    assert 'qianshi_gateway_requests_total{route="/v1/sets/{set_id}/poems/{number}",status="400"} 1.0' in text
    assert "qianshi_gateway_open_streams 0.0" in text


async def test_cors_lets_other_sites_typed_clients_call_and_read_the_status(fast_backend: Running):
    """A page of an allowed origin may send the gRPC-Web / Connect headers and read grpc-status."""
    settings = Settings(backend=f"127.0.0.1:{fast_backend.port}", cors_origins=(ORIGIN,))
    sent = "authorization,content-type,connect-protocol-version,connect-timeout-ms,x-grpc-web,x-user-agent"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": sent}
    path = "/qianshi.v1.InterpretService/GetPoem"
    async with gateway(settings) as gw, gw.client() as http:
        allowed = await http.options(path, headers={"Origin": ORIGIN, **preflight})
        assert allowed.status_code == 200
        assert set(sent.split(",")) <= set(
            allowed.headers["access-control-allow-headers"].lower().split(", ")
        )
        # gRPC-Web: an unknown poem; the status is in the body's trailer frame (or, for a call refused
        # before it starts, in headers a page may read)
        body = b"\x00\x00\x00\x00\x06\x0a\x02xx\x10\x01"  # GetPoemRequest{set_id: "xx", number: 1}
        headers = {"Origin": ORIGIN, "Content-Type": "application/grpc-web+proto", "X-Grpc-Web": "1"}
        reply = await http.post(path, content=body, headers=headers)
        exposed = set(reply.headers["access-control-expose-headers"].lower().split(", "))
        assert {"grpc-status", "grpc-message", "grpc-status-details-bin"} <= exposed
        trailer = reply.content[5:].decode()
        assert reply.content[0] == 0x80 and "grpc-status: 5\r\n" in trailer  # NOT_FOUND
        assert "grpc-status-details-bin: " in trailer


async def test_the_gateway_counts_events_it_relays_over_grpc_web_and_connect(fast_backend: Running):
    async with gateway(Settings(backend=f"127.0.0.1:{fast_backend.port}")) as gw, gw.client() as http:
        request = b'{"setId": "mazu60", "number": 23, "question": "\\u6703\\u9806\\u5229\\u55ce"}'
        headers = {"Content-Type": "application/connect+json", "Connect-Protocol-Version": "1"}
        envelope = b"\x00" + len(request).to_bytes(4, "big") + request
        async with http.stream(
            "POST", "/qianshi.v1.InterpretService/Interpret", content=envelope, headers=headers
        ) as response:
            assert response.status_code == 200
            await response.aread()
        text = (await http.get("/metrics")).text
    assert 'qianshi_gateway_events_relayed_total{kind="result"} 1.0' in text
    assert 'qianshi_gateway_requests_total{route="/qianshi.v1.InterpretService",status="200"} 1.0' in text
    assert "qianshi_gateway_open_streams 0.0" in text
