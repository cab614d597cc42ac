"""The event codec round-trips every event exactly (property test over every payload type)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qianshi.server.domain import CategorySource, Judgment, Passage, PassageKind, Poem, Stage
from qianshi.server.errors import ErrorCode, FieldViolation
from qianshi.server.pipeline import events as ev
from qianshi.server.tasks import codec

text = st.text(max_size=12)
floats = st.floats(allow_nan=False, allow_infinity=False)
maybe_float = st.none() | floats
ints = st.integers(min_value=0, max_value=2**53)
stages = st.sampled_from(Stage)

poems = st.builds(
    Poem,
    set_id=text,
    set_name=text,
    number=ints,
    rank=text,
    title=text,
    verse=st.tuples(text, text),
    judgments=st.lists(st.builds(Judgment, category=text, text=text), max_size=3).map(tuple),
    attributes=st.dictionaries(text, text, max_size=3),
    alt_titles=st.lists(text, max_size=2).map(tuple),
    source=text,
)
passages = st.builds(
    Passage,
    id=text,
    kind=st.sampled_from(PassageKind),
    category=text,
    text=text,
    score=floats,
    source=text,
    citation=ints,
)
payloads = st.one_of(
    st.builds(ev.Accepted, text, text, st.sampled_from(CategorySource), text, text),
    st.builds(ev.Tick, floats, ints),
    st.builds(ev.StageStarted, stages, maybe_float),
    st.builds(ev.StageCompleted, stages, floats),
    st.builds(ev.PoemFound, poems),
    st.builds(ev.PassagesFound, st.lists(passages, max_size=3).map(tuple), text),
    st.builds(ev.TextDelta, text, ints, ints),
    st.builds(
        ev.Result,
        text=text,
        cited_passage_ids=st.lists(text, max_size=3).map(tuple),
        unknown_citations=st.lists(ints, max_size=3).map(tuple),
        prompt_tokens=ints,
        completion_tokens=ints,
        timings=st.lists(st.tuples(stages, floats), max_size=3).map(tuple),
        generator=text,
        model=text,
        prompt_version=text,
        time_to_first_token_s=maybe_float,
        tokens_per_second=floats,
        fallback_used=st.booleans(),
        category=text,
    ),
    st.builds(
        ev.Failure,
        code=st.sampled_from(ErrorCode),
        message=text,
        reason=text,
        partial_text=text,
        violations=st.lists(st.builds(FieldViolation, text, text), max_size=3).map(tuple),
        retry_after_s=maybe_float,
    ),
)
events = st.builds(
    ev.Event,
    task_id=text,
    seq=ints,
    stage=stages,
    percent=floats,
    message=text,
    elapsed_s=floats,
    eta_s=maybe_float,
    timestamp=floats,
    payload=payloads,
)


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
