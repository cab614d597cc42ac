"""The events of a task, as the pipeline speaks them (the transport converts them to protobuf).

A task's events form its log: ``seq`` 1, 2, 3 … without gaps, ``percent`` never decreasing, exactly
one terminal event (``Result`` or ``Failure``) at the end. See protos/qianshi/v1/events.proto.
"""

from __future__ import annotations

from dataclasses import dataclass

from qianshi.server.domain import CategorySource, Passage, Poem, Stage
from qianshi.server.errors import ErrorCode, FieldViolation
from qianshi.server.writing import Quality


@dataclass(frozen=True, slots=True)
class Accepted:
    request_id: str
    category: str
    category_source: CategorySource
    locale: str
    generator: str


@dataclass(frozen=True, slots=True)
class Tick:
    stage_elapsed_s: float
    queue_position: int = 0


@dataclass(frozen=True, slots=True)
class StageStarted:
    stage: Stage
    expected_s: float | None


@dataclass(frozen=True, slots=True)
class StageCompleted:
    stage: Stage
    duration_s: float


@dataclass(frozen=True, slots=True)
class PoemFound:
    poem: Poem


@dataclass(frozen=True, slots=True)
class PassagesFound:
    passages: tuple[Passage, ...]
    category: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    offset: int
    """Characters (code points) of text before this delta."""
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class Result:
    text: str
    cited_passage_ids: tuple[str, ...]
    unknown_citations: tuple[int, ...]
    prompt_tokens: int
    completion_tokens: int
    timings: tuple[tuple[Stage, float], ...]
    generator: str
    model: str
    prompt_version: str
    time_to_first_token_s: float | None
    tokens_per_second: float
    fallback_used: bool
    category: str
    quality: Quality | None = None
    """What the guard found in an LLM's text (None: the grounded generator, or the guard is off)."""
    finish_reason: str = ""
    """Why the text ended: stop, length, repetition (the engine's loop detection) or guard."""


@dataclass(frozen=True, slots=True)
class Failure:
    code: ErrorCode
    message: str
    reason: str
    partial_text: str = ""
    violations: tuple[FieldViolation, ...] = ()
    retry_after_s: float | None = None


Payload = (
    Accepted | Tick | StageStarted | StageCompleted | PoemFound | PassagesFound | TextDelta | Result | Failure
)
TERMINAL = (Result, Failure)


@dataclass(frozen=True, slots=True)
class Event:
    task_id: str
    seq: int
    stage: Stage
    percent: float
    message: str
    elapsed_s: float
    eta_s: float | None
    timestamp: float
    """Wall-clock time (``time.time()``) at which the event was created."""
    payload: Payload

    @property
    def terminal(self) -> bool:
        return isinstance(self.payload, TERMINAL)

    @property
    def kind(self) -> str:
        """The payload's name as in the contract's oneof (``text_delta``, ``result`` …)."""
        return _KINDS[type(self.payload)]


_KINDS: dict[type, str] = {
    Accepted: "accepted",
    Tick: "tick",
    StageStarted: "stage_started",
    StageCompleted: "stage_completed",
    PoemFound: "poem",
    PassagesFound: "passages",
    TextDelta: "text_delta",
    Result: "result",
    Failure: "error",
}
