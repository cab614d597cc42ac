"""A scripted Qianshi service for the client tests (served by the ``fake`` fixture of conftest.py).

Each test sets what the fake does per call (``FakeService.interpret`` / ``watch`` are async generator
functions of the request and the context) and reads back what it saw: requests, metadata, and
whether a call was cancelled by the client (an ``asyncio.Event`` to wait on, never a sleep).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from qianshi.v1 import events_pb2, interpret_service_pb2, interpret_service_pb2_grpc, poems_pb2

Script = Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[events_pb2.ProgressEvent]]

TASK_ID = "task-7f3a"
VERSES = ["日出便見風雲散", "光明清淨照世間", "一向前途通大道", "萬事清吉保平安"]
TEXT_PIECES = ["此籤", "大吉，", "諸事順遂[1]。"]


def _duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


def poem() -> poems_pb2.Poem:
    """Poem 1 of mazu60, as the server would send it."""
    return poems_pb2.Poem(
        set_id="mazu60",
        set_name="六十甲子籤",
        number=1,
        rank="上籤",
        title="包公請雷驚仁宗",
        verse_lines=VERSES,
        judgments=[
            poems_pb2.Judgment(category="婚姻", text="允成"),
            poems_pb2.Judgment(category="求財", text="先大進後小利"),
        ],
        attributes={"ganzhi": "甲子"},
    )


def canned_events(task_id: str = TASK_ID, *, error: bool = False) -> list[events_pb2.ProgressEvent]:
    """A whole task's log: accepted … result (or an error event with partial text), seq 1…N."""
    S = events_pb2
    payloads: list[tuple[events_pb2.Stage, float, str, dict[str, Any]]] = [
        (
            S.STAGE_ACCEPTED,
            0,
            "已受理",
            {"accepted": S.Accepted(request_id="r", category="婚姻", generator="grounded")},
        ),
        (S.STAGE_RETRIEVAL, 5, "檢索中", {"stage_started": S.StageStarted(stage=S.STAGE_RETRIEVAL)}),
        (S.STAGE_RETRIEVAL, 10, "籤詩", {"poem": poem()}),
        (
            S.STAGE_RETRIEVAL,
            20,
            "出處",
            {
                "passages": S.Passages(
                    category="婚姻",
                    passages=[
                        poems_pb2.Passage(
                            id="mazu60/1/judgment/婚姻/0",
                            kind=poems_pb2.PASSAGE_KIND_JUDGMENT,
                            category="婚姻",
                            text="允成",
                            citation=1,
                        )
                    ],
                )
            },
        ),
        (S.STAGE_RETRIEVAL, 25, "檢索完成", {"stage_completed": S.StageCompleted(stage=S.STAGE_RETRIEVAL)}),
        (S.STAGE_GENERATION, 30, "等候", {"tick": S.Tick(queue_position=2)}),
    ]
    offset = 0
    for i, piece in enumerate(TEXT_PIECES):
        payloads.append(
            (
                S.STAGE_GENERATION,
                40 + 15 * i,
                "撰寫中",
                {"text_delta": S.TextDelta(text=piece, offset=offset)},
            )
        )
        offset += len(piece)
    terminal: dict[str, Any]
    if error:
        status = status_pb2.Status(code=code_pb2.INTERNAL, message="generator failed")
        terminal = {"error": S.Error(status=status, partial_text="".join(TEXT_PIECES))}
    else:
        terminal = {
            "result": S.Result(
                text="".join(TEXT_PIECES),
                cited_passage_ids=["mazu60/1/judgment/婚姻/0"],
                generator="grounded",
                category="婚姻",
                usage=S.Usage(prompt_tokens=0, completion_tokens=0),
                timings=[S.StageTiming(stage=S.STAGE_RETRIEVAL, duration=_duration(0.12))],
            )
        }
    payloads.append((S.STAGE_DONE, 100, "完成", terminal))
    events = []
    for seq, (stage, percent, message, payload) in enumerate(payloads, start=1):
        event = S.ProgressEvent(
            task_id=task_id,
            seq=seq,
            stage=stage,
            percent=percent,
            message=message,
            elapsed=_duration(seq * 0.1),
        )
        if percent < 100:
            event.eta.CopyFrom(_duration(2.0))
        for name, value in payload.items():
            getattr(event, name).CopyFrom(value)
        events.append(event)
    return events


def rich_status(code: grpc.StatusCode, message: str, *details: Any) -> grpc.Status:
    """A grpc.Status with google.rpc details, for ``context.abort_with_status``."""
    packed = []
    for detail in details:
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)
        packed.append(any_detail)
    return rpc_status.to_status(status_pb2.Status(code=code.value[0], message=message, details=packed))


def bad_request(field: str, description: str) -> error_details_pb2.BadRequest:
    return error_details_pb2.BadRequest(
        field_violations=[error_details_pb2.BadRequest.FieldViolation(field=field, description=description)]
    )


def retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    return error_details_pb2.RetryInfo(retry_delay=_duration(seconds))


async def stream_all(events: Iterable[events_pb2.ProgressEvent]) -> AsyncIterator[events_pb2.ProgressEvent]:
    for event in events:
        yield event


@dataclass
class Call:
    """One call the fake received."""

    request: Any
    metadata: dict[str, str]
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)


class FakeService(interpret_service_pb2_grpc.InterpretServiceServicer):
    """Plays the scripts it is given; records every call."""

    def __init__(self) -> None:
        self.target = ""
        self.calls: dict[str, list[Call]] = {"Interpret": [], "Watch": [], "Cancel": [], "GetPoem": []}
        self.interpret: Script = lambda request, context: stream_all(canned_events())
        self.watch: Script = lambda request, context: stream_all(
            e for e in canned_events(request.task_id) if e.seq > request.after_seq
        )
        self.sets = [
            poems_pb2.PoemSet(
                id="mazu60",
                name_zh="六十甲子籤",
                name_en="Sixty Jiazi",
                count=60,
                categories=["婚姻", "求財"],
                aliases=["mazu"],
            ),
            poems_pb2.PoemSet(
                id="guanyin100", name_zh="觀音靈籤", name_en="Guanyin", count=100, categories=["婚姻"]
            ),
        ]
        self.abort_unary: grpc.Status | None = None
        self.cancel_result = True
        self.any_cancelled = asyncio.Event()

    def _record(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> Call:
        call = Call(request, {k: v for k, v in context.invocation_metadata() if isinstance(v, str)})
        self.calls[method].append(call)
        return call

    async def _play(
        self, method: str, script: Script, request: Any, context: grpc.aio.ServicerContext
    ) -> None:
        call = self._record(method, request, context)
        try:
            async for event in script(request, context):
                await context.write(event)
        except asyncio.CancelledError:
            call.cancelled.set()
            self.any_cancelled.set()
            raise

    async def Interpret(self, request: Any, context: grpc.aio.ServicerContext) -> None:
        await self._play("Interpret", self.interpret, request, context)

    async def Watch(self, request: Any, context: grpc.aio.ServicerContext) -> None:
        await self._play("Watch", self.watch, request, context)

    async def _unary_abort(self, context: grpc.aio.ServicerContext) -> None:
        if self.abort_unary is not None:
            await context.abort_with_status(self.abort_unary)

    async def Cancel(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self._record("Cancel", request, context)
        await self._unary_abort(context)
        return interpret_service_pb2.CancelResponse(task_id=request.task_id, cancelled=self.cancel_result)

    async def ListSets(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self._unary_abort(context)
        return interpret_service_pb2.ListSetsResponse(sets=self.sets)

    async def GetPoem(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self._record("GetPoem", request, context)
        await self._unary_abort(context)
        if request.set_id != "mazu60":
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown set {request.set_id}")
        result = poem()
        result.number = request.number
        return interpret_service_pb2.GetPoemResponse(poem=result)
