"""Readying a question for keyword matching: one script, one spelling, the words the tables know.

``zh`` gives the text the Chinese keywords are matched in: lower case, full-width ASCII as ASCII,
Simplified converted to Traditional with OpenCC (``s2tw``, phrase by phrase: 头发 → 頭髮, 干旱 → 乾旱,
揾工 → 搵工), then written Cantonese and Taiwanese Hokkien rewritten into Mandarin (``vernacular``).
``en_words`` gives the English words, with casual spellings (bf, u, hasnt) rewritten the same way.

Why OpenCC only when the question holds a character Big5 cannot encode and ``s2tw`` changes: those are
Simplified-only, so a Traditional question never goes through the converter, which is not the identity
on Traditional text (台灣 → 臺灣, 娘家 → 孃家). Where it does run, ``_FOLD`` puts its few Taiwan-unusual
forms back (臺 → 台), so a keyword written the way Taiwan writes it still matches. The check is one
regular-expression search; the conversion, where needed, ~5–15 µs.

The set of Simplified-only characters and the converter are built at import (~0.1 s, once per
process, before serving), so no request pays for them on the event loop.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from qianshi.server.chinese import converter_for
from qianshi.server.reading.categories.data import SPECS
from qianshi.server.reading.categories.vernacular import CANTONESE, CASUAL_EN, HOKKIEN, KEEP
from qianshi.server.reading.categories.zh import MASK_ZH

__all__ = ["MAX_CHARS", "en_words", "script", "zh"]

MAX_CHARS = 500
"""Only the first 500 characters are read (the request limit), so the cost has a ceiling."""

_FOLD = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
    | {"\u3000": " ", "’": "'", "臺": "台", "孃": "娘", "迴": "回", "蝨": "虱"}
)
"""Full-width ASCII → ASCII, and the forms OpenCC's Taiwan standard writes where Taiwan's everyday
writing (and the keyword tables) do not (臺灣 → 台灣, 蝨目魚 → 虱目魚)."""


def _s2tw() -> tuple[re.Pattern[str], Callable[[str], str]]:
    """The characters that tell a question is in Simplified script, and the converter.

    A character tells when ``s2tw`` changes it and the Traditional keyword tables never use it:
    体, 儿, 机 do; 台, 干, 里 do not (台風, 干旱 and 回台 are keywords as Taiwan writes them).
    """
    convert = converter_for("zh-Hant")
    assert convert is not None
    chars = [chr(c) for c in range(0x3400, 0xA000)]
    converted = convert("\n".join(chars)).split("\n")
    used = {ch for spec in SPECS for words in spec.zh.values() for ch in words} | set(MASK_ZH)
    simplified = [ch for ch, to in zip(chars, converted, strict=True) if ch != to and ch not in used]
    return re.compile(f"[{''.join(simplified)}]"), convert


_SIMPLIFIED, _CONVERT = _s2tw()


def _pairs(table: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in table.split())


_VERNACULAR = _pairs(CANTONESE) | _pairs(HOKKIEN) | {word: word for word in KEEP.split()}
_REWRITE = re.compile("|".join(re.escape(w) for w in sorted(_VERNACULAR, key=len, reverse=True)))
"""Longest written form first: a regular expression tries alternatives in order, so 搵工 wins over 搵."""


def _rewrite(match: re.Match[str]) -> str:
    return _VERNACULAR[match.group()]


def script(text: str) -> str:
    """``text`` in lower case, Traditional characters as Taiwan writes them, ASCII for full-width."""
    text = text[:MAX_CHARS].lower()
    if _SIMPLIFIED.search(text):
        text = _CONVERT(text)
    return text.translate(_FOLD)


def zh(question: str) -> str:
    """The question as the Chinese keywords are matched in: ``script``, then Cantonese and Hokkien
    words rewritten into Mandarin."""
    return _REWRITE.sub(_rewrite, script(question))


_WORD = re.compile(r"[a-z0-9]+")
_ACCENTED = re.compile(r"[\u00c0-\u024f]")


def en_words(text: str) -> list[str]:
    """Lower-case ASCII words, casual spellings rewritten; "wife's" → "wife", "can't" → "can t",
    "fiancé" → "fiance" (keywords go through the same function, so they are written the same way)."""
    if _ACCENTED.search(text):
        text = unicodedata.normalize("NFKD", text)
    text = text.casefold().replace("’", "'").replace("'s ", " ")
    if text.endswith("'s"):
        text = text[:-2]
    words = _WORD.findall(text)
    if not any(w in CASUAL_EN for w in words):
        return words
    return [part for w in words for part in CASUAL_EN.get(w, w).split()]
