"""Events packed for the memory log come back exactly; the log packs all but its newest event."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from qianshi.server.domain import Stage
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.eventlog import TaskMeta
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.packed import pack, unpack

from tests.tasks.strategies import events

PACKED_KINDS = (ev.Tick, ev.StageStarted, ev.StageCompleted, ev.TextDelta, ev.Accepted)


@settings(max_examples=600, deadline=None)
@given(events)
def test_every_packed_kind_round_trips_exactly_and_others_stay_as_they_are(event):
    packed = pack(event)
    if isinstance(event.payload, PACKED_KINDS):
        assert isinstance(packed, bytes)
        back = unpack(event.task_id, event.seq, packed)
        assert back == event
        assert type(back.payload) is type(event.payload)
    else:
        assert packed is event


def _tick(seq: int, message: str = "排隊等待,第 3 位", eta: float | None = 4.5) -> ev.Event:
    return ev.Event("t", seq, Stage.GENERATION, 41.25, message, 2.5 + seq, eta, 1.8e9 + seq, ev.Tick(1.25, 3))


def test_a_packed_tick_is_a_fraction_of_the_objects_it_replaces():
    event = _tick(7)
    objects = sum(
        sys.getsizeof(x)
        for x in (event, event.payload, event.message, event.percent, event.elapsed_s, event.timestamp)
    )
    assert sys.getsizeof(pack(event)) < objects / 2


def test_a_count_too_large_to_pack_keeps_the_event_as_it_is():
    event = ev.Event("t", 1, Stage.GENERATION, 1.0, "m", 0.0, None, 0.0, ev.Tick(0.0, 2**70))
    assert pack(event) is event


def test_unpacking_garbage_is_an_error():
    with pytest.raises(ValueError, match="not a packed event"):
        unpack("t", 1, bytes([9]) + bytes(40))


async def test_the_log_keeps_its_newest_event_whole_and_replays_packed_ones_exactly():
    log = MemoryEventLog()
    await log.create(TaskMeta("t", "", ""))
    appended = [_tick(seq, eta=None if seq % 2 else 1.0 * seq) for seq in range(1, 6)]
    for event in appended:
        await log.append(event)
    entries = log._logs["t"].entries
    assert [type(e) for e in entries] == [bytes] * 4 + [ev.Event]
    assert entries[-1] is appended[-1]  # the live reader takes the newest as it was emitted
    assert log.events("t") == appended
    replay = log.follow("t", 2)
    assert [await anext(replay) for _ in range(3)] == appended[2:]
    assert log.stored("t", 1, 3) == appended[1:3]
