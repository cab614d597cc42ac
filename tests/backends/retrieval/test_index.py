"""The schema and the qdrant-client build (a Qdrant server's path, through ``:memory:``): collections per
set, clause passages, an idempotent version-checked build. The Edge store's build: test_edge.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from qdrant_client import QdrantClient, models
from qianshi.server.backends.retrieval.corpus import Corpus
from qianshi.server.backends.retrieval.index import IndexNames, index_version
from qianshi.server.backends.retrieval.passages import passages_of, split_clauses
from qianshi.server.backends.retrieval.steps import build_index, read_meta_steps, run_steps
from qianshi.server.domain import Judgment, PassageKind


class CountingClient:
    """A QdrantClient that counts the calls made through it."""

    def __init__(self, client: QdrantClient) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


def _mini(corpus: Corpus, set_id: str = "mazu60", count: int = 3) -> Corpus:
    poem_set = next(s for s in corpus.sets if s.id == set_id)
    return Corpus((replace(poem_set, count=count),), corpus.poems_of(set_id)[:count])


def test_long_judgments_are_cut_into_clauses() -> None:
    assert split_clauses("功名遂。福祿全。訟得理。病即痊。") == ["功名遂", "福祿全", "訟得理", "病即痊"]
    assert split_clauses("此卦盤古初開天地之象。諸事皆吉也。") == ["此卦盤古初開天地之象", "諸事皆吉也"]
    assert split_clauses("難成，成者大吉") == ["難成，成者大吉"]  # one short sentence stays whole
    assert split_clauses("男。驚") == ["男。驚"]  # too short to cut
    long = (
        "此籤謀望通達，無不遂意，但各有所主，官員占茲，有超越之喜，士人有功名之望，庶人不吉。若謀望，求財者。"
    )
    clauses = split_clauses(long)
    assert all(len(c) <= 24 for c in clauses)
    assert "".join(clauses).replace("，", "") == long.replace("，", "").replace("。", "")


def test_every_poem_gets_verse_title_and_judgment_passages(corpus: Corpus) -> None:
    guandi7 = corpus.poems_of("guandi100")[6]
    docs = passages_of(guandi7)
    ids = [d.id for d in docs]
    assert ids[:2] == ["guandi100/7/verse", "guandi100/7/title"]
    assert "guandi100/7/judgment/聖意/2" in ids
    clause = next(d for d in docs if d.id == "guandi100/7/judgment/聖意/2")
    assert (clause.kind, clause.category, clause.clause) == (PassageKind.JUDGMENT, "聖意", 2)
    assert clause.text in guandi7.judgment("聖意")  # type: ignore[operator]
    mazu = passages_of(corpus.poems[0])
    marriage = next(d for d in mazu if d.id == "mazu60/1/judgment/婚姻")
    assert (marriage.text, marriage.about, marriage.clause) == ("允成", "婚姻", 0)
    assert marriage.terms()[:2] == ["b:婚姻", "w:婚姻"] and "u:婚" not in marriage.terms()
    assert marriage.payload() == {
        "passage_id": "mazu60/1/judgment/婚姻",
        "set_id": "mazu60",
        "number": 1,
        "kind": "judgment",
        "category": "婚姻",
        "text": "允成",
        "source": corpus.poems[0].source,
        "clause": 0,
    }


def test_the_full_build_has_one_collection_per_set(corpus: Corpus, memory_client: QdrantClient) -> None:
    expected = {
        f"qianshi_{s.id}": sum(len(passages_of(p)) for p in corpus.poems_of(s.id)) for s in corpus.sets
    }
    counting = CountingClient(memory_client)
    report = build_index(counting, corpus)  # type: ignore[arg-type]
    # The session's client is built already: a second build over the same version writes nothing.
    assert not report.rebuilt
    assert not {"upsert", "create_collection", "delete_collection"} & set(counting.calls)
    assert dict(report.points) == {"qianshi_poems": 260, **expected}
    for name, count in report.points.items():
        assert memory_client.count(name).count == count
    info = memory_client.get_collection("qianshi_guandi100")
    assert info.config.params.sparse_vectors is not None
    assert info.config.params.sparse_vectors["text"].modifier == models.Modifier.IDF
    meta = run_steps(memory_client, read_meta_steps(IndexNames()))
    assert meta is not None
    assert meta.version == index_version(corpus) == report.version
    assert meta.sets == corpus.sets


def test_a_build_into_memory_reports_progress_and_skips_when_current(corpus: Corpus) -> None:
    client = QdrantClient(location=":memory:")
    try:
        seen: list[tuple[int, int]] = []
        first = build_index(client, _mini(corpus), progress=lambda done, total: seen.append((done, total)))
        total = sum(first.points.values())
        assert first.rebuilt
        assert seen[0] == (0, total) and seen[-1] == (total, total)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
        assert not build_index(client, _mini(corpus)).rebuilt
    finally:
        client.close()


def test_a_changed_corpus_is_ingested_again_and_stale_sets_are_dropped(corpus: Corpus) -> None:
    client = QdrantClient(location=":memory:")
    try:
        build_index(client, _mini(corpus))
        first = corpus.poems[0]
        judgments = tuple(
            Judgment(j.category, "大吉" if j.category == "婚姻" else j.text) for j in first.judgments
        )
        changed = replace(first, judgments=judgments)
        mini = _mini(corpus)
        edited = Corpus(mini.sets, (changed, *mini.poems[1:]))
        report = build_index(client, edited)
        assert report.rebuilt
        records = client.scroll("qianshi_mazu60", limit=100)[0]
        texts = {r.payload["passage_id"]: r.payload["text"] for r in records if r.payload}
        assert texts["mazu60/1/judgment/婚姻"] == "大吉"
        assert build_index(client, _mini(corpus, "guandi100", 2)).rebuilt
        names = {c.name for c in client.get_collections().collections}
        assert names == {"qianshi_meta", "qianshi_poems", "qianshi_guandi100"}
    finally:
        client.close()


def test_an_interrupted_build_is_redone(corpus: Corpus) -> None:
    client = QdrantClient(location=":memory:")
    try:
        build_index(client, _mini(corpus))
        client.delete_collection("qianshi_meta")  # what a crash before the last step leaves behind
        assert build_index(client, _mini(corpus)).rebuilt
        client.delete_collection("qianshi_mazu60")
        assert build_index(client, _mini(corpus)).rebuilt
    finally:
        client.close()


def test_the_index_version_covers_the_dense_model(corpus: Corpus) -> None:
    class Embedder:
        name, dim = "tiny", 8

        def __call__(self, texts: Any) -> list[list[float]]:
            return [[1.0] * 8 for _ in texts]

    assert index_version(corpus, Embedder()) != index_version(corpus)


def test_reserved_set_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="reserved"):
        IndexNames().passages("poems")
