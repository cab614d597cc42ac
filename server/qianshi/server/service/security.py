"""What the transport enforces before a handler runs: TLS, size limits, and well-formed requests.

- TLS: ``--tls-cert`` and ``--tls-key`` serve the gRPC port over TLS; ``--tls-client-ca`` also
  requires every client to present a certificate signed by that CA (mutual TLS). Without them the
  port is plaintext (for a loopback, a sidecar or a mesh that terminates TLS).
- Size limits: ``--max-message-bytes`` (a request message; gRPC itself answers RESOURCE_EXHAUSTED
  beyond it) and ``--max-metadata-bytes`` (all headers of a call; soft and hard limit alike, so the
  answer is always RESOURCE_EXHAUSTED, never a coin toss between the two limits). The question's
  length is the pipeline's own check (500 characters, INVALID_ARGUMENT).
- Bursts: gRPC core holds the calls that arrived but that grpc.aio has not yet taken (it takes
  them one at a time per method, one loop turn each) and, past 1,000 of them, cancels new ones at
  random (past 3,000, all): the CANCELLED that bursts of ≥ 2,000 stream opens saw (FACTS.md).
  ``--max-pending-calls`` raises both limits to one deterministic bound, so overload is answered
  by the service's own admission control (RESOURCE_EXHAUSTED with a retry hint) instead.
- Malformed requests: grpcio answers bytes that do not parse as the request message with UNKNOWN
  and the parser's exception text. ``RequestGuard`` parses them itself and answers INVALID_ARGUMENT
  with a plain message instead (the error contract: no status outside the documented ones, no
  ``str(exc)``).
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from qianshi.server.errors import InvalidArgument
from qianshi.server.service.status import from_error, to_grpc

Options = list[tuple[str, Any]]


def server_options(args: argparse.Namespace) -> Options:
    """gRPC server channel arguments for the size limits and the backlog of calls not yet taken."""
    return [
        ("grpc.max_receive_message_length", args.max_message_bytes),
        ("grpc.max_metadata_size", args.max_metadata_bytes),
        ("grpc.absolute_max_metadata_size", args.max_metadata_bytes),
        ("grpc.server.max_pending_requests", args.max_pending_calls),
        ("grpc.server.max_pending_requests_hard_limit", args.max_pending_calls),
    ]


def credentials(args: argparse.Namespace) -> grpc.ServerCredentials | None:
    """TLS server credentials from ``--tls-*``; None for plaintext. ``SystemExit`` on bad options."""
    cert, key, client_ca = args.tls_cert, args.tls_key, args.tls_client_ca
    if not (cert or key or client_ca):
        return None
    if not (cert and key):
        raise SystemExit("--tls-cert and --tls-key go together (and --tls-client-ca needs both)")
    try:
        chain, private = Path(cert).read_bytes(), Path(key).read_bytes()
        roots = Path(client_ca).read_bytes() if client_ca else None
    except OSError as exc:
        raise SystemExit(f"cannot read a TLS file: {exc.filename}: {exc.strerror}") from None
    return grpc.ssl_server_credentials(
        [(private, chain)], root_certificates=roots, require_client_auth=roots is not None
    )


def add_port(server: grpc.aio.Server, args: argparse.Namespace) -> int:
    """Bind ``--listen``, over TLS when configured; the bound port."""
    creds = credentials(args)
    if creds is None:
        return server.add_insecure_port(args.listen)
    return server.add_secure_port(args.listen, creds)


class _Malformed:
    """What the guard's deserializer returns for bytes that do not parse."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name


class RequestGuard(grpc.aio.ServerInterceptor):
    """Answers requests that do not parse with INVALID_ARGUMENT instead of grpcio's UNKNOWN."""

    def __init__(self) -> None:
        self._guarded: dict[int, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.request_deserializer is None:
            return handler
        # A method's handler is the same object on every call: guard it once, not per call.
        cached = self._guarded.get(id(handler))
        if cached is not None and cached[0] is handler:
            return cached[1]
        guarded = self._guard(handler, details.method.rsplit("/", 1)[-1])
        self._guarded[id(handler)] = (handler, guarded)
        return guarded

    def _guard(self, handler: grpc.RpcMethodHandler, name: str) -> grpc.RpcMethodHandler:
        parse = handler.request_deserializer

        def tolerant(data: bytes) -> Any:
            try:
                return parse(data)
            except (DecodeError, ValueError, TypeError):
                return _Malformed(name)

        if handler.request_streaming:
            kind = "stream_stream" if handler.response_streaming else "stream_unary"
            behavior = _checked_stream(getattr(handler, kind))
        else:
            kind = "unary_stream" if handler.response_streaming else "unary_unary"
            behavior = _checked_unary(getattr(handler, kind))
        return handler._replace(request_deserializer=tolerant, **{kind: behavior})


async def _refuse(context: grpc.aio.ServicerContext, malformed: _Malformed) -> None:
    error = InvalidArgument(
        f"the request is not a valid {malformed.type_name} request message", reason="MALFORMED_REQUEST"
    )
    await context.abort_with_status(to_grpc(from_error(error)))


def _checked_unary(behavior: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(behavior):

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            if isinstance(request, _Malformed):
                await _refuse(context, request)
            async for item in behavior(request, context):
                yield item

        return stream

    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(request, _Malformed):
            await _refuse(context, request)
        return await behavior(request, context)

    return call


def _checked_stream(behavior: Callable[..., Any]) -> Callable[..., Any]:
    async def requests(source: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async for request in source:
            if isinstance(request, _Malformed):
                await _refuse(context, request)
            yield request

    if inspect.isasyncgenfunction(behavior):

        async def stream(source: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async for item in behavior(requests(source, context), context):
                yield item

        return stream

    async def call(source: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
        return await behavior(requests(source, context), context)

    return call
