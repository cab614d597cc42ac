"""The embedded store: Qdrant Edge (Qdrant's own Rust engine, in-process), one shard per collection.

Layout of the store's folder (``--qdrant-path``, by default ``<state dir>/qdrant``)::

    edge-index.json        the meta record: format, engine, index version, sets, point counts and the
                           generation that holds the shards; replaced atomically, written last
    g-<version>-<stamp>/   one generation: a shard per collection of index.py (qianshi_poems,
                           qianshi_<set> …), each an Edge shard folder
    .build.lock            held while a build runs (several processes may start on one folder)

Per-set shards, not one shard with a set filter and ``IdfParams``: a set's shard is exactly a Qdrant
server's collection of that set, so IDF is measured over the same points on both engines without
extra parameters, and a search reads only its set (measured on the shipped corpus: 0.024 ms p50 per
search against 0.065 ms for one shard with a set filter and ``IdfParams``; both gave the same scores).

A build writes a new generation next to the current one and then replaces the meta record, so a
reader never sees half an index and a crash leaves the previous index in force; the generation before
the previous one is deleted. Shards are created without a write-ahead log: nothing is written once a
build has flushed, and without the WAL's lock any number of processes can open the same shards. A
build holds the GIL for about a second (analysis, upserts, flush, optimize), so the server runs it in a
child process (builder.py); ``qianshi-ingest --qdrant-path`` runs it in its own process.

A folder that holds qdrant-client's local-mode store (the engine before this one: ``meta.json`` and
``collection/``) is rebuilt once as Edge shards and its old files are removed (the callers say so in
their logs: :func:`old_engine_store`).

Searches and look-ups take 0.02-0.1 ms and hold the GIL that long (no Edge call releases it), so the
retriever calls them straight on the event loop (embedded.py). Shards use one search thread
(``max_search_threads=1``): with a pool, a call sometimes stalled for 0.6-5 s on a busy two-core box.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import qdrant_edge as qe
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
    IndexPoint,
    PlannedCollection,
    ProgressCallback,
    index_version,
    plan,
    poem_point_id,
)
from qianshi.server.backends.retrieval.search import PAYLOAD_FIELDS, RRF_K, PassageSearch, scores_of
from qianshi.server.domain import Poem, PoemSet
from qianshi.server.errors import BackendFailed

META_FILE = "edge-index.json"
LOCK_FILE = ".build.lock"
FORMAT = 1
ENGINE = f"qdrant-edge-py {metadata.version('qdrant-edge-py')}"
"""Part of the meta record: a store written by another Edge version is rebuilt rather than trusted."""
BATCH = 512
_OLD_ENGINE_FILES = ("meta.json", "collection", ".lock")


@dataclass(frozen=True, slots=True)
class StoredIndex:
    """What the meta record of a folder says."""

    meta: IndexMeta
    engine: str
    generation: str


def read_stored(path: Path) -> StoredIndex | None:
    """The folder's meta record, or None when there is none (or it cannot be read)."""
    try:
        raw = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            return None
        meta = IndexMeta(
            version=str(raw["version"]),
            sets=tuple(set_from_record(s) for s in raw["sets"]),
            points={str(k): int(v) for k, v in raw["points"].items()},
        )
        return StoredIndex(meta, str(raw["engine"]), str(raw["generation"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_current(path: Path, version: str, names: IndexNames = DEFAULT_NAMES) -> bool:
    """Whether the folder holds a complete index of ``version`` written by this engine."""
    stored = read_stored(path)
    if stored is None or stored.meta.version != version or stored.engine != ENGINE:
        return False
    generation = path / stored.generation
    wanted = [names.poems, *(names.passages(s.id) for s in stored.meta.sets)]
    return all((generation / name).is_dir() for name in wanted)


def old_engine_store(path: Path) -> bool:
    """Whether the folder holds a store written by qdrant-client's local mode (the engine before)."""
    return (path / "collection").is_dir() or (path / "meta.json").is_file()


def build(
    path: Path,
    corpus: Corpus,
    *,
    embedder: Embedder | None = None,
    names: IndexNames = DEFAULT_NAMES,
    progress: ProgressCallback | None = None,
    force: bool = False,
) -> BuildReport:
    """Build the index into ``path`` unless it is current (``force``: build anyway). Blocking, and it
    holds the GIL for about a second: call it before serving or from another process."""
    started = time.perf_counter()
    version = index_version(corpus, embedder)
    path.mkdir(parents=True, exist_ok=True)
    with _build_lock(path):
        stored = read_stored(path)
        if not force and stored is not None and is_current(path, version, names):
            return BuildReport(version, False, dict(stored.meta.points), time.perf_counter() - started)
        old = old_engine_store(path)
        planned = plan(corpus, embedder, names)
        generation = f"g-{version[:12]}-{time.time_ns():x}"
        total = sum(len(c.points) for c in planned)
        done = 0
        if progress is not None:
            progress(done, total)
        for collection in planned:
            shard = qe.EdgeShard.create(str(path / generation / collection.name), _config(collection))
            try:
                if collection.searchable:
                    shard.update(
                        qe.UpdateOperation.create_field_index("number", qe.PayloadSchemaType.Integer)
                    )
                for i in range(0, len(collection.points), BATCH):
                    batch = collection.points[i : i + BATCH]
                    shard.update(qe.UpdateOperation.upsert_points([_point(p) for p in batch]))
                    done += len(batch)
                    if progress is not None:
                        progress(done, total)
                shard.optimize()
                shard.flush()
            finally:
                shard.close()
        counts = {c.name: len(c.points) for c in planned}
        _write_meta(path, IndexMeta(version, corpus.sets, counts), generation)
        _remove_stale(path, keep={generation, stored.generation if stored is not None else ""})
        if old:
            for name in _OLD_ENGINE_FILES:
                _remove(path / name)
        return BuildReport(version, True, counts, time.perf_counter() - started)


class EdgeIndex:
    """An opened index: its shards, read-only. Look-ups and searches are plain calls of about 0.1 ms.

    ``EdgeIndex.open(path)`` (0.01-0.1 s per shard); ``close()`` at the end.
    """

    def __init__(self, stored: StoredIndex, shards: Mapping[str, qe.EdgeShard], names: IndexNames) -> None:
        self.meta = stored.meta
        self.generation = stored.generation
        self._shards = dict(shards)
        self._names = names

    @classmethod
    def open(cls, path: Path, names: IndexNames = DEFAULT_NAMES) -> EdgeIndex:
        stored = read_stored(path)
        if stored is None:
            raise BackendFailed(f"no retrieval index in {path}", reason="INDEX_MISSING")
        wanted = [names.poems, *(names.passages(s.id) for s in stored.meta.sets)]
        shards: dict[str, qe.EdgeShard] = {}
        try:
            for name in wanted:
                shards[name] = qe.EdgeShard.load(str(path / stored.generation / name))
        except BaseException:
            for shard in shards.values():
                shard.close()
            raise
        return cls(stored, shards, names)

    @property
    def sets(self) -> tuple[PoemSet, ...]:
        return self.meta.sets

    def poem(self, set_id: str, number: int) -> Poem | None:
        """The poem's record, or None when the index has no such point (the key is checked by the
        caller against the sets)."""
        records = self._shards[self._names.poems].retrieve(
            [poem_point_id(set_id, number)], with_payload=True, with_vector=False
        )
        return poem_from_record(records[0].payload) if records and records[0].payload else None

    def scores(self, search: PassageSearch) -> dict[str, float]:
        """``{passage_id: score}`` of one search."""
        return scores_of(self._shards[search.collection].query(query_request(search)))

    def close(self) -> None:
        for shard in self._shards.values():
            shard.close()
        self._shards.clear()


def query_request(search: PassageSearch) -> qe.QueryRequest:
    """An Edge query for a search (search.py built it; this only translates)."""
    poem_filter = qe.Filter(must=[qe.FieldCondition(key="number", match=qe.MatchValue(value=search.number))])
    payload = list(PAYLOAD_FIELDS)
    parts = [
        qe.Query.Nearest(sparse_vector(v) if isinstance(v, analyzer.SparseVector) else v, using=name)
        for name, v in search.parts()
    ]
    if len(parts) == 1:
        return qe.QueryRequest(limit=search.limit, query=parts[0], filter=poem_filter, with_payload=payload)
    return qe.QueryRequest(
        limit=search.limit,
        prefetches=[qe.Prefetch(limit=search.limit, query=part, filter=poem_filter) for part in parts],
        query=qe.Fusion.Rrf(k=RRF_K),  # type: ignore[arg-type]  # the stub names Fusion, not its cases
        with_payload=payload,
    )


def sparse_vector(vector: analyzer.SparseVector) -> qe.SparseVector:
    return qe.SparseVector(list(vector.indices), list(vector.values))


def _config(collection: PlannedCollection) -> qe.EdgeConfig:
    # Every shard declares the sparse vector (Edge needs at least one vector; the poems have none).
    sparse = {TEXT_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)}
    dense = (
        {DENSE_VECTOR: qe.EdgeVectorParams(size=collection.dense_dim, distance=qe.Distance.Cosine)}
        if collection.dense_dim
        else None
    )
    return qe.EdgeConfig(
        vectors=dense,
        sparse_vectors=sparse,
        max_search_threads=1,
        wal_enabled=False,
        payload_memory=qe.Memory.Cached,
    )


def _point(point: IndexPoint) -> qe.Point:
    vector: dict[str, Any] = {}
    if point.text is not None:
        vector[TEXT_VECTOR] = sparse_vector(point.text)
    if point.dense is not None:
        vector[DENSE_VECTOR] = point.dense
    return qe.Point(point.id, vector, dict(point.payload))


def _write_meta(path: Path, meta: IndexMeta, generation: str) -> None:
    record = {
        "format": FORMAT,
        "engine": ENGINE,
        "version": meta.version,
        "sets": [set_record(s) for s in meta.sets],
        "points": dict(meta.points),
        "generation": generation,
    }
    tmp = path / f".{META_FILE}.tmp"
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(record, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path / META_FILE)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(path: Path, keep: set[str]) -> None:
    """Generations other than the current and the previous one (a server may still read that)."""
    for child in path.iterdir():
        if child.name.startswith("g-") and child.name not in keep:
            _remove(child)


def _remove(target: Path) -> None:
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    with (path / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
