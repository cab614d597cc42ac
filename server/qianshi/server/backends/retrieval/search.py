"""How a question becomes a store query and the store's scores become the answer, for every engine.

This module is the one place where the query is constructed (:func:`passage_search`) and where its
scores are ranked (:func:`rank_passages`); it speaks no engine's types. edge.py (Qdrant Edge,
in-process) and steps.py (qdrant-client, a Qdrant server) each translate :class:`PassageSearch` into
their own request, run it, and hand back ``{passage_id: score}``.

How a search answers:

1. The poem's passages are known without asking the store: they are cut from the poem record exactly
   as the index cut them (``passages_of``), so the required ones need no second request.
2. One sparse query over the set's collection, filtered to the poem (``number``; the collection is the
   set), with the question, the category name and the query's extra terms. With a dense embedder the
   query runs a sparse and a dense prefetch and fuses them with RRF (k = :data:`RRF_K`).
3. The result, in order: the judgment of ``query.category`` first — the whole judgment, or, when the
   index cut it into clauses, the (at most two) clauses that matched, best first (the whole judgment
   when none did) —
   then the verse, then the best-scoring other passages, up to ``query.limit``. Scores are Qdrant's;
   a required passage the query did not reach scores 0. Citations are numbered 1..n in that order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qianshi.server.backends.retrieval import analyzer
from qianshi.server.backends.retrieval.index import DENSE_VECTOR, TEXT_VECTOR, IndexNames
from qianshi.server.backends.retrieval.passages import PassageDoc, passages_of
from qianshi.server.domain import Passage, PassageKind, Poem, PoemSet, Query
from qianshi.server.errors import NotFound

MAX_CATEGORY_CLAUSES = 2
"""At most this many clauses of the category's judgment lead the answer (with a dense embedder every
clause "matches", and the verse must not be pushed out)."""
RRF_K = 2
"""The RRF constant of a hybrid query (Qdrant's default, given explicitly so every engine agrees)."""
PAYLOAD_FIELDS = ("passage_id",)
"""What a search brings back of each point: its passage id (the text is known from the poem)."""


@dataclass(frozen=True, slots=True)
class PassageSearch:
    """One query for the passages of one poem, in no engine's types."""

    collection: str
    text: analyzer.SparseVector | None
    """The sparse query vector (the IDF modifier is applied by the engine); None: dense only."""
    number: int
    """Filter: ``number`` equals this (the collection is the set)."""
    limit: int
    """Every passage of the poem, so a required one is never cut off by better ones."""
    dense: list[float] | None = None
    """With a dense embedder: the question's embedding, fused with the sparse query by RRF."""

    def parts(self) -> list[tuple[str, analyzer.SparseVector | list[float]]]:
        """The searches to run, as (vector name, query vector); two are fused by RRF."""
        found: list[tuple[str, analyzer.SparseVector | list[float]]] = []
        if self.text is not None:
            found.append((TEXT_VECTOR, self.text))
        if self.dense is not None:
            found.append((DENSE_VECTOR, self.dense))
        return found


def check_poem_key(sets: Sequence[PoemSet], set_id: str, number: int) -> PoemSet:
    """The set, if ``number`` is one of its poems; NotFound names whether the set or the number is
    unknown."""
    poem_set = next((s for s in sets if s.id == set_id), None)
    if poem_set is None:
        raise NotFound(f"unknown poem set '{set_id}'", reason="POEM_SET_NOT_FOUND")
    if not 1 <= number <= poem_set.count:
        raise NotFound(
            f"poem set '{set_id}' has no poem {number} (1..{poem_set.count})", reason="POEM_NOT_FOUND"
        )
    return poem_set


def missing_poem(set_id: str, number: int) -> NotFound:
    return NotFound(f"poem set '{set_id}' has no poem {number} in the index", reason="POEM_NOT_FOUND")


def extra_terms(query: Query) -> list[str]:
    """Searched for with the question: the category name and the query's extra terms."""
    return [query.category, *query.terms] if query.category else list(query.terms)


def dense_text(query: Query) -> str:
    """What a dense embedder embeds for the query."""
    return " ".join([query.question, *extra_terms(query)])


def passage_search(
    names: IndexNames,
    query: Query,
    poem: Poem,
    dense: list[float] | None = None,
    docs: Sequence[PassageDoc] | None = None,
) -> PassageSearch:
    """The store query for ``query`` over ``poem``'s passages (``dense``: the embedded question;
    ``docs``: ``passages_of(poem)`` when the caller keeps them)."""
    return PassageSearch(
        collection=names.passages(poem.set_id),
        text=analyzer.query_vector(query.question, extra_terms(query)),
        number=poem.number,
        limit=len(docs if docs is not None else passages_of(poem)),
        dense=dense,
    )


def scores_of(points: Sequence[Any]) -> dict[str, float]:
    """``{passage_id: score}`` of an engine's scored points (both engines' have payload and score)."""
    return {str((p.payload or {}).get("passage_id")): float(p.score) for p in points}


def rank_passages(
    query: Query, poem: Poem, scores: Mapping[str, float], docs: Sequence[PassageDoc] | None = None
) -> list[Passage]:
    """Order the poem's passages for the query (pure; the scores are the store's; ``docs``:
    ``passages_of(poem)`` when the caller keeps them)."""
    docs = docs if docs is not None else passages_of(poem)
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


class SentenceTransformerEmbedder:
    """A dense embedder from a local sentence-transformers model folder (optional dependency).

    Picklable: the model loads on first use, so an instance can be handed to the index builder.
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
