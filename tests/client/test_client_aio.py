"""AsyncClient against a scripted grpc.aio server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import grpc
import pytest
from fake_qianshi_server import (
    TASK_ID,
    TEXT_PIECES,
    FakeService,
    bad_request,
    canned_events,
    retry_info,
    rich_status,
    stream_all,
)
from google.rpc import error_details_pb2
from qianshi.client import (
    AsyncClient,
    Cancelled,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    RetryPolicy,
    Unavailable,
    payload_kind,
)
from qianshi.v1 import events_pb2, interpret_service_pb2

FAST = RetryPolicy(attempts=2, resumes=2, initial_backoff=0)
WAIT = 10  # seconds; a bound that fails loudly if something never happens, not a timing assertion


async def collect(
    stream: Any, into: list[events_pb2.ProgressEvent] | None = None
) -> list[events_pb2.ProgressEvent]:
    """Read a stream to its end; ``into`` keeps what arrived when the stream then raises."""
    events = into if into is not None else []
    async for event in stream:
        events.append(event)
    return events


async def test_events_arrive_in_order_and_the_stream_stops_after_the_terminal_event(
    fake: FakeService,
) -> None:
    async with AsyncClient(fake.target, token="s3cret", metadata=[("x-caller", "tests")]) as client:
        events = await collect(
            client.interpret(
                "mazu60",
                1,
                "這次換工作順利嗎？",
                category="婚姻",
                locale="en",
                max_tokens=64,
                temperature=0.5,
                seed=7,
            )
        )
    assert events == canned_events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert payload_kind(events[-1]) == "result"
    (call,) = fake.calls["Interpret"]
    request = call.request
    assert (request.set_id, request.number, request.question) == ("mazu60", 1, "這次換工作順利嗎？")
    assert (request.category, request.locale, request.options.max_tokens, request.options.seed) == (
        "婚姻",
        "en",
        64,
        7,
    )
    assert request.options.HasField("temperature")
    assert request.options.temperature == pytest.approx(0.5)
    assert request.request_id.startswith("qs-")
    assert call.metadata["authorization"] == "Bearer s3cret"
    assert call.metadata["x-caller"] == "tests"


async def test_unset_generation_options_stay_unset(fake: FakeService) -> None:
    async with AsyncClient(fake.target) as client:
        await collect(client.interpret("mazu60", 1, "q", request_id="mine-1"))
    request = fake.calls["Interpret"][0].request
    assert not request.options.HasField("temperature")
    assert not request.options.HasField("seed")
    assert request.request_id == "mine-1"
    assert "authorization" not in fake.calls["Interpret"][0].metadata


async def test_invalid_argument_carries_the_field_violations(fake: FakeService) -> None:
    async def refuse(request: Any, context: Any) -> Any:
        await context.abort_with_status(
            rich_status(
                grpc.StatusCode.INVALID_ARGUMENT,
                "question: must be 1 to 500 characters",
                bad_request("question", "must be 1 to 500 characters"),
                error_details_pb2.ErrorInfo(
                    reason="INVALID_ARGUMENT", domain="qianshi", metadata={"field": "question"}
                ),
            )
        )
        yield

    fake.interpret = refuse
    async with AsyncClient(fake.target, retry=FAST) as client:
        with pytest.raises(InvalidArgument) as caught:
            await collect(client.interpret("mazu60", 1, ""))
    exc = caught.value
    assert exc.code is grpc.StatusCode.INVALID_ARGUMENT
    assert exc.message == "question: must be 1 to 500 characters"
    assert [(v.field, v.description) for v in exc.field_violations] == [
        ("question", "must be 1 to 500 characters")
    ]
    assert (exc.reason, exc.details.domain, exc.details.metadata) == (
        "INVALID_ARGUMENT",
        "qianshi",
        {"field": "question"},
    )
    assert "question: must be 1 to 500 characters" in str(exc)
    assert len(fake.calls["Interpret"]) == 1  # never retried


async def test_resource_exhausted_carries_retry_after(fake: FakeService) -> None:
    async def full(request: Any, context: Any) -> Any:
        await context.abort_with_status(
            rich_status(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "server full",
                retry_info(2.5),
                error_details_pb2.RequestInfo(request_id="req-9"),
            )
        )
        yield

    fake.interpret = full
    async with AsyncClient(fake.target, retry=FAST) as client:
        with pytest.raises(ResourceExhausted) as caught:
            await collect(client.interpret("mazu60", 1, "q"))
    assert caught.value.retry_after == pytest.approx(2.5)
    assert caught.value.details.request_id == "req-9"
    assert len(fake.calls["Interpret"]) == 1


async def test_plain_status_without_details_translates(fake: FakeService) -> None:
    async def denied(request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")
        yield

    fake.watch = denied
    async with AsyncClient(fake.target) as client:
        with pytest.raises(PermissionDenied) as caught:
            await collect(client.watch("someone-else"))
    assert caught.value.message == "not yours"
    assert caught.value.field_violations == ()
    assert caught.value.retry_after is None


async def test_cancelled_before_the_first_event_is_retried_with_the_same_request_id(
    fake: FakeService,
) -> None:
    async def flaky(request: Any, context: Any) -> Any:
        if len(fake.calls["Interpret"]) < 3:
            await context.abort(grpc.StatusCode.CANCELLED, "burst")
        async for event in stream_all(canned_events()):
            yield event

    fake.interpret = flaky
    async with AsyncClient(fake.target, retry=FAST) as client:
        events = await collect(client.interpret("mazu60", 1, "q"))
    assert events == canned_events()
    ids = {call.request.request_id for call in fake.calls["Interpret"]}
    assert len(fake.calls["Interpret"]) == 3
    assert len(ids) == 1


async def test_retries_give_up_after_the_policy_attempts(fake: FakeService) -> None:
    async def always(request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.CANCELLED, "burst")
        yield

    fake.interpret = always
    async with AsyncClient(fake.target, retry=FAST) as client:
        with pytest.raises(Cancelled):
            await collect(client.interpret("mazu60", 1, "q"))
    assert len(fake.calls["Interpret"]) == 1 + FAST.attempts


async def test_cancelled_after_the_first_event_is_not_retried(fake: FakeService) -> None:
    async def one_then_cancelled(request: Any, context: Any) -> Any:
        yield canned_events()[0]
        await context.abort(grpc.StatusCode.CANCELLED, "task cancelled")

    fake.interpret = one_then_cancelled
    seen: list[events_pb2.ProgressEvent] = []
    async with AsyncClient(fake.target, retry=FAST) as client:
        with pytest.raises(Cancelled):
            await collect(client.interpret("mazu60", 1, "q"), seen)
    assert [e.seq for e in seen] == [1]
    assert len(fake.calls["Interpret"]) == 1


async def _one_then_park(request: Any, context: Any) -> Any:
    yield canned_events()[0]
    await asyncio.Event().wait()  # until the client goes away


async def test_closing_the_iterator_cancels_the_server_call(fake: FakeService) -> None:
    fake.interpret = _one_then_park
    async with AsyncClient(fake.target) as client:
        stream = client.interpret("mazu60", 1, "q")
        first = await anext(stream)
        assert first.seq == 1
        await stream.aclose()
        await asyncio.wait_for(fake.calls["Interpret"][0].cancelled.wait(), WAIT)


async def test_cancelling_the_reading_task_cancels_the_server_call(fake: FakeService) -> None:
    fake.interpret = _one_then_park
    got_first = asyncio.Event()

    async def read(client: AsyncClient) -> None:
        async for _ in client.interpret("mazu60", 1, "q"):
            got_first.set()

    async with AsyncClient(fake.target) as client:
        task = asyncio.ensure_future(read(client))
        await asyncio.wait_for(got_first.wait(), WAIT)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.wait_for(fake.calls["Interpret"][0].cancelled.wait(), WAIT)


async def _error_then_status(request: Any, context: Any) -> Any:
    events = canned_events(error=True)
    async for event in stream_all(events):
        yield event
    await context.abort(grpc.StatusCode.INTERNAL, "generator failed")


async def test_an_error_event_is_yielded_by_default(fake: FakeService) -> None:
    fake.interpret = _error_then_status
    async with AsyncClient(fake.target) as client:
        events = await collect(client.interpret("mazu60", 1, "q"))
    assert events == canned_events(error=True)
    assert payload_kind(events[-1]) == "error"


async def test_an_error_event_raises_when_asked(fake: FakeService) -> None:
    fake.interpret = _error_then_status
    seen: list[events_pb2.ProgressEvent] = []
    async with AsyncClient(fake.target) as client:
        with pytest.raises(Internal) as caught:
            await collect(client.interpret("mazu60", 1, "q", raise_on_error=True), seen)
    assert len(seen) == len(canned_events(error=True)) - 1
    assert caught.value.message == "generator failed"
    assert caught.value.partial_text == "".join(TEXT_PIECES)
    assert caught.value.task_id == TASK_ID


async def test_follow_resumes_through_watch_after_unavailable_exactly_once(fake: FakeService) -> None:
    events = canned_events()

    async def breaks(request: Any, context: Any) -> Any:
        for event in events[:4]:
            yield event
        await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")

    async def replays_with_overlap(request: Any, context: Any) -> Any:
        if len(fake.calls["Watch"]) == 1:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "still down")
        for event in events[request.after_seq - 2 :]:  # overlaps what was delivered
            yield event

    fake.interpret, fake.watch = breaks, replays_with_overlap
    async with AsyncClient(fake.target, retry=FAST) as client:
        got = await collect(client.follow("mazu60", 1, "q"))
    assert got == events
    assert (
        fake.calls["Interpret"][0].request.disconnect_policy
        == interpret_service_pb2.DISCONNECT_POLICY_KEEP_RUNNING
    )
    assert [(c.request.task_id, c.request.after_seq) for c in fake.calls["Watch"]] == [
        (TASK_ID, 4),
        (TASK_ID, 4),
    ]


async def test_follow_gives_up_after_the_policy_resumes(fake: FakeService) -> None:
    async def down(request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.UNAVAILABLE, "down")
        yield

    fake.interpret = down
    async with AsyncClient(fake.target, retry=FAST) as client:
        with pytest.raises(Unavailable):
            await collect(client.follow("mazu60", 1, "q"))
    assert len(fake.calls["Interpret"]) == 1 + FAST.resumes
    assert len({c.request.request_id for c in fake.calls["Interpret"]}) == 1


async def test_follow_does_not_resume_after_an_error_event(fake: FakeService) -> None:
    fake.interpret = _error_then_status
    async with AsyncClient(fake.target, retry=FAST) as client:
        with pytest.raises(Internal):
            await collect(client.follow("mazu60", 1, "q", raise_on_error=True))
    assert fake.calls["Watch"] == []


async def test_watch_replays_after_seq(fake: FakeService) -> None:
    async with AsyncClient(fake.target) as client:
        events = await collect(client.watch(TASK_ID, after_seq=5))
    assert [e.seq for e in events] == [e.seq for e in canned_events()][5:]
    assert fake.calls["Watch"][0].request.after_seq == 5


async def test_unary_calls(fake: FakeService) -> None:
    async with AsyncClient(fake.target, token="t") as client:
        assert await client.cancel(TASK_ID) is True
        fake.cancel_result = False
        assert await client.cancel(TASK_ID) is False
        sets = await client.list_sets()
        poem = await client.get_poem("mazu60", 23)
        with pytest.raises(NotFound):
            await client.get_poem("nope", 1)
    assert [s.id for s in sets] == ["mazu60", "guanyin100"]
    assert poem.number == 23
    assert list(poem.verse_lines)
    assert fake.calls["Cancel"][0].metadata["authorization"] == "Bearer t"


async def test_unary_errors_translate(fake: FakeService) -> None:
    fake.abort_unary = rich_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", retry_info(1))
    async with AsyncClient(fake.target) as client:
        with pytest.raises(ResourceExhausted) as caught:
            await client.list_sets()
    assert caught.value.retry_after == 1


async def test_a_client_passed_a_channel_leaves_it_open(fake: FakeService) -> None:
    channel = grpc.aio.insecure_channel(fake.target)
    async with AsyncClient(channel=channel) as client:
        await client.list_sets()
    async with AsyncClient(channel=channel) as client:
        assert len(await client.list_sets()) == 2
    await channel.close()
