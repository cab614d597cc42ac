"""The synchronous Client against a scripted channel (grpcio-testing).

The client runs in a worker thread; the test thread plays the server: it takes each call the
client made, answers it event by event and ends it with a status. grpcio-testing drops the
responses not yet read when a call ends with an error status, so before ending a call with one the
test waits until the client has read what was sent (``Reader.wait_for``). The paths where a real
server matters (a status after the terminal event, cancellation reaching the server) are also run
against the real grpc.aio fake server at the end of this file.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
import grpc_testing
import pytest
from fake_qianshi_server import TASK_ID, FakeService, bad_request, canned_events, retry_info, rich_status
from qianshi.client import (
    Cancelled,
    Client,
    Internal,
    InvalidArgument,
    ResourceExhausted,
    RetryPolicy,
    Unavailable,
)
from qianshi.v1 import events_pb2, interpret_service_pb2, poems_pb2

SERVICE = interpret_service_pb2.DESCRIPTOR.services_by_name["InterpretService"]
METHODS = SERVICE.methods_by_name
FAST = RetryPolicy(attempts=2, resumes=2, initial_backoff=0)
WAIT = 10  # seconds; fails loudly if the client never finishes, not a timing assertion
T = TypeVar("T")


@pytest.fixture
def channel() -> Any:
    return grpc_testing.channel([SERVICE], grpc_testing.strict_real_time())


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1) as executor:
        yield executor


def in_thread(pool: ThreadPoolExecutor, fn: Callable[[], T]) -> Future[T]:
    return pool.submit(fn)


class Reader:
    """Reads a stream in the pool; the test thread can wait until ``n`` events were read."""

    def __init__(self, pool: ThreadPoolExecutor, stream: Iterator[events_pb2.ProgressEvent]) -> None:
        self.events: list[events_pb2.ProgressEvent] = []
        self._read: queue.Queue[None] = queue.Queue()
        self.done = pool.submit(self._run, stream)

    def _run(self, stream: Iterator[events_pb2.ProgressEvent]) -> list[events_pb2.ProgressEvent]:
        for event in stream:
            self.events.append(event)
            self._read.put(None)
        return self.events

    def wait_for(self, n: int) -> None:
        for _ in range(n):
            self._read.get(timeout=WAIT)


def test_interpret_streams_the_events_in_order(channel: Any, pool: ThreadPoolExecutor) -> None:
    client = Client(channel=channel, token="tok")
    done = in_thread(pool, lambda: list(client.interpret("mazu60", 1, "問事業", locale="en", seed=3)))
    metadata, request, rpc = channel.take_unary_stream(METHODS["Interpret"])
    for event in canned_events():
        rpc.send_response(event)
    rpc.terminate((), grpc.StatusCode.OK, "")
    assert done.result(WAIT) == canned_events()
    assert (request.set_id, request.number, request.locale, request.options.seed) == ("mazu60", 1, "en", 3)
    assert request.request_id
    assert ("authorization", "Bearer tok") in metadata


def test_an_error_event_ends_the_stream_without_raising(channel: Any, pool: ThreadPoolExecutor) -> None:
    client = Client(channel=channel)
    done = in_thread(pool, lambda: list(client.interpret("mazu60", 1, "q")))
    _, _, rpc = channel.take_unary_stream(METHODS["Interpret"])
    for event in canned_events(error=True):
        rpc.send_response(event)
    rpc.terminate((), grpc.StatusCode.OK, "")  # a real server ends with the error's status: see below
    events = done.result(WAIT)
    assert events[-1].HasField("error")


def test_invalid_argument_translates_with_field_violations(channel: Any, pool: ThreadPoolExecutor) -> None:
    client = Client(channel=channel, retry=FAST)
    done = in_thread(pool, lambda: list(client.interpret("mazu60", 0, "q")))
    _, _, rpc = channel.take_unary_stream(METHODS["Interpret"])
    status = rich_status(
        grpc.StatusCode.INVALID_ARGUMENT, "number out of range", bad_request("number", "1 to 60")
    )
    rpc.terminate(status.trailing_metadata, status.code, status.details)
    with pytest.raises(InvalidArgument) as caught:
        done.result(WAIT)
    assert [(v.field, v.description) for v in caught.value.field_violations] == [("number", "1 to 60")]


def test_cancelled_before_the_first_event_is_retried_with_the_same_request_id(
    channel: Any, pool: ThreadPoolExecutor
) -> None:
    client = Client(channel=channel, retry=FAST)
    done = in_thread(pool, lambda: list(client.interpret("mazu60", 1, "q")))
    _, first, rpc = channel.take_unary_stream(METHODS["Interpret"])
    rpc.terminate((), grpc.StatusCode.CANCELLED, "burst")
    _, second, rpc = channel.take_unary_stream(METHODS["Interpret"])
    for event in canned_events():
        rpc.send_response(event)
    rpc.terminate((), grpc.StatusCode.OK, "")
    assert done.result(WAIT) == canned_events()
    assert first.request_id == second.request_id


def test_cancelled_after_the_first_event_is_not_retried(channel: Any, pool: ThreadPoolExecutor) -> None:
    client = Client(channel=channel, retry=FAST)
    reader = Reader(pool, client.interpret("mazu60", 1, "q"))
    _, _, rpc = channel.take_unary_stream(METHODS["Interpret"])
    rpc.send_response(canned_events()[0])
    reader.wait_for(1)
    rpc.terminate((), grpc.StatusCode.CANCELLED, "task cancelled")
    with pytest.raises(Cancelled):
        reader.done.result(WAIT)
    assert [e.seq for e in reader.events] == [1]


def test_closing_the_generator_cancels_the_call(channel: Any, pool: ThreadPoolExecutor) -> None:
    client = Client(channel=channel)

    def read_one_and_close() -> int:
        stream = client.interpret("mazu60", 1, "q")
        first = next(stream)
        stream.close()
        return first.seq

    done = in_thread(pool, read_one_and_close)
    _, _, rpc = channel.take_unary_stream(METHODS["Interpret"])
    rpc.send_response(canned_events()[0])
    assert done.result(WAIT) == 1
    rpc.cancelled()  # returns once the client has cancelled; raises if the call ended otherwise


def test_follow_resumes_through_watch(channel: Any, pool: ThreadPoolExecutor) -> None:
    client = Client(channel=channel, retry=FAST)
    events = canned_events()
    reader = Reader(pool, client.follow("mazu60", 1, "q"))
    _, request, rpc = channel.take_unary_stream(METHODS["Interpret"])
    for event in events[:3]:
        rpc.send_response(event)
    reader.wait_for(3)
    rpc.terminate((), grpc.StatusCode.UNAVAILABLE, "connection reset")
    _, watch, rpc = channel.take_unary_stream(METHODS["Watch"])
    for event in events[1:]:  # replays more than asked: the client drops what it already delivered
        rpc.send_response(event)
    rpc.terminate((), grpc.StatusCode.OK, "")
    assert reader.done.result(WAIT) == events
    assert request.disconnect_policy == interpret_service_pb2.DISCONNECT_POLICY_KEEP_RUNNING
    assert (watch.task_id, watch.after_seq) == (TASK_ID, 3)


def test_follow_raises_unavailable_when_resumes_run_out(channel: Any, pool: ThreadPoolExecutor) -> None:
    client = Client(channel=channel, retry=RetryPolicy(resumes=0, initial_backoff=0))
    reader = Reader(pool, client.follow("mazu60", 1, "q"))
    _, _, rpc = channel.take_unary_stream(METHODS["Interpret"])
    rpc.send_response(canned_events()[0])
    reader.wait_for(1)
    rpc.terminate((), grpc.StatusCode.UNAVAILABLE, "down")
    with pytest.raises(Unavailable):
        reader.done.result(WAIT)


def test_list_sets_and_get_poem(channel: Any, pool: ThreadPoolExecutor) -> None:
    client = Client(channel=channel)
    sets = in_thread(pool, client.list_sets)
    _, _, rpc = channel.take_unary_unary(METHODS["ListSets"])
    response = interpret_service_pb2.ListSetsResponse(sets=[poems_pb2.PoemSet(id="mazu60", count=60)])
    rpc.terminate(response, (), grpc.StatusCode.OK, "")
    assert [(s.id, s.count) for s in sets.result(WAIT)] == [("mazu60", 60)]

    poem = in_thread(pool, lambda: client.get_poem("mazu60", 23))
    _, request, rpc = channel.take_unary_unary(METHODS["GetPoem"])
    rpc.terminate(
        interpret_service_pb2.GetPoemResponse(poem=poems_pb2.Poem(number=23)), (), grpc.StatusCode.OK, ""
    )
    assert poem.result(WAIT).number == 23
    assert (request.set_id, request.number) == ("mazu60", 23)


def test_unary_errors_translate_with_retry_after(channel: Any, pool: ThreadPoolExecutor) -> None:
    client = Client(channel=channel)
    cancelled = in_thread(pool, lambda: client.cancel(TASK_ID))
    _, _, rpc = channel.take_unary_unary(METHODS["Cancel"])
    status = rich_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "busy", retry_info(0.5))
    rpc.terminate(None, status.trailing_metadata, status.code, status.details)
    with pytest.raises(ResourceExhausted) as caught:
        cancelled.result(WAIT)
    assert caught.value.retry_after == pytest.approx(0.5)


# --- against a real server -----------------------------------------------------------------------


async def _error_then_status(request: Any, context: Any) -> Any:
    for event in canned_events(error=True):
        yield event
    await context.abort(grpc.StatusCode.INTERNAL, "generator failed")


async def test_real_server_error_event_then_status(fake: FakeService) -> None:
    fake.interpret = _error_then_status

    def read() -> list[events_pb2.ProgressEvent]:
        with Client(fake.target) as client:
            return list(client.interpret("mazu60", 1, "q"))

    assert await asyncio.to_thread(read) == canned_events(error=True)

    def read_raising() -> None:
        with Client(fake.target) as client:
            list(client.interpret("mazu60", 1, "q", raise_on_error=True))

    with pytest.raises(Internal) as caught:
        await asyncio.to_thread(read_raising)
    assert caught.value.partial_text


async def test_real_server_sees_the_cancel_when_the_generator_closes(fake: FakeService) -> None:
    async def one_then_park(request: Any, context: Any) -> Any:
        yield canned_events()[0]
        await asyncio.Event().wait()

    fake.interpret = one_then_park

    def read_one() -> int:
        with Client(fake.target) as client:
            stream = client.interpret("mazu60", 1, "q")
            seq = next(stream).seq
            stream.close()
            return seq

    assert await asyncio.to_thread(read_one) == 1
    await asyncio.wait_for(fake.calls["Interpret"][0].cancelled.wait(), WAIT)
