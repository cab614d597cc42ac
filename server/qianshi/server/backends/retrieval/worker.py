"""The embedded retrieval backend: Qdrant's local mode in a worker process, behind an asyncio Retriever.

Embedded Qdrant is pure Python and numpy (a search is tens of milliseconds of CPU), so it must not run on
the server's interpreter: with the GIL held by a search, the event loop could not keep the streams'
ticks on time (FACTS.md). :class:`WorkerRetriever` starts a worker process (``spawn``, before the gRPC
server starts) that owns ``QdrantClient(path=<state_dir>/qdrant)``; it builds or updates the index on
start and reports progress, then answers requests. This module is the server's side; the process's own
side (its request loop, checkpoint and pause) is worker_process.py.

The pipe between them carries tuples. Parent → worker: ``("call", id, op, args)`` with op ``poem``,
``passages``, ``stats`` or ``pause``; ``("cancel", id)``; ``("resume",)``; ``("stop",)``. Worker →
parent: ``("progress", done, total)``, ``("ready", sets)``, ``("failed", message)``, ``("ok", id,
result)``, ``("err", id, error class, message, reason)``.

- Many requests share the one pipe, told apart by id. On each side a reader thread blocks on the pipe
  (releasing the GIL) and hands messages over: to the event loop with ``call_soon_threadsafe``, and in
  the worker to its request queue. The worker's reader keeps the pipe drained while a search runs, so
  the parent's sends do not block.
- Poem look-ups jump the queue of searches, and the parent caches every poem it has received (poems
  are immutable), so showing the poem never waits behind searches.
- Cancelling the awaiting task sends ``cancel``: a queued request is dropped unstarted; a running
  search is abandoned at its checkpoint (between the poem fetch and the search). The worker counts what
  it saw (:meth:`WorkerRetriever.stats`).
- If the worker dies, requests in flight fail with ``BackendUnavailable`` and the next request starts
  a new worker (the index on disk is already built, so that takes about two seconds).
- ``workers > 1`` starts more processes. Embedded Qdrant locks its folder, so only the first opens the
  state dir; the others build their own ``:memory:`` copy from the corpus (a few seconds each at start).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qianshi.server import errors
from qianshi.server.backends.retrieval import worker_process
from qianshi.server.backends.retrieval.corpus import set_from_record
from qianshi.server.backends.retrieval.index import DEFAULT_PREFIX, Embedder, ProgressCallback
from qianshi.server.backends.retrieval.worker_process import WorkerConfig
from qianshi.server.domain import Passage, Poem, PoemSet, Query

__all__ = ["WorkerConfig", "WorkerHold", "WorkerRetriever", "WorkerStats"]

logger = logging.getLogger(__name__)

_STOP_TIMEOUT_S = 10.0
_ERRORS: dict[str, type[errors.QianshiError]] = {
    cls.__name__: cls for cls in (errors.NotFound, errors.InvalidArgument, errors.BackendFailed)
}


@dataclass(frozen=True, slots=True)
class WorkerStats:
    """Counts from the live worker processes (they restart from zero with a new process)."""

    served: int = 0
    """Requests answered (with a result or an error)."""
    cancelled_seen: int = 0
    """Cancels that arrived while their request was queued or running."""
    skipped: int = 0
    """Cancelled while queued: never started."""
    abandoned: int = 0
    """Cancelled while running: dropped at the checkpoint."""
    restarts: int = 0
    """Worker processes started again after one died."""
    queued: int = 0
    """Requests received and not yet started."""


class WorkerHold:
    """The worker held by :meth:`WorkerRetriever.paused`; ``reached()`` waits for the hold to begin."""

    def __init__(self, acks: Sequence[asyncio.Future[Any]]) -> None:
        self._acks = acks

    async def reached(self) -> None:
        done, _ = await asyncio.wait(self._acks, return_when=asyncio.FIRST_COMPLETED)
        done.pop().result()


class WorkerRetriever:
    """The pipeline's Retriever over embedded Qdrant in worker processes (``name = "embedded"``).

    ``r = WorkerRetriever.from_state_dir(state_dir); await r.start(progress)`` before the gRPC server
    starts; ``await r.aclose()`` at the end.
    """

    name = "embedded"

    def __init__(
        self,
        qdrant_path: Path,
        *,
        workers: int = 1,
        cache_dir: Path | None = None,
        corpus_path: Path | None = None,
        embedder: Embedder | None = None,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        config = WorkerConfig(qdrant_path, cache_dir, corpus_path, workers, embedder, prefix)
        self._config = config
        self._slots: list[_WorkerProcess | None] = [None] * max(1, config.workers)
        self._restarts = 0
        self._sets: tuple[PoemSet, ...] = ()
        self._poems: dict[tuple[str, int], Poem] = {}
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    def from_state_dir(cls, state_dir: Path, **options: Any) -> WorkerRetriever:
        """The index in ``state_dir/qdrant``, jieba's cache in ``state_dir/cache``."""
        return cls(state_dir / "qdrant", cache_dir=state_dir / "cache", **options)

    def launch(self) -> None:
        """Spawn the worker processes now without waiting for them: call it before the gRPC server
        starts (FACTS.md), then ``await start(progress)`` to wait until the index is ready. Needs a
        running event loop."""
        for i, worker in enumerate(self._slots):
            if worker is None:
                fresh = _WorkerProcess(self._config, primary=i == 0)
                fresh.launch()
                self._slots[i] = fresh

    async def start(self, progress: ProgressCallback | None = None) -> None:
        """Start the workers (unless :meth:`launch` did) and wait until the index is ready, building it
        if needed."""
        async with self._lock:
            await self._ensure_all(progress)

    def pids(self) -> list[int]:
        """Process ids of the running worker processes (ready or still opening the index)."""
        return [w.pid for w in self._slots if w is not None and (w.alive or w.launching)]

    async def sets(self) -> Sequence[PoemSet]:
        if not self._sets:
            await self._worker()
        return self._sets

    async def poem(self, set_id: str, number: int) -> Poem:
        key = (set_id, number)
        poem = self._poems.get(key)
        if poem is None:
            poem = await (await self._worker()).call("poem", set_id, number)
            self._poems[key] = poem
        return poem

    async def passages(self, query: Query) -> Sequence[Passage]:
        result: list[Passage] = await (await self._worker()).call("passages", query)
        return result

    async def stats(self) -> WorkerStats:
        totals: Counter[str] = Counter()
        for worker in [w for w in self._slots if w is not None and w.alive]:
            totals.update(await worker.call("stats"))
        return WorkerStats(
            served=totals["served"],
            cancelled_seen=totals["cancelled_seen"],
            skipped=totals["skipped"],
            abandoned=totals["abandoned"],
            restarts=self._restarts,
            queued=totals["queued"],
        )

    @contextlib.asynccontextmanager
    async def paused(self, *, at_checkpoint: bool = False) -> AsyncIterator[WorkerHold]:
        """Hold the workers: they start no new request (or, with ``at_checkpoint``, stop the next one at
        its checkpoint) until the block ends. For maintenance, and for tests that need a request to be
        queued or running at a known moment; cancels and stats are still handled while held."""
        await self._worker()
        workers = [w for w in self._slots if w is not None]
        acks = [w.submit("pause", at_checkpoint) for w in workers]
        hold = WorkerHold([fut for _, fut in acks])
        try:
            if not at_checkpoint:
                await asyncio.gather(*(fut for _, fut in acks))
            yield hold
        finally:
            for worker, (rid, fut) in zip(workers, acks, strict=True):
                worker.forget(rid, fut)
                worker.send_quietly(("resume",))

    async def aclose(self) -> None:
        """Stop the workers (each finishes its current request) and wait until their processes exit."""
        self._closed = True
        async with self._lock:  # after a restart in progress, so that no process outlives the close
            for i, worker in enumerate(self._slots):
                if worker is not None:
                    await worker.stop()
                    self._slots[i] = None

    async def _worker(self) -> _WorkerProcess:
        if self._closed:
            raise errors.BackendUnavailable("the retrieval backend is closed", reason="RETRIEVER_CLOSED")
        if not all(w is not None and w.alive for w in self._slots):
            async with self._lock:
                await self._ensure_all(None)
        live = [w for w in self._slots if w is not None and w.alive]
        if not live:  # died again right after starting
            raise errors.BackendUnavailable(
                "no retrieval worker is running", reason="RETRIEVAL_WORKER_EXITED"
            )
        return min(live, key=lambda w: w.in_flight)

    async def _ensure_all(self, progress: ProgressCallback | None) -> None:
        """Start every slot without a live worker, side by side (the caller holds the lock)."""
        try:
            async with asyncio.TaskGroup() as group:
                for i, worker in enumerate(self._slots):
                    if worker is None or not worker.alive:
                        group.create_task(self._start_slot(i, progress if i == 0 else None))
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None

    async def _start_slot(self, i: int, progress: ProgressCallback | None) -> None:
        previous = self._slots[i]
        if previous is not None and previous.launching:  # spawned by launch(): wait for it
            self._sets = await previous.wait_ready(progress)
            return
        if previous is not None:
            await previous.stop()
            self._slots[i] = None
            self._restarts += 1
        fresh = _WorkerProcess(self._config, primary=i == 0)
        fresh.launch()
        self._slots[i] = fresh
        self._sets = await fresh.wait_ready(progress)


class _WorkerProcess:
    """One worker process: its pipe, its reader thread and the requests in flight on it."""

    def __init__(self, config: WorkerConfig, *, primary: bool) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe(duplex=True)
        self._process = context.Process(
            target=worker_process.main,
            args=(child_conn, config, primary),
            name="qianshi-retrieval",
            daemon=True,
        )
        self._child_conn = child_conn
        self._progress: ProgressCallback | None = None
        self._loop = asyncio.get_running_loop()
        self._ready: asyncio.Future[tuple[PoemSet, ...]] = self._loop.create_future()
        self._exited: asyncio.Future[None] = self._loop.create_future()
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self.alive = False

    @property
    def pid(self) -> int:
        return self._process.pid or 0

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def launching(self) -> bool:
        """Spawned, not ready yet, not gone."""
        return self._process.pid is not None and not self.alive and not self._exited.done()

    def launch(self) -> None:
        """Spawn the process (it starts opening or building the index at once)."""
        self._process.start()
        self._child_conn.close()
        threading.Thread(target=self._read, name="qianshi-retrieval-reader", daemon=True).start()

    async def wait_ready(self, progress: ProgressCallback | None) -> tuple[PoemSet, ...]:
        """Wait until the index is ready; progress reported from now on goes to ``progress``."""
        self._progress = progress
        try:
            sets = await self._ready
        except BaseException:
            await self.stop()
            raise
        self.alive = True
        return sets

    def submit(self, op: str, *args: Any) -> tuple[int, asyncio.Future[Any]]:
        if self._exited.done():
            raise errors.BackendUnavailable(
                "the retrieval worker has exited", reason="RETRIEVAL_WORKER_EXITED"
            )
        rid = next(self._ids)
        future = self._pending[rid] = self._loop.create_future()
        try:
            self._conn.send(("call", rid, op, args))
        except OSError:
            del self._pending[rid]
            raise errors.BackendUnavailable(
                "the retrieval worker has exited", reason="RETRIEVAL_WORKER_EXITED"
            ) from None
        return rid, future

    async def call(self, op: str, *args: Any) -> Any:
        rid, future = self.submit(op, *args)
        try:
            return await future
        except asyncio.CancelledError:
            self.send_quietly(("cancel", rid))
            raise
        finally:
            self._pending.pop(rid, None)

    def forget(self, rid: int, future: asyncio.Future[Any]) -> None:
        """Drop a request whose answer is no longer wanted."""
        self._pending.pop(rid, None)
        if future.done() and not future.cancelled():
            future.exception()  # retrieved: the worker died while held; nothing to report
        future.cancel()

    def send_quietly(self, message: tuple[Any, ...]) -> None:
        """Send a message whose loss does not matter once the worker is gone."""
        with contextlib.suppress(OSError):
            self._conn.send(message)

    async def stop(self) -> None:
        """Ask the worker to stop (one still building is killed: its build is redone on the next
        start), kill it if it does not, and reap it. Idempotent."""
        if self._process.pid is None:
            return
        if self.alive:
            self.send_quietly(("stop",))
        else:
            self._process.kill()
        self.alive = False
        try:
            await asyncio.wait_for(asyncio.shield(self._exited), _STOP_TIMEOUT_S)
        except TimeoutError:
            self._process.kill()
            await self._exited
        finally:
            await asyncio.to_thread(self._process.join, _STOP_TIMEOUT_S)
            self._conn.close()

    def _read(self) -> None:
        """Reader thread: hand every message to the event loop; report the end of the pipe."""
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break
            self._call_soon(self._dispatch, message)
        self._call_soon(self._on_exit)

    def _call_soon(self, callback: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(callback, *args)

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind in ("ok", "err"):
            future = self._pending.get(message[1])
            if future is None or future.done():
                return
            if kind == "ok":
                future.set_result(message[2])
            else:
                _, _, name, detail, reason = message
                future.set_exception(_ERRORS.get(name, errors.BackendFailed)(detail, reason=reason))
        elif kind == "progress" and self._progress is not None:
            try:
                self._progress(message[1], message[2])
            except Exception:
                logger.exception("index progress callback failed")
        elif kind == "ready" and not self._ready.done():
            self._ready.set_result(tuple(set_from_record(r) for r in message[1]))
        elif kind == "failed" and not self._ready.done():
            self._ready.set_exception(
                errors.BackendFailed(
                    f"the retrieval worker failed to start: {message[1]}", reason="WORKER_START_FAILED"
                )
            )

    def _on_exit(self) -> None:
        self.alive = False
        code = self._process.exitcode  # None when the pipe closed before the process was reaped
        how = "" if code is None else f" (killed by signal {-code})" if code < 0 else f" (exit code {code})"
        gone = errors.BackendUnavailable(
            f"the retrieval worker exited{how}", reason="RETRIEVAL_WORKER_EXITED"
        )
        for future in [*self._pending.values(), self._ready]:
            if not future.done():
                future.set_exception(gone)
        self._exited.set_result(None)
