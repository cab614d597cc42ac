"""The corpus loads completely, and a malformed file is rejected naming its file, line and field."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from qianshi.server.backends.retrieval.corpus import (
    INDEX_SCHEMA_VERSION,
    Corpus,
    CorpusError,
    corpus_version,
    load_corpus,
    load_shipped_corpus,
    poem_from_record,
    poem_record,
)
from qianshi.server.domain import Judgment

SHIPPED = Path(__file__).resolve().parents[3] / "server" / "qianshi" / "server" / "corpus"


def test_every_poem_of_the_shipped_corpus_loads(corpus: Corpus) -> None:
    assert [(s.id, s.count) for s in corpus.sets] == [("mazu60", 60), ("guanyin100", 100), ("guandi100", 100)]
    assert len(corpus.poems) == 260
    for poem_set in corpus.sets:
        assert [p.number for p in corpus.poems_of(poem_set.id)] == list(range(1, poem_set.count + 1))


def test_sets_and_poems_carry_the_fields_the_service_shows(corpus: Corpus) -> None:
    guanyin = corpus.sets[1]
    assert guanyin.categories[-1] == "聖意"  # "聖意 (#100 only)" with its annotation stripped
    assert guanyin.aliases == ("觀音一百籤", "觀音籤")
    first = corpus.poems[0]
    assert first.verse == ("日出便見風雲散", "光明清淨照世間", "一向前途通大道", "萬事清吉保平安")
    assert first.judgments[:2] == (Judgment("凡事", "大吉昌"), Judgment("作事", "難成，成者大吉"))
    assert first.attributes == {"ganzhi": "甲子", "wuxing_direction": "屬金利秋 宜其西方"}
    assert first.alt_titles == ("包拯審張世真", "崔文德愛胡鳳嬌")
    assert first.source.startswith("wei917/modelxd-website")


def test_an_operators_folder_in_the_same_format_loads_the_same(corpus: Corpus) -> None:
    assert load_corpus(SHIPPED) == corpus
    assert corpus_version(load_corpus(SHIPPED)) == corpus_version(corpus)


def test_a_single_file_loads_with_its_set_described_by_sets_json_beside_it() -> None:
    loaded = load_corpus(SHIPPED / "guandi100.jsonl")
    assert [s.id for s in loaded.sets] == ["guandi100"]
    assert loaded.sets[0].categories == ("聖意", "東坡解", "碧仙註", "解曰")
    assert len(loaded.poems) == 100


def test_the_version_follows_the_content_not_the_formatting(corpus: Corpus) -> None:
    version = corpus_version(corpus)
    assert re.fullmatch(r"[0-9a-f]{64}", version)
    assert corpus_version(load_shipped_corpus()) == version
    first = corpus.poems[0]
    edited = Corpus(corpus.sets, (_with_judgment(first, "婚姻", "不成"), *corpus.poems[1:]))
    assert corpus_version(edited) != version
    assert INDEX_SCHEMA_VERSION >= 1


def test_the_record_form_round_trips(corpus: Corpus) -> None:
    for poem in corpus.poems[::37]:
        assert poem_from_record(json.loads(json.dumps(poem_record(poem)))) == poem


# --- malformed input -------------------------------------------------------------------------------

SETS = {
    "sets": [
        {
            "id": "tiny",
            "name_zh": "小籤",
            "name_en": "Tiny",
            "count": 2,
            "judgment_categories": ["婚姻", "治病 (note)"],
        }
    ]
}


def _poem(number: int, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "set_id": "tiny",
        "set_name": "小籤",
        "number": number,
        "rank": "",
        "title": f"第{number}籤",
        "verse": ["一二三四五六七", "一二三四五六七", "一二三四五六七", "一二三四五六七"],
        "judgments": {"婚姻": "成", "治病": "安"},
        "attributes": {"ganzhi": "甲子", "alt_titles": ["別名"]},
        "source": "test",
    }
    record.update(changes)
    return record


def _write(folder: Path, lines: list[str]) -> Path:
    (folder / "sets.json").write_text(json.dumps(SETS, ensure_ascii=False), encoding="utf-8")
    (folder / "tiny.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def test_a_well_formed_tiny_folder_loads(tmp_path: Path) -> None:
    loaded = load_corpus(_write(tmp_path, [_line(_poem(1)), "", _line(_poem(2))]))
    assert loaded.sets[0].categories == ("婚姻", "治病")
    assert loaded.poems[1].alt_titles == ("別名",)
    assert loaded.poems[1].attributes == {"ganzhi": "甲子"}


@pytest.mark.parametrize(
    ("second_line", "message"),
    [
        (
            _line(_poem(2, verse=["一", "二", "三"])),
            "tiny.jsonl:2: field 'verse': expected 4 non-empty strings",
        ),
        (
            _line(_poem(2, verse=["一", "", "三", "四"])),
            "tiny.jsonl:2: field 'verse': expected 4 non-empty strings",
        ),
        (_line(_poem("2")), "tiny.jsonl:2: field 'number': expected a positive integer"),  # type: ignore[arg-type]
        (_line(_poem(3)), "tiny.jsonl:2: field 'number': 3 is past the set's count 2"),
        (_line(_poem(1)), "tiny.jsonl:2: field 'number': duplicate 1 (first on line 1)"),
        (_line(_poem(2, set_id="other")), "tiny.jsonl:2: field 'set_id': expected 'tiny', got 'other'"),
        (_line(_poem(2, title="")), "tiny.jsonl:2: field 'title': expected a non-empty string"),
        (_line(_poem(2, judgments={})), "tiny.jsonl:2: field 'judgments'"),
        (
            _line(_poem(2, judgments={"求財": "好"})),
            "tiny.jsonl:2: field 'judgments.求財': not a category of set 'tiny'",
        ),
        (
            _line(_poem(2, judgments={"婚姻": ""})),
            "tiny.jsonl:2: field 'judgments.婚姻': expected a non-empty string",
        ),
        (_line(_poem(2, attributes={"palace": ["子"]})), "tiny.jsonl:2: field 'attributes.palace'"),
        ('{"set_id": "tiny",', "tiny.jsonl:2: invalid JSON"),
        ("[1, 2]", "tiny.jsonl:2: expected a JSON object"),
    ],
)
def test_a_malformed_line_is_rejected_naming_file_line_and_field(
    tmp_path: Path, second_line: str, message: str
) -> None:
    _write(tmp_path, [_line(_poem(1)), second_line])
    with pytest.raises(CorpusError, match="^" + re.escape(message)):
        load_corpus(tmp_path)


def test_a_missing_poem_is_named(tmp_path: Path) -> None:
    _write(tmp_path, [_line(_poem(1))])
    with pytest.raises(CorpusError, match=re.escape("tiny.jsonl: field 'number': missing 2 of 1..2")):
        load_corpus(tmp_path)


def test_a_set_without_its_file_is_named(tmp_path: Path) -> None:
    _write(tmp_path, [_line(_poem(1)), _line(_poem(2))])
    (tmp_path / "tiny.jsonl").unlink()
    with pytest.raises(CorpusError, match=re.escape("sets.json: set 'tiny': file tiny.jsonl not found")):
        load_corpus(tmp_path)


def test_a_file_without_sets_json_describes_its_set_from_the_records(tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join([_line(_poem(1)), _line(_poem(2, judgments={"求財": "好"}))]), encoding="utf-8")
    loaded = load_corpus(path)
    assert loaded.sets[0].count == 2
    assert loaded.sets[0].categories == ("婚姻", "治病", "求財")


def _with_judgment(poem: Any, category: str, new_text: str) -> Any:
    judgments = tuple(
        Judgment(j.category, new_text if j.category == category else j.text) for j in poem.judgments
    )
    return replace(poem, judgments=judgments)
