"""The analyzer: stable term ids, bigrams + words + single characters, BM25 saturation, quiet jieba."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from qianshi.server.backends.retrieval import analyzer


def test_term_ids_are_the_masked_blake2b_of_the_term() -> None:
    # Hard-coded: the ids stored in every index ever built depend on these exact numbers.
    assert analyzer.term_id("b:婚姻") == 1767158430
    assert analyzer.term_id("u:病") == 1240858599
    assert analyzer.term_id("l:marriage") == 1861760128
    digest = hashlib.blake2b("w:功名".encode(), digest_size=4).digest()
    assert analyzer.term_id("w:功名") == int.from_bytes(digest, "big") & 0x7FFFFFFF


def test_term_ids_do_not_depend_on_the_process(tmp_path: Path) -> None:
    code = "from qianshi.server.backends.retrieval import analyzer; print(analyzer.term_id('b:婚姻'), analyzer.term_id('u:病'))"
    seen = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        seen.add(out.stdout.strip())
    assert seen == {"1767158430 1240858599"}


def test_documents_get_bigrams_words_and_single_characters() -> None:
    assert analyzer.document_terms("婚姻聯") == ["b:婚姻", "b:姻聯", "w:婚姻", "u:婚", "u:姻", "u:聯"]
    assert "u:病" in analyzer.document_terms("病者凶")  # even where jieba glues it into a word
    terms = analyzer.document_terms("訟得理。病即痊")
    assert {"b:訟得", "b:得理", "b:病即", "b:即痊", "u:訟", "u:病", "u:痊"} <= set(terms)
    assert "b:理病" not in terms  # no bigram across punctuation
    assert "u:之" not in analyzer.document_terms("有超越之喜")  # particles are not terms on their own


def test_traditional_question_words_are_kept_whole() -> None:
    assert "w:什麼" in analyzer.document_terms("什麼時候")
    assert "w:換工作" in analyzer.document_terms("我想換工作")


def test_queries_also_reach_the_characters_of_their_words() -> None:
    terms = analyzer.query_terms("疾病會好嗎")
    assert "w:疾病" in terms and "c:病" in terms
    vector = analyzer.query_vector("疾病")
    weights = dict(zip(vector.indices, vector.values, strict=True))
    assert weights[analyzer.term_id("u:病")] == pytest.approx(0.5)
    assert weights[analyzer.term_id("w:疾病")] == pytest.approx(1.0)


def test_extra_terms_add_without_their_characters() -> None:
    vector = analyzer.query_vector("", ["聖意", "病"])
    ids = set(vector.indices)
    assert {analyzer.term_id("w:聖意"), analyzer.term_id("b:聖意"), analyzer.term_id("u:病")} <= ids
    assert analyzer.term_id("u:意") not in ids


def test_english_words_are_lower_cased_without_stopwords() -> None:
    assert analyzer.query_terms("Will my Marriage work out?") == ["l:marriage", "l:work", "l:out"]


def test_vectors_are_sorted_and_merge_duplicates() -> None:
    vector = analyzer.sparse_vector([(5, 1.0), (2, 0.5), (5, 2.0)])
    assert vector.indices == [2, 5]
    assert vector.values == [0.5, 3.0]
    query = analyzer.query_vector("病病病")
    assert query.indices == sorted(set(query.indices))


def test_document_weights_saturate_with_frequency_and_shrink_with_length() -> None:
    def weight(terms: list[str], avgdl: float, term: str = "u:病") -> float:
        vector = analyzer.document_vector(terms, avgdl)
        return dict(zip(vector.indices, vector.values, strict=True))[analyzer.term_id(term)]

    once, thrice = weight(["u:病"], 1.0), weight(["u:病"] * 3, 3.0)
    assert once == pytest.approx(1.0)  # tf=1 at average length: (k1+1)/(1+k1)
    assert once < thrice < analyzer.K1 + 1
    assert thrice == pytest.approx(3 * (analyzer.K1 + 1) / (3 + analyzer.K1))
    short, long = weight(["u:病", "u:痊"], 4.0), weight(["u:病", "u:痊", "u:安", "u:吉", "u:利", "u:財"], 4.0)
    assert long < short


def test_jieba_is_quiet_and_caches_only_where_it_is_told(tmp_path: Path) -> None:
    code = (
        "import pathlib, sys; from qianshi.server.backends.retrieval import analyzer; "
        "analyzer.configure(pathlib.Path(sys.argv[1])); analyzer.warm_up(); print(analyzer.document_terms('婚姻')[0])"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path / "system-tmp")}
    (tmp_path / "system-tmp").mkdir()
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "cache")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "b:婚姻"
    assert out.stderr == ""
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [
        f"qianshi-jieba-{analyzer.jieba.__version__}.cache"
    ]
    assert list((tmp_path / "system-tmp").iterdir()) == []
