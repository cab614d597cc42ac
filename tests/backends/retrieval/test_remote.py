"""The Qdrant-server backend: the same build and search through AsyncQdrantClient, errors translated once.

No Qdrant server runs here: the async API is exercised in-process (``location=":memory:"``); a refused
connection and a server that never answers are real sockets on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from qdrant_client import AsyncQdrantClient
from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from qianshi.server import errors
from qianshi.server.backends.retrieval.corpus import Corpus
from qianshi.server.backends.retrieval.embedded import EmbeddedRetriever
from qianshi.server.backends.retrieval.remote import ServerRetriever, translate_error
from qianshi.server.domain import Query

QUERIES = [
    Query("mazu60", 1, "婚姻能成嗎", "婚姻"),
    Query("guandi100", 1, "我的病什麼時候會好", "聖意", ("病",)),
    Query("guanyin100", 5, "Will my marriage work out?", "婚姻", ("婚", "嫁")),
    Query("guanyin100", 1, "這次考試能不能考上", "詩意"),
]


@pytest.fixture
async def server_retriever(corpus: Corpus) -> AsyncIterator[ServerRetriever]:
    # Payload indexes only warn in local mode; a real server gets them.
    retriever = ServerRetriever(
        client=AsyncQdrantClient(location=":memory:"), corpus=corpus, payload_indexes=False
    )
    try:
        yield retriever
    finally:
        await retriever.aclose()


async def test_it_builds_once_and_answers_as_the_embedded_store_does(
    server_retriever: ServerRetriever, retriever: EmbeddedRetriever
) -> None:
    first = await server_retriever.start()
    assert first.rebuilt and first.points["qianshi_poems"] == 260
    assert not (await server_retriever.start()).rebuilt
    assert [s.id for s in await server_retriever.sets()] == [s.id for s in await retriever.sets()]
    assert await server_retriever.poem("guandi100", 7) == await retriever.poem("guandi100", 7)
    for query in QUERIES:  # the full comparison, scores included: test_agreement.py
        theirs, ours = await server_retriever.passages(query), await retriever.passages(query)
        assert [p.id for p in theirs] == [p.id for p in ours]
    with pytest.raises(errors.NotFound, match="unknown poem set"):
        await server_retriever.poem("nosuch", 1)


def test_it_needs_a_url_or_a_client() -> None:
    with pytest.raises(ValueError, match="url or client"):
        ServerRetriever()


async def test_a_refused_connection_is_backend_unavailable(corpus: Corpus) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    retriever = ServerRetriever(f"http://127.0.0.1:{port}", corpus=corpus, check_compatibility=False)
    try:
        with pytest.raises(errors.BackendUnavailable, match="cannot be reached"):
            await retriever.start()
    finally:
        await retriever.aclose()


async def test_a_server_that_never_answers_is_backend_timeout(corpus: Corpus) -> None:
    connected, finished = asyncio.Event(), asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        try:
            await reader.read()  # until the client gives up and closes
        finally:
            writer.close()
            await writer.wait_closed()
            finished.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    retriever = ServerRetriever(
        f"http://127.0.0.1:{port}", timeout_s=1, corpus=corpus, check_compatibility=False
    )
    try:
        with pytest.raises(errors.BackendTimeout):
            await retriever.start()
        assert connected.is_set()
    finally:
        await retriever.aclose()
        if connected.is_set():
            await finished.wait()
        server.close()
        await server.wait_closed()


class FakeRpcError(Exception):
    def __init__(self, name: str) -> None:
        self._code = type("Code", (), {"name": name})()

    def code(self) -> object:
        return self._code


@pytest.mark.parametrize(
    ("exc", "expected", "reason"),
    [
        (
            ResponseHandlingException(httpx.ConnectError("refused")),
            errors.BackendUnavailable,
            "QDRANT_UNAVAILABLE",
        ),
        (ResponseHandlingException(httpx.ReadTimeout("slow")), errors.BackendTimeout, "QDRANT_TIMEOUT"),
        (ConnectionRefusedError(), errors.BackendUnavailable, "QDRANT_UNAVAILABLE"),
        (TimeoutError(), errors.BackendTimeout, "QDRANT_TIMEOUT"),
        (
            UnexpectedResponse(503, "Unavailable", b"", httpx.Headers()),
            errors.BackendUnavailable,
            "QDRANT_UNAVAILABLE",
        ),
        (
            UnexpectedResponse(504, "Gateway Timeout", b"", httpx.Headers()),
            errors.BackendTimeout,
            "QDRANT_TIMEOUT",
        ),
        (
            UnexpectedResponse(401, "Unauthorized", b"", httpx.Headers()),
            errors.BackendFailed,
            "QDRANT_UNAUTHORIZED",
        ),
        (UnexpectedResponse(404, "Not Found", b"", httpx.Headers()), errors.BackendFailed, "INDEX_MISSING"),
        (UnexpectedResponse(500, "Internal", b"boom", httpx.Headers()), errors.BackendFailed, "QDRANT_ERROR"),
        (ResourceExhaustedResponse("slow down", 3), errors.BackendUnavailable, "QDRANT_RATE_LIMITED"),
        (FakeRpcError("UNAVAILABLE"), errors.BackendUnavailable, "QDRANT_UNAVAILABLE"),
        (FakeRpcError("DEADLINE_EXCEEDED"), errors.BackendTimeout, "QDRANT_TIMEOUT"),
        (FakeRpcError("INTERNAL"), errors.BackendFailed, "QDRANT_ERROR"),
        (ValueError("secret detail"), errors.BackendFailed, "QDRANT_ERROR"),
    ],
)
def test_client_errors_are_translated_in_one_place(exc: Exception, expected: type, reason: str) -> None:
    translated = translate_error(exc)
    assert type(translated) is expected
    assert translated.reason == reason
    assert "secret" not in translated.message and "boom" not in translated.message


def test_rate_limits_carry_the_retry_hint() -> None:
    assert translate_error(ResourceExhaustedResponse("slow down", 3)).retry_after_s == 3
