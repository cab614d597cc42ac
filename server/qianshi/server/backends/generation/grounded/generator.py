"""The grounded generator: an interpretation composed from the retrieved traditional texts, no model.

It is the default when no LLM is configured, so the whole service runs on any laptop, and the fallback
when the configured LLM fails. It reads the slip the way a temple interpreter does — what the verse's
images mean, what the judgment for the asked category says and whether it is favourable, what to do
about it — using a lexicon of the sets' judgment phrases (``lexicon``) and of verse images
(``verse``), and it cites the passages it quotes ([1], [2] …).

Streaming: the text goes out a clause at a time, like an LLM's, so the caller's progress and the UI
behave the same whichever generator runs; ``pace_s`` spaces the clauses out so a UI can show the text
growing. The text is a function of the request and its seed only (no clock, no global random state),
so a retry or a replay gives the same words.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable

from qianshi.server.backends.generation.grounded import phrases as ph
from qianshi.server.backends.generation.grounded.compose import compose
from qianshi.server.chinese import convert
from qianshi.server.writing import GenerationChunk, GenerationRequest

__all__ = ["GroundedGenerator", "chunk_text", "estimate_tokens"]

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_CLAUSE_BREAK = re.compile(r"(?<=[，、：；])|(?<=[,;:] )")
_MAX_CHUNK = {"zh-Hant": 40, "en": 140}


def estimate_tokens(text: str) -> float:
    """Roughly what a model tokenizer would count: about 1.5 CJK characters or 4 other characters each."""
    other = len(_CJK.sub("", text))  # a new string, not a list of one-character matches
    return (len(text) - other) / 1.5 + other / 4


def _split_long(sentence: str, limit: int) -> list[str]:
    """Split a long sentence at clause boundaries outside quotes, so no chunk is much over ``limit``."""
    if len(sentence) <= limit:
        return [sentence]
    pieces: list[str] = []
    current = ""
    depth = 0
    for part in _CLAUSE_BREAK.split(sentence):
        current += part
        depth = current.count("「") + current.count("“") - current.count("」") - current.count("”")
        if len(current) >= limit // 2 and depth <= 0:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def chunk_text(paragraphs: list[list[str]], locale: str) -> list[str]:
    """The chunks to stream: a sentence or clause each; they concatenate to the whole text.

    Separators travel with the chunk before them (a space between English sentences, a blank line
    between paragraphs), so every chunk is a run of whole characters and the last ends the text.
    """
    en = locale == "en"
    limit = _MAX_CHUNK["en" if en else "zh-Hant"]
    chunks: list[str] = []
    paragraphs = [[s for s in p if s] for p in paragraphs]
    paragraphs = [p for p in paragraphs if p]
    for i, paragraph in enumerate(paragraphs):
        for j, sentence in enumerate(paragraph):
            pieces = _split_long(sentence, limit)
            last_in_paragraph = j == len(paragraph) - 1
            for k, piece in enumerate(pieces):
                if k == len(pieces) - 1:
                    if not last_in_paragraph:
                        piece += " " if en else ""
                    elif i < len(paragraphs) - 1:
                        piece += "\n\n"
                chunks.append(piece)
    return chunks


def _fit(chunk: str, budget: float) -> str:
    """The longest prefix of ``chunk`` within ``budget`` tokens, at a word boundary in Latin text."""
    used = 0.0
    end = 0
    for i, ch in enumerate(chunk):
        used += estimate_tokens(ch)
        if used > budget:
            break
        end = i + 1
    prefix = chunk[:end]
    if end < len(chunk) and prefix and not _CJK.match(chunk[end]) and not chunk[end].isspace():
        space = prefix.rfind(" ")
        prefix = prefix[: space + 1] if space > 0 else prefix
    return prefix


def _rng(request: GenerationRequest) -> random.Random:
    """The request's own random stream: from its seed, else its id, else its content (never the clock)."""
    if request.seed is not None:
        key = f"seed:{request.seed}"
    elif request.request_id:
        key = f"id:{request.request_id}"
    else:
        key = f"q:{request.poem.set_id}/{request.poem.number}/{request.question}"
    digest = hashlib.blake2b(key.encode("utf-8", "replace"), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def compose_chunks(request: GenerationRequest) -> list[str]:
    """The interpretation for ``request`` as stream chunks; never raises.

    A request the composer cannot handle (a poem with missing parts it did not foresee) still gets a
    short, honest answer instead of an error: the grounded generator is the fallback of last resort.
    zh-Hans is the zh-Hant reading converted (OpenCC tw2s, ``chinese``) as one text, so no phrase is
    cut at a chunk's edge, then cut again where the chunks were.
    """
    locale = "en" if request.locale.lower().startswith("en") else "zh-Hant"
    try:
        chunks = chunk_text(compose(request, _rng(request)), locale)
    except Exception:
        log.exception(
            "grounded composition failed for request %s; sending the short fallback", request.request_id
        )
        chunks = [ph.FALLBACK[locale]]
    return _simplified(chunks) if request.locale == "zh-Hans" else chunks


def _simplified(chunks: list[str]) -> list[str]:
    whole = "".join(chunks)
    converted = convert(whole, "zh-Hans")
    if len(converted) != len(whole):  # tw2s maps character to character; never seen otherwise
        return [convert(chunk, "zh-Hans") for chunk in chunks]
    out, at = [], 0
    for chunk in chunks:
        out.append(converted[at : at + len(chunk)])
        at += len(chunk)
    return out


class GroundedGenerator:
    """Implements ``pipeline.seams.Generator`` without a model.

    ``pace_s`` is the pause between text chunks (0 sends them as fast as the caller reads). ``sleep``
    is how it pauses; tests pass one they control instead of waiting on the clock.
    """

    name = "grounded"
    model = ""

    def __init__(
        self, *, pace_s: float = 0.0, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        if pace_s < 0:
            raise ValueError("pace_s must be >= 0")
        self.pace_s = pace_s
        self._sleep = sleep

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[GenerationChunk, None]:
        """Yield the interpretation a clause at a time, then one final chunk with the finish reason.

        ``completion_tokens`` counts the text chunks (there are no model tokens); ``max_tokens`` is
        honoured on the tokens a model would have used (:func:`estimate_tokens`), cutting the last
        chunk short with ``finish_reason="length"``.
        """
        budget = float(request.max_tokens) if request.max_tokens > 0 else float("inf")
        used = 0.0
        count = 0
        finish = "stop"
        for i, chunk in enumerate(compose_chunks(request)):
            if i > 0 and self.pace_s > 0:
                await self._pause(request)
            cost = estimate_tokens(chunk)
            if used + cost > budget:
                chunk = _fit(chunk, budget - used)
                cost = estimate_tokens(chunk)
                finish = "length"
            if chunk:
                used += cost
                count += 1
                yield GenerationChunk(text=chunk)
            if finish == "length":
                break
        yield GenerationChunk(final=True, finish_reason=finish, completion_tokens=count, prompt_version="")

    async def _pause(self, request: GenerationRequest) -> None:
        """Wait ``pace_s`` before the next chunk, unless that would run past the request's deadline:
        the text is already written, so near the deadline the rest goes out at once instead of late."""
        if request.deadline is not None and request.deadline - time.monotonic() < self.pace_s:
            return
        await self._sleep(self.pace_s)

    async def aclose(self) -> None:
        """Nothing to release; present for the seam."""
