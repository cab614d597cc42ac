"""The synchronous client: ``Client`` over a plain ``grpc`` channel, for scripts and threads.

The same methods as ``AsyncClient``; streams are generators of ``qianshi.v1.ProgressEvent``.
Closing a generator before its terminal event (``close()``, or garbage collection after a
``break``) cancels the gRPC call. Do not call it from the thread of a running grpc.aio server: a
synchronous gRPC client called there deadlocks (FACTS.md).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

import grpc
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

__all__ = ["Client"]

log = logging.getLogger("qianshi.client")


class Client:
    """A synchronous client of ``qianshi.v1.InterpretService``; see ``AsyncClient`` for the options.

    Use it as a context manager or call :meth:`close`. Pass ``channel`` to use a channel you own
    (for example ``grpc_testing.channel(...)`` in tests); the client then never closes it.
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
        channel: grpc.Channel | None = None,
    ) -> None:
        self.target = target if isinstance(target, str) else ",".join(target)
        self._targets = Targets(target if channel is None else "channel")
        self._token = token
        self._metadata = tuple(metadata or ())
        self._retry = retry if retry is not None else RetryPolicy()
        self._options = with_lb_policy(channel_options or ())
        if server_name:
            self._options.append(("grpc.ssl_target_name_override", server_name))
        use_tls = tls or any(p is not None for p in (root_certificates, client_cert, client_key))
        self._credentials = (
            channel_credentials(root_certificates, client_cert, client_key) if use_tls else None
        )
        self._owns_channel = channel is None
        self._channel = channel
        self._channels: dict[str, grpc.Channel] = {}
        self._stubs: dict[str, Any] = {}

    @property
    def _stub(self) -> Any:
        """The stub of the target in use (one channel per target, made on first use)."""
        target = self._targets.current
        stub = self._stubs.get(target)
        if stub is None:
            channel = self._channel
            if channel is None:
                if self._credentials is not None:
                    channel = grpc.secure_channel(target, self._credentials, self._options)
                else:
                    channel = grpc.insecure_channel(target, self._options)
                self._channels[target] = channel
            stub = self._stubs[target] = interpret_service_pb2_grpc.InterpretServiceStub(channel)
        return stub

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channels (those the client created); calls still running are cancelled."""
        channels, self._channels, self._stubs = list(self._channels.values()), {}, {}
        for channel in channels:
            channel.close()

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
    ) -> Generator[events_pb2.ProgressEvent, None, None]:
        """Start an interpretation and yield its events until the terminal one (see AsyncClient)."""
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
    ) -> Generator[events_pb2.ProgressEvent, None, None]:
        """Like :meth:`interpret`, resuming through Watch after UNAVAILABLE (on the next target when
        there are several) and sending the request again when its task was lost (see
        AsyncClient.follow)."""
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
    ) -> Generator[events_pb2.ProgressEvent, None, None]:
        """Yield the events of a prebuilt ``InterpretRequest`` (``interpret``/``follow`` in one)."""
        if not request.request_id:
            request = interpret_service_pb2.InterpretRequest.FromString(request.SerializeToString())
            request.request_id = new_request_id()
        md = call_metadata(self._token, self._metadata, metadata)

        def open_call() -> Any:
            return self._stub.Interpret(request, timeout=timeout, metadata=md)

        if resume:
            return self._follow(open_call, timeout=timeout, metadata=md, raise_on_error=raise_on_error)
        return self._events(open_call, raise_on_error=raise_on_error)

    def watch(
        self,
        task_id: str,
        after_seq: int = 0,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
        raise_on_error: bool = False,
    ) -> Generator[events_pb2.ProgressEvent, None, None]:
        """Re-attach to a task: its events after ``after_seq``, then live until the terminal one."""
        md = call_metadata(self._token, self._metadata, metadata)
        return self._events(
            self._watch_opener(task_id, after_seq, timeout, md), raise_on_error=raise_on_error
        )

    def _watch_opener(
        self, task_id: str, after_seq: int, timeout: float | None, metadata: Metadata
    ) -> Callable[[], Any]:
        request = interpret_service_pb2.WatchRequest(task_id=task_id, after_seq=after_seq)
        return lambda: self._stub.Watch(request, timeout=timeout, metadata=metadata)

    def _events(
        self, open_call: Callable[[], Any], *, raise_on_error: bool
    ) -> Generator[events_pb2.ProgressEvent, None, None]:
        retry, moved = 0, 0
        while True:
            call = open_call()
            received = switched = False
            try:
                while True:
                    try:
                        event = cast(events_pb2.ProgressEvent, next(call))
                    except StopIteration:
                        return
                    except grpc.RpcError as exc:
                        if not received and self._retry.retries_first_event(exc.code(), retry):
                            break
                        if not received and self._targets.moves_on(exc.code(), moved):
                            moved, switched = moved + 1, True
                            break
                        raise errors.from_rpc_error(exc) from exc
                    received = True
                    if is_terminal(event):
                        self._drain(call)
                        if raise_on_error and event.HasField("error"):
                            raise errors.from_error_event(event)
                        yield event
                        return
                    yield event
            finally:
                call.cancel()
            if switched:
                continue  # another target: at once
            time.sleep(self._retry.backoff(retry))
            retry += 1

    @staticmethod
    def _drain(call: Any) -> None:
        """Read the end of the call after its terminal event, so that it completes rather than
        being cancelled. The contract ends the stream right after the terminal event; a server that
        kept it open would hold this up to the call's deadline (AsyncClient bounds the wait)."""
        with contextlib.suppress(StopIteration, grpc.RpcError):
            next(call)

    def _follow(
        self,
        open_call: Callable[[], Any],
        *,
        timeout: float | None,
        metadata: Metadata,
        raise_on_error: bool,
    ) -> Generator[events_pb2.ProgressEvent, None, None]:
        task_id, last_seq, failures, restarts = "", 0, 0, 0
        while True:
            opener = self._watch_opener(task_id, last_seq, timeout, metadata) if task_id else open_call
            inner = self._events(opener, raise_on_error=False)
            failure: errors.QianshiClientError | None = None
            lost = ""
            try:
                try:
                    for event in inner:
                        if task_id and (event.task_id != task_id or event.seq <= last_seq):
                            continue  # a replay of what was already delivered
                        if restarts < self._retry.restarts and (lost := lost_reason(event)):
                            break
                        task_id, last_seq, failures = event.task_id, event.seq, 0
                        if raise_on_error and event.HasField("error"):
                            failure = errors.from_error_event(event)
                            break
                        yield event
                finally:
                    inner.close()
            except (errors.Unavailable, errors.NotFound) as exc:
                lost = log_lost(exc, resuming=bool(task_id)) if restarts < self._retry.restarts else ""
                if not lost:
                    if isinstance(exc, errors.NotFound) or failures >= self._retry.resumes:
                        raise
                    self._targets.rotate()
                    time.sleep(self._retry.backoff(failures))
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

    def _unary(self, method: str, request: Any, timeout: float | None, metadata: Metadata | None) -> Any:
        md = call_metadata(self._token, self._metadata, metadata)
        moved = 0
        while True:
            try:
                return getattr(self._stub, method)(request, timeout=timeout, metadata=md)
            except grpc.RpcError as exc:
                if self._targets.moves_on(exc.code(), moved):
                    moved += 1
                    continue
                raise errors.from_rpc_error(exc) from exc

    def cancel(self, task_id: str, *, timeout: float | None = None, metadata: Metadata | None = None) -> bool:
        """Stop a task; True when it was live and is now being cancelled, False when it had ended."""
        request = interpret_service_pb2.CancelRequest(task_id=task_id)
        return bool(self._unary("Cancel", request, timeout, metadata).cancelled)

    def list_sets(
        self, *, timeout: float | None = None, metadata: Metadata | None = None
    ) -> list[poems_pb2.PoemSet]:
        """The poem sets the server knows, in a stable order."""
        response = self._unary("ListSets", interpret_service_pb2.ListSetsRequest(), timeout, metadata)
        return list(response.sets)

    def get_poem(
        self, set_id: str, number: int, *, timeout: float | None = None, metadata: Metadata | None = None
    ) -> poems_pb2.Poem:
        """One poem with its traditional judgments."""
        request = interpret_service_pb2.GetPoemRequest(set_id=set_id, number=number)
        return cast(poems_pb2.Poem, self._unary("GetPoem", request, timeout, metadata).poem)
