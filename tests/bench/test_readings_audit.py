"""bench readings' audit of what a caller was shown: foreign scripts and loops, by its own rules."""

from __future__ import annotations

import pytest

from bench.readings import audit


@pytest.mark.parametrize(
    ("text", "locale", "foreign", "loop"),
    [
        (
            "The answer is yes [1]: 「若逢虎兔佳音信」, news comes in a tiger or rabbit year.",
            "en",
            False,
            False,
        ),
        ("The answer is யெஸ் [1].", "en", True, False),
        ("答案是會的，頭髮會長回來 [1]。", "zh-Hant", False, False),
        ("答案是会的，头发会长回来 [1]。", "zh-Hant", True, False),
        ("The answer is that the answer is good, not so good.", "zh-Hant", True, False),
        ("答案是会的 [1]。", "zh-Hans", False, False),
        ("the wind blows and the river flows, " * 3, "en", False, True),
        ("the wind blows and the river flows, " * 2, "en", False, False),
    ],
)
def test_audit(text: str, locale: str, foreign: bool, loop: bool) -> None:
    assert audit(text, locale) == {"foreign_script": foreign, "loop": loop}


def test_the_slips_own_words_may_be_quoted_as_they_stand() -> None:
    verse = "若能遇得春色到，一洒清吉脫塵埃"  # mazu60 keeps 洒, which OpenCC's s2tw turns into 灑
    assert audit(f"籤上說「{verse}」，好事會來。", "zh-Hant", (verse,))["foreign_script"] is False
    assert audit(f"籤上說「{verse}」，好事會來。", "zh-Hant")["foreign_script"] is True
    assert (
        audit(f"The verse says {verse}: good news will come in spring.", "en", (verse,))["foreign_script"]
        is False
    )
