"""OpenCC's conversions, and converting a stream of pieces without cutting a phrase."""

from __future__ import annotations

import random

import pytest
from qianshi.server.chinese import HOLD, StreamConverter, convert, converter_for, script_locale


def test_the_locales_and_their_conversions():
    assert script_locale("zh-Hant") == "zh-Hant" and script_locale("en") is None
    assert converter_for("en") is None
    assert convert("头发", "zh-Hant") == "頭髮"
    assert convert("頭髮", "zh-Hans") == "头发"
    assert convert("软件", "zh-Hant") == "軟件"  # s2tw: characters only, no vocabulary (s2twp: 軟體)


def test_protected_quotes_are_left_as_they_are():
    assert convert("聖后以后", "zh-Hant") == "聖後以後"
    assert convert("聖后以后", "zh-Hant", protect=["聖后"]) == "聖后以後"


def test_a_piece_at_a_time_converts_as_the_whole_would():
    text = "她的头发很好，以后会好起来的。这段婚姻会有结果，不要担心。" * 3
    rng = random.Random(3)
    for _ in range(50):
        conv = StreamConverter("zh-Hant")
        out, at = [], 0
        while at < len(text):
            step = rng.randint(1, 5)
            out.append(conv.feed(text[at : at + step]))
            at += step
        out.append(conv.flush())
        assert "".join(out) == convert(text, "zh-Hant")


def test_a_long_run_without_a_break_is_released_keeping_a_tail():
    conv = StreamConverter("zh-Hant")
    released = conv.feed("这" * (HOLD + 10))
    assert released and len(conv.pending) < HOLD
    assert released + conv.flush() == "這" * (HOLD + 10)
    assert conv.changed == HOLD + 10


def test_english_has_no_stream_converter():
    with pytest.raises(ValueError, match="no Chinese script"):
        StreamConverter("en")
