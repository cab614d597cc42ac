"""The synchronous client: ``Client`` over a plain ``grpc`` channel, for scripts and threads.

The same methods as ``AsyncClient``; streams are generators of ``qianshi.v1.ProgressEvent``.
Closing a generator before its terminal event (``close()``, or garbage collection after a
``break``) cancels the gRPC call. Do not call it from the thread of a running grpc.aio server: a
synchronous gRPC client called there deadlocks (FACTS.md).
"""

from __future__ import annotations

import contextlib
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
    call_metadata,
    channel_credentials,
)
from qianshi.client.events import is_terminal
from qianshi.client.messages import DisconnectPolicyLike, interpret_request, new_request_id
from qianshi.v1 import events_pb2, interpret_service_pb2, interpret_service_pb2_grpc, poems_pb2

__all__ = ["Client"]


class Client:
    """A synchronous client of ``qianshi.v1.InterpretService``; see ``AsyncClient`` for the options.

    Use it as a context manager or call :meth:`close`. Pass ``channel`` to use a channel you own
    (for example ``grpc_testing.channel(...)`` in tests); the client then never closes it.
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
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
        self.target = target
        self._token = token
        self._metadata = tuple(metadata or ())
        self._retry = retry if retry is not None else RetryPolicy()
        options = list(channel_options or ())
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        self._owns_channel = channel is None
        if channel is None:
            if tls or any(p is not None for p in (root_certificates, client_cert, client_key)):
                credentials = channel_credentials(root_certificates, client_cert, client_key)
                channel = grpc.secure_channel(target, credentials, options)
            else:
                channel = grpc.insecure_channel(target, options)
        self._channel = channel
        self._stub: Any = interpret_service_pb2_grpc.InterpretServiceStub(channel)

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
        """Close the channel (when the client created it); calls still running are cancelled."""
        if self._owns_channel:
            self._channel.close()

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
        """Like :meth:`interpret`, resuming through Watch after UNAVAILABLE (see AsyncClient.follow)."""
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
        retry = 0
        while True:
            call = open_call()
            received = False
            try:
                while True:
                    try:
                        event = cast(events_pb2.ProgressEvent, next(call))
                    except StopIteration:
                        return
                    except grpc.RpcError as exc:
                        if not received and self._retry.retries_first_event(exc.code(), retry):
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
        task_id, last_seq, failures = "", 0, 0
        while True:
            opener = self._watch_opener(task_id, last_seq, timeout, metadata) if task_id else open_call
            inner = self._events(opener, raise_on_error=False)
            failure: errors.QianshiClientError | None = None
            try:
                try:
                    for event in inner:
                        if task_id and (event.task_id != task_id or event.seq <= last_seq):
                            continue  # a replay of what was already delivered
                        task_id, last_seq, failures = event.task_id, event.seq, 0
                        if raise_on_error and event.HasField("error"):
                            failure = errors.from_error_event(event)
                            break
                        yield event
                finally:
                    inner.close()
            except errors.Unavailable:
                if failures >= self._retry.resumes:
                    raise
                time.sleep(self._retry.backoff(failures))
                failures += 1
                continue
            if failure is not None:
                raise failure
            return

    # --- unary calls -----------------------------------------------------------------------------

    def _unary(self, method: str, request: Any, timeout: float | None, metadata: Metadata | None) -> Any:
        md = call_metadata(self._token, self._metadata, metadata)
        try:
            return getattr(self._stub, method)(request, timeout=timeout, metadata=md)
        except grpc.RpcError as exc:
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
