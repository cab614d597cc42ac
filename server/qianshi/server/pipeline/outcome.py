"""What a task's writing produced, and the ``Result`` event that reports it (the terminal success)."""

from __future__ import annotations

from dataclasses import dataclass

from qianshi.server.domain import Passage, Stage
from qianshi.server.pipeline.citations import citations
from qianshi.server.pipeline.events import Result
from qianshi.server.pipeline.requests import TaskSpec
from qianshi.server.writing import GenerationChunk


@dataclass(slots=True)
class Generated:
    """The generation stage's outcome: the text, the generator's final chunk, its timing."""

    text: str
    final: GenerationChunk
    ttft_s: float | None
    tokens_per_second: float


def result_of(
    spec: TaskSpec,
    passages: tuple[Passage, ...],
    generated: Generated,
    timings: tuple[tuple[Stage, float], ...],
    generator: str,
    model: str,
) -> Result:
    """The ``Result`` of a task: the text with the passages it cites, usage, timings, speed."""
    cited, unknown = citations(generated.text, passages)
    final = generated.final
    return Result(
        text=generated.text,
        cited_passage_ids=cited,
        unknown_citations=unknown,
        prompt_tokens=final.prompt_tokens,
        completion_tokens=final.completion_tokens,
        timings=timings,
        generator=generator,
        model=final.model or model,
        prompt_version=final.prompt_version,
        time_to_first_token_s=generated.ttft_s,
        tokens_per_second=generated.tokens_per_second,
        fallback_used=final.fallback_used,
        category=spec.category.category,
        quality=final.quality,
        finish_reason=final.finish_reason,
    )
