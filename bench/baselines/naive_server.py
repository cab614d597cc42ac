"""BASELINE — the naive server the seed describes: blocking work on the event loop.

Per call: ``accepted``; then retrieval as a blocking call *on the event loop*; the poem and passages;
a ``generating`` event; then generation as a blocking call on the loop (the whole SSE stream read by a
blocking HTTP client); then the result. While one call blocks, no other call on the server sends
anything — the silence Qianshi exists to remove. Not for production.

    python -m bench.baselines.naive_server --state-dir STATE --llm-url http://127.0.0.1:8000/v1
"""

from __future__ import annotations

import asyncio

import grpc
from qianshi.server.service.status import from_error, to_grpc
from qianshi.v1 import interpret_service_pb2

from bench.baselines.common import BaselineService, BlockingWork, Events, parse, serve


class NaiveService(BaselineService):
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
        poem, passages = self.work.retrieve(spec)  # blocks the loop: the point of this baseline
        for event in events.found(poem, passages):
            await context.write(event)
        await context.write(events.generating())
        text, tokens = self.work.generate(spec, poem, passages)  # blocks the loop for the whole answer
        await context.write(events.result(text, tokens))


def main(argv: list[str] | None = None) -> None:
    args = parse(argv, "python -m bench.baselines.naive_server")

    def make(work: BlockingWork) -> BaselineService:
        return NaiveService(work)

    asyncio.run(serve(args, make, "naive"))


if __name__ == "__main__":
    main()
