"""The Qdrant schema of the corpus and its idempotent build.

Collections (``qianshi`` is the default prefix, so several deployments can share one Qdrant server):

- ``qianshi_<set_id>``: the passages of one poem set — per poem the verse, the title and every
  judgment; judgments of several sentences (關帝 聖意 / 東坡解 / 解曰, 觀音 詩意 / 解曰) are cut into
  clauses so the clause that answers the question can be found (``guandi100/7/judgment/聖意/2``; the
  cutting is passages.py).
  One collection per set because embedded Qdrant is brute force and scores every point of the
  collection it searches; small collections keep a query cheap, and IDF is then measured within a set.
  Named sparse vector ``text`` with ``Modifier.IDF`` (see text.py); optional dense vector ``dense``.
- ``qianshi_poems``: each poem's full record as payload under a deterministic integer id, fetched by
  exact key with ``retrieve``.
- ``qianshi_meta``: one point holding the index version and the poem sets. It is deleted first and
  written last, so an interrupted build is rebuilt on the next start, and a build whose version
  matches is skipped.

Client code is written once for both clients as *steps*: generators that yield :class:`Call` (a client
method with its arguments) or :class:`Compute` (CPU work) and receive the results. :func:`run_steps`
drives them with a ``QdrantClient`` (the embedded worker); :func:`arun_steps` with an
``AsyncQdrantClient`` (a Qdrant server), running the CPU work in a thread. search.py uses the
same machinery for look-ups and searches.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from qdrant_client import AsyncQdrantClient, QdrantClient, models
from qianshi.server.backends.retrieval import analyzer
from qianshi.server.backends.retrieval.corpus import (
    Corpus,
    corpus_version,
    poem_record,
    set_from_record,
    set_record,
)
from qianshi.server.backends.retrieval.passages import passages_of
from qianshi.server.domain import PoemSet

DEFAULT_PREFIX = "qianshi"
TEXT_VECTOR = "text"
DENSE_VECTOR = "dense"
META_POINT_ID = 1
_RESERVED_SET_IDS = frozenset({"poems", "meta"})

T = TypeVar("T")
ProgressCallback = Callable[[int, int], None]
"""Called with (points written, points to write) while the index is being built."""


class Embedder(Protocol):
    """A dense embedding model; optional. Must be picklable to reach the embedded worker process."""

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


@dataclass(frozen=True, slots=True)
class CollectionOptions:
    """Passed through when collections are created on a Qdrant server."""

    shard_number: int | None = None
    replication_factor: int | None = None
    payload_indexes: bool = False
    """Create payload indexes for the filter fields (a server uses them; embedded mode only warns)."""


DEFAULT_NAMES = IndexNames()
EMBEDDED_OPTIONS = CollectionOptions()


@dataclass(frozen=True, slots=True)
class IndexMeta:
    """What the meta point holds."""

    version: str
    sets: tuple[PoemSet, ...]
    points: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BuildReport:
    version: str
    rebuilt: bool
    points: Mapping[str, int]
    """Points per collection (as stored in the meta point when the build was skipped)."""
    seconds: float


@dataclass(frozen=True, slots=True)
class Call:
    """A step: call ``method`` on the Qdrant client with ``kwargs``."""

    method: str
    kwargs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Compute:
    """A step: CPU work, run in a thread by the async driver so it does not block the event loop."""

    fn: Callable[[], Any]


Steps = Generator[Call | Compute, Any, T]


def run_steps(client: QdrantClient, steps: Steps[T]) -> T:
    """Drive steps with a synchronous client."""
    result: Any = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration as stop:
            return stop.value
        result = step.fn() if isinstance(step, Compute) else getattr(client, step.method)(**step.kwargs)


async def arun_steps(client: AsyncQdrantClient, steps: Steps[T]) -> T:
    """Drive steps with an async client; CPU work goes to a thread."""
    result: Any = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration as stop:
            return stop.value
        if isinstance(step, Compute):
            result = await asyncio.to_thread(step.fn)
        else:
            result = await getattr(client, step.method)(**step.kwargs)


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


def build_index(
    client: QdrantClient,
    corpus: Corpus,
    *,
    embedder: Embedder | None = None,
    names: IndexNames = DEFAULT_NAMES,
    options: CollectionOptions = EMBEDDED_OPTIONS,
    progress: ProgressCallback | None = None,
    batch_size: int = 256,
) -> BuildReport:
    """Build the index unless the stored version matches; re-create every collection when it differs.

    (A Qdrant server is built through ``ServerRetriever.start``, which drives the same steps.)
    """
    bulk = _LocalBulkLoad(client)
    return run_steps(client, build_steps(corpus, embedder, names, options, progress, batch_size, bulk))


def read_meta_steps(names: IndexNames) -> Steps[IndexMeta | None]:
    """The stored meta point, or None when there is no complete index."""
    if not (yield Call("collection_exists", {"collection_name": names.meta})):
        return None
    records = yield Call("retrieve", {"collection_name": names.meta, "ids": [META_POINT_ID]})
    if not records or not records[0].payload:
        return None
    payload = records[0].payload
    return IndexMeta(
        version=str(payload["version"]),
        sets=tuple(set_from_record(s) for s in payload["sets"]),
        points={str(k): int(v) for k, v in payload.get("points", {}).items()},
    )


def build_steps(
    corpus: Corpus,
    embedder: Embedder | None,
    names: IndexNames,
    options: CollectionOptions,
    progress: ProgressCallback | None,
    batch_size: int,
    bulk: _LocalBulkLoad | None = None,
) -> Steps[BuildReport]:
    """The build as steps: skip when current, else drop, create and fill, and write the meta point last."""
    started = time.perf_counter()
    version = index_version(corpus, embedder)
    wanted = {names.meta, names.poems, *(names.passages(s.id) for s in corpus.sets)}
    meta = yield from read_meta_steps(names)
    existing = {c.name for c in (yield Call("get_collections", {})).collections}
    if meta is not None and meta.version == version and wanted <= existing:
        return BuildReport(version, False, dict(meta.points), time.perf_counter() - started)

    planned: list[tuple[str, dict[str, Any], list[models.PointStruct]]] = yield Compute(
        lambda: _plan(corpus, embedder, names)
    )
    # The meta point goes first: from here until it is written again, the index counts as unbuilt.
    for name in sorted((c for c in existing if names.owns(c)), key=lambda c: (c != names.meta, c)):
        yield Call("delete_collection", {"collection_name": name})

    total = sum(len(points) for _, _, points in planned)
    done = 0
    if progress is not None:
        progress(done, total)
    for name, config, points in planned:
        yield Call("create_collection", {"collection_name": name, **config, **_sharding(options)})
        if bulk is not None:
            bulk.relax(name)
        if options.payload_indexes:
            for key, schema in _payload_indexes(name == names.poems):
                yield Call(
                    "create_payload_index",
                    {"collection_name": name, "field_name": key, "field_schema": schema},
                )
        for i in range(0, len(points), batch_size):
            batch = points[i : i + batch_size]
            yield Call("upsert", {"collection_name": name, "points": batch, "wait": True})
            done += len(batch)
            if progress is not None:
                progress(done, total)

    if bulk is not None:
        bulk.flush()
    counts = {name: len(points) for name, _, points in planned}
    meta_payload = {"version": version, "sets": [set_record(s) for s in corpus.sets], "points": counts}
    yield Call(
        "create_collection", {"collection_name": names.meta, "vectors_config": {}, **_sharding(options)}
    )
    meta_point = models.PointStruct(id=META_POINT_ID, vector={}, payload=meta_payload)
    yield Call("upsert", {"collection_name": names.meta, "points": [meta_point], "wait": True})
    return BuildReport(version, True, counts, time.perf_counter() - started)


def _plan(
    corpus: Corpus, embedder: Embedder | None, names: IndexNames
) -> list[tuple[str, dict[str, Any], list[models.PointStruct]]]:
    """Every collection with its creation arguments and points (the CPU-heavy part of a build)."""
    poems = [
        models.PointStruct(id=poem_point_id(p.set_id, p.number), vector={}, payload=poem_record(p))
        for p in corpus.poems
    ]
    planned: list[tuple[str, dict[str, Any], list[models.PointStruct]]] = [
        (names.poems, {"vectors_config": {}}, poems)
    ]
    dense = (
        {DENSE_VECTOR: models.VectorParams(size=embedder.dim, distance=models.Distance.COSINE)}
        if embedder is not None
        else {}
    )
    sparse = {TEXT_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)}
    for poem_set in corpus.sets:
        docs = [d for p in corpus.poems_of(poem_set.id) for d in passages_of(p)]
        if len({stable_point_id(d.id) for d in docs}) != len(docs):
            raise ValueError(f"passage ids of set '{poem_set.id}' collide; rename a category")
        terms = [d.terms() for d in docs]
        avgdl = sum(len(t) for t in terms) / max(1, len(terms))
        embeddings = embedder([d.embedding_text() for d in docs]) if embedder is not None else None
        points = []
        for i, (d, doc_terms) in enumerate(zip(docs, terms, strict=True)):
            vector: dict[str, Any] = {TEXT_VECTOR: analyzer.document_vector(doc_terms, avgdl)}
            if embeddings is not None:
                vector[DENSE_VECTOR] = embeddings[i]
            points.append(models.PointStruct(id=stable_point_id(d.id), vector=vector, payload=d.payload()))
        config = {"vectors_config": dense, "sparse_vectors_config": sparse}
        planned.append((names.passages(poem_set.id), config, points))
    return planned


class _LocalBulkLoad:
    """Embedded Qdrant commits each point to sqlite with an fsync: the full corpus took 20-40 s to write
    on a busy disk. A build needs no per-point durability (the meta point is written last, and an
    unfinished build is redone), so fsync is off while collections fill (about 2 s), and each file is
    synced once before the meta point is written. This reaches into qdrant-client's local storage
    (private, hence pinned below 2.0 in pyproject.toml); where it looks different, or the client is not
    embedded on disk, it does nothing.
    """

    def __init__(self, client: QdrantClient) -> None:
        self._collections = getattr(getattr(client, "_client", None), "collections", None)
        self._relaxed: list[tuple[sqlite3.Connection, Path]] = []

    def relax(self, collection: str) -> None:
        if not isinstance(self._collections, dict):
            return
        persistence = getattr(self._collections.get(collection), "storage", None)
        connection, path = getattr(persistence, "storage", None), getattr(persistence, "location", None)
        if isinstance(connection, sqlite3.Connection) and isinstance(path, Path):
            connection.execute("PRAGMA synchronous=OFF")
            self._relaxed.append((connection, path))

    def flush(self) -> None:
        for connection, path in self._relaxed:
            connection.execute("PRAGMA synchronous=FULL")
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._relaxed.clear()


def _sharding(options: CollectionOptions) -> dict[str, int]:
    shards = {"shard_number": options.shard_number, "replication_factor": options.replication_factor}
    return {k: v for k, v in shards.items() if v is not None}


def _payload_indexes(poems: bool) -> Sequence[tuple[str, models.PayloadSchemaType]]:
    keys = [("set_id", models.PayloadSchemaType.KEYWORD), ("number", models.PayloadSchemaType.INTEGER)]
    return keys if poems else [*keys, ("kind", models.PayloadSchemaType.KEYWORD)]
