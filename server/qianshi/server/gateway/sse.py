"""Server-Sent Events: frames, event ids, the idle heartbeat, and the streaming response.

One ProgressEvent is one frame::

    id: <task_id>:<seq>
    event: <payload kind>          accepted, tick, stage_started, … result, error
    data: <the event as protobuf JSON, on one line>

so that a browser's automatic reconnect carries ``Last-Event-ID: <task_id>:<seq>`` and the gateway
can resume the task through ``Watch(task_id, after_seq=seq)``: no event lost, none repeated. The
first frame also carries ``retry:`` (the reconnection delay the browser should use).

The server never leaves a live stream silent for longer than its tick interval, so the heartbeat
(an SSE comment) is only heard when something between the server and the gateway stalls; it keeps
proxies from cutting a stream that is merely slow.

Framing is sse-starlette's; its fixed-interval ping is off (the heartbeat here is sent only into
silence). Its disconnect listener is what makes a browser disconnect cancel the gRPC call at once:
the stream's task is cancelled, which cancels the read in progress, which cancels the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

import anyio
from qianshi.client import QianshiClientError, event_to_json, is_terminal, payload_kind
from qianshi.server.gateway.errors import GatewayError, error_frame_data
from qianshi.server.observability.metrics import GatewayMetrics
from qianshi.v1 import events_pb2
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

Events = AsyncGenerator[events_pb2.ProgressEvent, None]

#: Headers that keep proxies and browsers from caching or buffering a stream.
STREAM_HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}

_EVENT_ID = re.compile(r"(?P<task>[A-Za-z0-9_-]{1,128}):(?P<seq>0|[1-9][0-9]{0,17})")


@dataclass(frozen=True, slots=True)
class EventId:
    """Where a stream stands: the task and the last seq delivered."""

    task_id: str
    seq: int

    def __str__(self) -> str:
        return f"{self.task_id}:{self.seq}"


def parse_event_id(value: str, field: str = "Last-Event-ID") -> EventId:
    """Parse ``<task_id>:<seq>``; a malformed value is INVALID_ARGUMENT naming ``field``."""
    match = _EVENT_ID.fullmatch(value.strip())
    if match is None:
        raise GatewayError.bad_field(field, "expected <task_id>:<seq>, as sent in the id: field")
    return EventId(match["task"], int(match["seq"]))


def event_frame(event: events_pb2.ProgressEvent, retry_ms: int | None = None) -> ServerSentEvent:
    """The frame of one event."""
    return ServerSentEvent(
        data=event_to_json(event),
        event=payload_kind(event),
        id=str(EventId(event.task_id, event.seq)),
        retry=retry_ms,
        sep="\n",
    )


def error_frame(exc: BaseException, task_id: str) -> ServerSentEvent:
    """The final frame of a stream whose backend call failed after it started (no id: it is not an
    event of the task's log, so a reconnect resumes after the last real one)."""
    data = json.dumps(error_frame_data(exc, task_id), ensure_ascii=False, separators=(",", ":"))
    return ServerSentEvent(data=data, event="error", sep="\n")


def heartbeat_frame() -> ServerSentEvent:
    """An SSE comment: ignored by EventSource, enough to keep a proxy from calling the stream idle."""
    return ServerSentEvent(comment="heartbeat", sep="\n")


async def frames(
    first: events_pb2.ProgressEvent,
    events: Events,
    *,
    heartbeat_s: float,
    retry_ms: int,
    relayed: Callable[[str], None] = lambda kind: None,
) -> AsyncGenerator[ServerSentEvent, None]:
    """The frames of a stream whose first event was already read: events until the terminal one,
    a heartbeat into every ``heartbeat_s`` of silence, and an error frame if the call fails.

    The next event is read in a task of its own so that waiting for it can time out without
    cancelling the read (cancelling it would cancel the gRPC call). When the stream is cancelled
    (the browser went away), the read is cancelled and with it the call. ``relayed`` is told the
    kind of every event sent.
    """
    relayed(payload_kind(first))
    yield event_frame(first, retry_ms)
    if is_terminal(first):
        return
    task_id = first.task_id
    pending: asyncio.Future[events_pb2.ProgressEvent] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=heartbeat_s)
            if not done:
                yield heartbeat_frame()
                continue
            read, pending = pending, None
            try:
                event = read.result()
            except StopAsyncIteration:
                return
            except QianshiClientError as exc:
                yield error_frame(exc, task_id)
                return
            relayed(payload_kind(event))
            yield event_frame(event)
            if is_terminal(event):
                return
    finally:
        if pending is not None:
            pending.cancel()
            # anyio cancels every await inside a cancelled scope again; clean up shielded.
            with anyio.CancelScope(shield=True), contextlib.suppress(asyncio.CancelledError, Exception):
                await pending


class EventStream(EventSourceResponse):
    """The SSE response of one task: ``frames`` over ``events``, closing ``events`` at the end
    whatever happened (even when the browser left before the first frame was sent)."""

    def __init__(
        self,
        first: events_pb2.ProgressEvent,
        events: Events,
        *,
        heartbeat_s: float,
        retry_ms: int,
        metrics: GatewayMetrics,
    ) -> None:
        relayed = metrics.events_relayed
        self._frames = frames(
            first,
            events,
            heartbeat_s=heartbeat_s,
            retry_ms=retry_ms,
            relayed=lambda k: relayed.labels(k).inc(),
        )
        self._events = events
        self._open_streams = metrics.open_streams
        super().__init__(self._frames, headers=STREAM_HEADERS, ping=0, sep="\n")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._open_streams.inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._open_streams.dec()
            with anyio.CancelScope(shield=True):
                await close_quietly(self._frames, self._events)


async def close_quietly(*generators: AsyncGenerator[object, None]) -> None:
    """Close async generators (cancelling their gRPC calls), ignoring what closing raises."""
    for generator in generators:
        with contextlib.suppress(Exception):
            await generator.aclose()
