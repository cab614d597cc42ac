"""The worker process of the embedded retrieval backend: the side of the pipe that owns embedded Qdrant.

:class:`~qianshi.server.backends.retrieval.worker.WorkerRetriever` spawns :func:`main` (``spawn``
context, so it and :class:`WorkerConfig` are pickled by reference and must stay importable at module
level) and talks to it over the pipe protocol described in worker.py. The process opens or
builds the index, reports progress and the poem sets, then answers requests one at a time, while a
reader thread (:class:`_Inbox`) keeps the pipe drained: it queues requests (poem look-ups before
searches), handles cancels, pauses and stats at once, and holds a running search at its checkpoint
(between the poem fetch and the search) when asked to.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient
from qianshi.server import errors
from qianshi.server.backends.retrieval import analyzer
from qianshi.server.backends.retrieval.corpus import load_corpus, load_shipped_corpus, set_record
from qianshi.server.backends.retrieval.index import (
    DEFAULT_PREFIX,
    Embedder,
    IndexNames,
    ProgressCallback,
    build_index,
)
from qianshi.server.backends.retrieval.search import QdrantSearcher
from qianshi.server.domain import Query

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """What a worker needs; pickled into the spawned process."""

    qdrant_path: Path
    """The embedded Qdrant folder (``<state_dir>/qdrant``)."""
    cache_dir: Path | None = None
    """Where jieba keeps its dictionary cache (``<state_dir>/cache``); the system temp dir when None."""
    corpus_path: Path | None = None
    """An operator's corpus (folder or JSONL file); the shipped corpus when None."""
    workers: int = 1
    embedder: Embedder | None = None
    prefix: str = DEFAULT_PREFIX


def main(conn: Connection, config: WorkerConfig, primary: bool) -> None:
    """Entry point of the worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when its workers stop
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(message)

    try:
        client, searcher = _open_index(config, primary, lambda done, total: send(("progress", done, total)))
    except Exception as exc:
        logger.exception("retrieval worker failed to start")
        send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    try:
        send(("ready", [set_record(s) for s in searcher.sets()]))
        inbox = _Inbox(conn, send)
        threading.Thread(target=inbox.read, name="qianshi-worker-inbox", daemon=True).start()
        while (item := inbox.take()) is not None:
            rid, op, args = item
            reply = _answer(searcher, inbox, rid, op, args)
            inbox.finish(answered=reply is not None)
            if reply is not None:
                send(reply)
    finally:
        client.close()


def _open_index(
    config: WorkerConfig, primary: bool, progress: ProgressCallback
) -> tuple[QdrantClient, QdrantSearcher]:
    analyzer.configure(config.cache_dir)
    analyzer.warm_up()
    corpus = load_corpus(config.corpus_path) if config.corpus_path else load_shipped_corpus()
    client = QdrantClient(path=str(config.qdrant_path)) if primary else QdrantClient(location=":memory:")
    names = IndexNames(config.prefix)
    try:
        build_index(
            client, corpus, embedder=config.embedder, names=names, progress=progress if primary else None
        )
    except BaseException:
        client.close()
        raise
    return client, QdrantSearcher(client, names=names, embedder=config.embedder)


def _answer(
    searcher: QdrantSearcher, inbox: _Inbox, rid: int, op: str, args: tuple[Any, ...]
) -> tuple[Any, ...] | None:
    """The reply to one request, or None when it was abandoned at the checkpoint."""
    try:
        if op == "poem":
            return ("ok", rid, searcher.get_poem(*args))
        query: Query = args[0]
        poem = searcher.get_poem(query.set_id, query.number)
        if inbox.checkpoint():
            return None
        return ("ok", rid, searcher.search_passages(query, poem=poem))
    except errors.QianshiError as exc:
        return ("err", rid, type(exc).__name__, exc.message, exc.reason)
    except Exception:
        logger.exception("retrieval request %s failed", op)
        return ("err", rid, "BackendFailed", f"retrieval failed in the worker ({op})", "RETRIEVAL_FAILED")


class _Inbox:
    """The worker's request queue, filled by a reader thread that also handles cancels, pauses and stats.

    Poem look-ups go before searches. Everything is guarded by one condition variable.
    """

    def __init__(self, conn: Connection, send: Callable[[tuple[Any, ...]], None]) -> None:
        self._conn = conn
        self._send = send
        self._cond = threading.Condition()
        self._queues: tuple[deque[int], deque[int]] = (deque(), deque())  # poems, searches
        self._queued: dict[int, tuple[int, str, tuple[Any, ...]]] = {}
        self._current: int | None = None
        self._current_cancelled = False
        self._past_checkpoint = False
        self._paused = False
        self._pause_at_checkpoint: int | None = None
        self._stopping = False
        self._counts: Counter[str] = Counter()

    def read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):  # the server is gone: stop too
                message = ("stop",)
            with self._cond:
                self._handle(message)
                self._cond.notify_all()
            if message[0] == "stop":
                return

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "call":
            _, rid, op, args = message
            if op == "stats":
                self._send(("ok", rid, {**self._counts, "queued": len(self._queued)}))
            elif op == "pause" and args[0]:
                self._pause_at_checkpoint = rid
            elif op == "pause":
                self._paused = True
                self._send(("ok", rid, None))
            else:
                self._queued[rid] = (rid, op, args)
                self._queues[0 if op == "poem" else 1].append(rid)
        elif kind == "cancel":
            rid = message[1]
            if self._queued.pop(rid, None) is not None:
                self._counts.update(("cancelled_seen", "skipped"))
            elif rid == self._current and not self._current_cancelled:
                # Counted here, not at the checkpoint, so a stats request sent after the cancel sees it.
                self._counts.update(
                    ("cancelled_seen",) if self._past_checkpoint else ("cancelled_seen", "abandoned")
                )
                self._current_cancelled = True
        elif kind == "resume":
            self._paused = False
            self._pause_at_checkpoint = None
        elif kind == "stop":
            self._stopping = True

    def take(self) -> tuple[int, str, tuple[Any, ...]] | None:
        """The next request to run (poems first), or None when the worker should stop."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                queue = next((q for q in self._queues if q), None)
                if queue is None or self._paused:
                    self._cond.wait()
                    continue
                item = self._queued.pop(queue.popleft(), None)
                if item is not None:  # None: cancelled while queued
                    self._current, self._current_cancelled = item[0], False
                    self._past_checkpoint = item[1] != "passages"  # only searches have a checkpoint
                    return item

    def checkpoint(self) -> bool:
        """Between the poem fetch and the search: hold here if asked to; True to abandon the request."""
        with self._cond:
            if self._pause_at_checkpoint is not None:
                self._send(("ok", self._pause_at_checkpoint, None))
                self._pause_at_checkpoint, self._paused = None, True
                while self._paused and not self._stopping:
                    self._cond.wait()
            self._past_checkpoint = True
            return self._current_cancelled or self._stopping

    def finish(self, *, answered: bool) -> None:
        with self._cond:
            self._current, self._current_cancelled = None, False
            if answered:
                self._counts["served"] += 1
