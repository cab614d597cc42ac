"""The grounded reading answers the question that was asked and never contradicts the slip's texts.

Requests are built by ``bench.grounded_text`` (the measuring script): every poem of the shipped sets,
laid out the way the retriever lays them out, with the category the pipeline's question understanding
picks, for a set of everyday questions in zh-Hant (some typed in zh-Hans) and English.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache

import pytest
from qianshi.server.backends.generation.grounded import phrases as ph
from qianshi.server.backends.generation.grounded.compose import Composed, compose_reading
from qianshi.server.backends.generation.grounded.generator import _rng, compose_chunks
from qianshi.server.reading.outcomes import HEALTH_TOPICS, OUTCOME
from qianshi.server.reading.question import Form
from qianshi.server.reading.stance import Lean
from qianshi.server.reading.words import Verdict
from qianshi.server.writing import GenerationRequest

from bench.grounded_text import QUESTIONS, repetition, requests, sentences

QUOTED = re.compile(r"「[^」]*」|“[^”]*”")


@cache
def everyday() -> list[GenerationRequest]:
    return requests()


_READ: dict[int, tuple[GenerationRequest, Composed, str]] = {}


def read(req: GenerationRequest) -> tuple[Composed, str]:
    """The reading and its text as the generator streams it (cached: the tests share the requests).
    The cache keeps the request itself alive: keyed by ``id`` alone, a freed request's id was reused
    by a later one, which then got the earlier reading (a failure that depended on test order)."""
    if id(req) not in _READ:
        reading = compose_reading(req, _rng(req))
        _READ[id(req)] = (req, reading, "".join(compose_chunks(req)))
    _, reading, text = _READ[id(req)]
    return reading, text


def ask(set_id: str, number: int, question: str, locale: str = "zh-Hant") -> tuple[Composed, str]:
    req = next(
        r for r in requests([(locale, question)]) if r.poem.set_id == set_id and r.poem.number == number
    )
    return read(req)


def low(req: GenerationRequest) -> bool:
    return req.poem.rank.startswith("下")


def test_low_ranked_slips_lean_good_only_when_their_judgment_does_and_say_so() -> None:
    checked = 0
    for req in everyday():
        if not low(req):
            continue
        reading, text = read(req)
        s = reading.reading.stance
        checked += 1
        topic = reading.reading.topic.en if req.locale == "en" else reading.reading.topic.zh
        outcomes = OUTCOME.get(reading.reading.topic.key, OUTCOME["general"])
        good_words = [outcomes[lean][1 if req.locale == "en" else 0] for lean in (Lean.GO, Lean.WAIT)]
        if not s.favourable:
            assert not any(w in text for w in good_words), (req.poem.number, req.question, text)
            continue
        # leaning good on a 下 slip: only on its own judgment for the question, and saying so
        assert s.basis == "judgment" and s.judgment in (Verdict.GOOD, Verdict.WAIT), (req.question, s)
        assert reading.reading.answer is not None and reading.reading.answer.mode != "general"
        assert s.clash == ("low" if s.lean is Lean.GO else "low_wait")
        said = {
            t.format(rank=req.poem.rank, topic=topic, category=reading.reading.answer.category)
            for t in ph.RANK_CLASH[req.locale][s.clash]
        }
        assert any(sentence in text for sentence in said), text
    assert checked == 45 * len(QUESTIONS)  # 27 下下 (關帝) + 18 下籤 (觀音), every question


def test_a_verse_on_a_low_slip_is_never_read_as_plainly_good() -> None:
    plainly_good = {*ph.ARC["zh-Hant"]["good"], *ph.ARC["zh-Hant"]["rise"], *ph.ARC["zh-Hant"]["up"]}
    patterns = [
        re.escape(t).replace(re.escape("{w1}"), ".+").replace(re.escape("{w2}"), ".+") for t in plainly_good
    ]
    for req in everyday():
        if low(req) and req.locale == "zh-Hant":
            _, text = read(req)
            assert not any(re.search(p, text) for p in patterns), text


@pytest.mark.parametrize("locale", ["zh-Hant", "en"])
def test_either_or_readings_name_both_options(locale: str) -> None:
    asked = [q for loc, q in QUESTIONS if loc == locale]
    n = 0
    for req in everyday():
        if req.question not in asked:
            continue
        reading, _ = read(req)
        if reading.reading.question.form is not Form.EITHER_OR:
            continue
        answer = "".join(reading.paragraphs[-2])
        a, b = reading.reading.question.options
        assert a in answer and b in answer, answer
        n += 1
    assert n == 260 * 2


def test_health_questions_never_get_venture_advice() -> None:
    venture = re.compile(
        r"投入|嘗試|風險|推進|積極|冒險|投資|生意|創業|財|venture|risk|invest|commit|proceed|push|profit"
    )
    n = 0
    for req in everyday():
        reading, _ = read(req)
        if reading.reading.topic.key not in HEALTH_TOPICS:
            continue
        advice = " ".join(reading.paragraphs[-2])  # the answer and the advice
        assert not venture.search(QUOTED.sub("", advice)), advice  # (the slip's own words may say anything)
        assert re.search(r"醫|doctor|medical", advice), advice  # and it points to the doctors
        n += 1
    assert n >= 260 * 4


def test_the_issue_examples() -> None:
    reading, text = ask("guandi100", 77, "官司要和解還是繼續打？")
    assert reading.reading.stance.lean is Lean.HOLD
    assert "籤意偏向「和解」" in text or "選「和解」" in text
    assert "「訟當戒」" in text and "不要再把官司打下去" in text
    assert "好壞參半" not in text and "小規模" not in text

    reading, text = ask("mazu60", 44, "我該不該跟男朋友分手？")
    assert reading.reading.stance.lean is Lean.GO
    assert "「中和」" in text
    assert any(t.split("：")[0] in text for t in ph_should("zh-Hant", Lean.GO, "away"))

    reading, text = ask("mazu60", 23, "搬到台北好還是留在台南好？")
    assert "台北" in "".join(reading.paragraphs[-2]) and "台南" in "".join(reading.paragraphs[-2])

    reading, text = ask("guanyin100", 88, "我媽的手術會成功嗎")
    assert reading.reading.topic.key == "health"
    assert "「祭虎」" in text and "祭拜白虎" in text
    assert any(t in text for t in ph.VERDICT_ADVICE["zh-Hant"])
    assert "有得有失" not in text and "步步為營" not in text

    reading, text = ask("guandi100", 77, "Should I settle the lawsuit or keep fighting?", "en")
    assert "leans to “settle the lawsuit”" in text or "choice is “settle the lawsuit”" in text
    reading, text = ask("guanyin100", 88, "Will my mother's surgery succeed?", "en")
    assert "make offerings to the White Tiger" in text and "doctor" in text


def ph_should(locale: str, lean: Lean, way: str) -> tuple[str, ...]:
    from qianshi.server.backends.generation.grounded import replies

    return replies.SHOULD[locale][(lean, way)]


def test_when_gives_the_time_the_texts_name_or_says_there_is_none() -> None:
    _, text = ask("mazu60", 44, "我什麼時候才會升遷？")
    assert "「月出光輝得運時」" in text  # the verse's 月出: the time of luck
    _, text = ask("guandi100", 30, "我们什么时候能怀孕？")
    assert "秋天" in text
    _, text = ask("guanyin100", 62, "我什麼時候才會升遷？")
    assert any(t in text for t in ("籤上沒有寫明時間，不必勉強從籤裡找一個日子。", "這支籤沒有給時間點。"))


def test_same_request_and_seed_give_the_same_text_and_seeds_vary_it() -> None:
    sample = everyday()[::97]
    for req in sample:
        seeded = replace(req, seed=11)
        assert compose_chunks(seeded) == compose_chunks(seeded)
        assert compose_chunks(req) == compose_chunks(req)  # no seed: the request id decides
    texts = {"".join(compose_chunks(replace(sample[0], seed=s))) for s in range(8)}
    assert len(texts) > 1


def test_no_sentence_recurs_in_more_than_a_tenth_of_the_readings() -> None:
    for locale in ("zh-Hant", "en"):
        texts = [read(req)[1] for req in everyday() if req.locale == locale]
        rep = repetition(texts)
        assert rep["readings"] == 260 * sum(1 for loc, _ in QUESTIONS if loc == locale)
        assert rep["max_share"] <= 0.10, (locale, rep["top"][:3])


def test_sentences_are_cut_outside_quotes() -> None:
    assert sentences("解曰說：「有口舌。訟當審」[4][5]。就這樣。") == [
        "解曰說：「有口舌。訟當審」。",
        "就這樣。",
    ]
    assert sentences("It says “a. b.” [1]. Then this.") == ["It says “a. b.”.", "Then this."]


def test_an_either_or_the_judgment_names_is_answered_in_its_words() -> None:
    reading, _ = ask("mazu60", 12, "孩子是男是女？")  # 六甲: 先男高貴
    answer = "".join(reading.paragraphs[-2])
    assert "點到「男」" in answer or "指向「男」" in answer
    reading, _ = ask("mazu60", 1, "孩子是男是女？")  # 六甲: 頭胎男，二胎女
    answer = "".join(reading.paragraphs[-2])
    assert "「頭胎男，二胎女」" in answer
    assert "醫療" not in answer  # a child's sex is not a medical choice


def test_a_should_question_about_stepping_away_is_answered_the_right_way_round() -> None:
    good, _ = ask("mazu60", 44, "我該不該跟男朋友分手？")  # 婚姻: 中和, favourable
    bad, _ = ask("guanyin100", 28, "我該不該跟男朋友分手？")  # 婚姻: 不合
    assert good.reading.stance.lean is Lean.GO and bad.reading.stance.lean is Lean.HOLD
    assert any(
        t.split("：")[0] in "".join(good.paragraphs[-2]) for t in ph_should("zh-Hant", Lean.GO, "away")
    )
    assert any(
        t.split("：")[0] in "".join(bad.paragraphs[-2]) for t in ph_should("zh-Hant", Lean.HOLD, "away")
    )
