"""What the pipeline itself costs per task, without gRPC: CPU, loop machinery, and memory per open task.

The server's real objects — the registry, the interpreter with its work queue, the metered memory log,
the embedded retriever, the grounded generator unpaced — run N tasks in one process, each read by a
reader that does what the Interpret handler does except the gRPC write: follow the log, convert each
event to protobuf and serialize it, then yield to the loop once (where the handler would await the
write). Calls arrive one per loop turn, as grpc.aio hands them over.

- ``cpu``: process CPU per task over a burst of N (after a warm-up), events per task, and how many
  asyncio tasks, timers and futures a task creates (counted on the loop).
- ``relay``: N tasks relaying long answers from the vLLM stand-in (another process) at once: process
  CPU per engine token and per text delta, from the first token to the last (the pipeline's side of
  the relay level, without gRPC's writes).
- ``memory``: N tasks held open while they wait for a generation slot (an engine that never answers,
  64 slots, as the sweep's streams mostly are), ``tracemalloc`` per open task, by the module that
  allocated it. grpc.aio's own per-call memory is in its C core, invisible here: the sweep measures
  the server's RSS per open stream.

    python -m bench.pipeline_cost cpu --state-dir bench/results/.state/index --n 1000
    python -m bench.pipeline_cost memory --state-dir bench/results/.state/index --n 1000
    python -m bench.pipeline_cost relay --state-dir bench/results/.state/index --n 100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import linecache
import random
import shutil
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from qianshi.server.backends.generation.grounded.generator import GroundedGenerator
from qianshi.server.backends.generation.openai_api import OpenAIGenerator
from qianshi.server.backends.retrieval.embedded import EmbeddedRetriever
from qianshi.server.backends.retrieval.store_copy import copy_tree
from qianshi.server.domain import Query
from qianshi.server.observability.logs import LogContext
from qianshi.server.observability.metrics import MeteredEventLog, ServerMetrics
from qianshi.server.pipeline.admission import GenerationSlots
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.interpret import Interpreter, PipelineConfig
from qianshi.server.pipeline.requests import InterpretParams, Limits, TaskSpec, validate
from qianshi.server.pipeline.workqueue import WorkQueue
from qianshi.server.service import convert
from qianshi.server.tasks.memory_log import MemoryEventLog
from qianshi.server.tasks.registry import Registry
from qianshi.server.writing import GenerationChunk, GenerationRequest

from bench.run import QUESTIONS

WINDOW_S = [0.04]
"""The coalescing window of the tasks (``--window``)."""


class _Silent:
    """An engine that never answers (tasks wait for their first token, or for a slot)."""

    name = "silent"
    model = "silent"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        await asyncio.Event().wait()
        yield GenerationChunk(final=True)  # pragma: no cover - never reached

    async def aclose(self) -> None:
        return None


class _Counts:
    """Counts what the loop is asked to create: tasks, timers, futures."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.counts: Counter[str] = Counter()
        for name in ("create_task", "call_at", "call_soon", "create_future"):
            original = getattr(loop, name)

            def counted(*args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
                self.counts[_name] += 1
                return _original(*args, **kw)

            setattr(loop, name, counted)


async def _world(
    state: Path, llm: str, n: int, url: str = ""
) -> tuple[Interpreter, MeteredEventLog, dict[str, Any]]:
    retriever = EmbeddedRetriever(state / "qdrant", cache_dir=state / "cache")
    retriever.launch()
    await retriever.start()
    grounded = llm == "grounded"
    generator: Any = GroundedGenerator(pace_s=0) if grounded else _Silent()
    if llm == "openai":
        generator = OpenAIGenerator(url, "standin:tokens=500,ttft=0.3")
    interpreter = Interpreter(
        retriever,
        generator,
        Estimates(state / "estimates.json"),
        PipelineConfig(
            tick_retrieval_s=0.8,
            tick_generation_s=0.8,
            work_through_generation=grounded,
            coalesce_window_s=WINDOW_S[0],
        ),
        slots=None if grounded else GenerationSlots(max(64, n), n),
        work=WorkQueue(),
    )
    events = MeteredEventLog(MemoryEventLog(), LogContext(), ServerMetrics())
    sets = {s.id: s for s in await retriever.sets()}
    return interpreter, events, sets


def _specs(sets: dict[str, Any], n: int) -> list[TaskSpec]:
    rng = random.Random(7)
    keys = [(s.id, k) for s in sets.values() for k in range(1, s.count + 1)]
    out = []
    for _ in range(n):
        set_id, number = rng.choice(keys)
        params = InterpretParams(set_id=set_id, number=number, question=rng.choice(QUESTIONS))
        out.append(validate(params, sets, Limits()))
    return out


async def _reader(
    registry: Registry, spec: TaskSpec, kinds: Counter[str], seen: tuple[int, asyncio.Event] | None = None
) -> None:
    task_id = await registry.start(spec, "", None)
    async with registry.subscribe(task_id, "", 0) as events:
        async for event in events:
            kinds[f"bytes:{event.kind}"] += len(convert.event(event).SerializeToString())
            kinds[event.kind] += 1
            kinds["events"] += 1
            if seen is not None and kinds["events"] >= seen[0]:
                seen[1].set()
            await asyncio.sleep(0)  # where the handler awaits its write


async def _burst(registry: Registry, specs: list[TaskSpec], kinds: Counter[str]) -> None:
    async with asyncio.TaskGroup() as group:
        for spec in specs:
            group.create_task(_reader(registry, spec, kinds))
            await asyncio.sleep(0)  # one call per loop turn


async def cpu(state: Path, n: int) -> dict[str, Any]:
    interpreter, events, sets = await _world(state, "grounded", n)
    specs = _specs(sets, n)
    async with Registry(interpreter, events, max_active=2 * n + 100) as registry:
        await _burst(registry, specs[:100], Counter())  # warm-up: caches, estimates
        counts = _Counts(asyncio.get_running_loop())
        kinds: Counter[str] = Counter()
        wall, cpu0 = time.perf_counter(), time.process_time()
        await _burst(registry, specs, kinds)
        cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall
    await interpreter.retriever.aclose()
    return {
        "n": n,
        "cpu_us_per_task": round(cpu_s * 1e6 / n, 1),
        "wall_s": round(wall_s, 3),
        "events_per_task": round(kinds["events"] / n, 2),
        "events": {k: v for k, v in kinds.items() if not k.startswith("bytes:") and k != "events"},
        "bytes_per_task": {k[6:]: round(v / n) for k, v in kinds.items() if k.startswith("bytes:")},
        "per_task": {k: round(v / n, 2) for k, v in sorted(counts.counts.items())},
    }


async def memory(state: Path, n: int, top: int, trace: bool = True) -> dict[str, Any]:
    interpreter, events, sets = await _world(state, "silent", n)
    specs = _specs(sets, n)
    for spec in {(s.poem_set.id, s.number): s for s in specs}.values():  # the retriever's caches
        await interpreter.retriever.poem(spec.poem_set.id, spec.number)
        await interpreter.retriever.passages(Query(spec.poem_set.id, spec.number, spec.question, ""))
    async with Registry(interpreter, events, max_active=2 * n + 100) as registry:
        kinds: Counter[str] = Counter()
        async with asyncio.TaskGroup() as group:
            await asyncio.sleep(0.05)
            rss_before = _rss()
            if trace:
                tracemalloc.start(12)
                before = tracemalloc.take_snapshot()
            # every task past its retrieval, waiting for a slot or its first token (no tick yet)
            settled = asyncio.Event()
            readers = [group.create_task(_reader(registry, spec, kinds, (6 * n, settled))) for spec in specs]
            await settled.wait()
            rss_after = _rss()
            if trace:
                after = tracemalloc.take_snapshot()
                tracemalloc.stop()
            for reader in readers:
                reader.cancel()
    await interpreter.retriever.aclose()
    if not trace:
        return {"n": n, "rss_bytes_per_open_task": round((rss_after - rss_before) / n)}
    filters = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, linecache.__file__)]
    diff = after.filter_traces(filters).compare_to(before.filter_traces(filters), "traceback")
    total = sum(d.size_diff for d in diff)
    by_owner: Counter[str] = Counter()
    for d in diff:
        by_owner[allocation_owner(d.traceback)] += d.size_diff
    return {
        "n": n,
        "python_bytes_per_open_task": round(total / n),
        "by_owner_bytes_per_task": {k: round(v / n) for k, v in by_owner.most_common(top)},
        "events_per_task": round(kinds["events"] / n, 2),
    }


def _rss() -> int:
    """Resident memory of this process (bytes), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def relay(state: Path, n: int, url: str) -> dict[str, Any]:
    interpreter, events, sets = await _world(state, "openai", n, url)
    specs = _specs(sets, n)
    async with Registry(interpreter, events, max_active=2 * n + 100) as registry:
        await _burst(registry, specs[:4], Counter())  # warm-up: the connection pool, caches
        kinds: Counter[str] = Counter()
        cpu0 = time.process_time()
        await _burst(registry, specs, kinds)
        cpu_s = time.process_time() - cpu0
    await interpreter.generator.aclose()
    await interpreter.retriever.aclose()
    tokens = 500 * n
    return {
        "n": n,
        "cpu_us_per_token": round(cpu_s * 1e6 / tokens, 1),
        "cpu_us_per_delta": round(cpu_s * 1e6 / max(kinds["text_delta"], 1), 1),
        "tokens_per_delta": round(tokens / max(kinds["text_delta"], 1), 2),
        "events": dict(kinds),
    }


def allocation_owner(trace: tracemalloc.Traceback) -> str:
    """The innermost frame in Qianshi's code (else in grpc, else in asyncio; else the innermost), as
    file:line."""
    frames = list(reversed(trace))  # tracemalloc lists the oldest frame first
    for mark in ("qianshi/server/", "grpc/", "asyncio/"):
        for frame in frames:
            if mark in frame.filename:
                where = frame.filename.split(mark)[1]
                return f"{'' if mark == 'qianshi/server/' else mark}{where}:{frame.lineno}"
    frame = frames[0]
    return f"{Path(frame.filename).name}:{frame.lineno}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("cpu", "memory", "relay"))
    p.add_argument("--state-dir", type=Path, required=True, help="a built state folder (copied first)")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--window", type=float, default=0.04, help="coalescing window (s) of the relay")
    args = p.parse_args(argv)
    WINDOW_S[0] = args.window
    with tempfile.TemporaryDirectory(prefix="pipeline-cost-") as tmp:
        state = Path(tmp) / "state"
        copy_tree(args.state_dir.expanduser(), state)
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(state / "cache" / "locks")
        if args.what == "cpu":
            result = asyncio.run(cpu(state, args.n))
        elif args.what == "relay":
            from bench.procs import start_standin

            standin, url = start_standin("0.3", 50.0, 500)
            try:
                result = asyncio.run(relay(state, args.n, url))
            finally:
                standin.stop()
        else:
            rss = asyncio.run(memory(state, args.n, args.top, trace=False))
            result = {**asyncio.run(memory(state, args.n, args.top)), **rss}
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
