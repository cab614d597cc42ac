"""The embedded retriever: builds in a child process when the store needs it, opens it otherwise, and
answers on the event loop."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from qdrant_client import QdrantClient
from qianshi.server.backends.retrieval import edge
from qianshi.server.backends.retrieval.corpus import load_corpus
from qianshi.server.backends.retrieval.embedded import EmbeddedRetriever
from qianshi.server.backends.retrieval.steps import build_index
from qianshi.server.domain import Query
from qianshi.server.errors import BackendUnavailable, NotFound

from tests.backends.retrieval.conftest import write_tiny_corpus

ILLNESS = Query("tiny", 1, "病會好嗎", "治病")


async def test_the_first_start_builds_in_a_child_process_and_the_next_opens_without_a_build(
    tmp_path: Path, tiny_corpus: Path
) -> None:
    first = EmbeddedRetriever.from_state_dir(tmp_path / "state", corpus_path=tiny_corpus)
    seen: list[tuple[int, int]] = []
    try:
        first.launch()
        assert first.building
        report = await first.start(lambda done, total: seen.append((done, total)))
        assert report is not None and report.rebuilt
        assert seen[0] == (0, 10) and seen[-1] == (10, 10)  # the child's progress, passed on
        assert [s.id for s in await first.sets()] == ["tiny"]
        assert (await first.passages(ILLNESS))[0].text == "即安"
        with pytest.raises(NotFound, match="no poem 3"):
            await first.poem("tiny", 3)
    finally:
        await first.aclose()
    with pytest.raises(BackendUnavailable, match="closed"):
        await first.poem("tiny", 1)
    assert (tmp_path / "state" / "cache").is_dir()

    again = EmbeddedRetriever.from_state_dir(tmp_path / "state", corpus_path=tiny_corpus)
    try:
        again.launch()
        assert not again.building  # current: nothing to build
        assert await again.start() is None
        assert (await again.passages(ILLNESS))[0].text == "即安"
    finally:
        await again.aclose()


async def test_a_changed_corpus_is_rebuilt_at_start(tmp_path: Path) -> None:
    folder = write_tiny_corpus(tmp_path / "corpus", {"婚姻": "允成", "治病": "即安"})
    state = tmp_path / "state"
    for verdict in ("即安", "難安"):
        write_tiny_corpus(folder, {"婚姻": "允成", "治病": verdict})
        retriever = EmbeddedRetriever.from_state_dir(state, corpus_path=folder)
        try:
            report = await retriever.start()
            assert report is not None and report.rebuilt
            assert (await retriever.passages(ILLNESS))[0].text == verdict
        finally:
            await retriever.aclose()


async def test_a_store_of_the_previous_engine_is_rebuilt_once_with_a_log_line(
    tmp_path: Path, tiny_corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state" / "qdrant"
    old = QdrantClient(path=str(path))  # what the server built before (qdrant-client local mode)
    try:
        build_index(old, load_corpus(tiny_corpus))
    finally:
        old.close()
    for attempt in range(2):
        caplog.clear()
        retriever = EmbeddedRetriever.from_state_dir(tmp_path / "state", corpus_path=tiny_corpus)
        try:
            with caplog.at_level(logging.INFO, logger="qianshi.server.backends.retrieval.embedded"):
                report = await retriever.start()
            assert (await retriever.passages(ILLNESS))[0].text == "即安"
        finally:
            await retriever.aclose()
        said = "built by the previous engine (qdrant-client local mode); rebuilding it once" in caplog.text
        assert said is (attempt == 0)
        assert (report is not None) is (attempt == 0)
    assert not edge.old_engine_store(path)


async def test_closing_while_the_build_runs_kills_the_builder(tmp_path: Path, tiny_corpus: Path) -> None:
    retriever = EmbeddedRetriever.from_state_dir(tmp_path / "state", corpus_path=tiny_corpus)
    retriever.launch()
    builder = retriever._builder
    assert builder is not None and builder.pid != os.getpid()
    await retriever.aclose()
    assert not retriever.building
    with pytest.raises(ProcessLookupError):
        os.kill(builder.pid, 0)
