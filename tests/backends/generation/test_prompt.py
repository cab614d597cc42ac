"""The LLM prompt: both locales, passage numbering, and trimming that never drops the question or verse."""

from __future__ import annotations

import dataclasses

from qianshi.server.backends.generation.prompt import PROMPT_VERSION, build_messages, estimate_tokens
from qianshi.server.domain import Passage, PassageKind
from qianshi.server.writing import GenerationRequest

from tests.fakes import POEM

PASSAGES = (
    Passage("mazu60/1/judgment/婚姻/0", PassageKind.JUDGMENT, "婚姻", "允成", 3.0, citation=1),
    Passage("mazu60/1/verse/-/0", PassageKind.VERSE, "", "日出便見風雲散", 1.0, citation=2),
)


def request(**overrides: object) -> GenerationRequest:
    base = GenerationRequest(
        request_id="t_1",
        question="婚姻能成嗎",
        locale="zh-Hant",
        poem=POEM,
        passages=PASSAGES,
        category="婚姻",
        max_tokens=256,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def test_chinese_prompt_numbers_the_passages_for_citation():
    system, user = build_messages(request(), max_prompt_tokens=4096)
    assert (system["role"], user["role"]) == ("system", "user")
    assert "[1]" in system["content"]
    assert "繁體中文" in system["content"]
    body = user["content"]
    assert "包公請雷驚仁宗" in body
    assert "六十甲子籤 第1籤" in body
    assert all(line in body for line in POEM.verse)
    assert "[1]（婚姻）允成" in body
    assert "[2]（詩句）日出便見風雲散" in body
    assert body.rstrip().endswith("信眾的問題：婚姻能成嗎")
    assert "所問之事：婚姻" in body


def test_english_prompt_asks_for_english():
    system, user = build_messages(
        request(locale="en", question="Will the marriage happen?"), max_prompt_tokens=4096
    )
    assert "Write in English" in system["content"]
    assert "[1] (婚姻) 允成" in user["content"]
    assert "[2] (verse) 日出便見風雲散" in user["content"]
    assert "The person's question: Will the marriage happen?" in user["content"]


def test_unknown_locale_falls_back_to_chinese():
    system, _ = build_messages(request(locale="fr"), max_prompt_tokens=4096)
    assert "繁體中文" in system["content"]


def test_passages_without_citation_numbers_are_numbered_in_order():
    plain = tuple(dataclasses.replace(p, citation=0) for p in PASSAGES)
    _, user = build_messages(request(passages=plain), max_prompt_tokens=4096)
    assert "[1]（婚姻）" in user["content"]
    assert "[2]（詩句）" in user["content"]


def test_trimming_drops_the_lowest_ranked_passages_first():
    many = tuple(
        Passage(f"p{i}", PassageKind.JUDGMENT, "婚姻", f"第{i}段" + "長" * 200, 10.0 - i, citation=i)
        for i in range(1, 7)
    )
    full = build_messages(request(passages=many), max_prompt_tokens=100_000)
    size = sum(estimate_tokens(m["content"]) for m in full)
    _, user = build_messages(request(passages=many), max_prompt_tokens=size - 400)
    body = user["content"]
    assert "[1]" in body
    assert "[2]" in body
    assert "[6]" not in body
    assert "[5]" not in body
    assert "婚姻能成嗎" in body
    assert POEM.verse[-1] in body


def test_the_question_and_verse_survive_any_budget():
    question = "我今年想換工作，" * 30
    _, user = build_messages(request(question=question), max_prompt_tokens=10)
    body = user["content"]
    assert question in body
    assert all(line in body for line in POEM.verse)
    assert "[1]" not in body
    assert "沒有找到相關籤解" in body


def test_a_given_tokenizer_decides_the_fit():
    calls: list[str] = []

    def count(text: str) -> int:
        calls.append(text)
        return len(text) // 100  # a very generous tokenizer: everything fits

    _, user = build_messages(request(), max_prompt_tokens=50, count_tokens=count)
    assert "[2]" in user["content"]
    assert calls


def test_estimate_errs_on_the_long_side():
    assert estimate_tokens("婚姻能成嗎") >= 5
    assert estimate_tokens("will the marriage happen") >= len("will the marriage happen") // 4
    assert estimate_tokens("") == 0


def test_the_prompt_is_versioned():
    assert PROMPT_VERSION.startswith("qianshi-interpret-v")
