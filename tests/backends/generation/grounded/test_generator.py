"""The grounded generator: a real, cited answer from the traditional texts, streamed clause by clause.

Poems and passages are built here from lines of the shipped JSONL files (read with json), laid out the
way a retriever lays them out (the asked category's passages first, then the verse, then others), so
these tests do not depend on the retrieval backend.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from dataclasses import replace
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qianshi.server.backends.generation.grounded import phrases as ph
from qianshi.server.backends.generation.grounded.generator import (
    GroundedGenerator,
    compose_chunks,
    estimate_tokens,
)
from qianshi.server.domain import Judgment, Passage, PassageKind, Poem
from qianshi.server.pipeline.seams import Generator
from qianshi.server.writing import GenerationChunk, GenerationRequest

CITATION = re.compile(r"\[(\d+)\]")
PROSE = {"詩意", "解曰", "東坡解", "碧仙註"}
SETS = ("mazu60", "guanyin100", "guandi100")


def records(set_id: str) -> list[dict[str, Any]]:
    text = (resources.files("qianshi.server") / "corpus" / f"{set_id}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def poem(set_id: str, number: int) -> Poem:
    r = next(r for r in records(set_id) if r["number"] == number)
    return Poem(
        set_id=r["set_id"],
        set_name=r["set_name"],
        number=r["number"],
        rank=r["rank"],
        title=r["title"],
        verse=tuple(r["verse"]),
        judgments=tuple(Judgment(k, v) for k, v in r["judgments"].items()),
        source=r["source"],
    )


def passages(p: Poem, category: str, extra: Iterable[str] = ()) -> tuple[Passage, ...]:
    """The category's passages (one per clause for long ones), the verse, then ``extra`` categories."""
    docs: list[tuple[PassageKind, str, str]] = []
    for cat in (category, *extra):
        text = p.judgment(cat)
        if text is None:
            continue
        clauses = [c for c in re.split(r"[。]", text) if c]
        for clause in clauses if len(clauses) >= 4 or cat in PROSE else [text]:
            docs.append((PassageKind.JUDGMENT, cat, clause))
        if cat == category:
            docs.append((PassageKind.VERSE, "", "，".join(p.verse)))
    if not any(kind is PassageKind.VERSE for kind, _, _ in docs):
        docs.append((PassageKind.VERSE, "", "，".join(p.verse)))
    return tuple(
        Passage(f"{p.set_id}/{p.number}/{i}", kind, cat, text, 1.0, p.source, citation=i)
        for i, (kind, cat, text) in enumerate(docs, start=1)
    )


def request(
    set_id: str,
    number: int,
    category: str,
    question: str,
    locale: str = "zh-Hant",
    *,
    extra: Iterable[str] = (),
    seed: int | None = 7,
    max_tokens: int = 512,
    request_id: str = "req-1",
) -> GenerationRequest:
    p = poem(set_id, number)
    return GenerationRequest(
        request_id=request_id,
        question=question,
        locale=locale,
        poem=p,
        passages=passages(p, category, extra),
        category=category,
        max_tokens=max_tokens,
        seed=seed,
    )


async def collect(gen: GroundedGenerator, req: GenerationRequest) -> list[GenerationChunk]:
    return [chunk async for chunk in gen.stream(req)]


def text_of(chunks: list[GenerationChunk]) -> str:
    return "".join(c.text for c in chunks if not c.final)


def assert_well_formed(chunks: list[GenerationChunk], req: GenerationRequest) -> str:
    """One final chunk, last; text chunks non-empty; citations name only passages quoted in the text."""
    assert chunks
    assert chunks[-1].final
    assert sum(c.final for c in chunks) == 1
    body = chunks[:-1]
    assert all(c.text and not c.final for c in body)
    assert chunks[-1].completion_tokens == len(body)
    text = text_of(chunks)
    assert "{" not in text
    assert "}" not in text
    assert "None" not in text
    by_citation: dict[int, Passage] = {}
    for p in req.passages:
        by_citation.setdefault(p.citation, p)  # a duplicated number means its first passage
    for number in {int(n) for n in CITATION.findall(text)}:
        assert number in by_citation, f"[{number}] cites no passage"
        p = by_citation[number]
        parts = [q for q in re.split(r"[，。]", p.text) if q]  # a verse line, a clause of a long judgment
        assert any(q in text for q in parts), f"[{number}] cited but nothing of {p.text!r} is quoted"
    return text


GEN = GroundedGenerator()


def is_closing(paragraph: str, locale: str) -> bool:
    """Whether ``paragraph`` is one of the closings (those that name a verse image, with any image)."""
    image = [re.escape(t).replace(re.escape("{image}"), ".{1,12}") for t in ph.CLOSING_IMAGE.get(locale, ())]
    return paragraph in ph.CLOSING[locale] or any(re.fullmatch(p, paragraph) for p in image)


def test_implements_the_generator_seam() -> None:
    gen: Generator = GroundedGenerator()
    assert gen.name == "grounded"
    assert gen.model == ""


async def test_mazu_marriage_in_zh_hant() -> None:
    req = request("mazu60", 1, "婚姻", "我和男朋友交往三年了，今年適合結婚嗎？", extra=["凡事"])
    chunks = await collect(GEN, req)
    text = assert_well_formed(chunks, req)
    assert chunks[-1].finish_reason == "stop"
    assert "六十甲子籤第一籤" in text
    assert "〈包公請雷驚仁宗〉" in text
    assert "「允成」[1]" in text  # the judgment for the asked category, cited
    assert "日出便見風雲散" in text
    assert "[2]" in text
    assert "婚姻" in text
    closing = text.split("\n\n")[-1]
    assert "允成" not in closing
    assert is_closing(closing, "zh-Hant")


async def test_guandi_health_in_english_picks_the_health_clause() -> None:
    req = request("guandi100", 1, "聖意", "Will my father recover from his surgery?", "en", extra=["解曰"])
    text = assert_well_formed(await collect(GEN, req), req)
    health = next(p for p in req.passages if p.text == "病即痊")
    assert f"病即痊 [{health.citation}]" in text
    assert "the illness will heal soon" in text
    assert "Guandi Oracle" in text
    assert "ranked 大吉" in text
    assert "doctor" in text  # health advice points to the doctor, whatever the verdict
    assert not re.search(r"[\u4e00-\u9fff]{2,}", text.split("\n\n")[-1])  # the closing is plain English


@pytest.mark.parametrize("set_id", SETS)
@pytest.mark.parametrize("locale", ["zh-Hant", "en"])
async def test_every_set_in_both_locales(set_id: str, locale: str) -> None:
    category = {"mazu60": "求財", "guanyin100": "求財", "guandi100": "聖意"}[set_id]
    question = "今年投資會賺錢嗎？" if locale == "zh-Hant" else "Will my investments make money this year?"
    for number in (1, 7, 23, 50):
        req = request(set_id, number, category, question, locale, extra=["詩意", "解曰", "凡事"])
        text = assert_well_formed(await collect(GEN, req), req)
        assert CITATION.search(text), "an answer built on passages cites them"
        assert ("財運" in text) if locale == "zh-Hant" else ("money" in text)
        last_line = poem(set_id, number).verse[-1]
        assert last_line in text, "the verse's conclusion is quoted"


async def test_same_request_and_seed_give_the_same_text_and_seeds_vary_it() -> None:
    req = request("guanyin100", 23, "自身", "這次換工作會順利嗎？")
    first = await collect(GEN, req)
    assert await collect(GEN, req) == first
    texts = {text_of(await collect(GEN, replace(req, seed=seed))) for seed in range(12)}
    assert len(texts) > 1


async def test_without_a_seed_the_request_id_decides_and_stays_put() -> None:
    req = request("mazu60", 2, "婚姻", "Will we marry?", "en", seed=None)
    assert await collect(GEN, req) == await collect(GEN, req)
    texts = {text_of(await collect(GEN, replace(req, request_id=f"id-{i}"))) for i in range(12)}
    assert len(texts) > 1
    anonymous = replace(req, request_id="")
    assert await collect(GEN, anonymous) == await collect(GEN, anonymous)


async def test_chunks_are_whole_clauses_and_concatenate_to_the_text() -> None:
    for locale in ("zh-Hant", "en"):
        req = request("guandi100", 28, "聖意", "感情會有結果嗎", locale, extra=["解曰"])
        chunks = await collect(GEN, req)
        body = [c.text for c in chunks[:-1]]
        assert len(body) >= 6
        for piece in body:
            piece.encode("utf-8")  # no lone surrogates: nothing split inside a character
            assert len(piece) <= 160
        assert "".join(body) == text_of(chunks)
        assert body[-1].endswith(("。", "."))


async def test_no_passages_still_answers_without_citations() -> None:
    req = replace(request("guanyin100", 18, "婚姻", "這段感情會有結果嗎？"), passages=())
    text = assert_well_formed(await collect(GEN, req), req)
    assert not CITATION.search(text)
    assert "「合」" in text
    assert "曹國舅為仙" in text


async def test_missing_category_falls_back_to_the_general_judgment() -> None:
    mazu = request("mazu60", 1, "不存在", "How is my luck?", "en")
    text = assert_well_formed(await collect(GEN, mazu), mazu)
    assert "凡事" in text
    assert "大吉昌" in text
    guanyin = request("guanyin100", 1, "移徙", "要不要搬家？")  # #1 has no 移徙 in the source
    text = assert_well_formed(await collect(GEN, guanyin), guanyin)
    assert "詩意" in text
    assert "沒有專講" in text


async def test_guandi_without_a_clause_for_the_topic_says_so() -> None:
    req = request("guandi100", 28, "聖意", "這段感情會有結果嗎？")  # #28's 聖意 says nothing of marriage
    text = assert_well_formed(await collect(GEN, req), req)
    assert "沒有專講婚姻感情" in text
    assert "終必泰" in text


async def test_odd_input_never_raises() -> None:
    empty = Poem("odd", "", 0, "???", "", (), ())
    junk = (
        Passage("a", PassageKind.JUDGMENT, "", "", 0.0, citation=0),
        Passage("b", PassageKind.JUDGMENT, "婚姻", "允成", 0.0, citation=3),
        Passage("c", PassageKind.JUDGMENT, "婚姻", "不成", 0.0, citation=3),
        Passage("d", PassageKind.VERSE, "", "這不是這首詩", 0.0, citation=9),
    )
    req = GenerationRequest("x", "  [5] 會\n成嗎？ ", "fr", empty, junk, "婚姻", -1, seed=-3)
    chunks = await collect(GEN, req)
    text = assert_well_formed(chunks, req)
    assert "[5]" not in text
    assert "[9]" not in text
    assert "「允成」[3]" in text  # the poem has no judgments: the passage fills in


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=12),
    rank=st.text(max_size=4),
    verse=st.lists(st.text(max_size=9), max_size=5),
    judgments=st.dictionaries(st.text(max_size=3), st.text(max_size=30), max_size=4),
    question=st.text(max_size=40),
    category=st.text(max_size=3),
    locale=st.sampled_from(["zh-Hant", "en", "", "EN-us", "xx"]),
    number=st.integers(-5, 500),
    citations=st.lists(st.integers(-2, 8), max_size=5),
)
def test_fuzzed_requests_always_compose(
    title: str,
    rank: str,
    verse: list[str],
    judgments: dict[str, str],
    question: str,
    category: str,
    locale: str,
    number: int,
    citations: list[int],
) -> None:
    p = Poem(
        "s", "籤", number, rank, title, tuple(verse), tuple(Judgment(k, v) for k, v in judgments.items())
    )
    ps = tuple(
        Passage(str(i), PassageKind.JUDGMENT, category, v, 0.0, citation=c)
        for i, (c, v) in enumerate(zip(citations, [*judgments.values(), *verse], strict=False))
    )
    chunks = compose_chunks(GenerationRequest("f", question, locale, p, ps, category, 512, seed=1))
    assert chunks
    assert all(isinstance(c, str) and c for c in chunks)
    known = {q.citation for q in ps}
    assert {int(n) for n in CITATION.findall("".join(chunks))} <= known


async def test_max_tokens_truncates_with_finish_reason_length() -> None:
    req = request("mazu60", 1, "婚姻", "今年適合結婚嗎？")
    full = text_of(await collect(GEN, req))
    for budget in (1, 20, 60):
        chunks = await collect(GEN, replace(req, max_tokens=budget))
        assert chunks[-1].finish_reason == "length"
        text = text_of(chunks)
        assert full.startswith(text)
        assert estimate_tokens(text) <= budget + 1e-9
        assert_well_formed(chunks, req)
    assert estimate_tokens(full) > 60
    roomy = await collect(GEN, replace(req, max_tokens=10_000))
    assert roomy[-1].finish_reason == "stop"
    assert text_of(roomy) == full


async def test_english_truncation_stops_at_a_word_boundary() -> None:
    req = request("guandi100", 1, "聖意", "Will my father recover?", "en", max_tokens=30)
    text = text_of(await collect(GEN, req))
    full = text_of(await collect(GEN, replace(req, max_tokens=0)))
    assert full.startswith(text)
    assert len(text) < len(full)
    assert full[len(text)] in " \n" or text.endswith((" ", "\n"))


async def test_closing_the_stream_midway_stops_it() -> None:
    stream = GEN.stream(request("guanyin100", 7, "求財", "Should I invest?", "en"))
    first = await anext(stream)
    assert first.text
    assert not first.final
    await stream.aclose()
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


class GatedSleep:
    """A sleep the test controls: records each pause and blocks until released."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.entered.set()
        await self.release.wait()


async def test_pace_pauses_between_chunks_only() -> None:
    sleep = GatedSleep()
    sleep.release.set()
    gen = GroundedGenerator(pace_s=0.25, sleep=sleep)
    chunks = await collect(gen, request("mazu60", 1, "婚姻", "會成嗎？"))
    assert sleep.delays == [0.25] * (len(chunks) - 2)  # between text chunks; none before the final one


async def test_cancelling_while_paced_stops_the_stream() -> None:
    sleep = GatedSleep()
    gen = GroundedGenerator(pace_s=3600, sleep=sleep)
    received: list[GenerationChunk] = []

    async def consume() -> None:
        async for chunk in gen.stream(request("mazu60", 1, "婚姻", "會成嗎？")):
            received.append(chunk)

    task = asyncio.get_running_loop().create_task(consume())
    await asyncio.wait_for(sleep.entered.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(received) == 1
    assert not received[0].final


async def test_pacing_never_runs_past_the_deadline() -> None:
    sleep = GatedSleep()  # never released: a pause would hang the test
    gen = GroundedGenerator(pace_s=10, sleep=sleep)
    req = replace(request("mazu60", 1, "婚姻", "會成嗎？"), deadline=0.0)  # long past
    chunks = await asyncio.wait_for(collect(gen, req), timeout=5)
    assert sleep.delays == []
    assert chunks[-1].finish_reason == "stop"
    assert text_of(chunks) == text_of(await collect(GEN, req))


def test_negative_pace_is_refused() -> None:
    with pytest.raises(ValueError, match="pace_s"):
        GroundedGenerator(pace_s=-1)


def test_a_negated_good_image_is_read_as_held_back_not_as_good():
    from qianshi.server.reading.verse import read_line

    negated = read_line("只恐魚水不相逢", 3)
    plain = read_line("夫妻相逢喜團圓", 3)
    assert plain.verdict.name == "GOOD"
    assert negated.verdict.name != "GOOD"
