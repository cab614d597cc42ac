"""Coalescing of generated text: a fast engine must not flood the stream with one event per token.

Text is held until it ends a clause (Chinese or Latin clause punctuation, a line break) or until a
short window has passed since the first held piece, whichever comes first — except the first text of
a generation, which goes out at once (the time to the first token is what a reader waits on); the
held text never ends in half a character (a lone surrogate or the replacement character of an
incomplete UTF-8 sequence). Text that is already there is never held back for a clause, nor sent
ahead of the rest: when more pieces wait in the inbox (a generator that writes a whole answer at
once, or a burst of an engine's tokens read together), they join the held text up to
``MAX_HELD_CHARS``, so a short answer that exists all at once goes out as one or two events instead
of one per clause (each event costs the server a gRPC write).
The upstream is read by a pump task so the window can expire while the engine is silent. The pump
is owned by the generator's ``try/finally`` rather than a task group, because an async generator must
not yield from inside a task group (anyio's rule): callers close it with ``contextlib.aclosing``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator

from qianshi.server.writing import GenerationChunk

CLAUSE_END = frozenset('，。！？；：、,.!?;:\n）)」』】”"')
WINDOW_S = 0.04
MAX_HELD_CHARS = 400


def _splittable(text: str) -> bool:
    last = text[-1]
    return not ("\ud800" <= last <= "\udbff" or last == "\ufffd")


async def coalesce(
    chunks: AsyncIterator[GenerationChunk], window_s: float = WINDOW_S
) -> AsyncGenerator[GenerationChunk, None]:
    """Yield ``chunks`` merged into clause-sized pieces; the final chunk passes through last.

    An exception of the upstream is raised after the text held so far was yielded.
    """
    inbox: deque[GenerationChunk] = deque()
    ready = asyncio.Event()
    failure: list[BaseException] = []
    finished = False

    async def pump() -> None:
        nonlocal finished
        try:
            async for chunk in chunks:
                inbox.append(chunk)
                ready.set()
        except Exception as exc:
            failure.append(exc)
        finally:
            finished = True
            ready.set()
            closer = getattr(chunks, "aclose", None)
            if closer is not None:
                await closer()

    held: list[str] = []
    held_tokens = 0
    held_chars = 0
    held_since = 0.0
    first = True

    def take() -> GenerationChunk:
        nonlocal held_tokens, held_chars
        piece = GenerationChunk(text="".join(held), tokens=held_tokens)
        held.clear()
        held_tokens = held_chars = 0
        return piece

    loop = asyncio.get_running_loop()
    pumper = asyncio.ensure_future(pump())
    try:
        while True:
            if not inbox and not finished:
                ready.clear()
                if held:
                    try:
                        async with asyncio.timeout_at(held_since + window_s):
                            await ready.wait()
                    except TimeoutError:
                        if _splittable(held[-1]):
                            yield take()
                        else:  # half a character: wait for the rest, however long it takes
                            await ready.wait()
                        continue
                else:
                    await ready.wait()
                continue
            if not inbox:  # finished and drained
                if held:
                    yield take()
                if failure:
                    raise failure[0]
                return
            chunk = inbox.popleft()
            if chunk.final:
                if held:
                    yield take()
                yield chunk
                return
            if chunk.notice:  # a note for the stream: after the text before it, never merged
                if held:
                    yield take()
                yield chunk
                continue
            if not chunk.text:
                held_tokens += chunk.tokens
                continue
            if not held:
                held_since = loop.time()
            held.append(chunk.text)
            held_tokens += chunk.tokens
            held_chars += len(chunk.text)
            text = chunk.text
            # The first text, or a clause's end, goes out only when nothing more is waiting: text
            # already here costs no latency to join, and each piece sent is an event (a write).
            due = (
                ((first or text[-1] in CLAUSE_END) and not inbox)
                or held_chars >= MAX_HELD_CHARS
                or loop.time() - held_since >= window_s
            )
            if due and _splittable(text):
                first = False
                yield take()
    finally:
        if not pumper.done():
            pumper.cancel()
        await asyncio.wait((pumper,))
