"""The event codec round-trips every event exactly (property test over every payload type)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from qianshi.server.domain import Stage
from qianshi.server.pipeline import events as ev
from qianshi.server.tasks import codec

from tests.tasks.strategies import events


@settings(max_examples=400, deadline=None)
@given(events)
def test_every_event_round_trips_exactly(event):
    data = codec.encode(event)
    assert isinstance(data, bytes)
    back = codec.decode(data)
    assert back == event
    assert type(back.payload) is type(event.payload)
    assert codec.encode(back) == data


def test_the_encoding_is_compact_json_keyed_by_field_name():
    event = ev.Event(
        "t_x", 3, Stage.GENERATION, 41.5, "正在撰寫", 1.25, None, 1.7e9, ev.TextDelta("籤", 7, 1)
    )
    data = codec.encode(event)
    assert b" " not in data  # no padding
    assert "籤".encode() in data  # no \u escapes
    raw = json.loads(data)
    assert raw["kind"] == "text_delta"
    assert raw["payload"] == {"text": "籤", "offset": 7, "tokens": 1}


def test_unknown_fields_are_ignored_and_missing_ones_defaulted():
    """Two adjacent versions can share a log during a rolling upgrade."""
    event = ev.Event("t_x", 1, Stage.RETRIEVAL, 5.0, "", 0.5, 2.0, 1.0, ev.Tick(0.5, 3))
    raw = codec.to_dict(event)
    raw["payload"]["added_later"] = "x"
    del raw["payload"]["queue_position"]
    back = codec.decode(json.dumps(raw).encode())
    assert back.payload == ev.Tick(0.5, 0)


@pytest.mark.parametrize(
    "data",
    [b"", b"[1]", b"{}", b'{"kind":"nope"}', b"\xff", b'{"kind":"tick","task_id":"t","seq":1}'],
)
def test_garbage_is_a_codec_error(data):
    with pytest.raises(codec.CodecError):
        codec.decode(data)
