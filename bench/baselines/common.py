"""What both baselines share: the blocking work, the events they send, and the server around them.

The work is Qianshi's own, called the simple way: the request is validated by the pipeline's
``validate`` (same category inference), the poem and passages come from the same embedded engine
(Qdrant Edge, opened in this process: same index, same query, the retriever's plain calls), and the
text comes from the same stand-in through a *blocking* ``httpx.Client`` reading the SSE stream, with
the same prompt (``build_messages``) — or, with ``--llm grounded``, from the grounded generator's
composition as one blocking call. Nothing here streams text deltas: a blocking call returns the whole
answer.

``serve`` runs a grpc.aio server with a servicer, prints ``baseline serving on port N`` on stderr when
it is ready, and — for the benchmark — measures the event loop's lag the way the Qianshi server does
(how late a 100 ms sleep wakes up), written as JSON ``[[time, lag], …]`` to ``--lag-file`` when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
from qianshi.server.backends.generation.grounded.generator import compose_chunks
from qianshi.server.backends.generation.prompt import build_messages
from qianshi.server.backends.retrieval.embedded import EmbeddedRetriever
from qianshi.server.domain import Passage, Poem, Query
from qianshi.server.pipeline.requests import Limits, TaskSpec, validate
from qianshi.server.reading.categories import infer as categories
from qianshi.server.service import convert
from qianshi.server.service.status import from_error, to_grpc
from qianshi.server.writing import GenerationRequest
from qianshi.v1 import events_pb2, interpret_service_pb2, interpret_service_pb2_grpc

PASSAGES_LIMIT = 6
LAG_INTERVAL_S = 0.1
SERVER_OPTIONS = [
    ("grpc.so_reuseport", 0),
    # As the Qianshi server's default --max-pending-calls: the same backlog for calls not yet taken,
    # so no design loses streams to gRPC core's default (random CANCELLED past 1,000 pending).
    ("grpc.server.max_pending_requests", 20000),
    ("grpc.server.max_pending_requests_hard_limit", 20000),
]


class BlockingWork:
    """Retrieval and generation as plain blocking functions (safe to call from several threads)."""

    def __init__(self, state_dir: Path, llm_url: str, model: str, llm: str = "openai") -> None:
        self.retriever = EmbeddedRetriever.from_state_dir(state_dir)
        self.sets: dict[str, Any] = {}
        self.llm = llm
        self.limits = Limits()
        self.url = llm_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.http = httpx.Client(timeout=httpx.Timeout(120.0, connect=5.0))

    async def open(self) -> None:
        """Open the index (built already: the benchmark hands over a built state folder)."""
        await self.retriever.start()
        self.sets = {s.id: s for s in await self.retriever.sets()}

    def spec(self, request: interpret_service_pb2.InterpretRequest) -> TaskSpec:
        return validate(convert.params(request), self.sets, self.limits)

    def poem(self, set_id: str, number: int) -> Poem:
        return self.retriever.poem_now(set_id, number)

    def retrieve(self, spec: TaskSpec) -> tuple[Poem, list[Passage]]:
        poem = self.retriever.poem_now(spec.poem_set.id, spec.number)
        query = Query(
            spec.poem_set.id,
            spec.number,
            spec.question,
            spec.category.category,
            categories.search_terms(spec.category.common),
            PASSAGES_LIMIT,
        )
        return poem, self.retriever.passages_now(query)

    def generate(self, spec: TaskSpec, poem: Poem, passages: list[Passage]) -> tuple[str, int]:
        """The whole interpretation and its completion tokens, read from the SSE stream."""
        request = GenerationRequest(
            request_id="baseline",
            question=spec.question,
            locale=spec.locale,
            poem=poem,
            passages=tuple(passages),
            category=spec.category.category,
            common_category=spec.category.common,
            max_tokens=spec.max_tokens,
            seed=spec.seed,
        )
        if self.llm == "grounded":
            chunks = compose_chunks(request)
            return "".join(chunks), len(chunks)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": build_messages(request, max_prompt_tokens=8192 - spec.max_tokens),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": spec.max_tokens,
        }
        if spec.seed is not None:
            body["seed"] = spec.seed
        parts: list[str] = []
        tokens = 0
        with self.http.stream("POST", self.url, json=body) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[6:]
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                for choice in chunk.get("choices") or ():
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        parts.append(content)
                        tokens += 1
        return "".join(parts), tokens

    async def close(self) -> None:
        self.http.close()
        await self.retriever.aclose()


class Events:
    """Numbers and stamps the events of one call (``seq`` 1, 2, 3 …, like the real server)."""

    def __init__(self, task_id: str, generator: str = "openai") -> None:
        self.task_id = task_id
        self.generator = generator
        self.seq = 0
        self.started = time.monotonic()
        self.last = self.started

    def make(self, stage: Any, percent: float, message: str, **payload: Any) -> events_pb2.ProgressEvent:
        now = time.monotonic()
        self.seq += 1
        self.last = now
        event = events_pb2.ProgressEvent(
            task_id=self.task_id, seq=self.seq, stage=stage, percent=percent, message=message, **payload
        )
        elapsed = now - self.started
        event.elapsed.seconds, event.elapsed.nanos = int(elapsed), int((elapsed % 1) * 1e9)
        stamp = time.time()
        event.timestamp.seconds, event.timestamp.nanos = int(stamp), int((stamp % 1) * 1e9)
        return event

    def accepted(self, spec: TaskSpec) -> events_pb2.ProgressEvent:
        accepted = events_pb2.Accepted(
            category=spec.category.category, locale=spec.locale, generator=self.generator
        )
        return self.make(events_pb2.STAGE_ACCEPTED, 0.0, "accepted", accepted=accepted)

    def found(self, poem: Poem, passages: list[Passage]) -> list[events_pb2.ProgressEvent]:
        found = events_pb2.Passages(passages=[convert.passage(p) for p in passages])
        return [
            self.make(events_pb2.STAGE_RETRIEVAL, 5.0, "poem found", poem=convert.poem(poem)),
            self.make(events_pb2.STAGE_RETRIEVAL, 10.0, "passages found", passages=found),
        ]

    def generating(self) -> events_pb2.ProgressEvent:
        started = events_pb2.StageStarted(stage=events_pb2.STAGE_GENERATION)
        return self.make(events_pb2.STAGE_GENERATION, 10.0, "generating", stage_started=started)

    def tick(self, stage: int, percent: float) -> events_pb2.ProgressEvent:
        return self.make(stage, percent, "still working", tick=events_pb2.Tick())

    def result(self, text_: str, tokens: int) -> events_pb2.ProgressEvent:
        result = events_pb2.Result(
            text=text_, usage=events_pb2.Usage(completion_tokens=tokens), generator=self.generator
        )
        return self.make(events_pb2.STAGE_DONE, 100.0, "done", result=result)


class BaselineService(interpret_service_pb2_grpc.InterpretServiceServicer):
    """The unary look-ups both baselines answer the same way (the streams differ)."""

    def __init__(self, work: BlockingWork) -> None:
        self.work = work
        self.calls = 0

    def next_task_id(self) -> str:
        self.calls += 1
        return f"b_{self.calls}"

    async def GetPoem(
        self, request: interpret_service_pb2.GetPoemRequest, context: grpc.aio.ServicerContext
    ) -> interpret_service_pb2.GetPoemResponse:
        try:
            poem = self.work.poem(request.set_id, request.number)
        except Exception as exc:
            await context.abort_with_status(to_grpc(from_error(exc)))
            raise
        return interpret_service_pb2.GetPoemResponse(poem=convert.poem(poem))


def parse(argv: list[str] | None, prog: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--state-dir", required=True, help="a built Qianshi state folder (its own copy)")
    p.add_argument("--llm-url", required=True)
    p.add_argument("--llm-model", default="standin")
    p.add_argument("--llm", choices=("openai", "grounded"), default="openai", help="the generator's work")
    p.add_argument("--tick", type=float, default=0.8, help="silence interval of the thread-pool ticker")
    p.add_argument("--lag-file", default="", help="write the loop's lag samples here (JSON) on exit")
    p.add_argument("--hold", action="store_true", help="bare: hold each stream open after its first event")
    return p.parse_args(argv)


async def serve(args: argparse.Namespace, make: Callable[[BlockingWork], BaselineService], name: str) -> None:
    """Serve until SIGTERM/SIGINT."""
    work = BlockingWork(Path(args.state_dir), args.llm_url, args.llm_model, args.llm)
    await work.open()
    server = grpc.aio.server(options=SERVER_OPTIONS)
    interpret_service_pb2_grpc.add_InterpretServiceServicer_to_server(make(work), server)
    port = server.add_insecure_port(args.listen)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"{name} serving on port {port}", file=sys.stderr, flush=True)
    samples: list[tuple[float, float]] = []
    lag = asyncio.ensure_future(_watch_lag(samples))
    try:
        await stop.wait()
    finally:
        lag.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await lag
        await server.stop(0.5)
        await work.close()
        if args.lag_file:
            _write_lag(Path(args.lag_file), samples)


async def _watch_lag(samples: list[tuple[float, float]]) -> None:
    """Like the Qianshi server's metrics: how late a 100 ms sleep wakes up (with the wall time)."""
    while True:
        start = time.monotonic()
        await asyncio.sleep(LAG_INTERVAL_S)
        samples.append((time.time(), max(time.monotonic() - start - LAG_INTERVAL_S, 0.0)))


def _write_lag(path: Path, samples: list[tuple[float, float]]) -> None:
    path.write_text(json.dumps(samples))
