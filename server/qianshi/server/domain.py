"""The plain, frozen types every layer speaks: poem sets, poems, passages, generation chunks.

Nothing here imports grpc, protobuf, qdrant or an HTTP framework; the transport converts these to and
from protobuf at its edge (``service/convert.py``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

LOCALES = ("zh-Hant", "en")
"""Locales the server writes messages and interpretations in; the first is the default."""


class Stage(enum.Enum):
    """The stages of a task, in order."""

    ACCEPTED = "accepted"
    RETRIEVAL = "retrieval"
    GENERATION = "generation"
    DONE = "done"


class PassageKind(enum.Enum):
    VERSE = "verse"
    TITLE = "title"
    JUDGMENT = "judgment"


class CategorySource(enum.Enum):
    REQUEST = "request"
    INFERRED = "inferred"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class PoemSet:
    """A temple's set of poems (one line of corpus/sets.json)."""

    id: str
    name_zh: str
    name_en: str
    count: int
    categories: tuple[str, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Judgment:
    category: str
    text: str


@dataclass(frozen=True, slots=True)
class Poem:
    """One poem with its traditional judgments (one line of a corpus JSONL file)."""

    set_id: str
    set_name: str
    number: int
    rank: str
    title: str
    verse: tuple[str, ...]
    judgments: tuple[Judgment, ...]
    attributes: Mapping[str, str] = field(default_factory=dict)
    alt_titles: tuple[str, ...] = ()
    source: str = ""

    def judgment(self, category: str) -> str | None:
        """The judgment text for one of the set's own categories, if the poem has it."""
        for j in self.judgments:
            if j.category == category:
                return j.text
        return None


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved piece of traditional text; ``citation`` is its number in the prompt ([1], [2] …)."""

    id: str
    kind: PassageKind
    category: str
    text: str
    score: float
    source: str = ""
    citation: int = 0


@dataclass(frozen=True, slots=True)
class Query:
    """What the judgments are searched for."""

    set_id: str
    number: int
    question: str
    category: str
    """The set's own category name the question is about."""
    terms: tuple[str, ...] = ()
    """Extra search terms for the question's common category (for example 病 for 疾病)."""
    limit: int = 6


@dataclass(frozen=True, slots=True)
class CategoryChoice:
    """The category a task is about, and where it came from."""

    category: str
    """The set's own category name (for example 婚姻, 治病, 聖意)."""
    common: str
    """The common category (婚姻, 求財, 疾病 …) it was mapped from; may equal ``category``."""
    source: CategorySource
