"""Two real ``vllm serve`` (CPU build, tiny model) behind a real ``vllm-router`` 0.1.17 (round robin),
and a Qianshi server relaying through the router (``--llm openai --llm-url <router>``) as through one
vLLM. Both vLLMs start at once and serve the whole module (the last test kills one).

- Qianshi's start-up question (``/v1/models``: the model's name and context length) is answered
  through the router; the router's ``/health`` and its Prometheus metrics answer.
- Streams spread over both vLLMs (each logs the requests it received).
- A cancel aborts the request in the vLLM that ran it: its log says ``Aborted request(s)`` and its
  ``/metrics`` runs no request (a metric missing from ``/metrics`` fails, it is never read as 0).
- A vLLM killed mid-stream: the stream it ran ends INTERNAL ``LLM_INCOMPLETE`` with the text so far;
  the router does not start that request again elsewhere (the other vLLM receives nothing for it, so
  no text reaches the caller twice); later streams complete on the survivor.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from qianshi.server.serving import Running

from bench.vllm_cpu import router, venv
from bench.vllm_cpu.procs import Run, VLLMServer, free_port, get_json, get_text
from tests.reliability.conftest import reason
from tests.service.conftest import server_with
from tests.vllm.conftest import Stub, check_invariants, options, read_events, request, text_of

pytestmark = [pytest.mark.vllm, pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(900)]


def metric(url: str, name: str) -> float:
    """The sum of a metric's samples on a Prometheus endpoint; fails when it has none."""
    samples = [
        float(line.rsplit(" ", 1)[1])
        for line in get_text(url).splitlines()
        if line.startswith((name + "{", name + " "))
    ]
    assert samples, f"{url} has no {name}"
    return sum(samples)


def running_requests(vllm: VLLMServer) -> float:
    return metric(vllm.url.removesuffix("/v1") + "/metrics", "vllm:num_requests_running")


class Fleet:
    """Two vLLMs and the router in front of them."""

    def __init__(self, vllms: list[VLLMServer], front: router.Router, metrics_port: int) -> None:
        self.vllms = vllms
        self.router = front
        self.metrics_port = metrics_port

    def received(self, vllm: VLLMServer, since: int) -> list[str]:
        """The request ids ``vllm`` logged as received from its log line ``since`` on."""
        lines = vllm.service.lines[since:]
        return [m[1] for _, line in lines if (m := re.search(r"Received request (\S+):", line))]


@pytest.fixture(scope="module")
def fleet(vllm_venv: Path, vllm_run: Run, tiny_model: Path) -> Iterator[Fleet]:
    try:
        where = router.ensure()
    except venv.VenvUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"vllm-router could not be installed: {exc}")
        pytest.skip(f"vllm-router could not be installed (no network to PyPI?): {str(exc)[:300]}")
    vllms = [
        VLLMServer(vllm_run, venv.python(vllm_venv), tiny_model, name=f"vllm-{i}", unpinned=True)
        for i in range(2)
    ]
    front = None
    try:
        for server in vllms:  # both were started by their constructors: they warm up side by side
            server.wait_ready()
        metrics_port = free_port()
        extra = ["--prometheus-host", "127.0.0.1", "--prometheus-port", str(metrics_port)]
        workers = [s.url.removesuffix("/v1") for s in vllms]
        front = router.Router(vllm_run, where, workers, extra).wait_ready()
        yield Fleet(vllms, front, metrics_port)
    finally:
        if front is not None:
            front.stop()
        for server in vllms:
            if server.service.members():
                server.stop()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def routed(
    built_state: Path, tmp_path_factory: pytest.TempPathFactory, fleet: Fleet
) -> AsyncIterator[tuple[Running, Stub]]:
    flags = ("--llm", "openai", "--llm-url", fleet.router.url)
    flags += ("--tick-retrieval", "0.3", "--tick-generation", "0.3")
    async with (
        server_with(built_state, tmp_path_factory.mktemp("routed"), *flags) as srv,
        grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel,
    ):
        yield srv, Stub(channel)


async def test_streams_spread_over_both_vllms_and_the_router_answers_models_health_and_metrics(
    routed, fleet: Fleet
):
    _, stub = routed
    models = get_json(fleet.router.url + "/models")
    assert [m["id"] for m in models["data"]] == ["tiny"]  # what Qianshi asks for at start
    assert get_text(fleet.router.url.removesuffix("/v1") + "/health") is not None
    marks = [len(v.service.lines) for v in fleet.vllms]
    calls = [
        stub.Interpret(request(number=n, options=options(20, seed=n)), timeout=120) for n in (3, 4, 5, 6)
    ]
    outcomes = await asyncio.gather(*(read_events(call) for call in calls))
    for events, error in outcomes:
        assert error is None, error
        check_invariants(events)
        assert events[-1].result.model == "tiny"  # the name discovered through the router
    per_vllm = []
    for vllm, mark in zip(fleet.vllms, marks, strict=True):
        vllm.service.wait_for(r"Received request", 10, after=mark)
        per_vllm.append(len(fleet.received(vllm, mark)))
    assert sum(per_vllm) == 4 and min(per_vllm) >= 1, per_vllm  # both served
    assert metric(f"http://127.0.0.1:{fleet.metrics_port}/metrics", "vllm_router_requests_total") >= 4


async def test_a_cancel_aborts_the_request_in_the_vllm_that_ran_it(routed, fleet: Fleet):
    _, stub = routed
    marks = [len(v.service.lines) for v in fleet.vllms]
    call = stub.Interpret(request(options=options(1800)), timeout=120)
    async with asyncio.timeout(120):
        while not (await call.read()).HasField("text_delta"):
            pass
    ran = [v for v in fleet.vllms if running_requests(v) == 1]
    assert len(ran) == 1, [running_requests(v) for v in fleet.vllms]
    vllm = ran[0]
    call.cancel()
    cancelled_at = time.time()
    at, _ = await asyncio.to_thread(
        vllm.service.wait_for, r"Aborted request\(s\)", 10, marks[fleet.vllms.index(vllm)]
    )
    async with asyncio.timeout(10):
        while await asyncio.to_thread(running_requests, vllm) != 0:
            pass
    assert at - cancelled_at < 1.0
    assert all(running_requests(v) == 0 for v in fleet.vllms)


async def test_a_vllm_killed_mid_stream_ends_its_stream_incomplete_and_the_router_sends_no_retry(
    routed, fleet: Fleet
):
    _, stub = routed
    marks = [len(v.service.lines) for v in fleet.vllms]
    call = stub.Interpret(request(number=11, options=options(1800)), timeout=120)
    events = []
    async with asyncio.timeout(120):
        while not events or not events[-1].HasField("text_delta"):
            events.append(await call.read())
    doomed = next(v for v in fleet.vllms if running_requests(v) == 1)
    survivor = next(v for v in fleet.vllms if v is not doomed)
    await asyncio.to_thread(doomed.service.kill)
    rest, error = await read_events(call)
    events += rest
    check_invariants(events)
    assert error is not None and error.code() == grpc.StatusCode.INTERNAL, error
    assert reason(error) == "LLM_INCOMPLETE"
    assert events[-1].error.partial_text == text_of(events) != ""  # the text so far, once
    survivor_mark = marks[fleet.vllms.index(survivor)]
    assert fleet.received(survivor, survivor_mark) == []  # the router did not start it again there
    # later streams: the router sends them to the survivor
    for n in (12, 13):
        later, later_error = await read_events(
            stub.Interpret(request(number=n, options=options(10)), timeout=120)
        )
        assert later_error is None, later_error
        check_invariants(later)
    assert len(fleet.received(survivor, survivor_mark)) == 2


async def test_the_router_killed_mid_stream_ends_the_stream_incomplete_and_new_calls_unavailable(
    routed, fleet: Fleet
):
    _, stub = routed
    call = stub.Interpret(request(number=14, options=options(1800)), timeout=120)
    events = []
    async with asyncio.timeout(120):
        while not events or not events[-1].HasField("text_delta"):
            events.append(await call.read())
    await asyncio.to_thread(fleet.router.service.kill)
    rest, error = await read_events(call)
    events += rest
    check_invariants(events)
    assert error is not None and error.code() == grpc.StatusCode.INTERNAL, error
    assert reason(error) == "LLM_INCOMPLETE"
    assert events[-1].error.partial_text == text_of(events) != ""
    later, later_error = await read_events(
        stub.Interpret(request(number=15, options=options(10)), timeout=60)
    )
    assert later_error is not None and later_error.code() == grpc.StatusCode.UNAVAILABLE, later_error
    assert reason(later_error) == "LLM_UNAVAILABLE"
    assert not any(e.HasField("text_delta") for e in later)
