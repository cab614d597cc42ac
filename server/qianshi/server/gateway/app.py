"""The gateway's routes: the web page, Server-Sent Events of interpretations, and small look-ups.

::

    GET  /                                   the web page (static/, no CDN)
    GET  /healthz                            the backend's health (200 SERVING, else 503)
    GET  /v1/interpret?set=&number=&question=[&category=&locale=&request_id=]   → SSE
    POST /v1/interpret        (the same as a JSON body)                         → SSE
    GET  /v1/tasks/{task_id}/events?after=N  resume a task's stream             → SSE
    POST /v1/tasks/{task_id}/cancel          → {"taskId", "cancelled"}
    GET  /v1/sets                            → {"sets": [...]}
    GET  /v1/sets/{set}/poems/{number}       → {"poem": {...}}
    GET  /metrics                            Prometheus metrics of the gateway (telemetry.py)
    POST /qianshi.v1.InterpretService/*      gRPC-Web and Connect for typed web clients (rpc.py)
    GET  /typed                              the page on the typed client (@connectrpc/connect-web)

Interpretations are started with the disconnect policy KEEP_RUNNING and the ``--grace`` window: a
browser that loses its connection comes back with ``Last-Event-ID`` (EventSource does so by itself,
to the same URL) and the gateway resumes the task with ``Watch`` from the next seq instead of
starting a new one. A stream is opened by reading its first event before the response starts, so
that bad input, unknown poems, a missing token or a full server are HTTP statuses (errors.py);
a resume with nothing left to send (the task ended and its last event was delivered) is
``204 No Content``, which tells EventSource to stop reconnecting.

The gateway is transport only: it talks to the gRPC server through ``qianshi.client`` alone (plus
the standard gRPC health check, which the client library does not offer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from qianshi.client import AsyncClient, QianshiClientError, RetryPolicy, event_to_json, from_rpc_error
from qianshi.client.connection import channel_credentials
from qianshi.client.messages import interpret_request
from qianshi.server.gateway import sse
from qianshi.server.gateway.auth import Metadata, bearer_metadata, check_origin
from qianshi.server.gateway.errors import GatewayError, error_response
from qianshi.server.gateway.rpc import PATH as RPC_PATH
from qianshi.server.gateway.rpc import InterpretServiceASGI, Relay
from qianshi.server.gateway.settings import Settings
from qianshi.server.gateway.telemetry import CountRequests, metrics_endpoint
from qianshi.server.observability.metrics import gateway_metrics, watch_loop_lag
from qianshi.v1 import interpret_service_pb2, interpret_service_pb2_grpc
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
SERVICE = interpret_service_pb2.DESCRIPTOR.services_by_name["InterpretService"].full_name
UNARY_TIMEOUT_S = 10.0
HEALTH_TIMEOUT_S = 2.0
MAX_BODY_BYTES = 64 * 1024

# What other sites' pages may send and read (--cors-origins): the SSE routes' headers, and those of the
# gRPC-Web and Connect protocols, whose clients read the status from the grpc-* headers.
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Last-Event-ID",
    "Connect-Protocol-Version",
    "Connect-Timeout-Ms",
    "Grpc-Timeout",
    "X-Grpc-Web",
    "X-User-Agent",
    "Traceparent",
    "Tracestate",
)
CORS_RESPONSE_HEADERS = ("Retry-After", "Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin")

# The page loads nothing from elsewhere; say so to the browser.
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Gateway:
    """The route handlers over one backend channel (opened in the app's lifespan, in its loop)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = gateway_metrics()
        self._client: AsyncClient | None = None
        self._health: Any = None
        self._stub: interpret_service_pb2_grpc.InterpretServiceStub | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Open the channel to the gRPC server in the server's event loop, and watch the loop's lag;
        close both at shutdown."""
        s = self.settings
        options = list(s.channel_options)
        if s.backend_tls or s.backend_ca:
            channel = grpc.aio.secure_channel(s.backend, channel_credentials(s.backend_ca or None), options)
        else:
            channel = grpc.aio.insecure_channel(s.backend, options)
        # A dead backend answers 503 after a few quick tries rather than after the default ~3 s.
        retry = RetryPolicy(resumes=3, max_backoff=0.5)
        self._client = AsyncClient(s.backend, channel=channel, retry=retry)
        self._health = health_pb2_grpc.HealthStub(channel)
        self._stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)
        lag = asyncio.create_task(watch_loop_lag(self.metrics), name="gateway-loop-lag")
        try:
            yield
        finally:
            lag.cancel()
            await asyncio.wait([lag])  # its CancelledError stays in it; ours, if any, propagates
            self._client = self._health = self._stub = None
            await channel.close(grace=None)

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise RuntimeError("the gateway's lifespan has not started")
        return self._client

    def stub(self) -> interpret_service_pb2_grpc.InterpretServiceStub:
        """A plain stub on the backend channel (the gRPC-Web / Connect relay's)."""
        if self._stub is None:
            raise RuntimeError("the gateway's lifespan has not started")
        return self._stub

    def _metadata(self, request: Request) -> Metadata:
        return bearer_metadata(request, self.settings.token_cookie)

    # --- the page and health ---------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    async def typed(self, request: Request) -> Response:
        return FileResponse(STATIC / "typed.html", headers=PAGE_HEADERS)

    async def healthz(self, request: Request) -> Response:
        """200 when the backend's InterpretService is SERVING, 503 with what it said otherwise."""
        body: dict[str, Any] = {"backend": self.settings.backend}
        try:
            reply = await self._health.Check(
                health_pb2.HealthCheckRequest(service=SERVICE), timeout=HEALTH_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as exc:
            error = from_rpc_error(exc)
            body.update(status="UNREACHABLE", error={"status": error.code_name, "message": error.message})
            return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
        body["status"] = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        code = 200 if reply.status == health_pb2.HealthCheckResponse.SERVING else 503
        return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})

    # --- streams ---------------------------------------------------------------------------------

    async def interpret(self, request: Request) -> Response:
        """Start an interpretation (or resume it, given ``Last-Event-ID``) and stream it."""
        if request.method == "HEAD":
            return _head()
        metadata = self._metadata(request)
        if request.method == "POST":
            check_origin(request, self.settings.cors_origins)
        resume = _last_event_id(request)
        if resume is not None:
            return await self._open(self.client.watch(resume.task_id, resume.seq, metadata=metadata))
        params = await _interpret_params(request)
        spec = interpret_request(
            _text(params, "set", aliases=("set_id", "setId")),
            _int(params, "number"),
            _text(params, "question"),
            category=_text(params, "category"),
            locale=_text(params, "locale"),
            request_id=_text(params, "request_id", aliases=("requestId",)) or None,
            disconnect_policy="keep_running",
            grace_period_s=self.settings.grace_s,
        )
        return await self._open(self.client.stream(spec, resume=True, metadata=metadata))

    async def task_events(self, request: Request) -> Response:
        """A task's events after ``after`` (or after ``Last-Event-ID``), then live to its end."""
        if request.method == "HEAD":
            return _head()
        task_id = request.path_params["task_id"]
        metadata = self._metadata(request)
        after = _int(request.query_params, "after", default=0)
        if after < 0:
            raise GatewayError.bad_field("after", "must be 0 or more")
        resume = _last_event_id(request)
        if resume is not None:
            if resume.task_id != task_id:
                raise GatewayError.bad_field("Last-Event-ID", "belongs to another task")
            after = resume.seq
        return await self._open(self.client.watch(task_id, after, metadata=metadata))

    async def _open(self, events: sse.Events) -> Response:
        """Read the first event (so that failures are still HTTP statuses), then stream the rest."""
        try:
            first = await anext(events)
        except StopAsyncIteration:
            await sse.close_quietly(events)
            return Response(status_code=204, headers=sse.STREAM_HEADERS)
        except BaseException:
            await sse.close_quietly(events)
            raise
        s = self.settings
        return sse.EventStream(
            first, events, heartbeat_s=s.heartbeat_s, retry_ms=s.retry_ms, metrics=self.metrics
        )

    # --- unary calls -----------------------------------------------------------------------------

    async def cancel(self, request: Request) -> Response:
        check_origin(request, self.settings.cors_origins)
        task_id = request.path_params["task_id"]
        cancelled = await self.client.cancel(
            task_id, timeout=UNARY_TIMEOUT_S, metadata=self._metadata(request)
        )
        return JSONResponse({"taskId": task_id, "cancelled": cancelled})

    async def sets(self, request: Request) -> Response:
        sets = await self.client.list_sets(timeout=UNARY_TIMEOUT_S, metadata=self._metadata(request))
        return _message(interpret_service_pb2.ListSetsResponse(sets=sets))

    async def poem(self, request: Request) -> Response:
        number = _int(request.path_params, "number")
        poem = await self.client.get_poem(
            request.path_params["set_id"], number, timeout=UNARY_TIMEOUT_S, metadata=self._metadata(request)
        )
        return _message(interpret_service_pb2.GetPoemResponse(poem=poem))


def _head() -> Response:
    """A HEAD of a stream: its headers, without starting (or watching) a task."""
    return Response(headers=sse.STREAM_HEADERS, media_type="text/event-stream")


def _message(message: Any) -> Response:
    return Response(event_to_json(message), media_type="application/json")


def _last_event_id(request: Request) -> sse.EventId | None:
    value = request.headers.get("last-event-id", "").strip()
    return sse.parse_event_id(value) if value else None


async def _interpret_params(request: Request) -> Mapping[str, Any]:
    if request.method != "POST":
        return request.query_params
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise GatewayError.bad_field("body", f"is larger than {MAX_BODY_BYTES // 1024} KiB")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise GatewayError.bad_field("body", "must be a JSON object") from None
    if not isinstance(body, dict):
        raise GatewayError.bad_field("body", "must be a JSON object")
    return body


def _text(params: Mapping[str, Any], name: str, aliases: tuple[str, ...] = ()) -> str:
    for key in (name, *aliases):
        value = params.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise GatewayError.bad_field(name, "must be a string")
        return value
    return ""


def _int(params: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name)
    if value is None or value == "":
        if default is not None:
            return default
        raise GatewayError.bad_field(name, "is required")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise GatewayError.bad_field(name, "must be a whole number")
    try:
        number = int(value)
    except ValueError:
        raise GatewayError.bad_field(name, "must be a whole number") from None
    if not -(2**31) <= number < 2**31:
        raise GatewayError.bad_field(name, "is out of range")
    return number


async def _on_error(request: Request, exc: Exception) -> Response:
    return error_response(exc)


def create_app(settings: Settings) -> Starlette:
    """The gateway as an ASGI app (uvicorn runs it; tests run it in-process on port 0)."""
    gateway = Gateway(settings)
    relay = Relay(gateway.stub, token_cookie=settings.token_cookie, metrics=gateway.metrics)
    routes = [
        Route("/", gateway.index),
        Route("/typed", gateway.typed),
        Route("/healthz", gateway.healthz),
        Route("/v1/interpret", gateway.interpret, methods=["GET", "POST"]),
        Route("/v1/tasks/{task_id}/events", gateway.task_events),
        Route("/v1/tasks/{task_id}/cancel", gateway.cancel, methods=["POST"]),
        Route("/v1/sets", gateway.sets),
        Route("/v1/sets/{set_id}/poems/{number}", gateway.poem),
        Route("/metrics", metrics_endpoint(gateway.metrics)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Mount(RPC_PATH, InterpretServiceASGI(relay)),
    ]
    middleware = [Middleware(CountRequests, metrics=gateway.metrics)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=[*CORS_REQUEST_HEADERS],
                allow_credentials=True,
                expose_headers=[*CORS_RESPONSE_HEADERS],
                max_age=600,
            )
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=gateway.lifespan,
        exception_handlers={GatewayError: _on_error, QianshiClientError: _on_error, Exception: _on_error},
    )
    app.state.gateway = gateway
    return app
