"""Conversion between the pipeline's plain types and the contract's protobuf messages.

This is the only module (with ``status``) that knows both worlds; the pipeline never sees protobuf.
"""

from __future__ import annotations

from google.protobuf import duration_pb2, timestamp_pb2
from google.rpc import status_pb2
from qianshi.server.domain import CategorySource, Passage, PassageKind, Poem, PoemSet, Stage
from qianshi.server.pipeline import events as ev
from qianshi.server.pipeline.requests import InterpretParams
from qianshi.server.service.status import status_proto
from qianshi.v1 import events_pb2, interpret_service_pb2, poems_pb2

STAGES = {
    Stage.ACCEPTED: events_pb2.STAGE_ACCEPTED,
    Stage.RETRIEVAL: events_pb2.STAGE_RETRIEVAL,
    Stage.GENERATION: events_pb2.STAGE_GENERATION,
    Stage.DONE: events_pb2.STAGE_DONE,
}
KINDS = {
    PassageKind.VERSE: poems_pb2.PASSAGE_KIND_VERSE,
    PassageKind.TITLE: poems_pb2.PASSAGE_KIND_TITLE,
    PassageKind.JUDGMENT: poems_pb2.PASSAGE_KIND_JUDGMENT,
}
CATEGORY_SOURCES = {
    CategorySource.REQUEST: events_pb2.CATEGORY_SOURCE_REQUEST,
    CategorySource.INFERRED: events_pb2.CATEGORY_SOURCE_INFERRED,
    CategorySource.DEFAULT: events_pb2.CATEGORY_SOURCE_DEFAULT,
}


def duration(seconds: float) -> duration_pb2.Duration:
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))


def seconds(value: duration_pb2.Duration) -> float:
    return value.seconds + value.nanos / 1e9


def params(request: interpret_service_pb2.InterpretRequest) -> InterpretParams:
    options = request.options
    return InterpretParams(
        set_id=request.set_id,
        number=request.number,
        question=request.question,
        category=request.category,
        locale=request.locale,
        max_tokens=options.max_tokens,
        temperature=options.temperature if options.HasField("temperature") else None,
        seed=options.seed if options.HasField("seed") else None,
        request_id=request.request_id,
        keep_running=request.disconnect_policy == interpret_service_pb2.DISCONNECT_POLICY_KEEP_RUNNING,
        grace_s=seconds(request.grace_period) if request.HasField("grace_period") else None,
    )


def poem_set(value: PoemSet) -> poems_pb2.PoemSet:
    return poems_pb2.PoemSet(
        id=value.id,
        name_zh=value.name_zh,
        name_en=value.name_en,
        count=value.count,
        categories=value.categories,
        aliases=value.aliases,
    )


def poem(value: Poem) -> poems_pb2.Poem:
    return poems_pb2.Poem(
        set_id=value.set_id,
        set_name=value.set_name,
        number=value.number,
        rank=value.rank,
        title=value.title,
        verse_lines=value.verse,
        judgments=[poems_pb2.Judgment(category=j.category, text=j.text) for j in value.judgments],
        attributes=dict(value.attributes),
        alt_titles=value.alt_titles,
        source=value.source,
    )


def passage(value: Passage) -> poems_pb2.Passage:
    return poems_pb2.Passage(
        id=value.id,
        kind=KINDS[value.kind],
        category=value.category,
        text=value.text,
        score=value.score,
        source=value.source,
        citation=value.citation,
    )


def event(value: ev.Event) -> events_pb2.ProgressEvent:
    """The protobuf form of one event."""
    out = events_pb2.ProgressEvent(
        task_id=value.task_id,
        seq=value.seq,
        stage=STAGES[value.stage],
        percent=value.percent,
        message=value.message,
    )
    _set_duration(out.elapsed, value.elapsed_s)
    if value.eta_s is not None:
        _set_duration(out.eta, value.eta_s)
    whole = int(value.timestamp)
    out.timestamp.seconds, out.timestamp.nanos = whole, int((value.timestamp - whole) * 1e9)
    p = value.payload
    if isinstance(p, ev.TextDelta):
        out.text_delta.text, out.text_delta.offset, out.text_delta.tokens = p.text, p.offset, p.tokens
    elif isinstance(p, ev.Tick):
        _set_duration(out.tick.stage_elapsed, p.stage_elapsed_s)
        out.tick.queue_position = p.queue_position
    elif isinstance(p, ev.StageStarted):
        out.stage_started.stage = STAGES[p.stage]
        if p.expected_s is not None:
            _set_duration(out.stage_started.expected_duration, p.expected_s)
        else:
            out.stage_started.SetInParent()
    elif isinstance(p, ev.StageCompleted):
        out.stage_completed.stage = STAGES[p.stage]
        _set_duration(out.stage_completed.duration, p.duration_s)
    elif isinstance(p, ev.PoemFound):
        out.poem.CopyFrom(_poem_message(p.poem))
    elif isinstance(p, ev.PassagesFound):
        out.passages.category = p.category
        out.passages.passages.extend(passage(x) for x in p.passages)
    elif isinstance(p, ev.Accepted):
        out.accepted.CopyFrom(
            events_pb2.Accepted(
                request_id=p.request_id,
                category=p.category,
                category_source=CATEGORY_SOURCES[p.category_source],
                locale=p.locale,
                generator=p.generator,
            )
        )
    elif isinstance(p, ev.Result):
        out.result.CopyFrom(_result(p))
    elif isinstance(p, ev.Failure):
        out.error.status.CopyFrom(failure_status(p))
        out.error.partial_text = p.partial_text
    return out


_POEMS: dict[int, tuple[Poem, poems_pb2.Poem]] = {}
"""Each poem's message, made once: poems are immutable and the retriever hands out the same object
for the same poem (keyed by identity: a poem holds a dict, so it has no hash)."""
_POEMS_MAX = 4096


def _poem_message(value: Poem) -> poems_pb2.Poem:
    found = _POEMS.get(id(value))
    if found is not None and found[0] is value:
        return found[1]
    if len(_POEMS) >= _POEMS_MAX:
        _POEMS.clear()
    message = poem(value)
    _POEMS[id(value)] = (value, message)
    return message


def failure_status(p: ev.Failure) -> status_pb2.Status:
    return status_proto(p.code, p.message, p.reason, p.violations, p.retry_after_s)


def _result(p: ev.Result) -> events_pb2.Result:
    out = events_pb2.Result(
        text=p.text,
        cited_passage_ids=p.cited_passage_ids,
        unknown_citations=p.unknown_citations,
        usage=events_pb2.Usage(prompt_tokens=p.prompt_tokens, completion_tokens=p.completion_tokens),
        timings=[events_pb2.StageTiming(stage=STAGES[s], duration=duration(d)) for s, d in p.timings],
        generator=p.generator,
        model=p.model,
        prompt_version=p.prompt_version,
        tokens_per_second=p.tokens_per_second,
        fallback_used=p.fallback_used,
        category=p.category,
        finish_reason=p.finish_reason,
    )
    if p.time_to_first_token_s is not None:
        _set_duration(out.time_to_first_token, p.time_to_first_token_s)
    if p.quality is not None:
        q = p.quality
        out.quality.CopyFrom(
            events_pb2.Quality(
                mode=q.mode,
                trips=[
                    events_pb2.GuardTrip(check=t.check, action=t.action, detail=t.detail, at_char=t.at_char)
                    for t in q.trips
                ],
                converted_chars=q.converted_chars,
                removed_citations=q.removed_citations,
                expected_answer=q.expected_answer,
                found_answer=q.found_answer,
                fallback=q.fallback,
            )
        )
    return out


def _set_duration(target: duration_pb2.Duration, value: float) -> None:
    whole = int(value)
    target.seconds, target.nanos = whole, int((value - whole) * 1e9)


__all__ = ["duration", "event", "params", "passage", "poem", "poem_set", "seconds", "timestamp_pb2"]
