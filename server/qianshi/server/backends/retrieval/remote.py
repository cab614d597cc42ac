"""The retrieval backend over a Qdrant server or cluster (``--qdrant-url``), through AsyncQdrantClient.

The store's work happens on the server and the client's I/O is async; what runs here is a question's
analysis (well under a millisecond once jieba is warm) and, at start, the index plan (in a thread).
The schema and the query are the embedded engine's (index.py, search.py), driven through qdrant-client
as steps (steps.py); this module adds the async driving, a poem cache, and the one place where the
client's exceptions become the server's errors (:func:`translate_error`).

Collections are created with the given ``shard_number`` / ``replication_factor`` (None: the server's
defaults) and with payload indexes on the filter fields.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import httpx
from qdrant_client import AsyncQdrantClient
from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from qianshi.server import errors
from qianshi.server.backends.retrieval import analyzer
from qianshi.server.backends.retrieval.corpus import Corpus, load_shipped_corpus
from qianshi.server.backends.retrieval.index import (
    DEFAULT_PREFIX,
    BuildReport,
    Embedder,
    IndexNames,
    ProgressCallback,
)
from qianshi.server.backends.retrieval.steps import (
    CollectionOptions,
    Steps,
    arun_steps,
    build_steps,
    passages_steps,
    poem_steps,
    sets_steps,
)
from qianshi.server.domain import Passage, Poem, PoemSet, Query

T = TypeVar("T")


class ServerRetriever:
    """The pipeline's Retriever over a Qdrant server (``name = "qdrant"``).

    ``r = ServerRetriever(url="http://qdrant:6333", api_key=...); await r.start(progress)`` before
    serving; ``await r.aclose()`` at the end. Nothing is sent before ``start``. Tests pass
    ``client=AsyncQdrantClient(location=":memory:")``, which runs the same async API in-process.
    """

    name = "qdrant"

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        timeout_s: float = 10.0,
        prefer_grpc: bool = False,
        shard_number: int | None = None,
        replication_factor: int | None = None,
        prefix: str = DEFAULT_PREFIX,
        corpus: Corpus | None = None,
        embedder: Embedder | None = None,
        check_compatibility: bool = True,
        client: AsyncQdrantClient | None = None,
        payload_indexes: bool = True,
        cache_dir: Path | None = None,
    ) -> None:
        if (client is None) == (url is None):
            raise ValueError("give either url or client")
        self._client = client or AsyncQdrantClient(
            url=url,
            api_key=api_key,
            timeout=max(1, math.ceil(timeout_s)),
            prefer_grpc=prefer_grpc,
            check_compatibility=check_compatibility,
        )
        self._corpus = corpus
        self._names = IndexNames(prefix)
        self._options = CollectionOptions(shard_number, replication_factor, payload_indexes)
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._sets: tuple[PoemSet, ...] = ()
        self._poems: dict[tuple[str, int], Poem] = {}

    def launch(self) -> None:
        """Nothing to start before serving (the embedded retriever's ``launch`` may start a build)."""

    async def start(self, progress: ProgressCallback | None = None) -> BuildReport:
        """Build the index on the server unless its stored version matches, and load the poem sets."""
        corpus = self._corpus if self._corpus is not None else await asyncio.to_thread(load_shipped_corpus)
        if self._cache_dir is not None:
            analyzer.configure(self._cache_dir)  # jieba's dictionary cache; the system temp dir otherwise
        await asyncio.to_thread(analyzer.warm_up)
        steps = build_steps(corpus, self._embedder, self._names, self._options, progress, 256)
        report = await self._run(steps)
        self._sets = await self._run(sets_steps(self._names))
        return report

    async def sets(self) -> Sequence[PoemSet]:
        if not self._sets:
            self._sets = await self._run(sets_steps(self._names))
        return self._sets

    async def poem(self, set_id: str, number: int) -> Poem:
        key = (set_id, number)
        poem = self._poems.get(key)
        if poem is None:
            poem = await self._run(poem_steps(self._names, await self.sets(), set_id, number))
            self._poems[key] = poem
        return poem

    async def passages(self, query: Query) -> Sequence[Passage]:
        poem = await self.poem(query.set_id, query.number)
        return await self._run(passages_steps(self._names, query, poem, self._embedder))

    async def aclose(self) -> None:
        await self._client.close()

    async def _run(self, steps: Steps[T]) -> T:
        try:
            return await arun_steps(self._client, steps)
        except errors.QianshiError:
            raise
        except Exception as exc:
            raise translate_error(exc) from exc


def translate_error(exc: Exception) -> errors.QianshiError:
    """The server's error for an exception from the Qdrant client (REST or gRPC)."""
    if isinstance(exc, ResourceExhaustedResponse):
        return errors.BackendUnavailable(
            "Qdrant is rate limiting requests", reason="QDRANT_RATE_LIMITED", retry_after_s=exc.retry_after_s
        )
    if isinstance(exc, ResponseHandlingException) and isinstance(exc.source, Exception):
        exc = exc.source
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return errors.BackendTimeout("Qdrant did not answer in time", reason="QDRANT_TIMEOUT")
    if isinstance(exc, httpx.TransportError | OSError):
        return errors.BackendUnavailable("Qdrant cannot be reached", reason="QDRANT_UNAVAILABLE")
    if isinstance(exc, UnexpectedResponse):
        return _from_status(exc.status_code or 0)
    code = getattr(exc, "code", None)  # grpc.RpcError, without importing grpc into the backends
    if callable(code) and hasattr(status := code(), "name"):
        return _from_grpc(str(status.name))
    return errors.BackendFailed(f"the Qdrant request failed ({type(exc).__name__})", reason="QDRANT_ERROR")


def _from_status(status: int) -> errors.QianshiError:
    if status in (502, 503):
        return errors.BackendUnavailable(
            f"Qdrant is unavailable (HTTP {status})", reason="QDRANT_UNAVAILABLE"
        )
    if status == 504:
        return errors.BackendTimeout("Qdrant did not answer in time (HTTP 504)", reason="QDRANT_TIMEOUT")
    if status in (401, 403):
        return errors.BackendFailed("Qdrant refused the API key", reason="QDRANT_UNAUTHORIZED")
    if status == 404:
        return errors.BackendFailed(
            "the retrieval index is missing on the Qdrant server", reason="INDEX_MISSING"
        )
    return errors.BackendFailed(f"Qdrant answered HTTP {status}", reason="QDRANT_ERROR")


def _from_grpc(code: str) -> errors.QianshiError:
    if code == "UNAVAILABLE":
        return errors.BackendUnavailable("Qdrant cannot be reached", reason="QDRANT_UNAVAILABLE")
    if code == "DEADLINE_EXCEEDED":
        return errors.BackendTimeout("Qdrant did not answer in time", reason="QDRANT_TIMEOUT")
    if code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return errors.BackendFailed("Qdrant refused the API key", reason="QDRANT_UNAUTHORIZED")
    if code == "NOT_FOUND":
        return errors.BackendFailed(
            "the retrieval index is missing on the Qdrant server", reason="INDEX_MISSING"
        )
    return errors.BackendFailed(f"the Qdrant request failed ({code})", reason="QDRANT_ERROR")
