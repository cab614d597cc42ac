"""What the gateway tests run: the gateway in-process under uvicorn on 127.0.0.1:0, an SSE reader, a
middleware that drops a stream mid-way, and a token-checking front for the auth tests.

Everything is real: uvicorn serves real HTTP on a socket the test binds, the gateway talks real gRPC
to a real ``qianshi-server`` (tests/service/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
import httpx
import uvicorn
from qianshi.server.gateway.app import create_app
from qianshi.server.gateway.settings import Settings
from qianshi.v1 import interpret_service_pb2_grpc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@dataclass
class Gateway:
    url: str
    app: Any

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=TIMEOUT, **kwargs)


@contextlib.asynccontextmanager
async def gateway(
    settings: Settings, wrap: Callable[[ASGIApp], ASGIApp] | None = None
) -> AsyncIterator[Gateway]:
    """Serve ``create_app(settings)`` (optionally wrapped in a middleware) until the block ends.

    The socket is bound and listening before uvicorn starts, so requests made at once wait in its
    backlog until the app's lifespan has started: nothing to poll for.
    """
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        wrap(app) if wrap else app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        yield Gateway(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):
            await task
        sock.close()


# --- reading SSE -----------------------------------------------------------------------------------


@dataclass
class Frame:
    """One SSE frame as a browser parses it (plus the comments seen before it)."""

    id: str | None = None
    event: str = "message"
    data: str = ""
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.data)

    @property
    def seq(self) -> int:
        return int(self.json["seq"])


async def frames(response: httpx.Response, limit: int | None = None) -> list[Frame]:
    """Parse the response's SSE frames (up to ``limit`` of them; then stop reading)."""
    out: list[Frame] = []
    async for frame in iter_frames(response):
        out.append(frame)
        if limit is not None and len(out) >= limit:
            break
    return out


async def iter_frames(response: httpx.Response) -> AsyncIterator[Frame]:
    current = Frame()
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data or current.id is not None or current.retry is not None:
                current.data = "\n".join(data)
                yield current
                current, data = Frame(), []
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "":
            current.comments.append(value)
        elif name == "data":
            data.append(value)
        elif name == "id":
            current.id = value
        elif name == "event":
            current.event = value
        elif name == "retry":
            current.retry = int(value)


async def comments(response: httpx.Response) -> list[str]:
    """Every SSE comment of the response, read to its end."""
    seen: list[str] = []
    async for frame in iter_frames(response):
        seen.extend(frame.comments)
    return seen


# --- dropping a stream mid-way ---------------------------------------------------------------------


class CutStreams:
    """ASGI middleware for tests: the first ``times`` responses on ``path`` that start a stream (no
    ``Last-Event-ID``) are cut after ``after_frames`` event frames, as a dropped connection would be:
    the browser sees its stream end (and reconnects by itself), the gateway sees the client
    disconnect (and cancels its gRPC call)."""

    def __init__(
        self, app: ASGIApp, *, path: str = "/v1/interpret", after_frames: int, times: int = 1
    ) -> None:
        self.app = app
        self.path = path
        self.after_frames = after_frames
        self.times = times
        self.cuts = 0
        self.resumed: list[str] = []
        """The Last-Event-ID of every reconnect that followed."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"last-event-id" in headers:
            self.resumed.append(headers[b"last-event-id"].decode())
        if self.cuts >= self.times or b"last-event-id" in headers:
            await self.app(scope, receive, send)
            return
        self.cuts += 1
        cut = asyncio.Event()
        sent = 0

        async def cutting_send(message: Message) -> None:
            nonlocal sent
            if cut.is_set():
                return
            await send(message)
            if message["type"] == "http.response.body" and message.get("body", b"").startswith(b"id: "):
                sent += 1
                if sent >= self.after_frames:
                    cut.set()
                    await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def cutting_receive() -> Message:
            if not cut.is_set():
                incoming = asyncio.ensure_future(receive())
                dropped = asyncio.ensure_future(cut.wait())
                done, pending = await asyncio.wait({incoming, dropped}, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                if incoming in done:
                    return incoming.result()
            return {"type": "http.disconnect"}

        await self.app(scope, cutting_receive, cutting_send)


# --- a backend that requires a token ---------------------------------------------------------------


class TokenFront(interpret_service_pb2_grpc.InterpretServiceServicer):
    """A gRPC front that refuses calls without ``authorization: Bearer <token>`` (UNAUTHENTICATED)
    and forwards the others to the real server: what a server with authentication on looks like."""

    def __init__(self, backend: str, token: str) -> None:
        self.backend = backend
        self.token = token
        self.seen: list[str | None] = []
        self._channel: grpc.aio.Channel | None = None
        self._stub: Any = None

    def stub(self) -> Any:
        if self._stub is None:
            self._channel = grpc.aio.insecure_channel(self.backend)
            self._stub = interpret_service_pb2_grpc.InterpretServiceStub(self._channel)
        return self._stub

    async def _check(self, context: grpc.aio.ServicerContext) -> None:
        authorization = dict(context.invocation_metadata() or ()).get("authorization")
        self.seen.append(authorization)
        if authorization != f"Bearer {self.token}":
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a valid token is required")

    async def ListSets(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._check(context)
        return await self.stub().ListSets(request)

    async def Interpret(self, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        await self._check(context)
        async for event in self.stub().Interpret(request):
            yield event

    async def aclose(self) -> None:
        if self._channel is not None:
            await self._channel.close()


@contextlib.asynccontextmanager
async def token_front(backend: str, token: str) -> AsyncIterator[tuple[str, TokenFront]]:
    front = TokenFront(backend, token)
    server = grpc.aio.server()
    interpret_service_pb2_grpc.add_InterpretServiceServicer_to_server(front, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", front
    finally:
        await server.stop(None)
        await front.aclose()
