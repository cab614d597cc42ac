"""The body of one task: accepted → retrieval → generation → done.

``Interpreter.run`` is what a task executes. Each stage's work runs in the task itself, paced by the
interpreter's one ``Pacer`` (results go out the moment they exist, ticks only fill silence), progress
and ETA come from ``Progress`` over the learned ``Estimates``, and the task always ends with exactly
one terminal event — a ``Result``, or a ``Failure`` carrying the status, also when it is cancelled or
its deadline passes.

The poem comes first: it is an exact look-up (a cached poem, microseconds), so when a crowd arrives
every caller gets it as soon as the crowd is in, from the work queue's light line, before anyone's
search for the judgments and writing start from its heavy line (``workqueue``). Measured with 1,000
calls opened within a second: behind the rest of the work, the poem reached the 1,000th caller at
1.4 s p99 (bench/README.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from qianshi.server.domain import Passage, Poem, Query, Stage
from qianshi.server.errors import BackendFailed
from qianshi.server.pipeline import messages
from qianshi.server.pipeline.admission import (
    GenerationSlots,
    arrive,
    queue_for_work,
    wait_for_slot,
    wait_for_work,
)
from qianshi.server.pipeline.coalesce import coalesce
from qianshi.server.pipeline.emitter import Emitter
from qianshi.server.pipeline.estimates import Estimates
from qianshi.server.pipeline.eventlog import EventLog
from qianshi.server.pipeline.events import (
    Accepted,
    Failure,
    PassagesFound,
    PoemFound,
    StageCompleted,
    StageStarted,
    TextDelta,
)
from qianshi.server.pipeline.failures import expected, failure_of
from qianshi.server.pipeline.messages import message, notice_message
from qianshi.server.pipeline.outcome import Generated, result_of
from qianshi.server.pipeline.pacer import Pacer
from qianshi.server.pipeline.progress import Plan, Progress
from qianshi.server.pipeline.requests import TaskSpec
from qianshi.server.pipeline.seams import Generator, Retriever
from qianshi.server.pipeline.workqueue import WorkQueue
from qianshi.server.reading.categories import infer as categories
from qianshi.server.reading.plan import read
from qianshi.server.writing import NOTICE_CHECKING, GenerationChunk, GenerationRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    tick_retrieval_s: float = 0.8
    tick_generation_s: float = 1.2
    passages_limit: int = 6
    coalesce_window_s: float = 0.04
    work_through_generation: bool = False
    """The generation runs on this server's CPU without waiting (the grounded generator unpaced), so
    the work queue's slot is held through it too; an LLM's generation waits on its engine instead."""


class Interpreter:
    """Runs tasks over one retriever and one generator."""

    def __init__(
        self,
        retriever: Retriever,
        generator: Generator,
        estimates: Estimates,
        config: PipelineConfig | None = None,
        slots: GenerationSlots | None = None,
        work: WorkQueue | None = None,
    ) -> None:
        self.retriever = retriever
        self.generator = generator
        self.estimates = estimates
        self.config = config or PipelineConfig()
        self.slots = slots
        """The generator's slot pool (admission.py); None: generations are not limited."""
        self.work = work
        """The queue a task's retrieval waits in when a crowd arrives (workqueue.py); None: none."""
        self.pacer = Pacer()
        """Ticks every task that falls silent; its ``run`` must be running (the registry runs it)."""
        model = generator.model or "-"
        self._gen_key = f"generation/{generator.name}/{model}"
        self._ret_key = f"retrieval/{retriever.name}"

    def admit(self, task_id: str) -> None:
        """Reserve a generation place for a new task (ResourceExhausted when the queue is full)."""
        if self.slots is not None:
            self.slots.reserve(task_id)

    def release(self, task_id: str) -> None:
        """Give back the task's generation slot, queue place or reservation (idempotent)."""
        if self.slots is not None:
            self.slots.release(task_id)

    def plan(self, spec: TaskSpec) -> Plan:
        est, key = self.estimates, self._gen_key
        units = min(est.expected(f"{key}/tokens", "generation/tokens"), float(spec.max_tokens) * 4)
        if self.generator.name != "grounded":
            units = min(units, float(spec.max_tokens))
        return Plan(
            retrieval_s=est.expected(self._ret_key, "retrieval"),
            ttft_s=est.expected(f"{key}/ttft", "generation/ttft"),
            output_units=max(units, 1.0),
            units_per_s=max(est.expected(f"{key}/rate", "generation/rate"), 1e-3),
        )

    async def run(self, task_id: str, spec: TaskSpec, events: EventLog, deadline: float | None) -> None:
        """Run the task to its terminal event. Re-raises cancellation after reporting it."""
        started = time.monotonic()
        plan = self.plan(spec)
        progress = Progress(plan, started)
        emitter = Emitter(events, task_id, progress, started)
        emitter.task = asyncio.current_task()
        loc = spec.locale
        category_label = messages.category_label(spec.category, loc)
        text_so_far: list[str] = []
        turn = arrive(self.work, task_id, emitter, started)
        try:
            await emitter.emit(
                Accepted(
                    spec.request_id,
                    spec.category.category,
                    spec.category.source,
                    loc,
                    self.generator.name,
                ),
                message(
                    loc,
                    "accepted",
                    set_name=spec.poem_set.name_en if loc == "en" else spec.poem_set.name_zh,
                    number=spec.number,
                    category=category_label,
                ),
            )
            timeout = asyncio.timeout_at(None)
            if deadline is not None:
                timeout = asyncio.timeout(max(deadline - time.monotonic(), 0.0))
            async with timeout:
                tick_s = self.config.tick_retrieval_s
                if turn is not None and self.work is not None:  # the light line: the poem's turn
                    await wait_for_work(self.work, task_id, turn, emitter, self.pacer, loc, tick_s)
                # The heavy line is joined before the poem goes out, so the poem's ETA counts the wait
                # for the search and the writing (joined after it, the poem said ~0 s left to a task
                # that then waited a second in line under a burst).
                turn = queue_for_work(self.work, task_id, emitter)
                poem = await self._poem(spec, emitter, category_label)
                if turn is not None and self.work is not None:  # the heavy line: search and writing
                    await wait_for_work(self.work, task_id, turn, emitter, self.pacer, loc, tick_s)
                    emitter.progress.replan(self.plan(spec))  # what tasks took while it waited
                passages, retrieval_s = await self._passages(spec, emitter, category_label)
                if not self.config.work_through_generation:
                    self._leave_work(task_id)  # an engine's generation waits elsewhere (its slots)
                try:
                    usual = plan.generation_s
                    await wait_for_slot(
                        self.slots, task_id, emitter, self.pacer, loc, self.config.tick_generation_s, usual
                    )
                    generated, generation_s = await self._generate(
                        task_id, spec, emitter, poem, passages, deadline, text_so_far
                    )
                finally:
                    self.release(task_id)
            timings = ((Stage.RETRIEVAL, retrieval_s), (Stage.GENERATION, generation_s))
            result = result_of(spec, passages, generated, timings, self.generator.name, self.generator.model)
            await emitter.emit(result, message(loc, "done"))
            self.estimates.observe(
                f"task/{self.generator.name}/total",
                time.monotonic() - started,
                predicted=plan.retrieval_s + plan.generation_s,
            )
        except asyncio.CancelledError as exc:
            error = _tick_error(emitter)
            if error is None:
                failure = failure_of(exc, task_id, "".join(text_so_far))
                note = message(loc, "draining" if failure.reason == "SERVER_DRAINING" else "cancelled")
                await self._fail_shielded(emitter, failure, note)
                raise
            await self._fail(emitter, failure_of(error, task_id, "".join(text_so_far)), loc)
        except Exception as exc:
            if not expected(exc):
                log.exception("task failed", extra={"task_id": task_id})
            await self._fail(emitter, failure_of(exc, task_id, "".join(text_so_far)), loc)
        finally:
            emitter.tick_message = None
            self._leave_work(task_id)

    def _leave_work(self, task_id: str) -> None:
        if self.work is not None:
            self.work.release(task_id)

    # stages ----------------------------------------------------------------------------------------

    async def _poem(self, spec: TaskSpec, emitter: Emitter, category_label: str) -> Poem:
        """Start the retrieval stage and fetch the poem (an exact look-up: no queue holds it back)."""
        loc, progress = spec.locale, emitter.progress
        progress.enter(Stage.RETRIEVAL, time.monotonic())
        await emitter.emit(
            StageStarted(Stage.RETRIEVAL, self._learned(self._ret_key)),
            message(loc, "retrieval_started", number=spec.number),
        )
        fetching = message(loc, "fetching", number=spec.number)
        with self.pacer.pacing(emitter, self.config.tick_retrieval_s, lambda now: fetching):
            poem = await self.retriever.poem(spec.poem_set.id, spec.number)
        progress.retrieval_signal("poem")
        await emitter.emit(
            PoemFound(poem), message(loc, "poem_found", title=poem.title, category=category_label)
        )
        return poem

    async def _passages(
        self, spec: TaskSpec, emitter: Emitter, category_label: str
    ) -> tuple[tuple[Passage, ...], float]:
        """Search the judgments relevant to the question, and end the retrieval stage. What is
        learned as the retrieval's duration is the work itself, from its turn in the work queue on;
        the stage's reported duration is all of it, the wait included."""
        loc, progress, config = spec.locale, emitter.progress, self.config
        started = time.monotonic()
        usual = progress.plan.retrieval_s
        searching = message(loc, "searching", category=category_label)

        def tick(now: float) -> str:
            elapsed = now - started
            if elapsed > usual * 1.5 + 0.3:
                return message(loc, "retrieval_slow", elapsed=elapsed, usual=usual)
            return searching

        query = Query(
            spec.poem_set.id,
            spec.number,
            spec.question,
            spec.category.category,
            categories.search_terms(spec.category.common),
            config.passages_limit,
        )
        with self.pacer.pacing(emitter, config.tick_retrieval_s, tick):
            passages = tuple(await self.retriever.passages(query))
        progress.retrieval_signal("passages")
        await emitter.emit(
            PassagesFound(passages, spec.category.category),
            message(loc, "passages_found", count=len(passages)),
        )
        now = time.monotonic()
        work_s = now - started
        self.estimates.observe(self._ret_key, work_s, predicted=usual)
        duration = now - progress.stage_started
        await emitter.emit(
            StageCompleted(Stage.RETRIEVAL, duration), message(loc, "retrieval_done", duration=duration)
        )
        return passages, duration

    async def _generate(
        self,
        task_id: str,
        spec: TaskSpec,
        emitter: Emitter,
        poem: Poem,
        passages: tuple[Passage, ...],
        deadline: float | None,
        parts: list[str],
    ) -> tuple[Generated, float]:
        loc, progress, gen = spec.locale, emitter.progress, self.generator
        started = time.monotonic()
        progress.enter(Stage.GENERATION, started)
        plan = progress.plan
        unit = "chars" if gen.name == "grounded" else "tokens"
        start_message = (
            message(loc, "generation_started_grounded")
            if gen.name == "grounded"
            else message(loc, "generation_started_llm", model=gen.model)
        )
        await emitter.emit(
            StageStarted(Stage.GENERATION, self._learned(f"{self._gen_key}/duration")), start_message
        )
        request = GenerationRequest(
            request_id=task_id,
            question=spec.question,
            locale=loc,
            poem=poem,
            passages=passages,
            category=spec.category.category,
            common_category=spec.category.common,
            max_tokens=spec.max_tokens,
            temperature=spec.temperature,
            seed=spec.seed,
            deadline=deadline,
            # what the slip says to this question: the plan every generator writes from
            reading=read(spec.question, poem, passages, spec.category.category, spec.category.common),
        )
        last_text_at = started
        checking = False  # the guard holds the first words back while it checks them

        def tick(now: float) -> str:
            elapsed = now - started
            if progress.first_unit_at is None:
                if checking:
                    return message(loc, "checking", elapsed=elapsed)
                if elapsed > plan.ttft_s * 1.5 + 0.5:
                    return message(loc, "waiting_first_token_slow", elapsed=elapsed, usual=plan.ttft_s)
                return message(loc, "waiting_first_token", elapsed=elapsed)
            idle = now - last_text_at
            if idle >= self.config.tick_generation_s:
                return message(loc, "writing_stalled", idle=idle)
            return message(loc, "writing", units=int(progress.units), unit=unit)

        offset = 0
        final: GenerationChunk | None = None
        with self.pacer.pacing(emitter, self.config.tick_generation_s, tick):
            stream = coalesce(gen.stream(request), self.config.coalesce_window_s)
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    if chunk.final:
                        final = chunk
                        break
                    if chunk.notice == NOTICE_CHECKING:  # the guard holds the first words: ticks say so
                        checking = True
                        continue
                    if chunk.notice:  # "fallback:<reason>": another generator takes over
                        checking = False
                        await emitter.tick(notice_message(chunk.notice, loc))
                        continue
                    now = time.monotonic()
                    units = chunk.tokens if unit == "tokens" else len(chunk.text)
                    progress.generated(units, now)
                    last_text_at = now
                    parts.append(chunk.text)
                    await emitter.emit(
                        TextDelta(chunk.text, offset, chunk.tokens),
                        message(loc, "writing", units=int(progress.units), unit=unit),
                    )
                    offset += len(chunk.text)
        if final is None:
            raise BackendFailed("the generator ended without a final chunk", reason="GENERATION_INCOMPLETE")
        first = progress.first_unit_at
        ttft = None if first is None else first - started
        span = time.monotonic() - first if first is not None else 0.0
        rate = progress.units / span if span > 0 else 0.0
        generated = Generated("".join(parts), final, ttft, rate)
        duration = time.monotonic() - started
        if not generated.final.fallback_used:  # a fallback's timings would teach the model wrong ones
            self._learn_generation(plan, generated, duration, progress.units)
        await emitter.emit(
            StageCompleted(Stage.GENERATION, duration), message(loc, "generation_done", duration=duration)
        )
        return generated, duration

    # helpers ---------------------------------------------------------------------------------------

    def _learn_generation(self, plan: Plan, generated: Generated, duration: float, units: float) -> None:
        key = self._gen_key
        self.estimates.observe(f"{key}/duration", duration, predicted=plan.generation_s)
        if generated.ttft_s is not None:
            self.estimates.observe(f"{key}/ttft", generated.ttft_s, predicted=plan.ttft_s)
        self.estimates.observe(f"{key}/tokens", units, predicted=plan.output_units)
        if generated.tokens_per_second > 0 and units >= 8:
            self.estimates.observe(f"{key}/rate", generated.tokens_per_second, predicted=plan.units_per_s)

    def _learned(self, key: str) -> float | None:
        found = self.estimates.learned(key)
        return found.mean if found is not None else None

    async def _fail(self, emitter: Emitter, failure: Failure, locale: str) -> None:
        if not emitter.ended:
            await emitter.emit(failure, message(locale, "failed", reason=failure.message))

    @staticmethod
    async def _fail_shielded(emitter: Emitter, failure: Failure, note: str) -> None:
        """Report a cancellation: the awaited clean-up is shielded and time-boxed."""
        if emitter.ended:
            return
        with contextlib.suppress(Exception, asyncio.CancelledError):
            async with asyncio.timeout(2.0):
                await asyncio.shield(emitter.emit(failure, note))


def _tick_error(emitter: Emitter) -> Exception | None:
    """When the pacer cancelled the task because a tick could not be written (and nobody else asked to
    cancel it), that error — the task then fails with it, as if its own emit had raised; else None."""
    task = emitter.task
    if emitter.error is None or task is None:
        return None
    if task.uncancel() > 0:  # a real cancellation came too: that one is reported
        return None
    return emitter.error
