"""Coalescing: clause-sized pieces, nothing lost, nothing split, the final chunk last."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from qianshi.server.pipeline.coalesce import MAX_HELD_CHARS, coalesce
from qianshi.server.writing import GenerationChunk

from tests.virtual_time import virtual


async def scripted(
    pieces: list[str],
    hold: asyncio.Event | None = None,
    fail: Exception | None = None,
    spaced: bool = True,
) -> AsyncIterator[GenerationChunk]:
    """The pieces as an engine streams them: one at a time (``spaced``: the reader sees each before
    the next exists), or all at once."""
    for i, piece in enumerate(pieces):
        if hold is not None and i == len(pieces) - 1:
            await hold.wait()
        yield GenerationChunk(text=piece, tokens=1)
        if spaced:
            await asyncio.sleep(0)
    if fail is not None:
        raise fail
    yield GenerationChunk(final=True, completion_tokens=len(pieces))


async def run(stream: AsyncIterator[GenerationChunk]) -> list[GenerationChunk]:
    async with asyncio.timeout(5), contextlib.aclosing(stream) as s:
        return [c async for c in s]


async def test_tokens_merge_into_clauses_and_nothing_is_lost():
    tokens = ["此", "籤", "大", "吉", "，", "婚", "姻", "可", "成", "。", "宜", "早"]
    out = await run(coalesce(scripted(tokens), window_s=10.0))
    texts = [c.text for c in out if not c.final]
    assert texts == ["此", "籤大吉，", "婚姻可成。", "宜早"]  # the first text at once, then clauses
    assert sum(c.tokens for c in out if not c.final) == len(tokens)
    assert out[-1].final and [c.final for c in out].count(True) == 1


async def test_text_that_exists_at_once_goes_out_in_few_pieces():
    clauses = ["此籤大吉，", "婚姻可成。", "宜早。"] * 40  # 520 characters written at once
    out = await run(coalesce(scripted(clauses, spaced=False), window_s=10.0))
    texts = [c.text for c in out if not c.final]
    assert "".join(texts) == "".join(clauses)
    assert len(texts) == 2 and len(texts[0]) >= MAX_HELD_CHARS
    assert sum(c.tokens for c in out if not c.final) == len(clauses)


async def test_window_flushes_held_text_while_the_engine_is_silent():
    hold = asyncio.Event()
    stream = coalesce(scripted(["起", "等", "待", "中"], hold=hold), window_s=0.01)
    async with asyncio.timeout(5), contextlib.aclosing(stream):
        assert (await anext(stream)).text == "起"  # the first text goes out at once
        held = await anext(stream)  # arrives although no punctuation came and the engine is held
        assert held.text == "等待"
        hold.set()
        rest = [c async for c in stream]
    assert [c.text for c in rest] == ["中", ""]


async def test_half_a_character_is_never_sent_alone():
    stream = coalesce(scripted(["好", "\ud83d", "\ude00", "。"]), window_s=0.0)
    out = await run(stream)
    assert all(not (c.text and "\ud800" <= c.text[-1] <= "\udbff") for c in out)
    assert "".join(c.text for c in out) == "好\ud83d\ude00。"


async def test_upstream_error_comes_after_the_text_held_so_far():
    out: list[str] = []
    stream = coalesce(scripted(["部", "分"], fail=RuntimeError("boom")), window_s=10.0)
    try:
        async with asyncio.timeout(5), contextlib.aclosing(stream):
            async for chunk in stream:
                out.append(chunk.text)
    except RuntimeError as exc:
        assert str(exc) == "boom"
    else:
        raise AssertionError("the error was swallowed")
    assert "".join(out) == "部分"


async def test_closing_early_closes_the_upstream():
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[GenerationChunk]:
        try:
            while True:
                yield GenerationChunk(text="字。", tokens=1)
                await asyncio.sleep(0)
        finally:
            closed.set()

    stream = coalesce(endless(), window_s=0.01)
    async with asyncio.timeout(5), contextlib.aclosing(stream):
        await anext(stream)
    async with asyncio.timeout(5):
        await closed.wait()


async def paced(pieces: list[str], every_s: float, tokens: int = 1) -> AsyncIterator[GenerationChunk]:
    """The pieces as an engine makes them, one every ``every_s`` (the first at once)."""
    for i, piece in enumerate(pieces):
        if i:
            await asyncio.sleep(every_s)
        yield GenerationChunk(text=piece, tokens=tokens)
    yield GenerationChunk(final=True, completion_tokens=len(pieces) * tokens)


async def timed(stream: AsyncIterator[GenerationChunk]) -> list[tuple[float, str]]:
    """(when, text) of each piece the coalescer lets out, on the loop's (virtual) clock."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with contextlib.aclosing(stream) as s:
        return [(round(loop.time() - start, 6), c.text) async for c in s if not c.final]


@virtual
async def test_chunks_of_several_tokens_slower_than_the_window_are_never_held():
    # vLLM's chunks of four tokens every 80 ms: each goes out the moment it comes (no clause end)
    out = await timed(coalesce(paced(["此籤大吉", "婚姻可成", "宜早不宜", "遲也"], 0.08, tokens=4), 0.04))
    assert out == [(0.0, "此籤大吉"), (0.08, "婚姻可成"), (0.16, "宜早不宜"), (0.24, "遲也")]


@virtual
async def test_chunks_of_several_tokens_faster_than_the_window_go_out_once_a_window():
    chunks = ["此籤大吉", "婚姻可成", "宜早不宜", "遲也好吧", "謀事在人", "成事在天", "心誠則靈", "終得如意"]
    out = await timed(coalesce(paced(chunks, 0.01, tokens=4), 0.04))
    # the first at once; then a window after it; the rest when the engine ends
    assert out == [(0.0, chunks[0]), (0.04, "".join(chunks[1:4])), (0.07, "".join(chunks[4:]))]


@virtual
async def test_tokens_one_by_one_are_merged_over_a_window_from_the_first_held():
    out = await timed(coalesce(paced(list("此籤大吉婚姻可成宜早"), 0.01), 0.04))
    assert out == [(0.0, "此"), (0.05, "籤大吉婚"), (0.09, "姻可成宜"), (0.09, "早")]
