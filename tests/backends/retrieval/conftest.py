"""Fixtures of the backend tests: the shipped corpus, indexed once per session in memory and on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from qdrant_client import QdrantClient
from qianshi.server.backends.retrieval import analyzer
from qianshi.server.backends.retrieval.corpus import Corpus, load_shipped_corpus
from qianshi.server.backends.retrieval.index import BuildReport, build_index
from qianshi.server.backends.retrieval.search import QdrantSearcher


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
def searcher(memory_client: QdrantClient) -> QdrantSearcher:
    return QdrantSearcher(memory_client)


@pytest.fixture(scope="session")
def disk_index(corpus: Corpus, state_dir: Path) -> tuple[Path, BuildReport]:
    """The whole corpus indexed into ``state_dir/qdrant`` (the client is closed again: workers open it)."""
    client = QdrantClient(path=str(state_dir / "qdrant"))
    try:
        report = build_index(client, corpus)
    finally:
        client.close()
    return state_dir / "qdrant", report
