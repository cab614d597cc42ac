"""Both engines answer alike: the same questions through Qdrant Edge (the embedded store) and through
qdrant-client (its ``:memory:`` mode standing in for a Qdrant server's query semantics) give the same
passages with the same scores (float32 rounding and the order of exactly equal scores aside)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from qdrant_client import AsyncQdrantClient
from qianshi.server.backends.retrieval import edge
from qianshi.server.backends.retrieval.corpus import Corpus
from qianshi.server.backends.retrieval.embedded import EmbeddedRetriever
from qianshi.server.backends.retrieval.index import DEFAULT_NAMES
from qianshi.server.backends.retrieval.remote import ServerRetriever
from qianshi.server.backends.retrieval.search import dense_text, passage_search, scores_of
from qianshi.server.backends.retrieval.steps import query_request
from qianshi.server.domain import Passage, Query
from qianshi.server.reading.categories import infer

from tests.backends.retrieval.test_search import CharacterEmbedder

QUESTIONS = Path(__file__).parents[2] / "reading" / "categories" / "category_questions.jsonl"
TOLERANCE = 1e-5


def queries(corpus: Corpus, every: int = 6) -> list[Query]:
    """Questions people ask (the category test set), each on a poem of a set in turn, with the
    category and the search terms the pipeline would give it."""
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()[::every]
    out = []
    for i, line in enumerate(lines):
        question = json.loads(line)["question"]
        poem_set = corpus.sets[i % len(corpus.sets)]
        choice = infer.resolve(poem_set, "", question)
        terms = infer.search_terms(choice.common)
        out.append(Query(poem_set.id, 1 + (i * 7) % poem_set.count, question, choice.category, terms))
    return out


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def assert_same_answer(ours: Sequence[Passage], theirs: Sequence[Passage]) -> None:
    assert len(ours) == len(theirs)
    for mine, other in zip(ours, theirs, strict=True):
        assert close(mine.score, other.score), (mine, other)
        if mine.id != other.id:  # only two passages of equal score may change places
            assert {p.id for p in ours if close(p.score, mine.score)} == {
                p.id for p in theirs if close(p.score, mine.score)
            }


@pytest.fixture
async def server_path(corpus: Corpus) -> ServerRetriever:
    retriever = ServerRetriever(
        client=AsyncQdrantClient(location=":memory:"), corpus=corpus, payload_indexes=False
    )
    await retriever.start()
    return retriever


async def test_edge_and_qdrant_client_return_the_same_passages_and_scores(
    corpus: Corpus, retriever: EmbeddedRetriever, server_path: ServerRetriever
) -> None:
    client: AsyncQdrantClient = server_path._client
    asked = queries(corpus)
    assert len(asked) > 70
    reached = 0
    try:
        for query in asked:
            poem = await retriever.poem(query.set_id, query.number)
            assert await server_path.poem(query.set_id, query.number) == poem
            search = passage_search(DEFAULT_NAMES, query, poem)
            index = retriever._opened()
            ours = index.scores(search)
            theirs = scores_of((await client.query_points(**query_request(search))).points)
            assert ours.keys() == theirs.keys(), query
            assert all(close(ours[k], theirs[k]) for k in ours), query
            reached += bool(ours)
            assert_same_answer(await retriever.passages(query), await server_path.passages(query))
    finally:
        await server_path.aclose()
    assert reached > len(asked) * 0.9  # the questions do reach passages: scores were compared


async def test_the_hybrid_query_agrees_in_both_of_its_parts(corpus: Corpus, tmp_path: Path) -> None:
    """A hybrid query fuses two searches by rank (RRF): the sparse and the dense search must agree
    score for score. The fused lists themselves differ where the dense search has near-equal
    cosines (float32 in Edge, float64 in qdrant-client's local mode) that take their ranks in
    different orders; both must still put the category's judgment first, then the verse."""
    guandi = next(s for s in corpus.sets if s.id == "guandi100")
    small = Corpus((guandi,), corpus.poems_of("guandi100")[:6])
    embedder = CharacterEmbedder()
    edge.build(tmp_path / "qdrant", small, embedder=embedder)
    ours = EmbeddedRetriever(tmp_path / "qdrant", corpus=small, embedder=embedder)
    theirs = ServerRetriever(
        client=AsyncQdrantClient(location=":memory:"), corpus=small, embedder=embedder, payload_indexes=False
    )
    try:
        await ours.start()
        await theirs.start()
        client: AsyncQdrantClient = theirs._client
        index = ours._opened()
        for number in range(1, 7):
            for question in ("我的病什麼時候會好", "這次考試能考上嗎", "生意能成嗎"):
                query = Query("guandi100", number, question, "聖意", ("病",))
                poem = await ours.poem("guandi100", number)
                hybrid = passage_search(DEFAULT_NAMES, query, poem, embedder([dense_text(query)])[0])
                for part in (replace(hybrid, dense=None), replace(hybrid, text=None)):
                    mine = index.scores(part)
                    other = scores_of((await client.query_points(**query_request(part))).points)
                    assert mine.keys() == other.keys() and all(close(mine[k], other[k]) for k in mine)
                for answer in (await ours.passages(query), await theirs.passages(query)):
                    assert answer[0].category == "聖意" and answer[0].kind.value == "judgment"
                    assert answer[1].kind.value == "verse" or answer[2].kind.value == "verse"
    finally:
        await ours.aclose()
        await theirs.aclose()
