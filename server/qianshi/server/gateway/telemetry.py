"""The gateway's Prometheus metrics, served at ``/metrics`` on its own port.

The metrics themselves are declared in ``qianshi.server.observability.metrics.gateway_metrics`` (open SSE streams,
requests by route pattern and status, events relayed by kind, event-loop lag, measured by a task of
the app's lifespan), each app in a registry of its own.
Requests are counted by a small ASGI middleware when they end, labelled with the route's pattern
(``/v1/tasks/{task_id}/events``) rather than the raw path, so task ids do not become label values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from qianshi.server.observability.metrics import GatewayMetrics
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CountRequests:
    """ASGI middleware: count every HTTP request when it ends, by route pattern and status."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets when the app fails before it answers

        async def observing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, str(status)).inc()


def metrics_endpoint(metrics: GatewayMetrics) -> Callable[[Request], Awaitable[Response]]:
    """The ``GET /metrics`` handler: the app's registry in Prometheus' text format."""

    async def endpoint(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return endpoint
