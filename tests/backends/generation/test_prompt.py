"""The LLM prompt: v1 and v2 (with the reading plan), the locales, passage numbering, and trimming that
never drops the question, the verse or the plan."""

from __future__ import annotations

import dataclasses

import pytest
from qianshi.server.backends.generation.prompt import (
    PROMPT_V1,
    PROMPT_V2,
    PROMPT_VERSION,
    build_messages,
    estimate_tokens,
)
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
    system, user = build_messages(request(), max_prompt_tokens=4096, version=PROMPT_V1)
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
        request(locale="en", question="Will the marriage happen?"), max_prompt_tokens=4096, version=PROMPT_V1
    )
    assert "Write in English" in system["content"]
    assert "[1] (婚姻) 允成" in user["content"]
    assert "[2] (verse) 日出便見風雲散" in user["content"]
    assert "The person's question: Will the marriage happen?" in user["content"]


def test_unknown_locale_falls_back_to_chinese():
    system, _ = build_messages(request(locale="fr"), max_prompt_tokens=4096, version=PROMPT_V1)
    assert "繁體中文" in system["content"]


def test_passages_without_citation_numbers_are_numbered_in_order():
    plain = tuple(dataclasses.replace(p, citation=0) for p in PASSAGES)
    _, user = build_messages(request(passages=plain), max_prompt_tokens=4096, version=PROMPT_V1)
    assert "[1]（婚姻）" in user["content"]
    assert "[2]（詩句）" in user["content"]


def test_trimming_drops_the_lowest_ranked_passages_first():
    many = tuple(
        Passage(f"p{i}", PassageKind.JUDGMENT, "婚姻", f"第{i}段" + "長" * 200, 10.0 - i, citation=i)
        for i in range(1, 7)
    )
    full = build_messages(request(passages=many), max_prompt_tokens=100_000, version=PROMPT_V1)
    size = sum(estimate_tokens(m["content"]) for m in full)
    _, user = build_messages(request(passages=many), max_prompt_tokens=size - 400, version=PROMPT_V1)
    body = user["content"]
    assert "[1]" in body
    assert "[2]" in body
    assert "[6]" not in body
    assert "[5]" not in body
    assert "婚姻能成嗎" in body
    assert POEM.verse[-1] in body


def test_the_question_and_verse_survive_any_budget():
    question = "我今年想換工作，" * 30
    _, user = build_messages(request(question=question), max_prompt_tokens=10, version=PROMPT_V1)
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

    _, user = build_messages(request(), max_prompt_tokens=50, count_tokens=count, version=PROMPT_V1)
    assert "[2]" in user["content"]
    assert calls


def test_estimate_errs_on_the_long_side():
    assert estimate_tokens("婚姻能成嗎") >= 5
    assert estimate_tokens("will the marriage happen") >= len("will the marriage happen") // 4
    assert estimate_tokens("") == 0


def test_the_prompt_is_versioned():
    assert PROMPT_VERSION == PROMPT_V2 != PROMPT_V1
    with pytest.raises(ValueError, match="unknown prompt version"):
        build_messages(request(), max_prompt_tokens=4096, version="qianshi-interpret-v0")


def test_v2_carries_the_reading_plan_answer_first_with_the_numbers_it_may_cite():
    system, user = build_messages(request(), max_prompt_tokens=4096)
    assert "繁體中文" in system["content"] and system["content"].endswith("只能引用[1]。")
    body = user["content"]
    assert (
        body.startswith("我抽到六十甲子籤第1籤〈包公請雷驚仁宗〉：日出便見風雲散，") and "婚姻能成嗎" in body
    )
    points = body.split("告訴我：", 1)[1]
    assert points.startswith("答案是會：")  # the answer first
    assert "「婚姻」的籤解說「允成」[1]" in points
    assert "\n" not in points  # one paragraph: no line labels for a small model to copy


def test_v2_english_plan():
    system, user = build_messages(
        request(locale="en", question="Will the marriage happen?"), max_prompt_tokens=4096
    )
    assert system["content"].endswith("Cite only [1].")
    points = user["content"].split("three to five sentences: ", 1)[1]
    assert points.startswith("The answer is yes:")
    assert "“允成” [1]" in points


def test_v2_keeps_the_question_and_verse_whatever_the_budget():
    question = "我今年想換工作，" * 30
    _, user = build_messages(request(question=question), max_prompt_tokens=10)
    body = user["content"]
    assert question in body and all(line in body for line in POEM.verse)


def test_zh_hans_prompt_is_simplified_throughout():
    system, user = build_messages(request(locale="zh-Hans"), max_prompt_tokens=4096)
    assert "简体中文" in system["content"]
    body = user["content"]
    assert "签" in body and "籤" not in body


def test_an_empty_question_asks_for_the_slips_general_reading():
    _, user = build_messages(request(question="", locale="en"), max_prompt_tokens=4096)
    assert "What does this slip say?" in user["content"]
    _, user = build_messages(request(question="", locale="en"), max_prompt_tokens=4096, version=PROMPT_V1)
    assert "(no question: give the slip's general reading)" in user["content"]
