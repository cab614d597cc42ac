"""The embedded retrieval backend: Qdrant Edge in the server's own process, behind the Retriever seam.

Start-up (``launch`` before the gRPC server starts, ``await start()`` while health says NOT_SERVING):
the corpus is fingerprinted and compared with the store's meta record; when the store is missing,
stale, written by another engine version or by the previous engine (qdrant-client local mode), a
child process builds it (builder.py; the loop keeps answering health checks meanwhile). Then the
shards are opened here (0.01-0.1 s each) and jieba is warmed up in a thread.

Serving: a poem look-up or a passage search is a question's analysis (~0.08 ms), one Edge call
(~0.02-0.1 ms) that holds the GIL for that long, and the ranking (0.3 ms in all, measured). Both run straight on the event loop: a hop to a thread
costs more than the call (FACTS.md: 0.11 ms on the loop against 0.23 ms through ``to_thread``), and
nothing waits in a queue, so a cancelled task has nothing to abandon. Poems, and the passages cut
from them, are cached (immutable).
Only a dense embedder (optional, a model) runs in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from qianshi.server.backends.retrieval import analyzer, edge
from qianshi.server.backends.retrieval.builder import BuildJob, BuildProcess, job_corpus
from qianshi.server.backends.retrieval.corpus import Corpus
from qianshi.server.backends.retrieval.index import (
    DEFAULT_PREFIX,
    BuildReport,
    Embedder,
    IndexNames,
    ProgressCallback,
    index_version,
)
from qianshi.server.backends.retrieval.passages import PassageDoc, passages_of
from qianshi.server.backends.retrieval.search import (
    check_poem_key,
    dense_text,
    missing_poem,
    passage_search,
    rank_passages,
)
from qianshi.server.domain import Passage, Poem, PoemSet, Query
from qianshi.server.errors import BackendUnavailable

log = logging.getLogger(__name__)


class EmbeddedRetriever:
    """The pipeline's Retriever over Qdrant Edge in-process (``name = "embedded"``).

    ``r = EmbeddedRetriever.from_state_dir(state_dir); r.launch(); await r.start(progress)`` before
    serving; ``await r.aclose()`` at the end. ``poem_now`` and ``passages_now`` are the same look-ups
    as plain calls (for code that is not async).
    """

    name = "embedded"

    def __init__(
        self,
        path: Path,
        *,
        cache_dir: Path | None = None,
        corpus_path: Path | None = None,
        corpus: Corpus | None = None,
        embedder: Embedder | None = None,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        self.path = path
        self._job = BuildJob(path, cache_dir, corpus_path, corpus, embedder, prefix)
        self._names = IndexNames(prefix)
        self._embedder = embedder
        self._builder: BuildProcess | None = None
        self._index: edge.EdgeIndex | None = None
        self._poems: dict[tuple[str, int], Poem] = {}
        self._docs: dict[tuple[str, int], list[PassageDoc]] = {}
        self._launched = False
        self._closed = False

    @classmethod
    def from_state_dir(cls, state_dir: Path, **options: object) -> EmbeddedRetriever:
        """The index in ``state_dir/qdrant``, jieba's cache in ``state_dir/cache``."""
        return cls(state_dir / "qdrant", cache_dir=state_dir / "cache", **options)  # type: ignore[arg-type]

    @property
    def building(self) -> bool:
        """A build process was started and has not been waited for yet."""
        return self._builder is not None

    def launch(self) -> None:
        """Check the store and, when it must be built, start the builder process without waiting for
        it: call it before the gRPC server starts, then ``await start()``."""
        if self._launched:
            return
        self._launched = True
        version = index_version(job_corpus(self._job), self._embedder)
        if edge.is_current(self.path, version, self._names):
            return
        if edge.old_engine_store(self.path):
            log.warning(
                "the index in %s was built by the previous engine (qdrant-client local mode); "
                "rebuilding it once for Qdrant Edge",
                self.path,
            )
        else:
            log.info("building the retrieval index in %s", self.path)
        self._builder = BuildProcess.spawn(self._job)

    async def start(self, progress: ProgressCallback | None = None) -> BuildReport | None:
        """Wait for the build (if one runs) and open the index. Returns the build's report, or None
        when the store was current."""
        self.launch()
        report = None
        try:
            if self._builder is not None:
                report = await self._builder.wait(progress)
                log.info(
                    "retrieval index built in %.1f s (%d points)", report.seconds, sum(report.points.values())
                )
        finally:
            self._builder = None
        warm = asyncio.ensure_future(asyncio.to_thread(analyzer.warm_up))  # jieba: ~0.7 s, off the loop
        try:
            self._index = edge.EdgeIndex.open(self.path, self._names)
        finally:
            await warm
        return report

    async def sets(self) -> Sequence[PoemSet]:
        return self._opened().sets

    async def poem(self, set_id: str, number: int) -> Poem:
        return self.poem_now(set_id, number)

    async def passages(self, query: Query) -> Sequence[Passage]:
        if self._embedder is None:
            return self.passages_now(query)
        poem = self.poem_now(query.set_id, query.number)
        embedder, text = self._embedder, dense_text(query)
        dense = (await asyncio.to_thread(embedder, [text]))[0]
        return self._search(query, poem, dense)

    def poem_now(self, set_id: str, number: int) -> Poem:
        index = self._opened()
        key = (set_id, number)
        poem = self._poems.get(key)
        if poem is None:
            check_poem_key(index.sets, set_id, number)
            poem = index.poem(set_id, number)
            if poem is None:
                raise missing_poem(set_id, number)
            self._poems[key] = poem
        return poem

    def passages_now(self, query: Query) -> list[Passage]:
        """The passages for ``query`` (sparse search only: a dense embedder needs ``passages``)."""
        return self._search(query, self.poem_now(query.set_id, query.number), None)

    async def aclose(self) -> None:
        self._closed = True
        if self._builder is not None:
            self._builder.kill()
            self._builder = None
        if self._index is not None:
            self._index.close()
            self._index = None

    def _search(self, query: Query, poem: Poem, dense: list[float] | None) -> list[Passage]:
        key = (poem.set_id, poem.number)
        docs = self._docs.get(key)
        if docs is None:  # cut once per poem (poems are immutable)
            docs = self._docs[key] = passages_of(poem)
        search = passage_search(self._names, query, poem, dense, docs)
        return rank_passages(query, poem, self._opened().scores(search), docs)

    def _opened(self) -> edge.EdgeIndex:
        if self._index is None:
            state = "closed" if self._closed else "not open yet"
            raise BackendUnavailable(f"the retrieval index is {state}", reason="RETRIEVER_CLOSED")
        return self._index
