"""Fixtures of the backend tests: the shipped corpus, indexed once per session as Edge shards on disk
and into qdrant-client's ``:memory:`` mode (the stand-in for a Qdrant server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from qdrant_client import QdrantClient
from qianshi.server.backends.retrieval import analyzer, edge
from qianshi.server.backends.retrieval.corpus import Corpus, load_shipped_corpus
from qianshi.server.backends.retrieval.embedded import EmbeddedRetriever
from qianshi.server.backends.retrieval.index import BuildReport
from qianshi.server.backends.retrieval.steps import build_index


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_shipped_corpus()


@pytest.fixture(scope="session", autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state dir whose jieba cache lives inside it (keeps the tests off the shared temp dir)."""
    path = tmp_path_factory.mktemp("state")
    analyzer.configure(path / "cache")
    return path


@pytest.fixture(scope="session")
def memory_client(corpus: Corpus, state_dir: Path) -> Iterator[QdrantClient]:
    """The whole corpus indexed into ``:memory:`` once per session (read-only for the tests)."""
    client = QdrantClient(location=":memory:")
    build_index(client, corpus)
    yield client
    client.close()


@pytest.fixture(scope="session")
def disk_index(corpus: Corpus, state_dir: Path) -> tuple[Path, BuildReport]:
    """The whole corpus built as Edge shards into ``state_dir/qdrant`` (read-only for the tests)."""
    report = edge.build(state_dir / "qdrant", corpus)
    return state_dir / "qdrant", report


@pytest.fixture(scope="session")
def retriever(disk_index: tuple[Path, BuildReport], state_dir: Path) -> Iterator[EmbeddedRetriever]:
    """The embedded retriever opened on the session's index (its plain calls serve sync tests)."""
    opened = EmbeddedRetriever(disk_index[0], cache_dir=state_dir / "cache")
    assert asyncio.run(opened.start()) is None  # current: opened without a build
    yield opened
    asyncio.run(opened.aclose())


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """An operator's corpus folder with one set of two poems (quick to index)."""
    return write_tiny_corpus(tmp_path / "corpus", {"婚姻": "允成", "治病": "即安"})


def write_tiny_corpus(folder: Path, judgments: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    verse = ["日出便見風雲散", "光明清淨照世間", "一向前途通大道", "萬事清吉保平安"]
    records = [
        {
            "set_id": "tiny",
            "set_name": "小籤",
            "number": n,
            "rank": "",
            "title": f"試題{n}",
            "verse": verse,
            "judgments": judgments,
            "source": "test",
        }
        for n in (1, 2)
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    (folder / "tiny.jsonl").write_text("\n".join(lines), encoding="utf-8")
    return folder
