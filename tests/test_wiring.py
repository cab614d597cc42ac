"""The one place that chooses the backends: the embedded store is Qdrant Edge in-process, and the
option of the worker processes it replaced is a no-op that says so (for one release)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from qianshi.server import config, wiring
from qianshi.server.backends.retrieval.embedded import EmbeddedRetriever


def test_the_embedded_store_is_edge_in_the_state_dir(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        retriever = wiring.retriever(config.parse([]), tmp_path)
    assert isinstance(retriever, EmbeddedRetriever) and retriever.path == tmp_path / "qdrant"
    assert "deprecated" not in caplog.text


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_retrieval_workers_is_a_deprecated_no_op_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "flag":
        args = config.parse(["--retrieval-workers", "3"])
    else:
        monkeypatch.setenv("QIANSHI_RETRIEVAL_WORKERS", "3")
        args = config.parse([])
    with caplog.at_level(logging.WARNING):
        retriever = wiring.retriever(args, tmp_path)
    assert isinstance(retriever, EmbeddedRetriever)
    assert "--retrieval-workers (QIANSHI_RETRIEVAL_WORKERS) is deprecated and ignored" in caplog.text
