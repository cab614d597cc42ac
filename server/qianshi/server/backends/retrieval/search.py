"""Poem look-up and passage search over the index of index.py, for both kinds of client.

The look-up and the search are written once, as steps (see index.py): :class:`QdrantSearcher`
drives them with a synchronous ``QdrantClient`` inside the embedded worker process, and remote.py
drives the same steps with an ``AsyncQdrantClient``.

How a search answers (``passages_steps``):

1. The poem's passages are known without asking the store: they are cut from the poem record exactly
   as the index cut them (``passages_of``), so the required ones need no second request.
2. One sparse query over the set's collection, filtered to the poem (``number``; the collection is the
   set), with the question, the category name and the query's extra terms. With a dense embedder the
   query runs a sparse and a dense prefetch and fuses them with RRF.
3. The result, in order: the judgment of ``query.category`` first — the whole judgment, or, when the
   index cut it into clauses, the (at most two) clauses that matched, best first (the whole judgment
   when none did) —
   then the verse, then the best-scoring other passages, up to ``query.limit``. Scores are Qdrant's;
   a required passage the query did not reach scores 0. Citations are numbered 1..n in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient, models
from qianshi.server.backends.retrieval import analyzer
from qianshi.server.backends.retrieval.corpus import poem_from_record
from qianshi.server.backends.retrieval.index import (
    DEFAULT_NAMES,
    DENSE_VECTOR,
    TEXT_VECTOR,
    Call,
    Compute,
    Embedder,
    IndexNames,
    Steps,
    poem_point_id,
    read_meta_steps,
    run_steps,
)
from qianshi.server.backends.retrieval.passages import PassageDoc, passages_of
from qianshi.server.domain import Passage, PassageKind, Poem, PoemSet, Query
from qianshi.server.errors import BackendFailed, NotFound

MAX_CATEGORY_CLAUSES = 2
"""At most this many clauses of the category's judgment lead the answer (with a dense embedder every
clause "matches", and the verse must not be pushed out)."""


def sets_steps(names: IndexNames) -> Steps[tuple[PoemSet, ...]]:
    """The poem sets stored with the index."""
    meta = yield from read_meta_steps(names)
    if meta is None:
        raise BackendFailed("the retrieval index has not been built", reason="INDEX_MISSING")
    return meta.sets


def poem_steps(names: IndexNames, sets: Sequence[PoemSet], set_id: str, number: int) -> Steps[Poem]:
    """One poem by exact key; NotFound names whether the set or the number is unknown."""
    poem_set = next((s for s in sets if s.id == set_id), None)
    if poem_set is None:
        raise NotFound(f"unknown poem set '{set_id}'", reason="POEM_SET_NOT_FOUND")
    if not 1 <= number <= poem_set.count:
        raise NotFound(
            f"poem set '{set_id}' has no poem {number} (1..{poem_set.count})", reason="POEM_NOT_FOUND"
        )
    records = yield Call(
        "retrieve",
        {"collection_name": names.poems, "ids": [poem_point_id(set_id, number)], "with_payload": True},
    )
    if not records or not records[0].payload:
        raise NotFound(f"poem set '{set_id}' has no poem {number} in the index", reason="POEM_NOT_FOUND")
    return poem_from_record(records[0].payload)


def passages_steps(
    names: IndexNames, query: Query, poem: Poem, embedder: Embedder | None = None
) -> Steps[list[Passage]]:
    """The passages of ``poem`` for ``query``, in the order described in the module docstring."""
    docs = passages_of(poem)
    extra = [query.category, *query.terms] if query.category else list(query.terms)
    sparse = analyzer.query_vector(query.question, extra)
    poem_filter = models.Filter(
        must=[models.FieldCondition(key="number", match=models.MatchValue(value=poem.number))]
    )
    request: dict[str, Any] = {
        "collection_name": names.passages(poem.set_id),
        "limit": len(docs),
        "with_payload": ["passage_id"],
    }
    if embedder is None:
        request.update(query=sparse, using=TEXT_VECTOR, query_filter=poem_filter)
    else:
        question = " ".join([query.question, *extra])
        dense = yield Compute(lambda: embedder([question])[0])
        request.update(
            prefetch=[
                models.Prefetch(query=sparse, using=TEXT_VECTOR, filter=poem_filter, limit=len(docs)),
                models.Prefetch(query=dense, using=DENSE_VECTOR, filter=poem_filter, limit=len(docs)),
            ],
            query=models.FusionQuery(fusion=models.Fusion.RRF),
        )
    response = yield Call("query_points", request)
    scores = {str((p.payload or {}).get("passage_id")): p.score for p in response.points}
    return rank_passages(query, poem, docs, scores)


def rank_passages(
    query: Query, poem: Poem, docs: Sequence[PassageDoc], scores: dict[str, float]
) -> list[Passage]:
    """Order the poem's passages for the query (pure; the scores are the store's)."""
    limit = max(1, query.limit)
    category = [d for d in docs if d.kind is PassageKind.JUDGMENT and d.category == query.category]
    first: list[Passage] = []
    if len(category) == 1:
        first = [_passage(category[0], scores.get(category[0].id, 0.0))]
    elif category:
        matched = sorted((d for d in category if d.id in scores), key=lambda d: -scores[d.id])
        first = [_passage(d, scores[d.id]) for d in matched[: min(MAX_CATEGORY_CLAUSES, max(1, limit - 1))]]
        if not first:
            whole = category[0]
            first = [
                Passage(
                    id=whole.id.rsplit("/", 1)[0],
                    kind=PassageKind.JUDGMENT,
                    category=whole.category,
                    text=poem.judgment(whole.category) or "",
                    score=0.0,
                    source=whole.source,
                )
            ]
    verse = next(d for d in docs if d.kind is PassageKind.VERSE)
    chosen = [*first, _passage(verse, scores.get(verse.id, 0.0))]
    taken = {p.id for p in chosen} | {d.id for d in category}
    others = sorted((d for d in docs if d.id in scores and d.id not in taken), key=lambda d: -scores[d.id])
    chosen.extend(_passage(d, scores[d.id]) for d in others)
    return [
        Passage(p.id, p.kind, p.category, p.text, p.score, p.source, citation=i)
        for i, p in enumerate(chosen[:limit], start=1)
    ]


class QdrantSearcher:
    """Synchronous look-ups and searches over a built index (used inside the embedded worker).

    Poems are immutable once indexed, so they are cached after the first fetch.
    """

    def __init__(
        self,
        client: QdrantClient,
        *,
        names: IndexNames = DEFAULT_NAMES,
        embedder: Embedder | None = None,
    ) -> None:
        self._client = client
        self._names = names
        self._embedder = embedder
        self._sets: tuple[PoemSet, ...] | None = None
        self._poems: dict[tuple[str, int], Poem] = {}

    def sets(self) -> tuple[PoemSet, ...]:
        if self._sets is None:
            self._sets = run_steps(self._client, sets_steps(self._names))
        return self._sets

    def get_poem(self, set_id: str, number: int) -> Poem:
        key = (set_id, number)
        poem = self._poems.get(key)
        if poem is None:
            poem = run_steps(self._client, poem_steps(self._names, self.sets(), set_id, number))
            self._poems[key] = poem
        return poem

    def search_passages(self, query: Query, *, poem: Poem | None = None) -> list[Passage]:
        """Passages for ``query``; pass ``poem`` when it is already at hand."""
        if poem is None:
            poem = self.get_poem(query.set_id, query.number)
        return run_steps(self._client, passages_steps(self._names, query, poem, self._embedder))


class SentenceTransformerEmbedder:
    """A dense embedder from a local sentence-transformers model folder (optional dependency).

    Picklable: the model loads on first use, so an instance can be handed to the worker process.
    """

    def __init__(self, model_path: str, dim: int) -> None:
        self.name = f"sentence-transformers:{model_path}"
        self.dim = dim
        self._model_path = model_path
        self._model: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "dim": self.dim, "_model_path": self._model_path, "_model": None}

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        if self._model is None:
            from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

            self._model = SentenceTransformer(self._model_path, local_files_only=True)
        vectors = self._model.encode(list(texts), normalize_embeddings=True)
        return [[float(x) for x in v] for v in vectors]


def _passage(doc: PassageDoc, score: float) -> Passage:
    return Passage(
        id=doc.id, kind=doc.kind, category=doc.category, text=doc.text, score=score, source=doc.source
    )
