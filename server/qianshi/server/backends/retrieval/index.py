"""The index's schema, in no engine's types: what is stored, under which ids, and its version.

Collections (``qianshi`` is the default prefix, so several deployments can share one Qdrant server):

- ``qianshi_<set_id>``: the passages of one poem set — per poem the verse, the title and every
  judgment; judgments of several sentences (關帝 聖意 / 東坡解 / 解曰, 觀音 詩意 / 解曰) are cut into
  clauses so the clause that answers the question can be found (``guandi100/7/judgment/聖意/2``; the
  cutting is passages.py).
  One collection per set, so IDF is measured within a set, and a search scores only its set's points.
  Named sparse vector ``text`` with Qdrant's IDF modifier (see analyzer.py); optional dense ``dense``.
- ``qianshi_poems``: each poem's full record as payload under a deterministic integer id, fetched by
  exact key.
- the meta record: the index version, the poem sets and the point counts. Whoever stores the index
  writes it last, so an interrupted build is redone and a build whose version matches is skipped.

Two engines store this schema: Qdrant Edge in-process (edge.py: one shard per collection, the meta
record in a file) and qdrant-client for a Qdrant server (steps.py: collections, the meta record as a
point). Both take :func:`plan`'s points as they are, so both hold the same points.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from qianshi.server.backends.retrieval import analyzer
from qianshi.server.backends.retrieval.corpus import Corpus, corpus_version, poem_record
from qianshi.server.backends.retrieval.passages import passages_of
from qianshi.server.domain import PoemSet

DEFAULT_PREFIX = "qianshi"
TEXT_VECTOR = "text"
DENSE_VECTOR = "dense"
_RESERVED_SET_IDS = frozenset({"poems", "meta"})

ProgressCallback = Callable[[int, int], None]
"""Called with (points written, points to write) while the index is being built."""


class Embedder(Protocol):
    """A dense embedding model; optional. Must be picklable to reach the index builder's process."""

    name: str
    """Identifies the model; part of the index version."""
    dim: int

    def __call__(self, texts: Sequence[str]) -> list[list[float]]: ...


@dataclass(frozen=True, slots=True)
class IndexNames:
    """The collection names under one prefix."""

    prefix: str = DEFAULT_PREFIX

    @property
    def meta(self) -> str:
        return f"{self.prefix}_meta"

    @property
    def poems(self) -> str:
        return f"{self.prefix}_poems"

    def passages(self, set_id: str) -> str:
        if set_id in _RESERVED_SET_IDS:
            raise ValueError(f"set id '{set_id}' is reserved for the index's own collections")
        return f"{self.prefix}_{set_id}"

    def owns(self, collection: str) -> bool:
        return collection.startswith(f"{self.prefix}_")


DEFAULT_NAMES = IndexNames()


@dataclass(frozen=True, slots=True)
class IndexMeta:
    """What the meta record holds."""

    version: str
    sets: tuple[PoemSet, ...]
    points: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BuildReport:
    version: str
    rebuilt: bool
    points: Mapping[str, int]
    """Points per collection (as stored in the meta record when the build was skipped)."""
    seconds: float


@dataclass(frozen=True, slots=True)
class IndexPoint:
    """One point: its id, its vectors (none for a poem record) and its payload."""

    id: int
    payload: Mapping[str, Any]
    text: analyzer.SparseVector | None = None
    dense: list[float] | None = None


@dataclass(frozen=True, slots=True)
class PlannedCollection:
    """A collection to create and the points to fill it with."""

    name: str
    points: list[IndexPoint]
    searchable: bool
    """Has the ``text`` vector (and ``dense`` with an embedder); the poems collection has none."""
    dense_dim: int | None = None


def stable_point_id(key: str) -> int:
    """A deterministic 63-bit point id for a string key (Qdrant ids are unsigned 64-bit)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFFFFFFFFFF


def poem_point_id(set_id: str, number: int) -> int:
    return stable_point_id(f"{set_id}/{number}")


def index_version(corpus: Corpus, embedder: Embedder | None = None) -> str:
    """The corpus version combined with the analyzer's and the dense model's identity."""
    parts = [corpus_version(corpus), analyzer.ANALYZER_VERSION]
    if embedder is not None:
        parts.append(f"{embedder.name}/{embedder.dim}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def plan(corpus: Corpus, embedder: Embedder | None, names: IndexNames) -> list[PlannedCollection]:
    """Every collection with its points (the CPU-heavy part of a build: every passage is analysed)."""
    poems = [IndexPoint(poem_point_id(p.set_id, p.number), poem_record(p)) for p in corpus.poems]
    planned = [PlannedCollection(names.poems, poems, searchable=False)]
    for poem_set in corpus.sets:
        docs = [d for p in corpus.poems_of(poem_set.id) for d in passages_of(p)]
        if len({stable_point_id(d.id) for d in docs}) != len(docs):
            raise ValueError(f"passage ids of set '{poem_set.id}' collide; rename a category")
        terms = [d.terms() for d in docs]
        avgdl = sum(len(t) for t in terms) / max(1, len(terms))
        embeddings = embedder([d.embedding_text() for d in docs]) if embedder is not None else None
        points = [
            IndexPoint(
                stable_point_id(d.id),
                d.payload(),
                analyzer.document_vector(doc_terms, avgdl),
                embeddings[i] if embeddings is not None else None,
            )
            for i, (d, doc_terms) in enumerate(zip(docs, terms, strict=True))
        ]
        dim = embedder.dim if embedder is not None else None
        planned.append(PlannedCollection(names.passages(poem_set.id), points, searchable=True, dense_dim=dim))
    return planned
