"""The pipeline end to end over fake backends: the stream invariants, ticks, cancel, policies."""

from __future__ import annotations

import asyncio
import time

import pytest
from qianshi.server.domain import Stage
from qianshi.server.errors import BackendFailed, ErrorCode
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry

from tests.fakes import FakeGenerator, FakeRetriever, spec

FAST = PipelineConfig(tick_retrieval_s=0.02, tick_generation_s=0.03, coalesce_window_s=0.005)


def check_invariants(events: list[ev.Event]) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    percents = [e.percent for e in events]
    assert percents == sorted(percents)
    assert all(p < 100 for p in percents[:-1])
    assert [e.terminal for e in events].count(True) == 1
    assert events[-1].terminal
    assert isinstance(events[0].payload, ev.Accepted)


async def collect(registry: Registry, task_id: str, after: int = 0) -> list[ev.Event]:
    async with asyncio.timeout(10):
        async with registry.subscribe(task_id, "", after) as stream:
            return [e async for e in stream]


@pytest.fixture
def estimates(tmp_path):
    return Estimates(tmp_path / "estimates.json")


async def test_full_stream_holds_the_invariants(estimates):
    interpreter = Interpreter(FakeRetriever(), FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(), "", None)
        events = await collect(registry, task_id)
    check_invariants(events)
    kinds = [e.kind for e in events]
    assert kinds.index("poem") < kinds.index("passages") < kinds.index("text_delta")
    result = events[-1].payload
    assert isinstance(result, ev.Result)
    assert events[-1].percent == 100 and events[-1].stage is Stage.DONE
    deltas = [e.payload for e in events if isinstance(e.payload, ev.TextDelta)]
    assert "".join(d.text for d in deltas) == result.text == "婚姻允成[1]，日出雲散[2]。宜把握時機[9]。"
    assert [d.offset for d in deltas] == [sum(len(x.text) for x in deltas[:i]) for i in range(len(deltas))]
    assert result.cited_passage_ids == ("mazu60/1/judgment/婚姻/0", "mazu60/1/verse/-/0")
    assert result.unknown_citations == (9,)
    assert result.completion_tokens == 6 and result.prompt_tokens == 10


async def test_ticks_fill_silence_while_retrieval_is_blocked(estimates):
    gate = asyncio.Event()
    retriever = FakeRetriever(gate)
    interpreter = Interpreter(retriever, FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(locale="en"), "", None)
        seen: list[ev.Event] = []
        async with asyncio.timeout(10), registry.subscribe(task_id, "", 0) as stream:
            async for event in stream:
                seen.append(event)
                ticks = [e for e in seen if isinstance(e.payload, ev.Tick)]
                if len(ticks) == 3:
                    gate.set()
                if event.terminal:
                    break
    check_invariants(seen)
    ticks = [e for e in seen if isinstance(e.payload, ev.Tick)]
    assert len(ticks) >= 3
    assert all(e.stage is Stage.RETRIEVAL for e in ticks[:3])
    assert "searching the judgments for" in ticks[0].message
    # ticks only fill silence: each one follows the previous event by at least the tick interval
    for prev, tick in zip(seen, seen[1:], strict=False):
        if isinstance(tick.payload, ev.Tick):
            assert tick.elapsed_s - prev.elapsed_s >= FAST.tick_retrieval_s * 0.9


async def test_cancel_reaches_the_work_and_ends_with_cancelled(estimates):
    retriever = FakeRetriever(asyncio.Event())
    interpreter = Interpreter(retriever, FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(), "", None)
        async with asyncio.timeout(10):
            await retriever.entered.wait()
            assert await registry.cancel(task_id, "") is True
            await retriever.cancelled.wait()
        events = await collect(registry, task_id)
        await registry.wait_ended(task_id)
        assert await registry.cancel(task_id, "") is False
    check_invariants(events)
    failure = events[-1].payload
    assert isinstance(failure, ev.Failure) and failure.code is ErrorCode.CANCELLED


async def test_generation_cancel_closes_the_engine_stream(estimates):
    generator = FakeGenerator(gate=asyncio.Event())
    interpreter = Interpreter(FakeRetriever(), generator, estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(keep_running=True), "", None)
        async with asyncio.timeout(10):
            async with registry.subscribe(task_id, "", 0) as stream:
                async for event in stream:  # the first text is out; the engine waits on its gate
                    if event.kind == "text_delta":
                        break
            await registry.cancel(task_id, "")
            await generator.closed.wait()
        events = await collect(registry, task_id)
    failure = events[-1].payload
    assert isinstance(failure, ev.Failure) and failure.code is ErrorCode.CANCELLED
    assert failure.partial_text.startswith("婚姻允成")


async def test_reader_leaving_cancels_under_the_cancel_policy(estimates):
    retriever = FakeRetriever(asyncio.Event())
    interpreter = Interpreter(retriever, FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(), "", None)
        async with asyncio.timeout(10):
            async with registry.subscribe(task_id, "", 0) as stream:
                await anext(stream)
            await retriever.cancelled.wait()
            await registry.wait_ended(task_id)
        assert registry.active == 0


async def test_keep_running_policy_survives_the_reader_and_can_be_watched(estimates):
    gate = asyncio.Event()
    retriever = FakeRetriever(gate)
    interpreter = Interpreter(retriever, FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(keep_running=True, grace_s=30.0), "", None)
        async with asyncio.timeout(10):
            async with registry.subscribe(task_id, "", 0) as stream:
                first = await anext(stream)
            assert registry.active == 1 and not retriever.cancelled.is_set()
            gate.set()
            rest = await collect(registry, task_id, after=first.seq)
    check_invariants([first, *rest])


async def test_keep_running_task_is_cancelled_when_the_grace_window_ends(estimates):
    retriever = FakeRetriever(asyncio.Event())
    interpreter = Interpreter(retriever, FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(keep_running=True, grace_s=0.05), "", None)
        async with asyncio.timeout(10):
            async with registry.subscribe(task_id, "", 0) as stream:
                await anext(stream)
            await retriever.cancelled.wait()


async def test_watch_replays_exactly_the_events_after_seq(estimates):
    interpreter = Interpreter(FakeRetriever(), FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(keep_running=True), "", None)
        everything = await collect(registry, task_id)
        for after in (0, 1, 3, len(everything) - 1):
            replay = await collect(registry, task_id, after)
            assert [e.seq for e in replay] == list(range(after + 1, len(everything) + 1))
            assert replay == everything[after:]


async def test_request_id_reattaches_to_the_same_task(estimates):
    interpreter = Interpreter(FakeRetriever(asyncio.Event()), FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        first = await registry.start(spec(request_id="abc"), "", None)
        again = await registry.start(spec(request_id="abc"), "", None)
        other_owner = await registry.start(spec(request_id="abc"), "someone-else", None)
        assert first == again != other_owner
        assert registry.active == 2


async def test_backend_failure_ends_with_its_status_and_partial_text(estimates):
    generator = FakeGenerator(error=BackendFailed("engine error", reason="ENGINE_ERROR"))
    interpreter = Interpreter(FakeRetriever(), generator, estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        events = await collect(registry, await registry.start(spec(), "", None))
    check_invariants(events)
    failure = events[-1].payload
    assert isinstance(failure, ev.Failure)
    assert (failure.code, failure.reason) == (ErrorCode.INTERNAL, "ENGINE_ERROR")
    assert failure.partial_text == "婚姻允成[1]，日出雲散[2]。宜把握時機[9]。"


async def test_deadline_ends_with_deadline_exceeded(estimates):
    interpreter = Interpreter(FakeRetriever(asyncio.Event()), FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(), "", time.monotonic() + 0.05)
        events = await collect(registry, task_id)
    failure = events[-1].payload
    assert isinstance(failure, ev.Failure) and failure.code is ErrorCode.DEADLINE_EXCEEDED


async def test_drain_ends_running_tasks_with_unavailable(estimates):
    interpreter = Interpreter(FakeRetriever(asyncio.Event()), FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog()) as registry:
        task_id = await registry.start(spec(keep_running=True), "", None)
        await registry.drain(0.01)
        events = await collect(registry, task_id)
        with pytest.raises(Exception, match="shutting down"):
            await registry.start(spec(), "", None)
    failure = events[-1].payload
    assert isinstance(failure, ev.Failure)
    assert (failure.code, failure.reason) == (ErrorCode.UNAVAILABLE, "SERVER_DRAINING")


async def test_admission_refuses_beyond_the_active_limit(estimates):
    interpreter = Interpreter(FakeRetriever(asyncio.Event()), FakeGenerator(), estimates, FAST)
    async with Registry(interpreter, MemoryEventLog(), max_active=2) as registry:
        await registry.start(spec(), "", None)
        await registry.start(spec(), "", None)
        with pytest.raises(Exception, match="maximum of 2") as info:
            await registry.start(spec(), "", None)
        assert info.value.retry_after_s is not None
