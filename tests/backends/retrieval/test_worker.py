"""The embedded backend through a real spawned worker process over the session's on-disk index."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest
import pytest_asyncio
from qianshi.server.backends.retrieval.index import BuildReport
from qianshi.server.backends.retrieval.worker import WorkerRetriever, WorkerStats
from qianshi.server.domain import PassageKind, Query
from qianshi.server.errors import BackendUnavailable, NotFound

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one event loop, so one worker serves several tests

MARRIAGE = Query("mazu60", 1, "婚姻能成嗎", "婚姻")
ILLNESS = Query("guandi100", 1, "我的病什麼時候會好", "聖意", ("病",))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def retriever(disk_index: tuple[Path, BuildReport], state_dir: Path) -> AsyncIterator[WorkerRetriever]:
    """One worker shared by the tests that leave it running (they compare stats before and after)."""
    worker = WorkerRetriever(disk_index[0], cache_dir=state_dir / "cache")
    await worker.start()
    try:
        yield worker
    finally:
        await worker.aclose()


def _delta(before: WorkerStats, after: WorkerStats) -> dict[str, int]:
    return {
        k: getattr(after, k) - getattr(before, k)
        for k in ("served", "cancelled_seen", "skipped", "abandoned")
    }


async def test_poems_and_passages_come_from_the_worker(retriever: WorkerRetriever) -> None:
    before = await retriever.stats()
    assert [s.id for s in await retriever.sets()] == ["mazu60", "guanyin100", "guandi100"]
    poem = await retriever.poem("guandi100", 1)
    assert poem.title == "漢高祖入關"
    passages = await retriever.passages(ILLNESS)
    assert (passages[0].text, passages[0].citation) == ("病即痊", 1)
    with pytest.raises(NotFound, match="no poem 61"):
        await retriever.poem("mazu60", 61)
    assert await retriever.poem("guandi100", 1) is poem  # the second look-up is the cached poem
    assert _delta(before, await retriever.stats())["served"] == 3


async def test_many_concurrent_requests_share_the_pipe(retriever: WorkerRetriever) -> None:
    queries = [Query("guandi100", n, "我的病什麼時候會好", "聖意", ("病",)) for n in range(2, 14)]
    results = await asyncio.gather(*(retriever.passages(q) for q in queries))
    for query, passages in zip(queries, results, strict=True):
        assert all(p.id.startswith(f"guandi100/{query.number}/") for p in passages)
        assert any(p.kind is PassageKind.VERSE for p in passages)


async def test_a_request_cancelled_while_queued_is_never_started(retriever: WorkerRetriever) -> None:
    before = await retriever.stats()
    async with retriever.paused():
        task = asyncio.create_task(retriever.passages(MARRIAGE))
        while (await retriever.stats()).queued == 0:  # each probe lets the task send its request
            pass
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        seen = _delta(before, await retriever.stats())
        assert (seen["cancelled_seen"], seen["skipped"], seen["abandoned"]) == (1, 1, 0)
    assert (await retriever.passages(MARRIAGE))[0].text == "允成"
    assert _delta(before, await retriever.stats())["served"] == 1


async def test_a_running_search_cancelled_at_its_checkpoint_is_abandoned(retriever: WorkerRetriever) -> None:
    before = await retriever.stats()
    async with retriever.paused(at_checkpoint=True) as hold:
        task = asyncio.create_task(retriever.passages(MARRIAGE))
        await hold.reached()  # the worker holds the request between its poem fetch and its search
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert _delta(before, await retriever.stats())["cancelled_seen"] == 1
    seen = _delta(before, await retriever.stats())  # after the hold: the worker has dropped the request
    assert seen == {"served": 0, "cancelled_seen": 1, "skipped": 0, "abandoned": 1}
    assert (await retriever.passages(MARRIAGE))[0].text == "允成"


async def test_a_killed_worker_fails_its_requests_is_restarted_and_closes_cleanly(
    tmp_path: Path, tiny_corpus: Path, state_dir: Path
) -> None:
    # Its own index: the shared worker holds the session's index folder (embedded Qdrant locks it).
    worker = WorkerRetriever(tmp_path / "qdrant", cache_dir=state_dir / "cache", corpus_path=tiny_corpus)
    marriage = Query("tiny", 1, "婚姻能成嗎", "婚姻")
    try:
        worker.launch()  # the server spawns before its gRPC server starts, then waits
        await worker.start()
        [pid] = worker.pids()
        async with worker.paused(at_checkpoint=True) as hold:
            task = asyncio.create_task(worker.passages(marriage))
            await hold.reached()
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(BackendUnavailable, match="the retrieval worker exited"):
                await task
        assert (await worker.passages(marriage))[0].text == "允成"
        [new_pid] = worker.pids()
        assert new_pid != pid
        assert (await worker.stats()).restarts == 1
        child = psutil.Process(new_pid)
    finally:
        await worker.aclose()
    assert worker.pids() == []
    assert not child.is_running()
    with pytest.raises(BackendUnavailable, match="closed"):
        await worker.poem("mazu60", 1)


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """An operator's corpus folder with one set of two poems (quick to index)."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    verse = ["日出便見風雲散", "光明清淨照世間", "一向前途通大道", "萬事清吉保平安"]
    records = [
        {
            "set_id": "tiny",
            "set_name": "小籤",
            "number": n,
            "rank": "",
            "title": f"試題{n}",
            "verse": verse,
            "judgments": {"婚姻": "允成", "治病": "即安"},
            "source": "test",
        }
        for n in (1, 2)
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    (folder / "tiny.jsonl").write_text("\n".join(lines), encoding="utf-8")
    return folder


async def test_an_operators_corpus_is_built_on_start_with_progress(tmp_path: Path, tiny_corpus: Path) -> None:
    worker = WorkerRetriever.from_state_dir(tmp_path / "state", corpus_path=tiny_corpus)
    seen: list[tuple[int, int]] = []
    try:
        await worker.start(lambda done, total: seen.append((done, total)))
        assert seen[0] == (0, 10) and seen[-1] == (10, 10)  # 2 poems + 2 x (verse, title, 2 judgments)
        assert [s.id for s in await worker.sets()] == ["tiny"]
        assert (await worker.passages(Query("tiny", 1, "病會好嗎", "治病")))[0].text == "即安"
    finally:
        await worker.aclose()
    assert (tmp_path / "state" / "qdrant").is_dir() and (tmp_path / "state" / "cache").is_dir()


async def test_more_workers_share_the_requests(tmp_path: Path, tiny_corpus: Path, state_dir: Path) -> None:
    worker = WorkerRetriever(
        tmp_path / "qdrant", cache_dir=state_dir / "cache", corpus_path=tiny_corpus, workers=2
    )
    try:
        await worker.start()
        assert len(set(worker.pids())) == 2  # the second holds its own in-memory copy
        queries = [Query("tiny", 1 + n % 2, "婚姻能成嗎", "婚姻") for n in range(20)]
        results = await asyncio.gather(*(worker.passages(q) for q in queries))
        assert all(r[0].text == "允成" for r in results)
        assert (await worker.stats()).served == 20
    finally:
        await worker.aclose()
    assert worker.pids() == []


async def test_closing_a_worker_still_building_kills_it(
    tmp_path: Path, tiny_corpus: Path, state_dir: Path
) -> None:
    worker = WorkerRetriever(tmp_path / "qdrant", cache_dir=state_dir / "cache", corpus_path=tiny_corpus)
    worker.launch()
    [pid] = worker.pids()
    child = psutil.Process(pid)
    await worker.aclose()
    assert not child.is_running()
    assert worker.pids() == []
