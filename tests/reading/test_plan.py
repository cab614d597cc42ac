"""The reading plan: worked out once from the question and the slip's texts, the same for every writer.

Cases found on hidden questions (issue 19): a verse's zodiac animals are a time, not a danger (觀音 #12
若逢虎兔佳音信); a commentary's "not yet" (觀音 #1 解曰 年未值時) answers a question about this year; an
either/or between now and later follows a judgment of 不可 (六十甲子 #44); an empty question is a request
for the slip's general reading. The answers of the grounded writer for these are checked too.
"""

from __future__ import annotations

import pytest
from qianshi.server.backends.generation.grounded.generator import compose_chunks
from qianshi.server.reading.plan import Reading, read
from qianshi.server.reading.question import Form
from qianshi.server.reading.stance import Lean
from qianshi.server.reading.verse import read_line
from qianshi.server.reading.words import Verdict
from qianshi.server.writing import GenerationRequest

from bench.grounded_text import requests


def ask(set_id: str, number: int, question: str, locale: str = "zh-Hant") -> GenerationRequest:
    return next(
        r for r in requests([(locale, question)]) if (r.poem.set_id, r.poem.number) == (set_id, number)
    )


def plan(req: GenerationRequest) -> Reading:
    return read(req.question, req.poem, req.passages, req.category, req.common_category)


def test_zodiac_animals_named_as_a_time_are_a_clue_not_a_danger():
    line = read_line("若逢虎兔佳音信", 2)
    assert line.verdict is Verdict.GOOD and "凶險" not in line.motifs[0].zh
    req = ask("guanyin100", 12, "我在等的好消息什麼時候會來？")
    r = plan(req)
    assert r.question.form is Form.WHEN
    assert r.response.clue is not None and r.response.clue.word == "虎兔"
    text = "".join(compose_chunks(req))
    assert "凶險" not in text and "示警" not in text and "虎年、兔年" in text
    english = "".join(compose_chunks(ask("guanyin100", 12, "When will the good news come?", "en")))
    assert "tiger or rabbit" in english and "danger" not in english


def test_a_commentarys_not_yet_answers_a_question_about_this_year():
    req = ask("guanyin100", 1, "今年適合買房子嗎？")
    r = plan(req)
    assert r.response.not_yet == "年未值時" and r.response.lean is Lean.WAIT and r.response.answer == "wait"
    assert "年未值時" in "".join(compose_chunks(req))
    # the same slip, asked without "this year", stays favourable
    assert plan(ask("guanyin100", 1, "買房子會順利嗎？")).response.not_yet == ""


def test_now_or_later_follows_a_judgment_of_not_possible():
    req = ask("mazu60", 44, "今年要生第二胎還是再等等？")
    r = plan(req)
    assert r.answer is not None and r.answer.quotes == ("不可",)
    assert (r.response.answer, r.response.how) == ("b", "time")
    english = plan(ask("mazu60", 44, "Should we have a second child this year or wait?", "en"))
    assert english.response.pick is not None and english.question.options[english.response.pick].startswith(
        "wait"
    )


def test_a_favourable_judgment_picks_now_over_later():
    r = plan(ask("mazu60", 3, "今年要生第二胎還是再等等？"))  # 求兒: 吉
    assert r.response.answer == "a"


@pytest.mark.parametrize(("set_id", "number"), [("guanyin100", 12), ("guanyin100", 80), ("mazu60", 2)])
def test_a_rank_that_says_slip_is_not_doubled(set_id, number):
    for question in ("我今年換工作會順利嗎？", "這段感情會有結果嗎？", "搬家好嗎？"):
        assert "籤籤" not in "".join(compose_chunks(ask(set_id, number, question)))


@pytest.mark.parametrize("locale", ["zh-Hant", "en"])
def test_an_empty_question_is_the_slips_general_reading(locale):
    req = ask("guanyin100", 1, "", locale)
    r = plan(req)
    assert r.general and r.question.form is Form.OPEN
    text = "".join(compose_chunks(req))
    assert ("整支籤的大意" in text) if locale == "zh-Hant" else ("Read as a whole" in text)
    assert "諸事皆吉" in text  # the commentary's verdict, not only its image


def test_a_question_about_ones_fortune_is_not_read_as_no_topic():
    assert not plan(ask("guanyin100", 1, "今年運勢如何？")).general
    assert plan(ask("guanyin100", 1, "What does this slip mean for me?", "en")).general


def test_the_plan_lists_every_retrieved_passage_as_citable():
    req = ask("mazu60", 3, "Will my mother recover from her surgery?", "en")
    assert plan(req).citations == tuple(p.citation for p in req.passages)
