"""The text analyzer that turns Chinese (and some English) text into sparse vectors for Qdrant.

Terms, each kept in its own dimension by a prefix so that a real word match counts on top of its bigram:

- ``b:`` character bigrams of every run of CJK characters — the standard way to index Chinese
  (Elasticsearch's ``cjk_bigram``); they need no dictionary and work on classical text.
- ``w:`` words of two or more characters from jieba. Its dictionary is Simplified, so on Traditional
  text it mostly finds words written alike in both scripts (婚姻, 功名, 行人); :data:`USER_WORDS` adds
  the Traditional words questions are made of.
- ``u:`` single characters, minus particles: classical judgments are mostly one-character words (病 in
  病即痊, 訟 in 訟得理, 孕, 財), and jieba may glue the one that matters into a longer word (病者凶), so
  without them a question about 病 could not reach either. In documents every character counts; in a
  query the characters of its longer words count at half weight (prefixed ``c:`` until weighted), so
  疾病 reaches 病 without drowning the word itself.
- ``l:`` lower-cased Latin words (English questions; they match only where the corpus has them).

Term ids are the first 4 bytes of blake2b over the UTF-8 term, masked to 31 bits: stable across
processes, machines and Python versions (``hash()`` is salted per process), and under any index limit.
Colliding terms simply share a dimension; their weights are merged.

Weights: Qdrant's ``Modifier.IDF`` supplies the IDF half of BM25, so document vectors carry BM25's
saturated term frequency ``tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))`` and query vectors carry plain
weights. Changing any of this changes what the index holds: bump :data:`ANALYZER_VERSION`.

jieba is initialised once per process (about 0.7 s), quietly (its logger would print to stderr), and
keeps its dictionary cache in the folder given to :func:`configure` (the state dir) or the system temp
dir — never next to the code or in the working directory.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba

ANALYZER_VERSION = f"2/jieba-{jieba.__version__}"
"""Identifies the analysis; part of the index version, so a change rebuilds the index."""

K1 = 1.2
B = 0.75
TERM_ID_MASK = 0x7FFFFFFF

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_PARTICLES = frozenset("之乎者也而以於于其矣焉哉兮的了嗎吗呢吧啊呀麼么是在我你他她它們们這这那個个")
_ENGLISH_STOPWORDS_TEXT = (
    "a an and are as at be been but by can could did do does for from had has have how i if in into is "
    "it its me my of on or our shall should so than that the their them then there these this to was "
    "we were what when where which who whom why will with would you your"
)
_ENGLISH_STOPWORDS = frozenset(_ENGLISH_STOPWORDS_TEXT.split())
_QUERY_CHAR_WEIGHT = 0.5
_USER_WORD_FREQ = 5000  # enough for jieba's best path to keep the word whole

_USER_WORDS_TEXT = (
    # Category names of the shipped sets and their common counterparts.
    "凡事 作事 家事 家運 婚姻 求兒 六甲 求財 功名 歲君 治病 出外 經商 來人 行舟 移居 失物 求雨 官事 "
    "六畜 耕作 築室 墳墓 討海 作塭 魚苗 月令 尋人 遠信 詩意 解曰 家宅 自身 交易 行人 田蠶 公訟 移徙 "
    "疾病 山墳 聖意 東坡解 碧仙註 "
    # Traditional words that questions are made of and jieba's Simplified dictionary splits.
    "什麼 時候 甚麼 怎麼 會不會 能不能 可不可以 工作 換工作 事業 生意 投資 錢財 財運 賺錢 考試 升學 "
    "升遷 官司 訴訟 健康 身體 生病 開刀 手術 懷孕 生子 結婚 姻緣 感情 戀愛 對象 復合 搬家 出國 旅行 "
    "買房 房子 家人 父母 孩子 小孩 遺失 東西 順利 平安 成功 失敗"
)
USER_WORDS = tuple(_USER_WORDS_TEXT.split())
"""Words added to jieba's dictionary; changing them changes the analysis (bump ANALYZER_VERSION)."""


@dataclass(frozen=True, slots=True)
class SparseVector:
    """A sparse vector in no engine's types: sorted, unique ``indices`` and their ``values``. Each
    engine's adapter makes its own from it (edge.py for Qdrant Edge, steps.py for qdrant-client)."""

    indices: list[int]
    values: list[float]


_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_cache_dir: Path | None = None


def configure(cache_dir: Path | None) -> None:
    """Where jieba keeps its dictionary cache; takes effect if called before the first analysis."""
    global _cache_dir
    _cache_dir = cache_dir


@functools.lru_cache(maxsize=1 << 16)
def term_id(term: str) -> int:
    """The sparse-vector dimension of a term (31-bit, stable everywhere; cached: a query's terms are
    mostly the index's vocabulary)."""
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big") & TERM_ID_MASK


def document_terms(text: str) -> list[str]:
    """The terms of a passage, with repeats (their count is the term frequency)."""
    return _terms(text, word_chars="u:")


def name_terms(name: str) -> list[str]:
    """The terms of a name (a category name, an extra search term): its words and bigrams, and a
    single character only where it is a word of its own — 聖意 names a commentary, 意 alone is noise."""
    return list(_name_terms(name))


@functools.lru_cache(maxsize=4096)
def _name_terms(name: str) -> tuple[str, ...]:
    """Cached: names come from the sets' categories and the search terms, a few hundred in all, and
    every query adds several of them (measured: 7.4 a query, more CPU than the question's own)."""
    return tuple(_terms(name, word_chars=None))


def query_terms(text: str) -> list[str]:
    """The terms of a question; also the characters of its longer words (prefixed ``c:``, half weight)."""
    return _terms(text, word_chars="c:")


def document_vector(terms: Sequence[str], avgdl: float) -> SparseVector:
    """BM25 document-side weights: term frequency saturated by ``K1`` and normalised by length (``B``)."""
    counts = Counter(terms)
    norm = K1 * (1 - B + B * len(terms) / avgdl) if avgdl > 0 else K1
    return sparse_vector((term_id(term), tf * (K1 + 1) / (tf + norm)) for term, tf in sorted(counts.items()))


def query_vector(text: str, extra_terms: Iterable[str] = ()) -> SparseVector:
    """Plain query weights (Qdrant multiplies in the IDF): 1 per occurrence, ½ for a word's characters.

    ``extra_terms`` (a category name, search terms) are added as they are, without the characters of
    their words: a category name like 聖意 names a commentary, and 意 alone would match noise.
    """
    terms = query_terms(text)
    for extra in extra_terms:
        terms.extend(name_terms(extra))
    weights: dict[int, float] = {}
    for term in terms:
        if term.startswith("c:"):
            key, weight = term_id("u:" + term[2:]), _QUERY_CHAR_WEIGHT
        else:
            key, weight = term_id(term), 1.0
        weights[key] = weights.get(key, 0.0) + weight
    return sparse_vector(sorted(weights.items()))


def sparse_vector(pairs: Iterable[tuple[int, float]] | Mapping[int, float]) -> SparseVector:
    """A sparse vector with sorted, unique indices (duplicates, e.g. hash collisions, summed)."""
    merged: dict[int, float] = {}
    for index, value in pairs.items() if isinstance(pairs, Mapping) else pairs:
        merged[index] = merged.get(index, 0.0) + value
    indices = sorted(merged)
    return SparseVector(indices, [merged[i] for i in indices])


def warm_up() -> None:
    """Initialise jieba now (about 0.7 s) rather than on the first analysis."""
    _jieba()


def _terms(text: str, *, word_chars: str | None) -> list[str]:
    """Bigrams, words, single-character words; ``word_chars`` prefixes the characters of longer words
    (None leaves them out)."""
    terms: list[str] = []
    for run in _CJK_RUN.findall(text):
        terms.extend("b:" + run[i : i + 2] for i in range(len(run) - 1))
        for word in _jieba().cut(run, HMM=False):
            if len(word) > 1:
                terms.append("w:" + word)
                if word_chars is not None:
                    terms.extend(word_chars + ch for ch in word if ch not in _PARTICLES)
            elif word not in _PARTICLES:
                terms.append("u:" + word)
    for word in _LATIN_WORD.findall(text):
        lowered = word.lower()
        if len(lowered) > 1 and lowered not in _ENGLISH_STOPWORDS:
            terms.append("l:" + lowered)
    return terms


def _jieba() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            logging.getLogger("jieba").setLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            cache_dir = _cache_dir or Path(tempfile.gettempdir())
            cache_dir.mkdir(parents=True, exist_ok=True)
            tokenizer.tmp_dir = str(cache_dir)
            tokenizer.cache_file = f"qianshi-jieba-{jieba.__version__}.cache"
            tokenizer.initialize()
            for word in USER_WORDS:
                tokenizer.add_word(word, freq=_USER_WORD_FREQ)
            _tokenizer = tokenizer
    return _tokenizer
