"""Searches answer with the category's judgment first, then the verse, then what the question reaches
(through the embedded engine, Qdrant Edge; test_agreement.py holds qdrant-client to the same answers)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from qianshi.server.backends.retrieval import edge
from qianshi.server.backends.retrieval.corpus import Corpus
from qianshi.server.backends.retrieval.embedded import EmbeddedRetriever
from qianshi.server.domain import Passage, PassageKind, Query
from qianshi.server.errors import NotFound


def test_the_marriage_judgment_comes_first_then_the_verse(retriever: EmbeddedRetriever) -> None:
    passages = retriever.passages_now(Query("mazu60", 1, "婚姻能成嗎", "婚姻"))
    assert [(p.id, p.text) for p in passages[:2]] == [
        ("mazu60/1/judgment/婚姻", "允成"),
        ("mazu60/1/verse", "日出便見風雲散，光明清淨照世間，一向前途通大道，萬事清吉保平安"),
    ]
    assert passages[0].score > 0
    assert [p.citation for p in passages] == list(range(1, len(passages) + 1))
    assert len(passages) <= 6
    scores = [p.score for p in passages[2:]]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_without_a_category_the_question_alone_finds_the_marriage_judgment(
    retriever: EmbeddedRetriever,
) -> None:
    passages = retriever.passages_now(Query("mazu60", 1, "婚姻能成嗎", ""))
    assert passages[0].kind is PassageKind.VERSE
    assert passages[1].id == "mazu60/1/judgment/婚姻"


def test_an_illness_question_on_guandi_gets_the_clause_about_illness(
    corpus: Corpus, retriever: EmbeddedRetriever
) -> None:
    with_illness = [p for p in corpus.poems_of("guandi100") if "病" in (p.judgment("聖意") or "")]
    assert len(with_illness) > 80
    for poem in with_illness[::3]:  # a third of them keeps the test quick; all 91 pass
        passages = retriever.passages_now(
            Query("guandi100", poem.number, "我的病什麼時候會好", "聖意", ("病",))
        )
        first = passages[0]
        assert first.category == "聖意" and "病" in first.text, (poem.number, first)
        assert first.id.startswith(f"guandi100/{poem.number}/judgment/聖意/")
        _assert_category_then_verse(passages, "聖意")


def test_guandi_1_reads_bing_ji_quan(retriever: EmbeddedRetriever) -> None:
    passages = retriever.passages_now(Query("guandi100", 1, "我的病什麼時候會好", "聖意", ("病",)))
    assert (passages[0].id, passages[0].text) == ("guandi100/1/judgment/聖意/4", "病即痊")


@pytest.mark.parametrize(
    ("query", "first_id"),
    [
        (
            Query("guanyin100", 5, "Will my marriage work out?", "婚姻", ("婚", "嫁")),
            "guanyin100/5/judgment/婚姻",
        ),
        (Query("mazu60", 10, "Should I change jobs?", "作事", ("事", "業")), "mazu60/10/judgment/作事"),
        (Query("guandi100", 3, "I am sick. Will I recover?", "聖意", ("病",)), "guandi100/3/judgment/聖意/4"),
    ],
)
def test_english_questions_work_through_the_category(
    retriever: EmbeddedRetriever, query: Query, first_id: str
) -> None:
    passages = retriever.passages_now(query)
    assert passages[0].id == first_id
    _assert_category_then_verse(passages, query.category)


def test_a_cut_judgment_that_nothing_matches_is_given_whole(
    retriever: EmbeddedRetriever, corpus: Corpus
) -> None:
    passages = retriever.passages_now(Query("guanyin100", 1, "這次考試能不能考上", "詩意"))
    assert passages[0].id == "guanyin100/1/judgment/詩意"
    assert passages[0].text == corpus.poems_of("guanyin100")[0].judgment("詩意")
    assert passages[0].score == 0.0


def test_the_limit_is_kept_with_the_required_passages_first(retriever: EmbeddedRetriever) -> None:
    one = retriever.passages_now(Query("mazu60", 1, "婚姻能成嗎", "婚姻", limit=1))
    assert [p.id for p in one] == ["mazu60/1/judgment/婚姻"]
    three = retriever.passages_now(Query("mazu60", 1, "婚姻能成嗎", "婚姻", limit=3))
    assert [p.citation for p in three] == [1, 2, 3]


def test_a_category_the_poem_lacks_leaves_the_verse_first(retriever: EmbeddedRetriever) -> None:
    passages = retriever.passages_now(Query("guanyin100", 1, "搬家好嗎", "移徙"))  # #1 has no 移徙
    assert passages[0].kind is PassageKind.VERSE


async def test_poems_are_fetched_by_exact_key(retriever: EmbeddedRetriever, corpus: Corpus) -> None:
    assert await retriever.poem("guandi100", 100) == corpus.poems_of("guandi100")[99]
    assert [s.id for s in await retriever.sets()] == ["mazu60", "guanyin100", "guandi100"]


@pytest.mark.parametrize(
    ("set_id", "number", "message"),
    [("nosuch", 1, "unknown poem set"), ("mazu60", 61, "no poem 61"), ("mazu60", 0, "no poem 0")],
)
def test_unknown_sets_and_numbers_are_not_found(
    retriever: EmbeddedRetriever, set_id: str, number: int, message: str
) -> None:
    with pytest.raises(NotFound, match=message):
        retriever.poem_now(set_id, number)
    with pytest.raises(NotFound, match=message):
        retriever.passages_now(Query(set_id, number, "問", "婚姻"))


def _assert_category_then_verse(passages: Sequence[Passage], category: str) -> None:
    """One or two passages of the category's judgment, then the verse."""
    verse = next(i for i, p in enumerate(passages) if p.kind is PassageKind.VERSE)
    assert verse in (1, 2)
    assert all(p.kind is PassageKind.JUDGMENT and p.category == category for p in passages[:verse])


class CharacterEmbedder:
    """A tiny deterministic dense embedding: hashed character counts, normalised."""

    name = "test-characters"
    dim = 32

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = []
        for item in texts:
            vector = [0.0] * self.dim
            for ch in item:
                vector[hashlib.blake2b(ch.encode(), digest_size=1).digest()[0] % self.dim] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors


async def test_a_dense_embedder_adds_a_fused_hybrid_search(corpus: Corpus, tmp_path: Path) -> None:
    guandi = next(s for s in corpus.sets if s.id == "guandi100")
    small = Corpus((guandi,), corpus.poems_of("guandi100")[:5])
    edge.build(tmp_path / "qdrant", small, embedder=CharacterEmbedder())
    stored = edge.read_stored(tmp_path / "qdrant")
    assert stored is not None
    config = (tmp_path / "qdrant" / stored.generation / "qianshi_guandi100" / "edge_config.json").read_text()
    assert '"dense"' in config
    hybrid = EmbeddedRetriever(tmp_path / "qdrant", corpus=small, embedder=CharacterEmbedder())
    try:
        await hybrid.start()
        passages = await hybrid.passages(Query("guandi100", 1, "我的病什麼時候會好", "聖意", ("病",)))
        _assert_category_then_verse(passages, "聖意")
        assert all(0 < p.score <= 1 for p in passages if p.kind is not PassageKind.VERSE)  # RRF scores
        assert "病即痊" in [p.text for p in passages]
    finally:
        await hybrid.aclose()
