"""Coalescing of generated text: a fast engine must not flood the stream with one event per token.

Text is held until it ends a clause (Chinese or Latin clause punctuation, a line break) or until a
short window has passed, whichever comes first — except the first text of a generation, which goes
out at once (the time to the first token is what a reader waits on). Tokens that come one by one
are held for a window from the first held one, to be merged. A chunk of several tokens (vLLM's
``stream_interval``) was merged by the engine already: it is held only until a window has passed
since the previous piece went out (the cap on pieces a second), so chunks that come slower than
that go out the moment they come — held for a window from their own arrival, every such chunk
waited ~40 ms for nothing (bench/README.md, the relay). The
held text never ends in half a character (a lone surrogate or the replacement character of an
incomplete UTF-8 sequence). Text that is already there is never held back for a clause, nor sent
ahead of the rest: when the engine's next pieces are already there (a generator that writes a whole
answer at once, or a burst of an engine's tokens read together), they join the held text up to
``MAX_HELD_CHARS``, so a short answer that exists all at once goes out as one or two events instead
of one per clause (each event costs the server a gRPC write).

The upstream is read by a pump task, which also makes every decision: it asks for the next piece by
hand (``eager``) to learn whether it is already there, flushes what is due once the engine has to be
waited for, and arms one timer per held piece for the window. The reader (the task's body) is woken
only when a piece is ready — once per event, not once per token as when the pump only filled an
inbox and the reader decided (bench/README.md: the relay's cost per token). The pump is owned by the
generator's ``try/finally`` rather than a task group, because an async generator must not yield from
inside a task group (anyio's rule): callers close it with ``contextlib.aclosing``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator

from qianshi.server.pipeline.eager import resume
from qianshi.server.writing import GenerationChunk

CLAUSE_END = frozenset('，。！？；：、,.!?;:\n）)」』】”"')
WINDOW_S = 0.04
MAX_HELD_CHARS = 400


def _splittable(text: str) -> bool:
    last = text[-1]
    return not ("\ud800" <= last <= "\udbff" or last == "\ufffd")


class _Pieces:
    """The pump's side: held text, the window's timer, and the pieces ready for the reader."""

    __slots__ = (
        "batched",
        "chars",
        "first",
        "held",
        "loop",
        "ready",
        "sent_at",
        "since",
        "timer",
        "tokens",
        "waiter",
        "window_s",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, window_s: float) -> None:
        self.loop = loop
        self.window_s = window_s
        self.ready: deque[GenerationChunk] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.held: list[str] = []
        self.tokens = 0
        self.chars = 0
        self.since = 0.0
        """When the first of the held pieces came."""
        self.sent_at = -window_s
        """When the previous piece went out."""
        self.batched = False
        """The newest held text came in a chunk of several tokens (the engine merged them)."""
        self.first = True
        self.timer: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def put(self, chunk: GenerationChunk) -> None:
        self.ready.append(chunk)
        self.wake()

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.held:
            self.first = False
            self.sent_at = self.loop.time()
            self.put(GenerationChunk(text="".join(self.held), tokens=self.tokens))
            self.held.clear()
            self.tokens = self.chars = 0

    def receive(self, chunk: GenerationChunk) -> bool:
        """Take one piece of the engine's; False once the final chunk came (nothing follows)."""
        if chunk.final or chunk.notice:  # after the text before it, never merged
            self.flush()
            self.put(chunk)
            return not chunk.final
        if not chunk.text:
            self.tokens += chunk.tokens
            return True
        if not self.held:
            self.since = self.loop.time()
        self.held.append(chunk.text)
        self.batched = chunk.tokens > 1
        self.tokens += chunk.tokens
        self.chars += len(chunk.text)
        if (self.chars >= MAX_HELD_CHARS or self.loop.time() - self.since >= self.window_s) and _splittable(
            chunk.text
        ):
            self.flush()
        return True

    def settle(self) -> None:
        """The engine has to be waited for: the first text, a clause's end, or text whose window has
        passed goes out now; other held text waits for its window to close."""
        if not self.held:
            return
        last = self.held[-1]
        due = (self.sent_at if self.batched else self.since) + self.window_s
        if (self.first or last[-1] in CLAUSE_END or self.loop.time() >= due) and _splittable(last):
            self.flush()
        elif self.timer is None:
            self.timer = self.loop.call_at(due, self._window_over)

    def _window_over(self) -> None:
        self.timer = None
        if self.held and _splittable(self.held[-1]):
            self.flush()
        # else half a character: wait for the rest, however long it takes


async def coalesce(
    chunks: AsyncIterator[GenerationChunk], window_s: float = WINDOW_S
) -> AsyncGenerator[GenerationChunk, None]:
    """Yield ``chunks`` merged into clause-sized pieces; the final chunk passes through last.

    An exception of the upstream is raised after the text held so far was yielded.
    """
    loop = asyncio.get_running_loop()
    pieces = _Pieces(loop, window_s)
    failure: list[BaseException] = []
    finished = False

    async def pump() -> None:
        nonlocal finished
        following = chunks.__anext__
        try:
            going = True
            while going:
                step = following()
                try:
                    waiting = step.send(None)  # type: ignore[attr-defined]
                except StopIteration as got:  # the next piece was already there
                    going = pieces.receive(got.value)
                    continue
                except StopAsyncIteration:
                    break
                pieces.settle()
                try:
                    chunk = await resume(step, waiting)  # type: ignore[arg-type]
                except StopAsyncIteration:
                    break
                going = pieces.receive(chunk)
        except Exception as exc:
            failure.append(exc)
        finally:
            finished = True
            pieces.flush()  # what is held goes out before the end (or the error)
            pieces.wake()
            closer = getattr(chunks, "aclose", None)
            if closer is not None:
                await closer()

    pumper = asyncio.ensure_future(pump())
    ready = pieces.ready
    try:
        while True:
            while ready:
                piece = ready.popleft()
                yield piece
                if piece.final:
                    return
            if finished:
                if failure:
                    raise failure[0]
                return
            pieces.waiter = loop.create_future()
            await pieces.waiter
    finally:
        if pieces.timer is not None:
            pieces.timer.cancel()
        if not pumper.done():
            pumper.cancel()
        await asyncio.wait((pumper,))
