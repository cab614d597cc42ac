"""The real server over real gRPC: stream invariants, bad input, cancel, Watch, re-attach, slow readers."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from qianshi.v1 import events_pb2
from qianshi.v1 import interpret_service_pb2 as pb

pytestmark = pytest.mark.asyncio(loop_scope="session")
QUESTION = "我今年換工作會順利嗎？"


def request(**fields) -> pb.InterpretRequest:
    values = {"set_id": "mazu60", "number": 23, "question": QUESTION}
    values.update(fields)
    return pb.InterpretRequest(**values)


async def read_all(call) -> list[events_pb2.ProgressEvent]:
    """Read a call to its end with ``read()`` (so it may follow earlier ``read()`` calls)."""
    events = []
    async with asyncio.timeout(30):
        while (event := await call.read()) is not grpc.aio.EOF:
            events.append(event)
    return events


def check_invariants(events: list[events_pb2.ProgressEvent]) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len({e.task_id for e in events}) == 1
    percents = [e.percent for e in events]
    assert percents == sorted(percents)
    assert all(p < 100 for p in percents[:-1])
    kinds = [e.WhichOneof("payload") for e in events]
    assert sum(k in ("result", "error") for k in kinds) == 1 and kinds[-1] in ("result", "error")
    assert kinds[0] == "accepted"


def violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)
    assert status is not None
    out: dict[str, str] = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out.update({v.field: v.description for v in bad.field_violations})
    return out


async def test_a_full_stream_holds_every_invariant(stub):
    events = await read_all(stub.Interpret(request()))
    check_invariants(events)
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds.index("poem") < kinds.index("passages") < kinds.index("text_delta")
    poem = events[kinds.index("poem")].poem
    assert (poem.set_id, poem.number, len(poem.verse_lines)) == ("mazu60", 23, 4)
    passages = events[kinds.index("passages")].passages
    assert passages.category == "功名" and passages.passages[0].category == "功名"
    result = events[-1].result
    assert events[-1].percent == 100 and events[-1].stage == events_pb2.STAGE_DONE
    text = "".join(e.text_delta.text for e in events if e.HasField("text_delta"))
    assert text == result.text and "無望" in text
    cited = {p.id for p in passages.passages}
    assert result.cited_passage_ids and set(result.cited_passage_ids) <= cited
    assert result.generator == "grounded" and result.category == "功名"
    assert events[0].accepted.category_source == events_pb2.CATEGORY_SOURCE_INFERRED


async def test_zh_hans_gets_a_simplified_reading_and_messages(stub):
    from qianshi.server.chinese import convert

    events = await read_all(stub.Interpret(request(locale="zh-Hans", question="我今年换工作会顺利吗？")))
    check_invariants(events)
    result = events[-1].result
    assert events[0].accepted.locale == "zh-Hans"
    assert result.text and convert(result.text, "zh-Hans") == result.text and "签" in result.text
    assert all(convert(e.message, "zh-Hans") == e.message for e in events)


async def test_an_empty_question_is_the_slips_general_reading(stub):
    events = await read_all(stub.Interpret(request(question="")))
    check_invariants(events)
    assert events[0].accepted.category_source == events_pb2.CATEGORY_SOURCE_DEFAULT
    assert "整支籤的大意" in events[-1].result.text


async def test_ticks_fill_the_silence_between_paced_text(stub):
    events = await read_all(stub.Interpret(request(locale="en")))
    check_invariants(events)
    ticks = [e for e in events if e.HasField("tick")]
    # the server's generation tick (0.2 s) is shorter than the 0.03 s pace × clauses: there is silence to fill
    assert all(e.message for e in events)
    for a, b in zip(events, events[1:], strict=False):
        gap = (b.elapsed.ToTimedelta() - a.elapsed.ToTimedelta()).total_seconds()
        assert gap < 0.2 + 0.5, f"silence of {gap:.3f} s between #{a.seq} and #{b.seq}"
    assert all(t.stage in (events_pb2.STAGE_RETRIEVAL, events_pb2.STAGE_GENERATION) for t in ticks)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"question": "問" * 501}, "question"),
        ({"question": "a\x00b"}, "question"),
        ({"set_id": ""}, "set_id"),
        ({"set_id": "Mazu 60!"}, "set_id"),
        ({"number": 0}, "number"),
        ({"number": -3}, "number"),
        ({"locale": "fr"}, "locale"),
        ({"category": "no-such-category"}, "category"),
        ({"options": pb.GenerationOptions(max_tokens=-1)}, "options.max_tokens"),
        ({"options": pb.GenerationOptions(max_tokens=100000)}, "options.max_tokens"),
        ({"options": pb.GenerationOptions(temperature=3.5)}, "options.temperature"),
        ({"request_id": "bad id with spaces"}, "request_id"),
        ({"grace_period": {"seconds": -5}}, "grace_period"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(stub, fields, field):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await read_all(stub.Interpret(request(**fields)))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in violations(info.value)


@pytest.mark.parametrize(("set_id", "number"), [("nosuchset", 1), ("mazu60", 61), ("guanyin100", 101)])
async def test_unknown_set_or_poem_is_not_found(stub, set_id, number):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await read_all(stub.Interpret(request(set_id=set_id, number=number)))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("task_id", ["", "nope", "t_short", "t_" + "x" * 40])
async def test_malformed_task_ids_are_invalid(stub, task_id):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await read_all(stub.Watch(pb.WatchRequest(task_id=task_id)))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Cancel(pb.CancelRequest(task_id=task_id))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_unknown_tasks_are_not_found_and_negative_after_seq_is_invalid(stub):
    unknown = "t_" + "A" * 22
    for call in (stub.Watch(pb.WatchRequest(task_id=unknown)),):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await read_all(call)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Cancel(pb.CancelRequest(task_id=unknown))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await read_all(stub.Watch(pb.WatchRequest(task_id=unknown, after_seq=-1)))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_look_ups(stub):
    sets = (await stub.ListSets(pb.ListSetsRequest())).sets
    assert {s.id: s.count for s in sets} == {"mazu60": 60, "guanyin100": 100, "guandi100": 100}
    poem = (await stub.GetPoem(pb.GetPoemRequest(set_id="guandi100", number=7))).poem
    assert poem.number == 7 and len(poem.verse_lines) == 4 and poem.judgments
    for set_id, number, code in [
        ("guandi100", 0, grpc.StatusCode.INVALID_ARGUMENT),
        ("guandi100", 101, grpc.StatusCode.NOT_FOUND),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetPoem(pb.GetPoemRequest(set_id=set_id, number=number))
        assert info.value.code() == code


async def test_cancel_stops_the_task_while_it_writes(server, stub):
    call = stub.Interpret(request())  # the shared server paces its text: 30 ms a clause
    async with asyncio.timeout(10):
        first = await call.read()
        while not (await call.read()).HasField("text_delta"):
            pass
    cancelled = await stub.Cancel(pb.CancelRequest(task_id=first.task_id))
    assert cancelled.cancelled
    rest = await read_all_until_error(call)
    assert rest[-1].error.status.code == grpc.StatusCode.CANCELLED.value[0]
    assert not any(e.HasField("result") for e in rest)
    async with asyncio.timeout(10):
        await server.registry.wait_ended(first.task_id)


async def read_all_until_error(call) -> list[events_pb2.ProgressEvent]:
    events = []
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async with asyncio.timeout(30):
            while (event := await call.read()) is not grpc.aio.EOF:
                events.append(event)
    assert info.value.code() == grpc.StatusCode.CANCELLED
    return events


async def test_watch_replays_exactly_once(stub):
    events = await read_all(stub.Interpret(request(disconnect_policy=pb.DISCONNECT_POLICY_KEEP_RUNNING)))
    task_id = events[0].task_id
    for after in (0, 1, 5, len(events) - 1, len(events)):
        replay = await read_all(stub.Watch(pb.WatchRequest(task_id=task_id, after_seq=after)))
        assert replay == events[after:] or (after == len(events) and replay == [])


async def test_request_id_reattaches_instead_of_starting_again(stub):
    first = stub.Interpret(request(request_id="retry-123"))
    head = await first.read()
    again = await read_all(stub.Interpret(request(request_id="retry-123")))
    assert again[0] == head
    assert {e.task_id for e in again} == {head.task_id}
    rest = await read_all(first)
    assert [head, *rest] == again


async def test_a_slow_reader_does_not_stall_its_task_or_other_streams(server, stub):
    slow = stub.Interpret(request(disconnect_policy=pb.DISCONNECT_POLICY_KEEP_RUNNING))
    first = await slow.read()  # then stop reading
    others = await asyncio.gather(*(read_all(stub.Interpret(request(number=n))) for n in (1, 2, 3)))
    for events in others:
        check_invariants(events)
    async with asyncio.timeout(30):
        await server.registry.wait_ended(first.task_id)  # the unread task ran to its end
    rest = await read_all(slow)
    check_invariants([first, *rest])
    assert rest[-1].HasField("result")


async def test_health_and_reflection(server):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "qianshi.v1.InterpretService"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def ask():
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        async for reply in stub.ServerReflectionInfo(ask()):
            names = {s.name for s in reply.list_services_response.service}
            assert "qianshi.v1.InterpretService" in names
            break
