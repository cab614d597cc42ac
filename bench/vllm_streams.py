"""The streams of ``python -m bench vllm``: a chat completion straight from ``vllm serve`` (a plain
aiohttp client), an ``Interpret`` through a Qianshi server, and the capture of the exact request
Qianshi sends for a question, so the direct stream can send the same one.

Each stream records, on the client's monotonic clock, when it was opened, when generation started
(direct: the request was sent; through Qianshi: the generation stage's ``stage_started`` event
arrived), when the first and the last text arrived, every arrival, and the tokens (vLLM's usage).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import grpc
from aiohttp import web
from qianshi.v1 import events_pb2, interpret_service_pb2_grpc
from qianshi.v1 import interpret_service_pb2 as pb

QUESTION = "我今年換工作會順利嗎？"


@dataclass(slots=True)
class Spec:
    """One stream's request: the same poem, question, seed and length for every design."""

    number: int
    seed: int
    max_tokens: int
    set_id: str = "mazu60"
    question: str = QUESTION


@dataclass(slots=True)
class Streamed:
    design: str
    seed: int
    opened: float
    generation_started: float = 0.0
    first: float = 0.0
    last: float = 0.0
    tokens: int = 0
    deltas: int = 0
    arrivals: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def ttft(self) -> float:
        """From the start of generation (the LLM request) to the first text at the client."""
        return self.first - self.generation_started

    @property
    def ttft_from_open(self) -> float:
        return self.first - self.opened

    @property
    def rate(self) -> float:
        """Tokens per second from the first text to the last."""
        span = self.last - self.first
        return (self.tokens - 1) / span if self.tokens > 1 and span > 0 else 0.0

    @property
    def max_gap(self) -> float:
        return max((b - a for a, b in zip(self.arrivals, self.arrivals[1:], strict=False)), default=0.0)


async def direct(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], seed: int, delay: float = 0.0
) -> Streamed:
    """Stream ``body`` from the OpenAI-compatible server at ``url`` (…/v1), ``delay`` seconds from now,
    and time it."""
    if delay > 0:
        await asyncio.sleep(delay)
    out = Streamed("direct", seed, time.monotonic())
    out.generation_started = out.opened
    try:
        async with session.post(url + "/chat/completions", json=body) as reply:
            if reply.status != 200:
                out.error = f"HTTP {reply.status}"
                return out
            async for line in reply.content:
                if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                    continue
                now = time.monotonic()
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    out.tokens = int(chunk["usage"]["completion_tokens"])
                choices = chunk.get("choices") or [{}]
                if (choices[0].get("delta") or {}).get("content"):
                    out.deltas += 1
                    out.first = out.first or now
                    out.last = now
                    out.arrivals.append(now)
    except (aiohttp.ClientError, OSError) as exc:
        out.error = type(exc).__name__
    return out


async def through_qianshi(
    stub: interpret_service_pb2_grpc.InterpretServiceStub, spec: Spec, design: str
) -> Streamed:
    """One ``Interpret`` with ``spec``'s poem, question, seed and length, timed at the client."""
    out = Streamed(design, spec.seed, time.monotonic())
    options = pb.GenerationOptions(max_tokens=spec.max_tokens, seed=spec.seed)
    call = stub.Interpret(
        pb.InterpretRequest(set_id=spec.set_id, number=spec.number, question=spec.question, options=options),
        timeout=300,
    )
    try:
        while (event := await call.read()) is not grpc.aio.EOF:
            now = time.monotonic()
            out.arrivals.append(now)
            kind = event.WhichOneof("payload")
            if kind == "stage_started" and event.stage_started.stage == events_pb2.STAGE_GENERATION:
                out.generation_started = now
            elif kind == "text_delta":
                out.deltas += 1
                out.first = out.first or now
                out.last = now
            elif kind == "result":
                out.tokens = event.result.usage.completion_tokens
            elif kind == "error":
                out.error = event.error.status.message
    except grpc.aio.AioRpcError as exc:
        out.error = out.error or exc.code().name
    return out


class Capture:
    """An OpenAI-compatible endpoint that only records the chat requests it gets (by seed) and
    answers 503: a Qianshi server pointed at it shows exactly what it would send to vLLM."""

    def __init__(self) -> None:
        self.bodies: dict[int, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self.url

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies[int(body.get("seed", -1))] = body
        return web.json_response({"error": {"message": "capture only", "code": 503}}, status=503)

    async def requests(
        self, stub: interpret_service_pb2_grpc.InterpretServiceStub, specs: list[Spec]
    ) -> dict[int, dict[str, Any]]:
        """The body Qianshi sends for each spec (the calls themselves fail: nothing generates here)."""
        for spec in specs:
            if spec.seed not in self.bodies:
                await through_qianshi(stub, spec, "capture")
        missing = [s.seed for s in specs if s.seed not in self.bodies]
        if missing:
            raise RuntimeError(f"Qianshi sent no LLM request for seeds {missing}")
        return {s.seed: self.bodies[s.seed] for s in specs}

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def run_streams(coros: list[Any]) -> list[Streamed]:
    return list(await asyncio.gather(*coros))
