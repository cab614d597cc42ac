"""The gRPC side of the server's metrics and tracing: one interceptor around every RPC.

``RpcInterceptor`` reports each call's method and final status code to ``ServerMetrics`` and runs a
``before(context)`` hook first in the call's task (tracing takes the caller's W3C trace context from the
metadata there). It lives with the transport because it is the only piece of observability that knows
gRPC; the metrics themselves are in ``qianshi.server.observability.metrics``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from qianshi.server.observability.metrics import ServerMetrics


class RpcInterceptor(grpc.aio.ServerInterceptor):
    """Counts every RPC's final status code; ``before(context)`` runs first in each call's task."""

    def __init__(
        self,
        metrics: ServerMetrics | None,
        before: Callable[[grpc.aio.ServicerContext], None] | None = None,
    ) -> None:
        self.metrics = metrics
        self.before = before
        self._wrapped: dict[int, tuple[Any, Any]] = {}

    async def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        # A method's handler is the same object on every call: wrap it once, not per call.
        cached = self._wrapped.get(id(handler))
        if cached is not None and cached[0] is handler:
            return cached[1]
        method = "/".join(details.method.rsplit("/", 2)[-2:])  # "qianshi.v1.InterpretService/Interpret"
        wrapped = handler
        for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
            behavior = getattr(handler, kind)
            if behavior is not None:
                wrapped = handler._replace(**{kind: self._wrap(behavior, method)})
                break
        self._wrapped[id(handler)] = (handler, wrapped)
        return wrapped

    def _wrap(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        metrics, before = self.metrics, self.before

        def ended(context: grpc.aio.ServicerContext, error: BaseException | None) -> None:
            if metrics is not None:
                metrics.rpc_ended(method, _code(context, error))

        if inspect.isasyncgenfunction(behavior):

            async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                if before is not None:
                    before(context)
                error: BaseException | None = None
                try:
                    async for item in behavior(request, context):
                        yield item
                except BaseException as exc:
                    error = exc
                    raise
                finally:
                    ended(context, error)

            return stream

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if before is not None:
                before(context)
            error: BaseException | None = None
            try:
                return await behavior(request, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                ended(context, error)

        return call


def _code(context: grpc.aio.ServicerContext, error: BaseException | None) -> str:
    """The status an RPC ended with: the one it set or aborted with, else from how it ended."""
    try:
        code = context.code()
    except Exception:
        code = None
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    if isinstance(code, int) and code > 0:
        return next((c.name for c in grpc.StatusCode if c.value[0] == code), "UNKNOWN")
    if error is None or isinstance(error, GeneratorExit):
        return "OK"
    if isinstance(error, asyncio.CancelledError):
        return "CANCELLED"
    return "UNKNOWN"
