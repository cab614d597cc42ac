"""Small fakes of one seam at a time, for unit tests of the pipeline (never used to show a feature)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence

from qianshi.server.domain import (
    CategoryChoice,
    CategorySource,
    Judgment,
    Passage,
    PassageKind,
    Poem,
    PoemSet,
    Query,
)
from qianshi.server.errors import NotFound
from qianshi.server.pipeline.requests import TaskSpec
from qianshi.server.writing import GenerationChunk, GenerationRequest

SET = PoemSet("mazu60", "六十甲子籤", "Sixty Jiazi Oracle", 60, ("凡事", "婚姻", "治病"))
POEM = Poem(
    set_id="mazu60",
    set_name="六十甲子籤",
    number=1,
    rank="",
    title="包公請雷驚仁宗",
    verse=("日出便見風雲散", "光明清淨照世間", "一向前途通大道", "萬事清吉保平安"),
    judgments=(Judgment("凡事", "大吉昌"), Judgment("婚姻", "允成"), Judgment("治病", "未日痊安")),
)


def spec(**overrides: object) -> TaskSpec:
    values: dict[str, object] = {
        "poem_set": SET,
        "number": 1,
        "question": "婚姻能成嗎",
        "category": CategoryChoice("婚姻", "婚姻", CategorySource.INFERRED),
        "locale": "zh-Hant",
        "max_tokens": 256,
        "temperature": None,
        "seed": None,
        "request_id": "",
        "keep_running": False,
        "grace_s": 30.0,
    }
    values.update(overrides)
    return TaskSpec(**values)  # type: ignore[arg-type]


class FakeRetriever:
    """Answers from POEM; ``gate`` (when set) holds ``passages`` until it is set."""

    name = "fake"

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.gate = gate
        self.cancelled = asyncio.Event()
        self.entered = asyncio.Event()

    def launch(self) -> None:
        return None

    async def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        return None

    async def sets(self) -> Sequence[PoemSet]:
        return [SET]

    async def poem(self, set_id: str, number: int) -> Poem:
        if (set_id, number) != ("mazu60", 1):
            raise NotFound("no such poem")
        return POEM

    async def passages(self, query: Query) -> Sequence[Passage]:
        self.entered.set()
        try:
            if self.gate is not None:
                await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return [
            Passage("mazu60/1/judgment/婚姻/0", PassageKind.JUDGMENT, "婚姻", "允成", 3.0, citation=1),
            Passage("mazu60/1/verse/-/0", PassageKind.VERSE, "", "日出便見風雲散", 1.0, citation=2),
        ]

    async def aclose(self) -> None:
        return None


class FakeGenerator:
    """Yields ``pieces`` (after ``gate``, when given), then a final chunk; records cancellation."""

    name = "fake"
    model = "fake-model"

    def __init__(
        self,
        pieces: Sequence[str] = ("婚姻允成[1]，", "日出雲散[2]。", "宜把握時機[9]。"),
        gate: asyncio.Event | None = None,
        error: Exception | None = None,
    ) -> None:
        self.pieces = pieces
        self.gate = gate
        self.error = error
        self.cancelled = asyncio.Event()
        self.closed = asyncio.Event()
        self.started = asyncio.Event()

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        self.started.set()
        try:
            for i, piece in enumerate(self.pieces):
                if i == 1 and self.gate is not None:
                    await self.gate.wait()
                yield GenerationChunk(text=piece, tokens=2)
            if self.error is not None:
                raise self.error
            yield GenerationChunk(final=True, prompt_tokens=10, completion_tokens=2 * len(self.pieces))
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        finally:
            self.closed.set()

    async def aclose(self) -> None:
        return None
