"""The Edge store: one shard per collection, an idempotent version-checked build into a new generation,
the previous engine's store replaced once, and shards any number of processes can open."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import qdrant_edge as qe
from qdrant_client import QdrantClient
from qianshi.server.backends.retrieval import edge
from qianshi.server.backends.retrieval.corpus import Corpus, load_corpus
from qianshi.server.backends.retrieval.index import BuildReport, IndexNames, index_version
from qianshi.server.backends.retrieval.passages import passages_of
from qianshi.server.backends.retrieval.search import passage_search, rank_passages
from qianshi.server.backends.retrieval.steps import build_index
from qianshi.server.domain import Query

from tests.backends.retrieval.conftest import write_tiny_corpus

NAMES = IndexNames()


def generations(path: Path) -> set[str]:
    return {p.name for p in path.iterdir() if p.name.startswith("g-")}


def first_passage(path: Path, query: Query) -> str:
    index = edge.EdgeIndex.open(path)
    try:
        poem = index.poem(query.set_id, query.number)
        assert poem is not None
        return rank_passages(query, poem, index.scores(passage_search(NAMES, query, poem)))[0].text
    finally:
        index.close()


def test_the_full_build_has_one_shard_per_set_and_is_skipped_when_current(
    corpus: Corpus, disk_index: tuple[Path, BuildReport]
) -> None:
    path, report = disk_index
    expected = {
        f"qianshi_{s.id}": sum(len(passages_of(p)) for p in corpus.poems_of(s.id)) for s in corpus.sets
    }
    assert report.rebuilt
    assert dict(report.points) == {"qianshi_poems": 260, **expected}
    stored = edge.read_stored(path)
    assert stored is not None
    assert stored.meta.version == index_version(corpus) == report.version
    assert stored.meta.sets == corpus.sets
    assert stored.engine == edge.ENGINE
    for name, count in report.points.items():
        # A second handle on the same shard while the session's retriever holds one: no WAL, no lock.
        shard = qe.EdgeShard.load(str(path / stored.generation / name))
        try:
            assert shard.info().points_count == count
        finally:
            shard.close()
    meta_file = path / edge.META_FILE
    written = meta_file.stat().st_mtime_ns
    again = edge.build(path, corpus)
    assert not again.rebuilt and dict(again.points) == dict(report.points)
    assert meta_file.stat().st_mtime_ns == written and generations(path) == {stored.generation}


def test_a_changed_corpus_is_built_again_into_a_new_generation(tmp_path: Path) -> None:
    folder = write_tiny_corpus(tmp_path / "corpus", {"婚姻": "允成", "治病": "即安"})
    path = tmp_path / "qdrant"
    seen: list[tuple[int, int]] = []
    first = edge.build(path, load_corpus(folder), progress=lambda done, total: seen.append((done, total)))
    assert first.rebuilt and seen[0] == (0, 10) and seen[-1] == (10, 10)  # 2 poems + 2 × 4 passages
    [one] = generations(path)
    marriage = Query("tiny", 1, "婚姻能成嗎", "婚姻")
    assert first_passage(path, marriage) == "允成"

    write_tiny_corpus(folder, {"婚姻": "大吉", "治病": "即安"})
    second = edge.build(path, load_corpus(folder))
    assert second.rebuilt and second.version != first.version
    assert first_passage(path, marriage) == "大吉"
    [two] = generations(path) - {one}  # the previous generation stays for a server still reading it
    write_tiny_corpus(folder, {"婚姻": "難成", "治病": "即安"})
    assert edge.build(path, load_corpus(folder)).rebuilt
    assert one not in generations(path) and two in generations(path) and len(generations(path)) == 2
    assert first_passage(path, marriage) == "難成"


def test_an_interrupted_build_is_redone(tmp_path: Path, tiny_corpus: Path) -> None:
    path, corpus = tmp_path / "qdrant", load_corpus(tiny_corpus)
    edge.build(path, corpus)
    (path / edge.META_FILE).unlink()  # what a crash before the last step leaves behind
    assert edge.build(path, corpus).rebuilt
    stored = edge.read_stored(path)
    assert stored is not None
    shutil.rmtree(path / stored.generation / "qianshi_tiny")  # a shard lost
    assert not edge.is_current(path, stored.meta.version)
    assert edge.build(path, corpus).rebuilt


def test_a_store_written_by_another_engine_version_is_rebuilt(tmp_path: Path, tiny_corpus: Path) -> None:
    path, corpus = tmp_path / "qdrant", load_corpus(tiny_corpus)
    edge.build(path, corpus)
    raw = json.loads((path / edge.META_FILE).read_text(encoding="utf-8"))
    (path / edge.META_FILE).write_text(
        json.dumps({**raw, "engine": "qdrant-edge-py 0.0.1"}), encoding="utf-8"
    )
    assert not edge.is_current(path, index_version(corpus))
    assert edge.build(path, corpus).rebuilt
    assert edge.is_current(path, index_version(corpus))


def test_a_store_of_the_previous_engine_is_rebuilt_once_and_its_files_removed(
    tmp_path: Path, tiny_corpus: Path
) -> None:
    path, corpus = tmp_path / "qdrant", load_corpus(tiny_corpus)
    old = QdrantClient(path=str(path))  # qdrant-client's local mode: what the server used before
    try:
        build_index(old, corpus)
    finally:
        old.close()
    assert edge.old_engine_store(path) and (path / "collection").is_dir()
    assert not edge.is_current(path, index_version(corpus))
    assert edge.build(path, corpus).rebuilt
    assert not edge.old_engine_store(path)
    assert not (path / "collection").exists() and not (path / "meta.json").exists()
    assert not edge.build(path, corpus).rebuilt  # once
    assert first_passage(path, Query("tiny", 1, "病會好嗎", "治病")) == "即安"
