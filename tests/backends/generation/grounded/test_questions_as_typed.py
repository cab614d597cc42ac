"""Questions as people type them, through the grounded writer: the reply's language is the request's
locale whatever the question's, a question naming no topic is read in general and says so, and a
second worry is mentioned beside the answer.

Requests are built by ``bench.grounded_text`` (the shipped poems laid out as the retriever lays them
out, the category from the pipeline's own question understanding).
"""

from __future__ import annotations

import re

import pytest
from qianshi.server.backends.generation.grounded import phrases as ph
from qianshi.server.backends.generation.grounded.compose import compose_reading
from qianshi.server.backends.generation.grounded.generator import _rng, compose_chunks
from qianshi.server.chinese import converter_for
from qianshi.server.writing import GenerationRequest

from bench.grounded_text import requests

QUOTED = re.compile(r"「[^」]*」|“[^”]*”")
CJK = re.compile(r"[\u3400-\u9fff]")


def request(set_id: str, number: int, question: str, locale: str) -> GenerationRequest:
    return next(
        r for r in requests([(locale, question)]) if r.poem.set_id == set_id and r.poem.number == number
    )


def body(req: GenerationRequest) -> str:
    """The reading without the echoed question and without its quotes of the slip."""
    text = "".join(compose_chunks(req)).replace(req.question, "")
    return QUOTED.sub("", text)


def simplified_only(text: str) -> set[str]:
    """Characters of ``text`` that OpenCC turns Traditional and Big5 cannot encode: Simplified ones."""
    to_traditional = converter_for("zh-Hant")
    assert to_traditional is not None
    found = set()
    for ch in set(CJK.findall(text)):
        try:
            ch.encode("big5")
        except UnicodeEncodeError:
            if to_traditional(ch) != ch:
                found.add(ch)
    return found


@pytest.mark.parametrize(
    "question",
    [
        "我同男朋友拍拖三年，佢係咪想同我結婚？",  # Cantonese, Traditional
        "我同男朋友拍拖三年，佢系咪想同我结婚？",  # Cantonese, Simplified
        "阮翁最近攏無轉來厝，敢是外口有查某？",  # Taiwanese Hokkien
        "我個 boss 想 promote 我，should I go?",  # mixed Chinese and English
        "ok so my bf has been acting weird lately... is he cheating on me??",  # casual English
    ],
)
def test_the_reply_is_in_the_requests_locale_whatever_the_question_is_typed_in(question: str) -> None:
    """The question's language decides nothing: locale zh-Hant gets a Traditional Chinese reading,
    locale en an English one, for the same question."""
    zh = body(request("mazu60", 7, question, "zh-Hant"))
    assert "六十甲子籤第七籤" in zh
    assert simplified_only(zh) == set()
    assert not re.search(r"[A-Za-z]{3,}", zh)
    en = body(request("mazu60", 7, question, "en"))
    assert "no. 7 of the Mazu Sixty Jiazi Oracle" in en
    letters = len(re.findall(r"[A-Za-z]", en))
    assert len(CJK.findall(en)) * 10 < letters, en  # Chinese only where the slip is quoted or named


@pytest.mark.parametrize("locale", ["zh-Hant", "en"])
@pytest.mark.parametrize(("set_id", "number"), [("mazu60", 7), ("guanyin100", 12), ("guandi100", 28)])
@pytest.mark.parametrize("question", ["呢支籤係咩意思？", "請問這支籤叫什麼名字", "whats this one mean", ""])
def test_a_question_naming_no_topic_is_read_in_general_and_says_so(
    set_id: str, number: int, question: str, locale: str
) -> None:
    req = request(set_id, number, question, locale)
    composed = compose_reading(req, _rng(req))
    assert composed.reading.general
    opening = ph.ANSWER_AT_LARGE[locale].split("{")[0]
    assert opening in "".join(compose_chunks(req))


@pytest.mark.parametrize("locale", ["zh-Hant", "en"])
def test_a_question_with_a_topic_is_not_read_at_large(locale: str) -> None:
    req = request("mazu60", 7, "我媽下週要開刀，手術會順利嗎", locale)
    text = "".join(compose_chunks(req))
    assert ph.ANSWER_AT_LARGE[locale].split("{")[0] not in text


def test_a_second_worry_is_mentioned_with_the_slips_own_line_for_it() -> None:
    """老公失業 beside 小孩生病, asked "會好起來嗎": the illness is answered (the last trouble named),
    the job is mentioned with the slip's 功名 line."""
    req = request("mazu60", 7, "老公失業在家，小孩又一直生病，這樣下去會好起來嗎？", "zh-Hant")
    composed = compose_reading(req, _rng(req))
    assert req.category == "治病"
    assert composed.reading.secondary is not None and composed.reading.secondary.key == "career"
    text = "".join(compose_chunks(req))
    line = dict((j.category, j.text) for j in req.poem.judgments)["功名"]
    assert f"你也提到{composed.reading.secondary.zh}" in text
    assert line.strip("。")[:4] in text


def test_a_second_worry_the_set_has_no_line_for_is_named_and_left_for_another_slip() -> None:
    req = request(
        "guandi100", 28, "My dad is in hospital and I might lose my job too. Will things get better?", "en"
    )
    composed = compose_reading(req, _rng(req))
    assert composed.reading.secondary is not None and composed.reading.secondary.key == "health"
    assert ph.SECONDARY_NONE["en"].format(topic="health") in "".join(compose_chunks(req))
