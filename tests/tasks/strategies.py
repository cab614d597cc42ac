"""Hypothesis strategies for every pipeline event (the codec's and the packed form's round trips)."""

from __future__ import annotations

from hypothesis import strategies as st
from qianshi.server.domain import CategorySource, Judgment, Passage, PassageKind, Poem, Stage
from qianshi.server.errors import ErrorCode, FieldViolation
from qianshi.server.pipeline import events as ev

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
