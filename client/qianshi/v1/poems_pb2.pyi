from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PassageKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PASSAGE_KIND_UNSPECIFIED: _ClassVar[PassageKind]
    PASSAGE_KIND_VERSE: _ClassVar[PassageKind]
    PASSAGE_KIND_TITLE: _ClassVar[PassageKind]
    PASSAGE_KIND_JUDGMENT: _ClassVar[PassageKind]
PASSAGE_KIND_UNSPECIFIED: PassageKind
PASSAGE_KIND_VERSE: PassageKind
PASSAGE_KIND_TITLE: PassageKind
PASSAGE_KIND_JUDGMENT: PassageKind

class PoemSet(_message.Message):
    __slots__ = ("id", "name_zh", "name_en", "count", "categories", "aliases")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_ZH_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    id: str
    name_zh: str
    name_en: str
    count: int
    categories: _containers.RepeatedScalarFieldContainer[str]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name_zh: _Optional[str] = ..., name_en: _Optional[str] = ..., count: _Optional[int] = ..., categories: _Optional[_Iterable[str]] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class Judgment(_message.Message):
    __slots__ = ("category", "text")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    category: str
    text: str
    def __init__(self, category: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class Poem(_message.Message):
    __slots__ = ("set_id", "set_name", "number", "rank", "title", "verse_lines", "judgments", "attributes", "alt_titles", "source")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SET_ID_FIELD_NUMBER: _ClassVar[int]
    SET_NAME_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VERSE_LINES_FIELD_NUMBER: _ClassVar[int]
    JUDGMENTS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    ALT_TITLES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    set_id: str
    set_name: str
    number: int
    rank: str
    title: str
    verse_lines: _containers.RepeatedScalarFieldContainer[str]
    judgments: _containers.RepeatedCompositeFieldContainer[Judgment]
    attributes: _containers.ScalarMap[str, str]
    alt_titles: _containers.RepeatedScalarFieldContainer[str]
    source: str
    def __init__(self, set_id: _Optional[str] = ..., set_name: _Optional[str] = ..., number: _Optional[int] = ..., rank: _Optional[str] = ..., title: _Optional[str] = ..., verse_lines: _Optional[_Iterable[str]] = ..., judgments: _Optional[_Iterable[_Union[Judgment, _Mapping]]] = ..., attributes: _Optional[_Mapping[str, str]] = ..., alt_titles: _Optional[_Iterable[str]] = ..., source: _Optional[str] = ...) -> None: ...

class Passage(_message.Message):
    __slots__ = ("id", "kind", "category", "text", "score", "source", "citation")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CITATION_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: PassageKind
    category: str
    text: str
    score: float
    source: str
    citation: int
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[PassageKind, str]] = ..., category: _Optional[str] = ..., text: _Optional[str] = ..., score: _Optional[float] = ..., source: _Optional[str] = ..., citation: _Optional[int] = ...) -> None: ...
