import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from qianshi.v1 import poems_pb2 as _poems_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Stage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STAGE_UNSPECIFIED: _ClassVar[Stage]
    STAGE_ACCEPTED: _ClassVar[Stage]
    STAGE_RETRIEVAL: _ClassVar[Stage]
    STAGE_GENERATION: _ClassVar[Stage]
    STAGE_DONE: _ClassVar[Stage]

class CategorySource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATEGORY_SOURCE_UNSPECIFIED: _ClassVar[CategorySource]
    CATEGORY_SOURCE_REQUEST: _ClassVar[CategorySource]
    CATEGORY_SOURCE_INFERRED: _ClassVar[CategorySource]
    CATEGORY_SOURCE_DEFAULT: _ClassVar[CategorySource]
STAGE_UNSPECIFIED: Stage
STAGE_ACCEPTED: Stage
STAGE_RETRIEVAL: Stage
STAGE_GENERATION: Stage
STAGE_DONE: Stage
CATEGORY_SOURCE_UNSPECIFIED: CategorySource
CATEGORY_SOURCE_REQUEST: CategorySource
CATEGORY_SOURCE_INFERRED: CategorySource
CATEGORY_SOURCE_DEFAULT: CategorySource

class ProgressEvent(_message.Message):
    __slots__ = ("task_id", "seq", "stage", "percent", "message", "elapsed", "eta", "timestamp", "accepted", "tick", "stage_started", "stage_completed", "poem", "passages", "text_delta", "result", "error")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    STAGE_STARTED_FIELD_NUMBER: _ClassVar[int]
    STAGE_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    POEM_FIELD_NUMBER: _ClassVar[int]
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    TEXT_DELTA_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    seq: int
    stage: Stage
    percent: float
    message: str
    elapsed: _duration_pb2.Duration
    eta: _duration_pb2.Duration
    timestamp: _timestamp_pb2.Timestamp
    accepted: Accepted
    tick: Tick
    stage_started: StageStarted
    stage_completed: StageCompleted
    poem: _poems_pb2.Poem
    passages: Passages
    text_delta: TextDelta
    result: Result
    error: Error
    def __init__(self, task_id: _Optional[str] = ..., seq: _Optional[int] = ..., stage: _Optional[_Union[Stage, str]] = ..., percent: _Optional[float] = ..., message: _Optional[str] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., eta: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., accepted: _Optional[_Union[Accepted, _Mapping]] = ..., tick: _Optional[_Union[Tick, _Mapping]] = ..., stage_started: _Optional[_Union[StageStarted, _Mapping]] = ..., stage_completed: _Optional[_Union[StageCompleted, _Mapping]] = ..., poem: _Optional[_Union[_poems_pb2.Poem, _Mapping]] = ..., passages: _Optional[_Union[Passages, _Mapping]] = ..., text_delta: _Optional[_Union[TextDelta, _Mapping]] = ..., result: _Optional[_Union[Result, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...

class Accepted(_message.Message):
    __slots__ = ("request_id", "category", "category_source", "locale", "generator")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    category: str
    category_source: CategorySource
    locale: str
    generator: str
    def __init__(self, request_id: _Optional[str] = ..., category: _Optional[str] = ..., category_source: _Optional[_Union[CategorySource, str]] = ..., locale: _Optional[str] = ..., generator: _Optional[str] = ...) -> None: ...

class Tick(_message.Message):
    __slots__ = ("stage_elapsed", "queue_position")
    STAGE_ELAPSED_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    stage_elapsed: _duration_pb2.Duration
    queue_position: int
    def __init__(self, stage_elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., queue_position: _Optional[int] = ...) -> None: ...

class StageStarted(_message.Message):
    __slots__ = ("stage", "expected_duration")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_DURATION_FIELD_NUMBER: _ClassVar[int]
    stage: Stage
    expected_duration: _duration_pb2.Duration
    def __init__(self, stage: _Optional[_Union[Stage, str]] = ..., expected_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class StageCompleted(_message.Message):
    __slots__ = ("stage", "duration")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    stage: Stage
    duration: _duration_pb2.Duration
    def __init__(self, stage: _Optional[_Union[Stage, str]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Passages(_message.Message):
    __slots__ = ("passages", "category")
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    passages: _containers.RepeatedCompositeFieldContainer[_poems_pb2.Passage]
    category: str
    def __init__(self, passages: _Optional[_Iterable[_Union[_poems_pb2.Passage, _Mapping]]] = ..., category: _Optional[str] = ...) -> None: ...

class TextDelta(_message.Message):
    __slots__ = ("text", "offset", "tokens")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    text: str
    offset: int
    tokens: int
    def __init__(self, text: _Optional[str] = ..., offset: _Optional[int] = ..., tokens: _Optional[int] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ...) -> None: ...

class StageTiming(_message.Message):
    __slots__ = ("stage", "duration")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    stage: Stage
    duration: _duration_pb2.Duration
    def __init__(self, stage: _Optional[_Union[Stage, str]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("text", "cited_passage_ids", "unknown_citations", "usage", "timings", "generator", "model", "prompt_version", "time_to_first_token", "tokens_per_second", "fallback_used", "category", "quality", "finish_reason")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CITED_PASSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_CITATIONS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_VERSION_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_FIRST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_USED_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    text: str
    cited_passage_ids: _containers.RepeatedScalarFieldContainer[str]
    unknown_citations: _containers.RepeatedScalarFieldContainer[int]
    usage: Usage
    timings: _containers.RepeatedCompositeFieldContainer[StageTiming]
    generator: str
    model: str
    prompt_version: str
    time_to_first_token: _duration_pb2.Duration
    tokens_per_second: float
    fallback_used: bool
    category: str
    quality: Quality
    finish_reason: str
    def __init__(self, text: _Optional[str] = ..., cited_passage_ids: _Optional[_Iterable[str]] = ..., unknown_citations: _Optional[_Iterable[int]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., timings: _Optional[_Iterable[_Union[StageTiming, _Mapping]]] = ..., generator: _Optional[str] = ..., model: _Optional[str] = ..., prompt_version: _Optional[str] = ..., time_to_first_token: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., tokens_per_second: _Optional[float] = ..., fallback_used: _Optional[bool] = ..., category: _Optional[str] = ..., quality: _Optional[_Union[Quality, _Mapping]] = ..., finish_reason: _Optional[str] = ...) -> None: ...

class Quality(_message.Message):
    __slots__ = ("mode", "trips", "converted_chars", "removed_citations", "expected_answer", "found_answer", "fallback")
    MODE_FIELD_NUMBER: _ClassVar[int]
    TRIPS_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_CHARS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_CITATIONS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_ANSWER_FIELD_NUMBER: _ClassVar[int]
    FOUND_ANSWER_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    mode: str
    trips: _containers.RepeatedCompositeFieldContainer[GuardTrip]
    converted_chars: int
    removed_citations: _containers.RepeatedScalarFieldContainer[int]
    expected_answer: str
    found_answer: str
    fallback: str
    def __init__(self, mode: _Optional[str] = ..., trips: _Optional[_Iterable[_Union[GuardTrip, _Mapping]]] = ..., converted_chars: _Optional[int] = ..., removed_citations: _Optional[_Iterable[int]] = ..., expected_answer: _Optional[str] = ..., found_answer: _Optional[str] = ..., fallback: _Optional[str] = ...) -> None: ...

class GuardTrip(_message.Message):
    __slots__ = ("check", "action", "detail", "at_char")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    AT_CHAR_FIELD_NUMBER: _ClassVar[int]
    check: str
    action: str
    detail: str
    at_char: int
    def __init__(self, check: _Optional[str] = ..., action: _Optional[str] = ..., detail: _Optional[str] = ..., at_char: _Optional[int] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("status", "partial_text")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_TEXT_FIELD_NUMBER: _ClassVar[int]
    status: _status_pb2.Status
    partial_text: str
    def __init__(self, status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., partial_text: _Optional[str] = ...) -> None: ...
