"""BASELINE — the retrieval engine before Qdrant Edge, kept only so the benchmark measures the change.

qdrant-client's local mode (pure Python and numpy, brute force: 50-70 ms of CPU per search) in one
spawned worker process, behind the pipeline's ``Retriever`` seam, as the server ran it until the
switch: the index is qdrant-client's local store (built by the worker at start when missing; the
schema and queries are the same steps a Qdrant server gets, steps.py), searches queue in FIFO order
for the one worker, and poems are cached in the server once fetched. (The old worker also let poem
look-ups jump the search queue; the benchmark fetches every poem once before measuring, so that
made no difference to what is measured.)

    python -m bench.baselines.old_engine --state-dir STATE [qianshi-server options …]

runs the real ``qianshi-server`` (``qianshi.server.serving.serve``) with this retriever; the local store
lives in ``STATE/qdrant-old``. Not for production.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient
from qianshi.server import config
from qianshi.server.backends.retrieval import analyzer
from qianshi.server.backends.retrieval.corpus import load_shipped_corpus
from qianshi.server.backends.retrieval.index import DEFAULT_NAMES, BuildReport
from qianshi.server.backends.retrieval.steps import (
    build_index,
    passages_steps,
    poem_steps,
    run_steps,
    sets_steps,
)
from qianshi.server.domain import Passage, Poem, PoemSet, Query

_client: QdrantClient | None = None
_sets: tuple[PoemSet, ...] = ()


def _open(path: str, cache_dir: str) -> None:
    """Worker initializer: open (or create) the local store."""
    global _client
    analyzer.configure(Path(cache_dir))
    analyzer.warm_up()
    _client = QdrantClient(path=path)


def _build() -> tuple[BuildReport, tuple[PoemSet, ...]]:
    global _sets
    assert _client is not None
    report = build_index(_client, load_shipped_corpus())
    _sets = run_steps(_client, sets_steps(DEFAULT_NAMES))
    return report, _sets


def _poem(set_id: str, number: int) -> Poem:
    assert _client is not None
    return run_steps(_client, poem_steps(DEFAULT_NAMES, _sets, set_id, number))


def _passages(query: Query, poem: Poem) -> list[Passage]:
    assert _client is not None
    return run_steps(_client, passages_steps(DEFAULT_NAMES, query, poem))


class OldEngineRetriever:
    """The pipeline's Retriever over qdrant-client's local mode in one worker process."""

    name = "old-engine"

    def __init__(self, path: Path, cache_dir: Path) -> None:
        self._path = path
        self._cache_dir = cache_dir
        self._pool: ProcessPoolExecutor | None = None
        self._sets: tuple[PoemSet, ...] = ()
        self._poems: dict[tuple[str, int], Poem] = {}

    def launch(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            1, mp_context=context, initializer=_open, initargs=(str(self._path), str(self._cache_dir))
        )

    async def start(self, progress: Callable[[int, int], None] | None = None) -> BuildReport:
        report, self._sets = await self._call(_build)
        return report

    async def sets(self) -> Sequence[PoemSet]:
        return self._sets

    async def poem(self, set_id: str, number: int) -> Poem:
        key = (set_id, number)
        poem = self._poems.get(key)
        if poem is None:
            poem = await self._call(_poem, set_id, number)
            self._poems[key] = poem
        return poem

    async def passages(self, query: Query) -> Sequence[Passage]:
        poem = await self.poem(query.set_id, query.number)
        result: list[Passage] = await self._call(_passages, query, poem)
        return result

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        assert self._pool is not None
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)


def main(argv: list[str] | None = None) -> None:
    from qianshi.server.observability import logs
    from qianshi.server.serving import serve

    args = config.parse(argv)
    logs.configure(args.log_level, args.log_format, sys.stderr)
    state = Path(args.state_dir)
    retriever = OldEngineRetriever(state / "qdrant-old", state / "cache")
    asyncio.run(serve(args, retriever=retriever))


if __name__ == "__main__":
    main()
