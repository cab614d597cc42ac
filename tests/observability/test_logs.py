"""Structured logs: JSON lines with the task's ids, and no question text above DEBUG."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from qianshi.server.observability import logs, metrics
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry
from qianshi.server.writing import GenerationChunk, GenerationRequest

from tests.fakes import FakeGenerator, FakeRetriever, spec

FAST = PipelineConfig(tick_retrieval_s=0.02, tick_generation_s=0.03, coalesce_window_s=0.005)
QUESTION = "我和阿明的婚事能成嗎"
backend_log = logging.getLogger("qianshi.server.backends.test")


class ChattyGenerator(FakeGenerator):
    """Logs the way a backend does: progress at INFO, the question only as a DEBUG extra."""

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        backend_log.info("generation started", extra={"model": self.model})
        backend_log.debug("prompt built", extra={"question": request.question})
        backend_log.info("careless", extra={"question": request.question})  # stripped: above DEBUG
        async for chunk in super().stream(request):
            yield chunk


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    """A JSON handler on the ``qianshi`` logger, restored afterwards."""
    out = io.StringIO()
    handler = logs.handler("json", out)
    logger = logging.getLogger("qianshi")
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield out, logger
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def run_task(tmp_path) -> str:
    log = metrics.MeteredEventLog(MemoryEventLog(), logs.LogContext())
    interpreter = Interpreter(FakeRetriever(), ChattyGenerator(), Estimates(tmp_path / "e.json"), FAST)
    async with Registry(interpreter, log) as registry:
        task_id = await registry.start(spec(question=QUESTION, request_id="req-7"), "", None)
        async with asyncio.timeout(10), registry.subscribe(task_id, "", 0) as stream:
            async for _ in stream:
                pass
    return task_id


async def test_records_of_a_task_carry_its_ids_and_never_the_question_at_info(captured, tmp_path):
    out, logger = captured
    logger.setLevel(logging.INFO)
    task_id = await run_task(tmp_path)
    records = lines(out)
    started = next(r for r in records if r["message"] == "generation started")
    assert started["task_id"] == task_id
    assert started["request_id"] == "req-7"
    assert started["model"] == "fake-model"
    assert started["level"] == "INFO"
    assert started["logger"] == "qianshi.server.backends.test"
    assert "T" in started["ts"]
    assert QUESTION not in out.getvalue()
    careless = next(r for r in records if r["message"] == "careless")
    assert "question" not in careless


async def test_the_question_appears_at_debug_only(captured, tmp_path):
    out, logger = captured
    logger.setLevel(logging.DEBUG)
    await run_task(tmp_path)
    with_question = [r for r in lines(out) if QUESTION in json.dumps(r, ensure_ascii=False)]
    assert with_question
    assert all(r["level"] == "DEBUG" for r in with_question)


def test_json_lines_carry_extras_and_exceptions():
    out = io.StringIO()
    handler = logs.handler("json", out)
    record = logging.LogRecord("qianshi.x", logging.ERROR, __file__, 1, "failed %s", ("here",), None)
    record.task_id = "t_1"
    record.attempt = 2
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    handler.handle(record)
    (line,) = lines(out)
    assert line["message"] == "failed here"
    assert line["task_id"] == "t_1"
    assert line["attempt"] == 2
    assert "ValueError: boom" in line["exception"]


def test_text_lines_show_the_task_ids():
    out = io.StringIO()
    handler = logs.handler("text", out)
    record = logging.LogRecord("qianshi.x", logging.INFO, __file__, 1, "hello", None, None)
    record.task_id = "t_1"
    handler.handle(record)
    assert out.getvalue().rstrip().endswith("hello [task_id=t_1]")


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="log format"):
        logs.handler("xml")
