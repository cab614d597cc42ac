"""The index and its queries through qdrant-client: a Qdrant server (remote.py, ``qianshi-ingest
--qdrant-url``), or qdrant-client's ``:memory:`` mode standing in for one in tests.

Client code is written once for both of qdrant-client's clients as *steps*: generators that yield
:class:`Call` (a client method with its arguments) or :class:`Compute` (CPU work) and receive the
results. :func:`run_steps` drives them with a ``QdrantClient``; :func:`arun_steps` with an
``AsyncQdrantClient``, running the CPU work in a thread. The points and the query are index.py's and
search.py's; this module only translates them into qdrant-client's models.

The meta record is a point of the ``<prefix>_meta`` collection. It is deleted first and written last,
so an interrupted build is rebuilt on the next start, and a build whose version matches is skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from qdrant_client import AsyncQdrantClient, QdrantClient, models
from qianshi.server.backends.retrieval import analyzer
from qianshi.server.backends.retrieval.corpus import Corpus, poem_from_record, set_from_record, set_record
from qianshi.server.backends.retrieval.index import (
    DEFAULT_NAMES,
    DENSE_VECTOR,
    TEXT_VECTOR,
    BuildReport,
    Embedder,
    IndexMeta,
    IndexNames,
    PlannedCollection,
    ProgressCallback,
    index_version,
    plan,
    poem_point_id,
)
from qianshi.server.backends.retrieval.search import (
    PAYLOAD_FIELDS,
    RRF_K,
    PassageSearch,
    check_poem_key,
    dense_text,
    missing_poem,
    passage_search,
    rank_passages,
    scores_of,
)
from qianshi.server.domain import Passage, Poem, PoemSet, Query
from qianshi.server.errors import BackendFailed

META_POINT_ID = 1
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CollectionOptions:
    """Passed through when collections are created on a Qdrant server."""

    shard_number: int | None = None
    replication_factor: int | None = None
    payload_indexes: bool = False
    """Create payload indexes for the filter fields (a server uses them; ``:memory:`` only warns)."""


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


def build_index(
    client: QdrantClient,
    corpus: Corpus,
    *,
    embedder: Embedder | None = None,
    names: IndexNames = DEFAULT_NAMES,
    options: CollectionOptions | None = None,
    progress: ProgressCallback | None = None,
    batch_size: int = 256,
) -> BuildReport:
    """Build the index unless the stored version matches; re-create every collection when it differs."""
    steps = build_steps(corpus, embedder, names, options or CollectionOptions(), progress, batch_size)
    return run_steps(client, steps)


def read_meta_steps(names: IndexNames) -> Steps[IndexMeta | None]:
    """The stored meta point, or None when there is no complete index."""
    if not (yield Call("collection_exists", {"collection_name": names.meta})):
        return None
    records = yield Call("retrieve", {"collection_name": names.meta, "ids": [META_POINT_ID]})
    if not records or not records[0].payload:
        return None
    return meta_from_record(records[0].payload)


def meta_from_record(payload: Mapping[str, Any]) -> IndexMeta:
    return IndexMeta(
        version=str(payload["version"]),
        sets=tuple(set_from_record(s) for s in payload["sets"]),
        points={str(k): int(v) for k, v in payload.get("points", {}).items()},
    )


def meta_record(meta: IndexMeta) -> dict[str, Any]:
    return {"version": meta.version, "sets": [set_record(s) for s in meta.sets], "points": dict(meta.points)}


def build_steps(
    corpus: Corpus,
    embedder: Embedder | None,
    names: IndexNames,
    options: CollectionOptions,
    progress: ProgressCallback | None,
    batch_size: int,
) -> Steps[BuildReport]:
    """The build as steps: skip when current, else drop, create and fill, and write the meta point last."""
    started = time.perf_counter()
    version = index_version(corpus, embedder)
    wanted = {names.meta, names.poems, *(names.passages(s.id) for s in corpus.sets)}
    meta = yield from read_meta_steps(names)
    existing = {c.name for c in (yield Call("get_collections", {})).collections}
    if meta is not None and meta.version == version and wanted <= existing:
        return BuildReport(version, False, dict(meta.points), time.perf_counter() - started)

    planned: list[PlannedCollection] = yield Compute(lambda: plan(corpus, embedder, names))
    # The meta point goes first: from here until it is written again, the index counts as unbuilt.
    for name in sorted((c for c in existing if names.owns(c)), key=lambda c: (c != names.meta, c)):
        yield Call("delete_collection", {"collection_name": name})

    total = sum(len(c.points) for c in planned)
    done = 0
    if progress is not None:
        progress(done, total)
    for collection in planned:
        yield Call(
            "create_collection",
            {"collection_name": collection.name, **_vectors_config(collection), **_sharding(options)},
        )
        if options.payload_indexes:
            for key, schema in _payload_indexes(collection.searchable):
                yield Call(
                    "create_payload_index",
                    {"collection_name": collection.name, "field_name": key, "field_schema": schema},
                )
        for i in range(0, len(collection.points), batch_size):
            batch = [_point(p) for p in collection.points[i : i + batch_size]]
            yield Call("upsert", {"collection_name": collection.name, "points": batch, "wait": True})
            done += len(batch)
            if progress is not None:
                progress(done, total)

    counts = {c.name: len(c.points) for c in planned}
    record = meta_record(IndexMeta(version, corpus.sets, counts))
    yield Call(
        "create_collection", {"collection_name": names.meta, "vectors_config": {}, **_sharding(options)}
    )
    meta_point = models.PointStruct(id=META_POINT_ID, vector={}, payload=record)
    yield Call("upsert", {"collection_name": names.meta, "points": [meta_point], "wait": True})
    return BuildReport(version, True, counts, time.perf_counter() - started)


def sets_steps(names: IndexNames) -> Steps[tuple[PoemSet, ...]]:
    """The poem sets stored with the index."""
    meta = yield from read_meta_steps(names)
    if meta is None:
        raise BackendFailed("the retrieval index has not been built", reason="INDEX_MISSING")
    return meta.sets


def poem_steps(names: IndexNames, sets: Sequence[PoemSet], set_id: str, number: int) -> Steps[Poem]:
    """One poem by exact key; NotFound names whether the set or the number is unknown."""
    check_poem_key(sets, set_id, number)
    records = yield Call(
        "retrieve",
        {"collection_name": names.poems, "ids": [poem_point_id(set_id, number)], "with_payload": True},
    )
    if not records or not records[0].payload:
        raise missing_poem(set_id, number)
    return poem_from_record(records[0].payload)


def passages_steps(
    names: IndexNames, query: Query, poem: Poem, embedder: Embedder | None = None
) -> Steps[list[Passage]]:
    """The passages of ``poem`` for ``query``, in search.py's order."""
    dense = None
    if embedder is not None:
        text = dense_text(query)
        dense = yield Compute(lambda: embedder([text])[0])
    response = yield Call("query_points", query_request(passage_search(names, query, poem, dense)))
    return rank_passages(query, poem, scores_of(response.points))


def query_request(search: PassageSearch) -> dict[str, Any]:
    """``query_points`` arguments for a search (qdrant-client's models)."""
    poem_filter = models.Filter(
        must=[models.FieldCondition(key="number", match=models.MatchValue(value=search.number))]
    )
    request: dict[str, Any] = {
        "collection_name": search.collection,
        "limit": search.limit,
        "with_payload": list(PAYLOAD_FIELDS),
    }
    parts = [
        (name, sparse_vector(v) if isinstance(v, analyzer.SparseVector) else v) for name, v in search.parts()
    ]
    if len(parts) == 1:
        [(name, vector)] = parts
        request.update(query=vector, using=name, query_filter=poem_filter)
    else:
        request.update(
            prefetch=[
                models.Prefetch(query=vector, using=name, filter=poem_filter, limit=search.limit)
                for name, vector in parts
            ],
            query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
        )
    return request


def sparse_vector(vector: analyzer.SparseVector) -> models.SparseVector:
    return models.SparseVector(indices=list(vector.indices), values=list(vector.values))


def _point(point: Any) -> models.PointStruct:
    vector: dict[str, Any] = {}
    if point.text is not None:
        vector[TEXT_VECTOR] = sparse_vector(point.text)
    if point.dense is not None:
        vector[DENSE_VECTOR] = point.dense
    return models.PointStruct(id=point.id, vector=vector, payload=dict(point.payload))


def _vectors_config(collection: PlannedCollection) -> dict[str, Any]:
    if not collection.searchable:
        return {"vectors_config": {}}
    dense = (
        {DENSE_VECTOR: models.VectorParams(size=collection.dense_dim, distance=models.Distance.COSINE)}
        if collection.dense_dim
        else {}
    )
    sparse = {TEXT_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)}
    return {"vectors_config": dense, "sparse_vectors_config": sparse}


def _sharding(options: CollectionOptions) -> dict[str, int]:
    shards = {"shard_number": options.shard_number, "replication_factor": options.replication_factor}
    return {k: v for k, v in shards.items() if v is not None}


def _payload_indexes(searchable: bool) -> Sequence[tuple[str, models.PayloadSchemaType]]:
    keys = [("set_id", models.PayloadSchemaType.KEYWORD), ("number", models.PayloadSchemaType.INTEGER)]
    return [*keys, ("kind", models.PayloadSchemaType.KEYWORD)] if searchable else keys
