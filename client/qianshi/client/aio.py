"""The asyncio client: ``AsyncClient`` over a ``grpc.aio`` channel.

Streams are async generators of ``qianshi.v1.ProgressEvent``. A stream ends after its terminal event
(``result`` or ``error``); by then the call has completed, so breaking out of the loop after it
cancels nothing. Leaving a stream earlier (``break`` followed by ``aclose()``, ``aclosing``, or
cancelling the task that reads it) cancels the gRPC call, and under the default disconnect policy
the server stops the task. A failed call raises the exception ``errors.from_rpc_error`` gives; a
terminal ``error`` event is yielded like any other event unless ``raise_on_error=True``.

See ``connection.py`` for the targets, what is retried, and when ``follow`` resumes a broken stream
or sends its request again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

import grpc
import grpc.aio
from qianshi.client import errors
from qianshi.client.connection import (
    DEFAULT_TARGET,
    Metadata,
    RetryPolicy,
    Targets,
    call_metadata,
    channel_credentials,
    log_lost,
    lost_reason,
)
from qianshi.client.connection import channel_options as with_lb_policy
from qianshi.client.events import is_terminal
from qianshi.client.messages import DisconnectPolicyLike, interpret_request, new_request_id
from qianshi.v1 import events_pb2, interpret_service_pb2, interpret_service_pb2_grpc, poems_pb2

__all__ = ["AsyncClient"]

_ProgressEvent = events_pb2.ProgressEvent
log = logging.getLogger("qianshi.client")


class AsyncClient:
    """A client of ``qianshi.v1.InterpretService`` for asyncio code.

    Use it as an async context manager (``async with AsyncClient(...) as client``) or call
    :meth:`close`. The channel is created on first use, in the running event loop. ``target`` is one
    address or several (``"a:50051,b:50051"`` or a list: see ``connection.py``). Pass ``channel``
    to use a channel you own (the client then never closes it). ``token`` is sent as
    ``authorization: Bearer <token>``; ``metadata`` goes with every call. TLS is used when ``tls``
    is true or any certificate path is given.
    """

    def __init__(
        self,
        target: str | Sequence[str] = DEFAULT_TARGET,
        *,
        token: str | None = None,
        tls: bool = False,
        root_certificates: str | Path | None = None,
        client_cert: str | Path | None = None,
        client_key: str | Path | None = None,
        server_name: str | None = None,
        metadata: Metadata | None = None,
        channel_options: Sequence[tuple[str, Any]] | None = None,
        retry: RetryPolicy | None = None,
        drain_timeout: float = 5.0,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        self.target = target if isinstance(target, str) else ",".join(target)
        self._targets = Targets(target if channel is None else "channel")
        self._token = token
        self._metadata = tuple(metadata or ())
        self._retry = retry if retry is not None else RetryPolicy()
        self._drain_timeout = drain_timeout
        self._options = with_lb_policy(channel_options or ())
        if server_name:
            self._options.append(("grpc.ssl_target_name_override", server_name))
        use_tls = tls or any(p is not None for p in (root_certificates, client_cert, client_key))
        self._credentials = (
            channel_credentials(root_certificates, client_cert, client_key) if use_tls else None
        )
        self._channel = channel
        self._owns_channel = channel is None
        self._stubs: dict[str, Any] = {}
        self._channels: dict[str, grpc.aio.Channel] = {}

    async def __aenter__(self) -> Self:
        self._get_stub()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self, grace: float | None = None) -> None:
        """Close the channels (those the client created); calls still running are cancelled."""
        channels, self._channels, self._stubs = list(self._channels.values()), {}, {}
        for channel in channels:
            await channel.close(grace)

    def _get_stub(self) -> Any:
        """The stub of the target in use (one channel per target, made on first use)."""
        target = self._targets.current
        stub = self._stubs.get(target)
        if stub is None:
            channel = self._channel
            if channel is None:
                if self._credentials is not None:
                    channel = grpc.aio.secure_channel(target, self._credentials, self._options)
                else:
                    channel = grpc.aio.insecure_channel(target, self._options)
                self._channels[target] = channel
            stub = self._stubs[target] = interpret_service_pb2_grpc.InterpretServiceStub(channel)
        return stub

    # --- streams ---------------------------------------------------------------------------------

    def interpret(
        self,
        set_id: str,
        number: int,
        question: str,
        *,
        category: str = "",
        locale: str = "",
        max_tokens: int = 0,
        temperature: float | None = None,
        seed: int | None = None,
        request_id: str | None = None,
        disconnect_policy: DisconnectPolicyLike | None = None,
        grace_period_s: float | None = None,
        timeout: float | None = None,
        metadata: Metadata | None = None,
        raise_on_error: bool = False,
    ) -> AsyncGenerator[events_pb2.ProgressEvent, None]:
        """Start an interpretation and stream its events until the terminal one.

        Arguments are those of :func:`qianshi.client.interpret_request` (``request_id=None`` draws
        one, which makes the automatic retry before the first event idempotent), plus the call's
        ``timeout`` in seconds (a deadline for the whole stream) and extra ``metadata``.
        """
        request = interpret_request(
            set_id,
            number,
            question,
            category=category,
            locale=locale,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            request_id=request_id,
            disconnect_policy=disconnect_policy,
            grace_period_s=grace_period_s,
        )
        return self.stream(request, timeout=timeout, metadata=metadata, raise_on_error=raise_on_error)

    def follow(
        self,
        set_id: str,
        number: int,
        question: str,
        *,
        category: str = "",
        locale: str = "",
        max_tokens: int = 0,
        temperature: float | None = None,
        seed: int | None = None,
        request_id: str | None = None,
        disconnect_policy: DisconnectPolicyLike | None = "keep_running",
        grace_period_s: float | None = None,
        timeout: float | None = None,
        metadata: Metadata | None = None,
        raise_on_error: bool = False,
    ) -> AsyncGenerator[events_pb2.ProgressEvent, None]:
        """Like :meth:`interpret`, but survive a broken connection: every event exactly once.

        When the stream fails with UNAVAILABLE after some events, it is resumed with
        ``Watch(task_id, after_seq=<last seq delivered>)`` — on the next target when there are
        several; before any event, the same request (same ``request_id``) is sent again. The task
        must outlive the broken connection on the server, hence the default disconnect policy
        KEEP_RUNNING here. When the task itself is lost (its server died: REPLICA_LOST, …) the same
        request is sent again and a new task follows, with a new ``task_id`` and ``seq`` from 1 (see
        ``connection.py``, Restarts). ``timeout`` applies to each call, not to the whole.
        """
        request = interpret_request(
            set_id,
            number,
            question,
            category=category,
            locale=locale,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            request_id=request_id,
            disconnect_policy=disconnect_policy,
            grace_period_s=grace_period_s,
        )
        return self.stream(
            request, resume=True, timeout=timeout, metadata=metadata, raise_on_error=raise_on_error
        )

    def stream(
        self,
        request: interpret_service_pb2.InterpretRequest,
        *,
        resume: bool = False,
        timeout: float | None = None,
        metadata: Metadata | None = None,
        raise_on_error: bool = False,
    ) -> AsyncGenerator[events_pb2.ProgressEvent, None]:
        """Stream the events of a prebuilt ``InterpretRequest`` (``interpret``/``follow`` in one).

        A request without ``request_id`` is given one (on a copy) so that retries re-attach.
        """
        if not request.request_id:
            request = interpret_service_pb2.InterpretRequest.FromString(request.SerializeToString())
            request.request_id = new_request_id()
        md = call_metadata(self._token, self._metadata, metadata)

        def open_call() -> Any:
            return self._get_stub().Interpret(request, timeout=timeout, metadata=md)

        if resume:
            return self._follow(open_call, call_timeout=timeout, metadata=md, raise_on_error=raise_on_error)
        return self._events(open_call, raise_on_error=raise_on_error)

    def watch(
        self,
        task_id: str,
        after_seq: int = 0,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
        raise_on_error: bool = False,
    ) -> AsyncGenerator[events_pb2.ProgressEvent, None]:
        """Re-attach to a task: its events after ``after_seq``, then live until the terminal one."""
        md = call_metadata(self._token, self._metadata, metadata)
        return self._events(
            self._watch_opener(task_id, after_seq, timeout, md), raise_on_error=raise_on_error
        )

    def _watch_opener(
        self, task_id: str, after_seq: int, timeout: float | None, metadata: Metadata
    ) -> Callable[[], Any]:
        request = interpret_service_pb2.WatchRequest(task_id=task_id, after_seq=after_seq)
        return lambda: self._get_stub().Watch(request, timeout=timeout, metadata=metadata)

    async def _events(
        self, open_call: Callable[[], Any], *, raise_on_error: bool
    ) -> AsyncGenerator[events_pb2.ProgressEvent, None]:
        retry, moved = 0, 0
        while True:
            call = open_call()
            received = switched = False
            try:
                while True:
                    try:
                        message = await call.read()
                    except grpc.aio.AioRpcError as exc:
                        if not received and self._retry.retries_first_event(exc.code(), retry):
                            break
                        if not received and self._targets.moves_on(exc.code(), moved):
                            moved, switched = moved + 1, True
                            break
                        raise errors.from_rpc_error(exc) from exc
                    if message is grpc.aio.EOF:
                        return
                    event = cast(_ProgressEvent, message)
                    received = True
                    if is_terminal(event):
                        await self._drain(call)
                        if raise_on_error and event.HasField("error"):
                            raise errors.from_error_event(event)
                        yield event
                        return
                    yield event
            finally:
                call.cancel()
            if switched:
                continue  # another target: at once
            await asyncio.sleep(self._retry.backoff(retry))
            retry += 1

    async def _drain(self, call: Any) -> None:
        """Let the call end after its terminal event (so that it completes rather than being
        cancelled), within ``drain_timeout`` in case a server keeps the stream open."""
        with contextlib.suppress(grpc.aio.AioRpcError, TimeoutError):
            async with asyncio.timeout(self._drain_timeout):
                await call.read()

    async def _follow(
        self,
        open_call: Callable[[], Any],
        *,
        call_timeout: float | None,
        metadata: Metadata,
        raise_on_error: bool,
    ) -> AsyncGenerator[events_pb2.ProgressEvent, None]:
        task_id, last_seq, failures, restarts = "", 0, 0, 0
        while True:
            opener = self._watch_opener(task_id, last_seq, call_timeout, metadata) if task_id else open_call
            inner = self._events(opener, raise_on_error=False)
            failure: errors.QianshiClientError | None = None
            lost = ""
            try:
                async with contextlib.aclosing(inner):
                    async for event in inner:
                        if task_id and (event.task_id != task_id or event.seq <= last_seq):
                            continue  # a replay of what was already delivered
                        if restarts < self._retry.restarts and (lost := lost_reason(event)):
                            break
                        task_id, last_seq, failures = event.task_id, event.seq, 0
                        if raise_on_error and event.HasField("error"):
                            failure = errors.from_error_event(event)
                            break
                        yield event
            except (errors.Unavailable, errors.NotFound) as exc:
                lost = log_lost(exc, resuming=bool(task_id)) if restarts < self._retry.restarts else ""
                if not lost:
                    if isinstance(exc, errors.NotFound) or failures >= self._retry.resumes:
                        raise
                    self._targets.rotate()
                    await asyncio.sleep(self._retry.backoff(failures))
                    failures += 1
                    continue
            if lost:
                log.info("task %s was lost (%s): sending the request again", task_id or "-", lost)
                task_id, last_seq, restarts = "", 0, restarts + 1
                continue
            if failure is not None:
                raise failure
            return

    # --- unary calls -----------------------------------------------------------------------------

    async def _unary(
        self, method: str, request: Any, deadline_s: float | None, metadata: Metadata | None
    ) -> Any:
        md = call_metadata(self._token, self._metadata, metadata)
        moved = 0
        while True:
            try:
                return await getattr(self._get_stub(), method)(request, timeout=deadline_s, metadata=md)
            except grpc.aio.AioRpcError as exc:
                if self._targets.moves_on(exc.code(), moved):
                    moved += 1
                    continue
                raise errors.from_rpc_error(exc) from exc

    async def cancel(
        self,
        task_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a gRPC deadline, sent to the server
        metadata: Metadata | None = None,
    ) -> bool:
        """Stop a task; True when it was live and is now being cancelled, False when it had ended."""
        request = interpret_service_pb2.CancelRequest(task_id=task_id)
        response = await self._unary("Cancel", request, timeout, metadata)
        return bool(response.cancelled)

    async def list_sets(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a gRPC deadline, sent to the server
        metadata: Metadata | None = None,
    ) -> list[poems_pb2.PoemSet]:
        """The poem sets the server knows, in a stable order."""
        response = await self._unary("ListSets", interpret_service_pb2.ListSetsRequest(), timeout, metadata)
        return list(response.sets)

    async def get_poem(
        self,
        set_id: str,
        number: int,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a gRPC deadline, sent to the server
        metadata: Metadata | None = None,
    ) -> poems_pb2.Poem:
        """One poem with its traditional judgments."""
        request = interpret_service_pb2.GetPoemRequest(set_id=set_id, number=number)
        response = await self._unary("GetPoem", request, timeout, metadata)
        return cast(poems_pb2.Poem, response.poem)
