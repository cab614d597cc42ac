"""Simplified and Traditional Chinese: OpenCC's converters, built once, and a converter for streams.

Which conversions, and why: a zh-Hant reader gets ``s2tw`` — Simplified characters to Traditional
with Taiwan's standard forms, the normalisation the shipped corpus itself went through
(corpus/NOTES.md) — and not ``s2twp``, which also rewrites vocabulary (软件 → 軟體) and text that is
already Traditional, so it would change an LLM's wording and the quotes it copies. A zh-Hans reader
gets ``tw2s`` over the zh-Hant text (the grounded reading, the messages, an LLM's stray Traditional
characters). Even ``s2tw`` is not the identity on Traditional text (聖后 → 聖後, a variant fixed by
hand in the corpus), so a converter leaves alone the spans it is told are quotes (``protect``).

A stream cannot be converted piece by piece: 头|发 converts to 頭發, 头发 to 頭髮, because OpenCC's
dictionary phrases span pieces. ``StreamConverter`` holds back the text since the last punctuation (a
phrase never spans a clause break), at most ``HOLD`` characters past which it keeps only the tail a
phrase could still extend, and converts what it releases in one call.

Converters cost ~0.1 s each to build (loaded once per process, on first use) and ~1–4 µs per short
call; nothing here blocks the loop for longer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

import opencc

__all__ = ["StreamConverter", "convert", "converter_for", "script_locale"]

HOLD = 24
"""Longest text held back without a break; OpenCC's dictionary phrases run to 12–15 characters."""
TAIL = 15
"""When past ``HOLD`` without a break, the characters kept back (a phrase may still extend them)."""
_BREAK = re.compile(r"[，。、；：！？「」『』（）,.;:!?\s\n]")
_CONFIG = {"zh-Hant": "s2tw", "zh-Hans": "tw2s"}


@functools.cache
def _opencc(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def script_locale(locale: str) -> str | None:
    """The Chinese script a locale is written in ("zh-Hant", "zh-Hans"), or None (English)."""
    return locale if locale in _CONFIG else None


def converter_for(locale: str) -> Callable[[str], str] | None:
    """The conversion into ``locale``'s script, or None where there is none to make (English)."""
    config = _CONFIG.get(locale)
    return _opencc(config).convert if config else None


def convert(text: str, locale: str, protect: Iterable[str] = ()) -> str:
    """``text`` in ``locale``'s script, with the spans in ``protect`` (quotes) left as they are."""
    conv = converter_for(locale)
    if conv is None or not text:
        return text
    return _convert(conv, text, tuple(p for p in protect if p))


def _convert(conv: Callable[[str], str], text: str, protect: tuple[str, ...]) -> str:
    spans: list[tuple[int, int]] = []
    for quote in protect:
        start = text.find(quote)
        while start >= 0:
            spans.append((start, start + len(quote)))
            start = text.find(quote, start + len(quote))
    if not spans:
        return conv(text)
    spans.sort()
    out: list[str] = []
    at = 0
    for start, end in spans:
        if start < at:  # overlapping quotes: the earlier one already covers this span's start
            if end > at:
                out.append(text[at:end])
                at = end
            continue
        out.append(conv(text[at:start]))
        out.append(text[start:end])
        at = end
    out.append(conv(text[at:]))
    return "".join(out)


class StreamConverter:
    """Converts a stream of text pieces into one script, holding back what a phrase may still extend.

    ``feed`` returns the converted text that is safe to release now; ``flush`` returns the rest at the
    end. The released pieces concatenate to ``convert(whole text)`` except where a phrase spans more
    than ``HOLD`` characters without any break, which no Chinese phrase in OpenCC's dictionaries does.
    ``changed`` counts the characters the conversion changed (the guard reports it).
    """

    def __init__(self, locale: str, protect: Iterable[str] = ()) -> None:
        conv = converter_for(locale)
        if conv is None:
            raise ValueError(f"no Chinese script for locale {locale!r}")
        self._conv = conv
        self._protect = tuple(sorted({p for p in protect if len(p) >= 2}, key=len, reverse=True))
        self._held = ""
        self.changed = 0

    def feed(self, piece: str) -> str:
        held = self._held + piece
        cut = -1
        for m in _BREAK.finditer(held):
            cut = m.end()
        if cut < 0:
            if len(held) <= HOLD:
                self._held = held
                return ""
            cut = len(held) - TAIL
        self._held = held[cut:]
        return self._release(held[:cut])

    def flush(self) -> str:
        held, self._held = self._held, ""
        return self._release(held)

    @property
    def pending(self) -> str:
        """The text held back, unconverted."""
        return self._held

    def _release(self, text: str) -> str:
        if not text:
            return ""
        out = _convert(self._conv, text, self._protect)
        if out != text:
            self.changed += sum(1 for a, b in zip(text, out, strict=False) if a != b) + abs(
                len(out) - len(text)
            )
        return out
