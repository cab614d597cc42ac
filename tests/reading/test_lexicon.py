"""The judgment lexicon: readings of typical board judgments, and how much of the corpus it reads."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from qianshi.server.reading.lexicon import (
    Verdict,
    rank_verdict,
    read_clauses,
    read_judgment,
)

PROSE = {"詩意", "解曰", "東坡解", "碧仙註"}
SETS = ("mazu60", "guanyin100", "guandi100")
COVERAGE_FLOOR = {"mazu60": 0.93, "guanyin100": 0.97, "guandi100": 0.97}
"""Measured when the lexicon was written: mazu60 0.945, guanyin100 0.984, guandi100 0.983 (0.967 overall)."""


def records(set_id: str) -> list[dict[str, Any]]:
    text = (resources.files("qianshi.server") / "corpus" / f"{set_id}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("text", "verdict", "gloss"),
    [
        ("允成", Verdict.GOOD, "will come together"),
        ("難成", Verdict.BAD, "hard to come together"),
        ("先凶後吉", Verdict.WAIT, "inauspicious at first, auspicious later"),
        ("未日（月半）痊安", Verdict.WAIT, "on a 未 day, will heal"),
        ("秋冬吉", Verdict.WAIT, "in autumn and winter, auspicious"),
        ("微利不吉", Verdict.BAD, None),
        ("生男", Verdict.NEUTRAL, "a boy"),
        ("守舊", Verdict.MIXED, "keep to the old ways"),
    ],
)
def test_judgment_readings(text: str, verdict: Verdict, gloss: str | None) -> None:
    reading = read_judgment(text)
    assert reading.known
    assert reading.verdict is verdict
    if gloss is not None:
        assert reading.gloss == gloss


def test_clause_readings_know_their_topics() -> None:
    clauses = {c.text: c for c in read_clauses("功名遂。訟宜息。病即痊。名與利。姑少待。")}
    assert clauses["病即痊"].topics == {"health"}
    assert clauses["病即痊"].reading.verdict is Verdict.GOOD
    assert clauses["訟宜息"].reading.verdict is Verdict.MIXED
    merged = clauses["名與利。姑少待"]  # a clause naming only topics takes the next clause's verdict
    assert merged.topics == {"career", "wealth"}
    assert merged.reading.verdict is Verdict.WAIT


@pytest.mark.parametrize("set_id", SETS)
def test_lexicon_reads_most_category_judgments_in_the_corpus(set_id: str) -> None:
    read = total = 0
    unread: list[str] = []
    for r in records(set_id):
        for category, text in r["judgments"].items():
            if category in PROSE:
                continue
            items = (
                [c.reading.known for c in read_clauses(text)]
                if category == "聖意"
                else [read_judgment(text).known]
            )
            read += sum(items)
            total += len(items)
            if not all(items):
                unread.append(text)
    assert total > 500
    assert read / total >= COVERAGE_FLOOR[set_id], f"{read}/{total}; unread e.g. {unread[:10]}"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [("", Verdict.NEUTRAL), ("（）", Verdict.NEUTRAL), ("吉" * 50, Verdict.GOOD), ("？？", Verdict.NEUTRAL)],
)
def test_unreadable_text_gets_a_guess_not_an_error(text: str, verdict: Verdict) -> None:
    reading = read_judgment(text)
    assert reading.verdict is verdict
    assert not reading.known


@pytest.mark.parametrize(
    ("rank", "verdict"),
    [("上上", Verdict.GOOD), ("大吉", Verdict.GOOD), ("上籤", Verdict.GOOD), ("中吉", Verdict.GOOD),
     ("中平", Verdict.MIXED), ("中籤", Verdict.MIXED), ("下下", Verdict.BAD), ("下籤", Verdict.BAD),
     ("", Verdict.NEUTRAL)],
)  # fmt: skip
def test_rank_verdicts(rank: str, verdict: Verdict) -> None:
    assert rank_verdict(rank) is verdict
