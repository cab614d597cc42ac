import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from qianshi.v1 import events_pb2 as _events_pb2
from qianshi.v1 import poems_pb2 as _poems_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DisconnectPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISCONNECT_POLICY_UNSPECIFIED: _ClassVar[DisconnectPolicy]
    DISCONNECT_POLICY_CANCEL: _ClassVar[DisconnectPolicy]
    DISCONNECT_POLICY_KEEP_RUNNING: _ClassVar[DisconnectPolicy]
DISCONNECT_POLICY_UNSPECIFIED: DisconnectPolicy
DISCONNECT_POLICY_CANCEL: DisconnectPolicy
DISCONNECT_POLICY_KEEP_RUNNING: DisconnectPolicy

class GenerationOptions(_message.Message):
    __slots__ = ("max_tokens", "temperature", "seed")
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    max_tokens: int
    temperature: float
    seed: int
    def __init__(self, max_tokens: _Optional[int] = ..., temperature: _Optional[float] = ..., seed: _Optional[int] = ...) -> None: ...

class InterpretRequest(_message.Message):
    __slots__ = ("set_id", "number", "question", "category", "locale", "options", "request_id", "disconnect_policy", "grace_period")
    SET_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DISCONNECT_POLICY_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    set_id: str
    number: int
    question: str
    category: str
    locale: str
    options: GenerationOptions
    request_id: str
    disconnect_policy: DisconnectPolicy
    grace_period: _duration_pb2.Duration
    def __init__(self, set_id: _Optional[str] = ..., number: _Optional[int] = ..., question: _Optional[str] = ..., category: _Optional[str] = ..., locale: _Optional[str] = ..., options: _Optional[_Union[GenerationOptions, _Mapping]] = ..., request_id: _Optional[str] = ..., disconnect_policy: _Optional[_Union[DisconnectPolicy, str]] = ..., grace_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("task_id", "after_seq")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    after_seq: int
    def __init__(self, task_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class CancelResponse(_message.Message):
    __slots__ = ("task_id", "cancelled")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    cancelled: bool
    def __init__(self, task_id: _Optional[str] = ..., cancelled: _Optional[bool] = ...) -> None: ...

class ListSetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSetsResponse(_message.Message):
    __slots__ = ("sets",)
    SETS_FIELD_NUMBER: _ClassVar[int]
    sets: _containers.RepeatedCompositeFieldContainer[_poems_pb2.PoemSet]
    def __init__(self, sets: _Optional[_Iterable[_Union[_poems_pb2.PoemSet, _Mapping]]] = ...) -> None: ...

class GetPoemRequest(_message.Message):
    __slots__ = ("set_id", "number")
    SET_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    set_id: str
    number: int
    def __init__(self, set_id: _Optional[str] = ..., number: _Optional[int] = ...) -> None: ...

class GetPoemResponse(_message.Message):
    __slots__ = ("poem",)
    POEM_FIELD_NUMBER: _ClassVar[int]
    poem: _poems_pb2.Poem
    def __init__(self, poem: _Optional[_Union[_poems_pb2.Poem, _Mapping]] = ...) -> None: ...
