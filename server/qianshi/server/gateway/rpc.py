"""gRPC-Web and Connect for typed web clients: ``qianshi.v1.InterpretService`` relayed to the server.

::

    POST /qianshi.v1.InterpretService/Interpret   server stream   (gRPC-Web or Connect)
    POST /qianshi.v1.InterpretService/Watch       server stream
    POST /qianshi.v1.InterpretService/Cancel      unary
    POST /qianshi.v1.InterpretService/ListSets    unary
    POST /qianshi.v1.InterpretService/GetPoem     unary

Web front-ends with generated clients (``@connectrpc/connect-web``'s Connect and gRPC-Web transports,
``grpc-web``) speak these protocols over HTTP/1.1 fetch; ``connectrpc`` (the Connect project's Python
runtime) serves both, telling them apart by content type, from the gateway's own port — what Envoy's
grpc_web filter does in deploy/envoy.yaml, without Envoy.

Here the gateway is a relay, not an adapter (the SSE routes are the adapter): each call becomes the
same call on the gRPC server, with

* the same request message, decoded from binary or JSON and passed on untouched: the caller's
  ``disconnect_policy`` and ``request_id`` hold as they would over gRPC;
* the same token: ``Authorization: Bearer`` (or the ``--token-cookie`` cookie), as call metadata,
  and the page's W3C trace context (``traceparent``, ``tracestate``) beside it;
* the same deadline: ``grpc-timeout`` / ``connect-timeout-ms`` become the gRPC call's timeout (the
  time left when the call is made);
* the same cancellation: when the browser goes away (or aborts its fetch), connectrpc cancels the
  handler, which cancels the gRPC call; the server then applies the request's disconnect policy;
* the same outcome: every message the server sends, in order, then the call's own status — its
  code, message and ``google.rpc.Status`` details byte for byte (``errors.to_connect_error``).

The methods and message types are read from the generated descriptors (``qianshi.v1``), so a method
added to the contract is relayed without a change here and nothing can go stale. The relay uses a
plain stub on the gateway's channel rather than ``qianshi.client``: it must not retry, resume or
reinterpret anything, since the caller on the other side is a full gRPC-Web or Connect client that
makes those decisions itself.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, cast

import grpc
import grpc.aio
from connectrpc.compat import google_protobuf_codecs
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from connectrpc.request import RequestContext
from connectrpc.server import ConnectASGIApplication, Endpoint
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from qianshi.client import from_rpc_error, payload_kind
from qianshi.server.gateway.auth import Metadata, token_metadata
from qianshi.server.gateway.errors import to_connect_error
from qianshi.server.observability.metrics import GatewayMetrics
from qianshi.v1 import interpret_service_pb2, interpret_service_pb2_grpc
from starlette.requests import cookie_parser

SERVICE = interpret_service_pb2.DESCRIPTOR.services_by_name["InterpretService"]
PATH = "/" + SERVICE.full_name
"""Where the service is mounted: its methods are ``PATH/<Method>``."""

READ_MAX_BYTES = 64 * 1024
"""Largest request message accepted (the server's own ``--max-message-bytes`` default)."""

TRACE_HEADERS = ("traceparent", "tracestate")
"""W3C trace context a browser's instrumentation sends: passed on, so the server's task span
(``--otel``) continues the page's trace, as it does a gRPC caller's."""
_METADATA_VALUE = re.compile(r"[\x20-\x7e]{1,512}")


def method_info(method: MethodDescriptor) -> MethodInfo[Any, Any]:
    """connectrpc's description of one method of the contract (its message classes, its shape)."""
    if method.client_streaming:
        raise ValueError(f"{method.full_name}: client streaming cannot be relayed to browsers")
    return MethodInfo(
        name=method.name,
        service_name=SERVICE.full_name,
        input=message_factory.GetMessageClass(method.input_type),
        output=message_factory.GetMessageClass(method.output_type),
        idempotency_level=IdempotencyLevel.UNKNOWN,
        stream_type=StreamType.SERVER_STREAM if method.server_streaming else StreamType.UNARY,
    )


class Relay:
    """The handlers: each method of the contract, called on the gRPC server through ``stub()``."""

    def __init__(
        self,
        stub: Callable[[], interpret_service_pb2_grpc.InterpretServiceStub],
        *,
        token_cookie: str,
        metrics: GatewayMetrics,
    ) -> None:
        self._stub = stub
        self._token_cookie = token_cookie
        self._metrics = metrics

    def endpoints(self) -> dict[str, Endpoint[Any, Any]]:
        """``/qianshi.v1.InterpretService/<Method>`` → its endpoint, for every method."""
        out: dict[str, Endpoint[Any, Any]] = {}
        for method in SERVICE.methods:
            info = method_info(method)
            if method.server_streaming:
                out[f"{PATH}/{method.name}"] = Endpoint.server_stream(info, self._streaming(method.name))
            else:
                out[f"{PATH}/{method.name}"] = Endpoint.unary(info, self._unary(method.name))
        return out

    def _call_options(self, ctx: RequestContext[Any, Any]) -> dict[str, Any]:
        """The gRPC call's metadata (the caller's token) and timeout (the time its deadline leaves)."""
        remaining_ms = ctx.timeout_ms
        timeout = None if remaining_ms is None else max(remaining_ms, 1.0) / 1000
        return {"metadata": self._metadata(ctx), "timeout": timeout}

    def _metadata(self, ctx: RequestContext[Any, Any]) -> Metadata:
        headers = ctx.request_headers
        cookie = None
        if self._token_cookie and (raw := headers.get("cookie")):
            cookie = cookie_parser(raw).get(self._token_cookie)  # as Starlette reads the SSE routes'
        trace = tuple(
            (name, value)
            for name in TRACE_HEADERS
            if (value := headers.get(name)) is not None and _METADATA_VALUE.fullmatch(value)
        )
        return token_metadata(headers.get("authorization"), cookie) + trace

    def _unary(self, name: str) -> Callable[[Any, RequestContext[Any, Any]], Awaitable[Any]]:
        async def call(request: Any, ctx: RequestContext[Any, Any]) -> Any:
            try:
                method = getattr(self._stub(), name)
                return await method(request, **self._call_options(ctx))
            except grpc.aio.AioRpcError as exc:
                raise to_connect_error(from_rpc_error(exc)) from None
            except Exception as exc:  # a refusal of the gateway's own, or a bug (logged there)
                raise to_connect_error(exc) from None

        return call

    def _streaming(self, name: str) -> Callable[[Any, RequestContext[Any, Any]], AsyncIterator[Any]]:
        async def call(request: Any, ctx: RequestContext[Any, Any]) -> AsyncIterator[Any]:
            try:
                grpc_call = getattr(self._stub(), name)(request, **self._call_options(ctx))
            except Exception as exc:
                raise to_connect_error(exc) from None
            relayed = self._metrics.events_relayed
            self._metrics.open_streams.inc()
            try:
                while True:
                    try:
                        message = await grpc_call.read()
                    except grpc.aio.AioRpcError as exc:
                        raise to_connect_error(from_rpc_error(exc)) from None
                    if message is grpc.aio.EOF:
                        return
                    relayed.labels(payload_kind(message)).inc()  # both streams carry ProgressEvent
                    yield message
            finally:
                # The browser left, the deadline passed, or the stream ended: a no-op after the end.
                grpc_call.cancel()
                self._metrics.open_streams.dec()

        return call


class InterpretServiceASGI(ConnectASGIApplication[Relay]):
    """The relay as an ASGI app (mounted at ``PATH`` inside the gateway's Starlette app)."""

    def __init__(self, relay: Relay) -> None:
        super().__init__(
            service=relay,
            endpoints=lambda r: cast(Mapping[str, Any], r.endpoints()),
            read_max_bytes=READ_MAX_BYTES,
            codecs=google_protobuf_codecs(),
        )

    @property
    def path(self) -> str:
        return PATH
