"""The Grafana dashboard queries only what the real server and gateway export, and shows all of it.

A real server (``--metrics-listen``) and a real gateway in front of it serve a few calls of each
kind: an interpretation to its end, a refused request, look-ups, and through the gateway a stream, a
look-up and two HTTP errors, so the labelled series exist. Their ``/metrics`` pages are the truth:
every expression of every panel (and every template variable's query) of deploy/grafana/dashboards/
is read (tests/deploy/promql.py) and each metric, label matcher, label value and grouping label must
be on one of the pages; and every metric family the two pages export must be on the dashboard. Lives
beside the other integration tests to share their built index.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest
from qianshi.server.gateway.settings import Settings
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from tests.deploy.promql import Exported, parse, problems
from tests.gateway.harness import gateway
from tests.service.conftest import server_with

DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def queries() -> dict[str, str]:
    """Every PromQL expression of the dashboards, by where it is (dashboard / panel / refId)."""
    found: dict[str, str] = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for variable in dashboard["templating"]["list"]:
            query: Any = variable["query"]
            found[f"{path.name} / ${variable['name']}"] = query["query"] if isinstance(query, dict) else query
        for panel in dashboard["panels"]:
            for inner in [panel, *panel.get("panels", [])]:
                for target in inner.get("targets", []):
                    found[f"{path.name} / {inner['title']} / {target['refId']}"] = target["expr"]
    assert found, f"no dashboard in {DASHBOARDS}"
    return found


async def scrape(url: str) -> str:
    def get() -> str:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()

    return await asyncio.to_thread(get)


async def exercise_server(target: str) -> None:
    async with grpc.aio.insecure_channel(target) as channel, asyncio.timeout(60):
        stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)
        request = pb.InterpretRequest(set_id="mazu60", number=23, question="我今年換工作會順利嗎？")
        events = [e async for e in stub.Interpret(request)]
        assert events[-1].WhichOneof("payload") == "result"
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            async for _ in stub.Interpret(pb.InterpretRequest(set_id="mazu60", number=0, question="")):
                pass
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        await stub.ListSets(pb.ListSetsRequest())
        await stub.GetPoem(pb.GetPoemRequest(set_id="guandi100", number=7))


async def exercise_gateway(url: str, http: Any) -> None:
    async with http.stream(
        "GET", "/v1/interpret", params={"set": "guanyin100", "number": "1", "question": "健康如何？"}
    ) as response:
        assert response.status_code == 200
        body = (await response.aread()).decode()
    assert "event: result" in body
    assert (await http.get("/v1/sets")).status_code == 200
    assert (await http.get("/v1/sets/mazu60/poems/0")).status_code == 400
    assert (await http.get("/v1/sets/nowhere/poems/1")).status_code == 404


async def test_every_panel_queries_exported_metrics_and_every_metric_has_a_panel(built_state, tmp_path):
    port = free_port()
    exported = Exported()
    async with server_with(built_state, tmp_path, "--metrics-listen", f"127.0.0.1:{port}") as server:
        target = f"127.0.0.1:{server.port}"
        await exercise_server(target)
        async with gateway(Settings(backend=target)) as gw, gw.client() as http:
            await exercise_gateway(gw.url, http)
            exported.add((await http.get("/metrics")).text)
        exported.add(await scrape(f"http://127.0.0.1:{port}/metrics"))
    assert "qianshi_rpcs_total" in exported.labels and "qianshi_gateway_requests_total" in exported.labels

    drift = {where: found for where, expr in queries().items() if (found := problems(expr, exported))}
    assert drift == {}, json.dumps(drift, indent=2, ensure_ascii=False)

    shown = {exported.family[s.metric] for expr in queries().values() for s in parse(expr).selectors}
    # prometheus_client's text format adds a *_created gauge per counter and histogram: not ours to show.
    ours = {f for f in exported.family.values() if f.startswith("qianshi_") and not f.endswith("_created")}
    assert ours - shown == set(), "exported but on no panel"
