"""BASELINE — the same blocking work in a thread pool inside the server's own interpreter.

Per call: ``accepted``; retrieval in ``asyncio.to_thread`` (the loop's default executor: min(32,
cores + 4) threads) while a ticker on the loop sends a tick after every ``--tick`` seconds of
silence; the poem and passages; ``generating``; generation (the whole SSE stream read by a blocking
HTTP client) in ``asyncio.to_thread`` with the same ticker; the result. The loop stays free of
blocking calls, but the threads' pure-Python work (embedded Qdrant, JSON decoding) shares the GIL
with it (FACTS.md: "The GIL decides the cadence"). Not for production.

    python -m bench.baselines.threadpool_server --state-dir STATE --llm-url http://127.0.0.1:8000/v1
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

import grpc
from qianshi.server.service.status import from_error, to_grpc
from qianshi.v1 import events_pb2, interpret_service_pb2

from bench.baselines.common import BaselineService, BlockingWork, Events, parse, serve

T = TypeVar("T")


class ThreadPoolService(BaselineService):
    def __init__(self, work: BlockingWork, tick_s: float) -> None:
        super().__init__(work)
        self.tick_s = tick_s

    async def Interpret(
        self, request: interpret_service_pb2.InterpretRequest, context: grpc.aio.ServicerContext
    ) -> None:
        try:
            spec = self.work.spec(request)
        except Exception as exc:
            await context.abort_with_status(to_grpc(from_error(exc)))
            return
        events = Events(self.next_task_id(), self.work.llm)
        await context.write(events.accepted(spec))
        retrieval = asyncio.to_thread(self.work.retrieve, spec)
        poem, passages = await self._ticking(context, events, retrieval, events_pb2.STAGE_RETRIEVAL, 1.0)
        for event in events.found(poem, passages):
            await context.write(event)
        await context.write(events.generating())
        generation = asyncio.to_thread(self.work.generate, spec, poem, passages)
        text, tokens = await self._ticking(context, events, generation, events_pb2.STAGE_GENERATION, 10.0)
        await context.write(events.result(text, tokens))

    async def _ticking(
        self,
        context: grpc.aio.ServicerContext,
        events: Events,
        work: Awaitable[T],
        stage: int,
        percent: float,
    ) -> T:
        """Await ``work``, writing a tick whenever the call was silent for ``tick_s``."""
        task = asyncio.ensure_future(work)
        try:
            while not task.done():
                wait = events.last + self.tick_s - time.monotonic()
                if wait <= 0:
                    await context.write(events.tick(stage, percent))
                    continue
                await asyncio.wait((task,), timeout=wait)
            return task.result()
        finally:
            task.cancel()  # the thread itself runs on: a thread cannot be stopped


def main(argv: list[str] | None = None) -> None:
    args = parse(argv, "python -m bench.baselines.threadpool_server")

    def make(work: BlockingWork) -> BaselineService:
        return ThreadPoolService(work, args.tick)

    asyncio.run(serve(args, make, "threadpool"))


if __name__ == "__main__":
    main()
