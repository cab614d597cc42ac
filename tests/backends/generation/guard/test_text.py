"""The guard on one stream: what a reader may see, and what trips (written after the guard, before any
run of a real model: these texts are made up to hit each check)."""

from __future__ import annotations

import dataclasses

import pytest
from qianshi.server.backends.generation.guard.generator import quotes
from qianshi.server.backends.generation.guard.text import TextGuard, weight
from qianshi.server.writing import reading_of

from tests.backends.generation.test_prompt import request


def feed(guard: TextGuard, pieces: list[str]) -> list[str]:
    out = [guard.feed(p) for p in pieces]
    out.append(guard.finish())
    return out


def guard_for(locale: str = "en", mode: str = "fallback", window: int = 80, **overrides: object) -> TextGuard:
    req = request(locale=locale, **overrides)
    return TextGuard(locale, reading_of(req), quotes(req), mode, window)


def test_clean_english_goes_out_after_the_window_whole_and_in_order():
    g = guard_for(question="Will the marriage happen?")
    text = "Yes, the marriage will happen [1]. The verse says the clouds part [2]. Talk it over together."
    out = feed(g, [text[i : i + 3] for i in range(0, len(text), 3)])
    assert "".join(out) == text
    first = next(i for i, piece in enumerate(out) if piece)
    assert weight("".join(out[: first + 1])) >= 80  # nothing went out before the window was checked
    q = g.report("yes")
    assert q.trips == () and q.found_answer == "yes" and q.stance_agrees


def test_simplified_characters_never_reach_a_zh_hant_reader_and_phrases_convert_across_pieces():
    g = guard_for("zh-Hant")
    out = "".join(feed(g, ["她的头", "发很好，", "这段婚姻会成", "的。"]))
    assert out == "她的頭髮很好，這段婚姻會成的。"
    assert g.report().converted_chars == 4  # 头 发 这 会


def test_quoted_verse_is_left_as_it_is():
    g = guard_for(
        "zh-Hant", poem=dataclasses.replace(request().poem, verse=("聖后垂簾聽政時", "一", "二", "三"))
    )
    out = "".join(feed(g, ["詩說「聖后垂簾聽政時」，", "以后会好。"]))
    assert "聖后垂簾聽政時" in out and "以後會好" in out


def test_zh_hans_reader_gets_simplified():
    g = guard_for("zh-Hans")
    assert "".join(feed(g, ["這段婚姻會成，", "不要擔心。"])) == "这段婚姻会成，不要担心。"


def test_citations_that_name_no_passage_never_show_and_split_markers_wait_to_close():
    g = guard_for(window=0)
    out = "".join(feed(g, ["It will happen [1", "21]. Also [", "2] and 【1】."]))
    assert "[121]" not in out and out == "It will happen. Also [2] and [1]."
    q = g.report()
    assert q.removed_citations == (121,)
    assert [t.check for t in q.trips] == ["citation"]


_PLAIN = (
    "天地玄黃宇宙洪荒日月盈昃辰宿列張寒來暑往秋收冬藏閏餘成歲律呂調陽雲騰致雨露結為霜金生麗水玉出崑岡劍號巨闕"
)
_PLAIN += "珠稱夜光果珍李柰菜重芥薑海鹹河淡鱗潛羽翔龍師火帝鳥官人皇始制文字乃服衣裳推位讓國有虞陶唐弔民伐罪"


@pytest.mark.parametrize("before", range(40, 90))
def test_a_marker_in_a_long_clause_without_a_break_is_never_cut_in_two(before):
    """Past HOLD characters without a break the guard releases all but a tail; that cut must not
    fall inside a marker, or "[1" and "5]" would each pass the filter and show [15] together
    (found by ``bench readings``: one zh-Hant reading showed [15])."""
    g = guard_for(locale="zh-Hant", window=0)
    text = _PLAIN[:before] + "[15]" + _PLAIN[before:]
    out = "".join(feed(g, list(text)))
    assert "15" not in out and out == _PLAIN
    assert g.report().removed_citations == (15,)


def test_a_foreign_script_before_anything_went_out_stops_for_the_fallback():
    g = guard_for()
    out = feed(g, ["The answer is ", "ஆம் அவர் குணமடைவார். ", "more text."])
    assert "".join(out) == ""
    assert g.stopped == "fallback" and g.fallback == "language"


def test_mostly_english_in_a_chinese_reading_trips_language():
    g = guard_for("zh-Hant")
    feed(g, ["This reading is written in English, which a Chinese reader did not ask for. " * 2])
    assert g.fallback == "language"


def test_chinese_word_salad_in_an_english_reading_trips_unless_it_quotes_the_slip():
    quoting = guard_for()
    feed(quoting, ["The verse says 日出便見風雲散 [2]: the clouds part, and the marriage will happen [1]."])
    assert not quoting.trips
    salad = guard_for()
    feed(salad, ["The answer 是的我们会结婚好运 is yes."])
    assert salad.fallback == "language"


def test_a_loop_after_the_window_is_cut_before_the_repeat_shows():
    g = guard_for(window=0)
    sentence = "The marriage will happen and you will be happy together [1]. "
    out = "".join(g.feed(p) for p in [sentence, sentence, sentence])
    assert out == sentence.rstrip() and g.stopped == "cut"  # the space after it belonged to the repeat
    (trip,) = g.report().trips
    assert (trip.check, trip.action) == ("loop", "cut")


def test_a_character_loop_is_caught():
    g = guard_for("zh-Hant", window=0)
    g.feed("這段婚姻會成，")
    g.feed("的的的的的的的的的的的的")
    g.feed("。")
    assert g.stopped == "cut" and g.report().trips[0].check == "loop"


def test_flag_mode_reports_a_foreign_clause_but_releases_it():
    g = guard_for(mode="flag")
    out = "".join(feed(g, ["Yes, it will happen. ", "これは日本語です。"]))
    assert "これは日本語です。" in out
    (trip,) = g.report().trips
    assert (trip.check, trip.action) == ("language", "flagged")


def test_a_stance_that_disagrees_with_the_plan_is_flagged_not_changed():
    g = guard_for(window=0)
    text = "No, the marriage will not happen. Wait a while."
    assert "".join(feed(g, [text])) == text
    q = g.report("yes")
    assert q.found_answer == "no" and q.stance_agrees is False
    assert ("stance", "flagged") in {(t.check, t.action) for t in q.trips}


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Yes, she will recover [1].", "yes"),
        ("Yes, but not yet: recovery takes time.", "wait"),
        ("By the slip, this does not look promising.", "no"),
        ("The slip asks for caution; it depends on you.", "careful"),
    ],
)
def test_the_texts_answer_is_read_from_its_opening(text, answer):
    g = guard_for(window=0)
    feed(g, [text])
    assert g.report().found_answer == answer


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="flag or fallback"):
        guard_for(mode="off")
