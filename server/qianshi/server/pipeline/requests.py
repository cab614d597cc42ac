"""The requests the pipeline accepts, and their validation (before any work starts).

The transport copies the protobuf request into ``InterpretParams`` unchanged; ``validate`` turns it into
a ``TaskSpec`` or raises ``InvalidArgument`` naming every offending field (google.rpc.BadRequest) or
``NotFound`` for an unknown set or a poem number past the end of the set. Nothing here waits on I/O:
validation runs on the event loop and costs microseconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from qianshi.server.domain import CategoryChoice, PoemSet
from qianshi.server.errors import FieldViolation, InvalidArgument, NotFound, QianshiError
from qianshi.server.reading.categories.infer import resolve as resolve_category

MAX_QUESTION_CHARS = 500
MAX_TOKENS_LIMIT = 4096
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_TASK_ID = re.compile(r"t_[A-Za-z0-9_-]{22}")
_SET_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_LOCALES = {"zh-hant": "zh-Hant", "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh": "zh-Hant", "en": "en"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class InterpretParams:
    """An Interpret request as it arrived (protobuf defaults for absent fields)."""

    set_id: str
    number: int
    question: str
    category: str = ""
    locale: str = ""
    max_tokens: int = 0
    temperature: float | None = None
    seed: int | None = None
    request_id: str = ""
    keep_running: bool = False
    grace_s: float | None = None


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A validated request: everything a task needs to run."""

    poem_set: PoemSet
    number: int
    question: str
    category: CategoryChoice
    locale: str
    max_tokens: int
    temperature: float | None
    seed: int | None
    request_id: str
    keep_running: bool
    grace_s: float


@dataclass(frozen=True, slots=True)
class Limits:
    default_max_tokens: int = 512
    default_grace_s: float = 30.0
    max_grace_s: float = 300.0


def validate(params: InterpretParams, sets: Mapping[str, PoemSet], limits: Limits) -> TaskSpec:
    """Check every field; raise one error naming all bad fields, or NotFound."""
    bad: list[FieldViolation] = []

    question = params.question.strip()
    if not question:
        bad.append(FieldViolation("question", "must not be empty"))
    elif len(question) > MAX_QUESTION_CHARS:
        bad.append(FieldViolation("question", f"must be at most {MAX_QUESTION_CHARS} characters"))
    elif _CONTROL.search(question):
        bad.append(FieldViolation("question", "must not contain control characters"))

    locale = _LOCALES.get(params.locale.strip().lower() or "zh-hant")
    if locale is None:
        bad.append(FieldViolation("locale", f"unknown locale {params.locale[:20]!r}; use 'zh-Hant' or 'en'"))

    if params.max_tokens < 0 or params.max_tokens > MAX_TOKENS_LIMIT:
        bad.append(FieldViolation("options.max_tokens", f"must be between 0 and {MAX_TOKENS_LIMIT}"))
    if params.temperature is not None and not (
        math.isfinite(params.temperature) and 0.0 <= params.temperature <= 2.0
    ):
        bad.append(FieldViolation("options.temperature", "must be between 0 and 2"))
    if params.request_id and not _REQUEST_ID.fullmatch(params.request_id):
        bad.append(FieldViolation("request_id", "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -"))
    if params.grace_s is not None and not (math.isfinite(params.grace_s) and params.grace_s >= 0):
        bad.append(FieldViolation("grace_period", "must not be negative"))
    if params.number < 1:
        bad.append(FieldViolation("number", "must be at least 1"))

    poem_set = None
    if not params.set_id:
        bad.append(FieldViolation("set_id", "must not be empty"))
    elif not _SET_ID.fullmatch(params.set_id):
        bad.append(FieldViolation("set_id", "must be lower-case letters, digits, '-' or '_'"))
    else:
        poem_set = sets.get(params.set_id)

    choice = None
    if poem_set is not None and question and not bad:
        try:
            choice = resolve_category(poem_set, params.category.strip(), question)
        except InvalidArgument as exc:
            bad.extend(exc.violations)

    if bad:
        raise InvalidArgument("; ".join(f"{v.field}: {v.description}" for v in bad), violations=tuple(bad))
    if poem_set is None:
        known = ", ".join(sorted(sets))
        raise NotFound(f"unknown poem set {params.set_id!r}; known sets: {known}", reason="SET_NOT_FOUND")
    if params.number > poem_set.count:
        raise NotFound(
            f"poem {params.number} is not in {poem_set.id} (1 to {poem_set.count})", reason="POEM_NOT_FOUND"
        )
    assert choice is not None and locale is not None
    grace = limits.default_grace_s if params.grace_s is None else params.grace_s
    return TaskSpec(
        poem_set=poem_set,
        number=params.number,
        question=question,
        category=choice,
        locale=locale,
        max_tokens=params.max_tokens or limits.default_max_tokens,
        temperature=params.temperature,
        seed=params.seed,
        request_id=params.request_id,
        keep_running=params.keep_running,
        grace_s=min(grace, limits.max_grace_s),
    )


def validate_task_id(task_id: str) -> str:
    if not _TASK_ID.fullmatch(task_id):
        raise InvalidArgument.field("task_id", "is not a task id (t_ followed by 22 characters)")
    return task_id


def validate_after_seq(after_seq: int) -> int:
    if after_seq < 0:
        raise InvalidArgument.field("after_seq", "must not be negative")
    return after_seq


def validate_poem_key(set_id: str, number: int, sets: Mapping[str, PoemSet]) -> PoemSet:
    """Check a (set, number) look-up key."""
    bad: list[FieldViolation] = []
    if not set_id:
        bad.append(FieldViolation("set_id", "must not be empty"))
    if number < 1:
        bad.append(FieldViolation("number", "must be at least 1"))
    if bad:
        raise InvalidArgument("; ".join(f"{v.field}: {v.description}" for v in bad), violations=tuple(bad))
    poem_set = sets.get(set_id)
    if poem_set is None:
        raise NotFound(f"unknown poem set {set_id[:64]!r}", reason="SET_NOT_FOUND")
    if number > poem_set.count:
        raise NotFound(f"poem {number} is not in {set_id} (1 to {poem_set.count})", reason="POEM_NOT_FOUND")
    return poem_set


__all__ = [
    "InterpretParams",
    "Limits",
    "QianshiError",
    "TaskSpec",
    "validate",
    "validate_after_seq",
    "validate_poem_key",
    "validate_task_id",
]
