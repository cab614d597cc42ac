"""Overload: admission on active tasks and on concurrent generations, with a reported queue.

The slot pool alone (FIFO, positions, cancel), the pipeline over fakes (queued ticks), the real server
with the vLLM stand-in (``--max-generations``), and the real server offered twice its
``--max-active-tasks``: the excess is refused at once with a retry hint, the admitted streams keep
their cadence.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from qianshi.server.errors import ResourceExhausted
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.admission import GenerationSlots
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.serving import Running
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry
from qianshi.v1 import events_pb2, interpret_service_pb2_grpc

from tests.fakes import FakeGenerator, FakeRetriever, spec
from tests.reliability.conftest import read_events, reason, request, retry_delay, server_with

Stub = interpret_service_pb2_grpc.InterpretServiceStub
session_loop = pytest.mark.asyncio(loop_scope="session")

# --- the slot pool --------------------------------------------------------------------------------------


async def test_slots_are_taken_in_order_and_a_cancelled_waiter_leaves_at_once():
    slots = GenerationSlots(1, 3)
    for name in "abcd":
        slots.reserve(name)
    with pytest.raises(ResourceExhausted) as info:
        slots.reserve("e")
    assert info.value.reason == "GENERATION_QUEUE_FULL" and info.value.retry_after_s == 1.0
    await slots.wait("a")
    waiters = {name: asyncio.ensure_future(slots.wait(name)) for name in "bcd"}
    await asyncio.sleep(0)
    assert [slots.position(n) for n in "abcd"] == [0, 1, 2, 3] and slots.queued == 3
    waiters["c"].cancel()
    await asyncio.sleep(0)
    assert [slots.position(n) for n in "bd"] == [1, 2] and slots.queued == 2
    slots.release("a")
    await waiters["b"]
    assert slots.holding == 1 and slots.position("d") == 1 and not waiters["d"].done()
    slots.release("b")
    await waiters["d"]
    slots.release("d")
    slots.release("d")  # idempotent
    assert (slots.holding, slots.queued, slots.reserved) == (0, 0, 0)


async def test_a_slot_handed_to_a_waiter_that_is_being_cancelled_goes_on():
    slots = GenerationSlots(1, 2)
    await slots.wait("a")
    b = asyncio.ensure_future(slots.wait("b"))
    c = asyncio.ensure_future(slots.wait("c"))
    await asyncio.sleep(0)
    slots.release("a")  # hands the slot to b ...
    b.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await b
    await c
    assert slots.holding == 1 and slots.position("c") == 0


# --- the pipeline over fakes ----------------------------------------------------------------------------

FAST = PipelineConfig(tick_retrieval_s=0.02, tick_generation_s=0.05, coalesce_window_s=0.005)


async def test_queued_tasks_tick_with_their_position_and_the_queue_is_bounded(tmp_path):
    gate = asyncio.Event()
    generator = FakeGenerator(gate=gate)
    interpreter = Interpreter(
        FakeRetriever(), generator, Estimates(tmp_path / "e.json"), FAST, GenerationSlots(1, 1)
    )
    async with Registry(interpreter, MemoryEventLog()) as registry:
        first = await registry.start(spec(), "", None)
        await generator.started.wait()  # the first task holds the only slot
        second = await registry.start(spec(locale="en"), "", None)
        with pytest.raises(ResourceExhausted):  # one running, one queued: the queue is full
            await registry.start(spec(), "", None)
        seen: list[ev.Event] = []
        async with asyncio.timeout(10), registry.subscribe(second, "", 0) as stream:
            async for event in stream:
                seen.append(event)
                if sum(isinstance(e.payload, ev.Tick) and e.payload.queue_position for e in seen) == 3:
                    gate.set()
                if event.terminal:
                    break
        await registry.wait_ended(first)
    queued = [e for e in seen if isinstance(e.payload, ev.Tick) and e.payload.queue_position]
    assert [e.payload.queue_position for e in queued] == [1, 1, 1]  # type: ignore[union-attr]
    assert queued[0].message == "waiting for a generation slot (position 1)"
    kinds = [e.kind for e in seen]
    assert kinds.index("passages") < seen.index(queued[0]) and isinstance(seen[-1].payload, ev.Result)
    after = [e for e in seen[seen.index(queued[-1]) + 1 :] if isinstance(e.payload, ev.Tick)]
    assert all(e.payload.queue_position == 0 for e in after)  # type: ignore[union-attr]
    assert interpreter.slots is not None and interpreter.slots.reserved == 0


async def test_cancelling_a_queued_task_frees_its_place_at_once(tmp_path):
    gate = asyncio.Event()
    generator = FakeGenerator(gate=gate)
    slots = GenerationSlots(1, 1)
    interpreter = Interpreter(FakeRetriever(), generator, Estimates(tmp_path / "e.json"), FAST, slots)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        first = await registry.start(spec(), "", None)
        await generator.started.wait()
        second = await registry.start(spec(), "", None)
        async with asyncio.timeout(10), registry.subscribe(second, "", 0) as stream:
            async for event in stream:
                if isinstance(event.payload, ev.Tick) and event.payload.queue_position == 1:
                    break
        await registry.wait_ended(second)  # the cancel policy: its reader left
        assert (slots.queued, slots.reserved) == (0, 1)
        third = await registry.start(spec(), "", None)  # the freed place is taken at once
        gate.set()
        await registry.wait_ended(first)
        await registry.wait_ended(third)
    assert (slots.holding, slots.reserved) == (0, 0)


# --- the real server with an LLM ------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def one_slot(built_state, tmp_path_factory, standin) -> AsyncIterator[tuple[Running, Stub]]:
    _, url = standin
    flags = ("--llm", "openai", "--llm-url", url, "--llm-model", "standin", "--llm-stall-timeout", "30")
    flags += ("--max-generations", "1", "--max-queued-generations", "1", "--tick-generation", "0.2")
    async with (
        server_with(built_state, tmp_path_factory.mktemp("slots"), *flags) as srv,
        grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel,
    ):
        yield srv, Stub(channel)


@session_loop
async def test_generation_queue_reports_positions_and_refuses_beyond_it(one_slot):
    srv, stub = one_slot
    holder = stub.Interpret(request(question="FAULT[ttft=30] 我今年換工作會順利嗎？"), timeout=60)
    async with asyncio.timeout(20):  # until its generation started: it holds the only slot
        while (event := await holder.read()).stage_started.stage != events_pb2.STAGE_GENERATION:
            pass
    queued = stub.Interpret(request(number=9), timeout=60)
    async with asyncio.timeout(20):
        while (event := await queued.read()).tick.queue_position != 1:
            pass
    started = time.monotonic()
    events, error = await read_events(stub.Interpret(request(number=10), timeout=60))
    refused_in = time.monotonic() - started
    assert events == [] and error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason(error) == "GENERATION_QUEUE_FULL" and retry_delay(error) == 1.0
    queued.cancel()  # leaving the queue frees the place at once
    async with asyncio.timeout(10):
        await srv.registry.wait_ended(event.task_id)
    slots = srv.registry.interpreter.slots
    assert slots is not None and slots.queued == 0
    late = stub.Interpret(request(number=11), timeout=60)
    first = await late.read()
    holder.cancel()  # the slot goes to the next in line, which then runs to its result
    rest, late_error = await read_events(late)
    assert late_error is None and rest[-1].HasField("result") and first.task_id == rest[-1].task_id
    print(f"\nqueue full: refused in {refused_in * 1000:.1f} ms")


# --- twice the active-task limit ------------------------------------------------------------------------

LIMIT, TICK = 100, 0.3


@session_loop
async def test_twice_the_limit_refuses_the_excess_and_keeps_the_cadence(built_state, tmp_path):
    flags = ("--max-active-tasks", str(LIMIT), "--tick-retrieval", str(TICK), "--tick-generation", str(TICK))
    # Clauses 0.2 s apart: every task lasts seconds, so the 2 × LIMIT calls opened at once overlap
    # (retrieval takes well under a millisecond: it holds no task open by itself).
    flags += ("--grounded-pace", "0.2")
    async with (
        server_with(built_state, tmp_path, *flags) as srv,
        grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel,
    ):
        stub = Stub(channel)
        received: list[list[float]] = []

        async def one(n: int) -> tuple[list, object]:
            call = stub.Interpret(request(number=n % 60 + 1), timeout=120)
            times: list[float] = []
            received.append(times)
            events = []
            try:
                async for event in call:
                    times.append(time.monotonic())
                    events.append(event)
            except grpc.aio.AioRpcError as error:
                return events, error
            return events, None

        started = time.monotonic()
        outcomes = await asyncio.gather(*(one(n) for n in range(2 * LIMIT)))
        took = time.monotonic() - started
    admitted = [events for events, error in outcomes if error is None]
    refused = [error for events, error in outcomes if error is not None]
    assert len(admitted) >= LIMIT and all(events[-1].HasField("result") for events in admitted)
    assert refused and all(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and retry_delay(e) for e in refused)
    assert all(events == [] for events, error in outcomes if error is not None)  # refused before any work
    server_gaps = sorted(
        (b.elapsed.ToTimedelta() - a.elapsed.ToTimedelta()).total_seconds()
        for events in admitted
        for a, b in itertools.pairwise(events)
    )
    client_gaps = sorted(b - a for times in received for a, b in itertools.pairwise(times))
    p99 = server_gaps[int(len(server_gaps) * 0.99)]
    print(
        f"\n2x limit: {len(admitted)} admitted, {len(refused)} refused in {took:.1f} s; server gap p99"
        f" {p99 * 1000:.0f} ms, max {server_gaps[-1] * 1000:.0f} ms; client gap p99"
        f" {client_gaps[int(len(client_gaps) * 0.99)] * 1000:.0f} ms,"
        f" median {statistics.median(client_gaps) * 1000:.0f} ms"
    )
    assert p99 < TICK + 0.5, f"gap p99 {p99:.3f} s"
