"""The gRPC transport of InterpretService: protobuf in, pipeline calls, protobuf out.

The handler never does the work itself: it validates, starts (or re-attaches to) a task in the
registry, and drains the task's event log into ``context.write``. A caller that stops reading stalls
only its own handler (FACTS.md: ``write`` waits for HTTP/2 flow control); the task keeps running and
its log keeps every event. Errors before the stream starts abort the call with a rich status; a task's
terminal ``error`` event ends the call with that same status.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

import grpc
from qianshi.server.domain import PoemSet
from qianshi.server.errors import BackendUnavailable, QianshiError, ResourceExhausted
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.requests import (
    Limits,
    validate,
    validate_after_seq,
    validate_poem_key,
    validate_task_id,
)
from qianshi.server.pipeline.seams import Retriever
from qianshi.server.service import convert
from qianshi.server.service.status import from_error, to_grpc
from qianshi.server.service.write_guard import WriteGuard
from qianshi.server.tasks.registry import Registry
from qianshi.v1 import interpret_service_pb2, interpret_service_pb2_grpc

Identify = Callable[[grpc.aio.ServicerContext], str]
"""Returns the caller's identity (the owner of the tasks it starts); "" when authentication is off."""


def anonymous(context: grpc.aio.ServicerContext) -> str:
    return ""


class InterpretService(interpret_service_pb2_grpc.InterpretServiceServicer):
    def __init__(
        self,
        registry: Registry,
        retriever: Retriever,
        sets: Mapping[str, PoemSet],
        limits: Limits,
        identify: Identify = anonymous,
        max_write_stall_s: float = 30.0,
    ) -> None:
        self.registry = registry
        self.retriever = retriever
        self.sets = dict(sets)
        self.limits = limits
        self.identify = identify
        self.writes = WriteGuard(max_write_stall_s)
        """Bounds one write's wait for a client that does not read; then the call ends (the task
        lives on, watchable)."""
        self.ready = True
        self.streams = 0
        """Interpret and Watch streams open now (read by the metrics' gauge)."""

    async def Interpret(
        self, request: interpret_service_pb2.InterpretRequest, context: grpc.aio.ServicerContext
    ) -> None:
        try:
            self._check_ready()
            spec = validate(convert.params(request), self.sets, self.limits)
            owner = self.identify(context)
            remaining = context.time_remaining()
            # The task ends a little before the call does, so its DEADLINE_EXCEEDED event (with the
            # text so far) still reaches the caller instead of losing the race to the call's expiry.
            deadline = None if remaining is None else time.monotonic() + remaining - _margin(remaining)
            task_id = await self.registry.start(spec, owner, deadline)
        except Exception as exc:
            await context.abort_with_status(to_grpc(from_error(exc)))
            return
        await self._stream(context, task_id, owner, 0)

    async def Watch(
        self, request: interpret_service_pb2.WatchRequest, context: grpc.aio.ServicerContext
    ) -> None:
        try:
            task_id = validate_task_id(request.task_id)
            after = validate_after_seq(request.after_seq)
        except Exception as exc:
            await context.abort_with_status(to_grpc(from_error(exc)))
            return
        await self._stream(context, task_id, self.identify(context), after)

    async def Cancel(
        self, request: interpret_service_pb2.CancelRequest, context: grpc.aio.ServicerContext
    ) -> interpret_service_pb2.CancelResponse:
        try:
            task_id = validate_task_id(request.task_id)
            cancelled = await self.registry.cancel(task_id, self.identify(context))
        except Exception as exc:
            await context.abort_with_status(to_grpc(from_error(exc)))
            raise  # unreachable: abort raises
        return interpret_service_pb2.CancelResponse(task_id=task_id, cancelled=cancelled)

    async def ListSets(
        self, request: interpret_service_pb2.ListSetsRequest, context: grpc.aio.ServicerContext
    ) -> interpret_service_pb2.ListSetsResponse:
        return interpret_service_pb2.ListSetsResponse(sets=[convert.poem_set(s) for s in self.sets.values()])

    async def GetPoem(
        self, request: interpret_service_pb2.GetPoemRequest, context: grpc.aio.ServicerContext
    ) -> interpret_service_pb2.GetPoemResponse:
        try:
            self._check_ready()
            validate_poem_key(request.set_id, request.number, self.sets)
            poem = await self.retriever.poem(request.set_id, request.number)
        except Exception as exc:
            await context.abort_with_status(to_grpc(from_error(exc)))
            raise  # unreachable: abort raises
        return interpret_service_pb2.GetPoemResponse(poem=convert.poem(poem))

    # ------------------------------------------------------------------------------------------------

    def _check_ready(self) -> None:
        if not self.ready:
            raise BackendUnavailable(
                "the index is being built; retry shortly", reason="NOT_READY", retry_after_s=2.0
            )

    async def _stream(self, context: grpc.aio.ServicerContext, task_id: str, owner: str, after: int) -> None:
        try:
            await self.registry.find(task_id, owner)
        except Exception as exc:
            await context.abort_with_status(to_grpc(from_error(exc)))
            return
        self.streams += 1
        delivered = after
        handler = asyncio.current_task()
        assert handler is not None
        try:
            async with self.registry.subscribe(task_id, owner, after) as events:
                try:
                    async for event in events:
                        if not await self.writes.write(handler, context, convert.event(event)):
                            # Detach, not cancel: the task stays watchable from the last delivered seq.
                            self.registry.keep_alive(task_id, self.limits.default_grace_s)
                            await _end_unread(context, _too_slow(task_id, delivered))
                            return
                        delivered = event.seq
                        payload = event.payload
                        if isinstance(payload, ev.Failure):
                            await context.abort_with_status(to_grpc(convert.failure_status(payload)))
                except QianshiError as exc:  # the log failed mid-way (a shared store down, the task expired)
                    await context.abort_with_status(to_grpc(from_error(exc)))
        finally:
            self.streams -= 1


async def _end_unread(context: grpc.aio.ServicerContext, error: ResourceExhausted) -> None:
    """End a call whose client stopped reading. Its status queues behind the unread data (the client
    sees it when it reads again), so the handler does not wait for it to be sent: it returns, and
    grpc finishes the aborted call on its own."""
    try:
        async with asyncio.timeout(0.1):
            await context.abort_with_status(to_grpc(from_error(error)))
    except TimeoutError:
        pass


def _margin(remaining: float) -> float:
    """How much earlier than the call's deadline its task ends: a tenth of it, at most 0.25 s."""
    return min(0.25, max(remaining, 0.0) * 0.1)


def _too_slow(task_id: str, delivered: int) -> ResourceExhausted:
    return ResourceExhausted(
        f"the client read too slowly: events up to seq {delivered} were delivered (seq {delivered + 1} may"
        f" have been); the task goes on: Watch task {task_id} after the last seq received to resume",
        reason="CLIENT_TOO_SLOW",
        retry_after_s=1.0,
    )
