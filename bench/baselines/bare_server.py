"""BASELINE — grpc.aio alone: the floor under any design on this machine.

Per call, without any pipeline: the same kinds and number of events a short Qianshi answer sends
(accepted, retrieval started, poem, passages, retrieval done, generation started, two text deltas,
generation done, result), each written the moment the previous write returned. What it costs to
accept a call and write ten small events is what every design pays; what a design adds is above it.

    python -m bench.baselines.bare_server --state-dir STATE --llm-url URL
"""

from __future__ import annotations

import asyncio

import grpc
from qianshi.v1 import events_pb2, interpret_service_pb2, poems_pb2

from bench.baselines.common import BaselineService, BlockingWork, Events, parse, serve

RETRIEVAL, GENERATION = events_pb2.STAGE_RETRIEVAL, events_pb2.STAGE_GENERATION


class BareService(BaselineService):
    def __init__(self, work: BlockingWork, hold: bool = False) -> None:
        super().__init__(work)
        self.hold = hold
        """Write the first event, then hold the stream open until the caller leaves (the hold level)."""

    async def Interpret(
        self, request: interpret_service_pb2.InterpretRequest, context: grpc.aio.ServicerContext
    ) -> None:
        events = Events(self.next_task_id(), "grounded")
        if self.hold:
            await context.write(
                events.make(events_pb2.STAGE_ACCEPTED, 0.0, "accepted", accepted=events_pb2.Accepted())
            )
            await asyncio.Event().wait()
        text = "此籤大吉，婚姻可成。" * 12
        for event in (
            events.make(events_pb2.STAGE_ACCEPTED, 0.0, "accepted", accepted=events_pb2.Accepted()),
            events.make(RETRIEVAL, 1.0, "", stage_started=events_pb2.StageStarted(stage=RETRIEVAL)),
            events.make(
                RETRIEVAL, 2.0, "", poem=poems_pb2.Poem(set_id=request.set_id, number=request.number)
            ),
            events.make(RETRIEVAL, 3.0, "", passages=events_pb2.Passages()),
            events.make(RETRIEVAL, 4.0, "", stage_completed=events_pb2.StageCompleted(stage=RETRIEVAL)),
            events.make(GENERATION, 5.0, "", stage_started=events_pb2.StageStarted(stage=GENERATION)),
            events.make(GENERATION, 50.0, "", text_delta=events_pb2.TextDelta(text=text[:60])),
            events.make(GENERATION, 90.0, "", text_delta=events_pb2.TextDelta(text=text[60:], offset=60)),
            events.make(GENERATION, 95.0, "", stage_completed=events_pb2.StageCompleted(stage=GENERATION)),
            events.result(text, 2),
        ):
            await context.write(event)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv, "python -m bench.baselines.bare_server")

    def make(work: BlockingWork) -> BaselineService:
        return BareService(work, hold=args.hold)

    asyncio.run(serve(args, make, "bare"))


if __name__ == "__main__":
    main()
