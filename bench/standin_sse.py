"""One streamed chat completion as vLLM writes it: the stand-in's SSE response, paced by its profile.

``Stream.run`` writes the role chunk after the time to first token, the text in chunks (one token a
chunk, or ``stream_interval`` tokens as vLLM batches them: the first token and the last chunk at
once), the finish and usage chunks and ``[DONE]``, and injects the profile's faults (a dropped
connection, a closed body, an error chunk, a stall). ``StreamRecord`` keeps when each character
offset was sent, for the benchmark's relay latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from bench.standin_text import Profile

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass(slots=True)
class StreamRecord:
    finished: bool = False
    sent: list[tuple[int, float]] = field(default_factory=list)


class Dropped(Exception):
    """Raised to make uvicorn cut the connection mid-response (the ``drop_after`` fault)."""


def error(message: str, kind: str, code: int) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Stream:
    """Writes one SSE response, paced by the profile."""

    def __init__(self, send: Send, head: dict[str, Any], record: StreamRecord) -> None:
        self.send = send
        self.head = head
        self.record = record
        self.gone = False
        self.ended = False
        """The body was ended on purpose (after that, uvicorn reports the request as disconnected)."""

    async def run(
        self,
        profile: Profile,
        pieces: list[str],
        ttft: float,
        finish: str,
        usage: dict[str, int] | None,
        interval: int = 1,
        continuous: int | None = None,
    ) -> None:
        """``interval``: tokens per chunk (vLLM's stream_interval); ``continuous``: the prompt's
        tokens, to put the usage so far on every chunk (None: only in the usage chunk)."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(ttft)  # queueing and prefill: vLLM sends nothing, not even the role chunk
        start = loop.time()
        offset = 0
        if not await self._data(self._chunk({"role": "assistant", "content": ""})):
            return
        held: list[str] = []
        for i, piece in enumerate(pieces):
            if i == profile.drop_after:
                raise Dropped
            if i == profile.close_after:
                await self._end()
                return
            if i == profile.error_after:
                failed = error("the stand-in's engine failed mid-stream", "InternalServerError", 500)
                await self._data(failed)
                await self._data("[DONE]")
                await self._end()
                return
            if i == profile.stall_after:
                await asyncio.sleep(profile.stall)
                start += profile.stall
            await asyncio.sleep(max(start + i / profile.rate - loop.time(), 0.0))
            held.append(piece)
            end = i == len(pieces) - 1
            if not (i == 0 or end or len(held) >= interval):
                continue
            last = end and finish == "length"
            text = "".join(held)
            held.clear()
            offset += len(text)
            sent_at = time.time()
            chunk = self._chunk({"content": text}, "length" if last else None)
            if continuous is not None:
                chunk["usage"] = {
                    "prompt_tokens": continuous,
                    "total_tokens": continuous + i + 1,
                    "completion_tokens": i + 1,
                }
            if not await self._data(chunk | {"standin_sent_at": sent_at}):
                return
            self.record.sent.append((offset, sent_at))
        if finish == "stop":
            await self._data(self._chunk({"content": ""}, "stop"))
        if usage is not None:
            await self._data(self.head | {"choices": [], "usage": usage})
        await self._data("[DONE]")
        self.record.finished = True
        await self._end()

    def _chunk(self, delta: dict[str, str], finish: str | None = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        if finish is not None:
            choice["stop_reason"] = None
        return self.head | {"choices": [choice]}

    async def _data(self, payload: dict[str, Any] | str) -> bool:
        text = (
            payload
            if isinstance(payload, str)
            else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        )
        try:
            await self.send(
                {"type": "http.response.body", "body": f"data: {text}\n\n".encode(), "more_body": True}
            )
        except OSError:
            self.gone = True
        return not self.gone

    async def _end(self) -> None:
        self.ended = True
        with contextlib.suppress(OSError):
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
