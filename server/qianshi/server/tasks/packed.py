"""Events packed into bytes, for the events a log holds in memory behind its newest one.

A held stream's log grows by a tick at every tick interval, and an ended task's log is kept for the
retention window (``Watch``, ``request_id`` retries). As objects an event costs ~430 B: the
``Event``, its payload, five floats, the message, and the UTF-8 copy of the message that protobuf
caches inside the string once the transport has sent it. Packed, a tick is ~120 B. The memory log
packs an event when the next one is appended (the newest stays an object: the live reader takes it
as it is) and unpacks it only for a reader that asks for it again (a ``Watch`` replaying, a reader
that fell behind).

Not ``tasks.codec``: that is the shared log's form, JSON keyed by field name so two versions of the
server can read each other's events during a rolling upgrade (a tick: 249 B, 7 µs to encode; packed: 91 B, 1.3 µs); these
bytes never leave the process that packed them, so they carry no names and no version.

``pack`` handles the kinds a log holds many of: ticks, stage events, text deltas and the accepted
event; it returns any other event as it is (the poem's objects are shared with the retriever's
cache, the passages and the terminal events come once per task). ``unpack(task_id, seq, pack(e))
== e`` for every event ``pack`` packs: floats are stored as doubles, ``None`` as NaN.
"""

from __future__ import annotations

import math
import struct

from qianshi.server.domain import CategorySource, Stage
from qianshi.server.pipeline.events import (
    Accepted,
    Event,
    StageCompleted,
    StageStarted,
    TextDelta,
    Tick,
)

_STAGES = tuple(Stage)
_STAGE_INDEX = {stage: i for i, stage in enumerate(_STAGES)}
_SOURCES = tuple(CategorySource)
_SOURCE_INDEX = {source: i for i, source in enumerate(_SOURCES)}

_HEAD = struct.Struct("<BBdddd")
"""kind, stage, percent, elapsed_s, eta_s (NaN: None), timestamp."""
_TICK = struct.Struct("<dQ")  # stage_elapsed_s, queue_position
_STAGE = struct.Struct("<Bd")  # stage, expected_s / duration_s (NaN: None)
_DELTA = struct.Struct("<QQ")  # offset, tokens
_ACCEPTED = struct.Struct("<B")  # category_source
_LENGTH = struct.Struct("<I")

_TICK_KIND, _STARTED_KIND, _COMPLETED_KIND, _DELTA_KIND, _ACCEPTED_KIND = range(1, 6)
_NAN = math.nan


def _or_nan(value: float | None) -> float:
    return _NAN if value is None else value


def _or_none(value: float) -> float | None:
    return None if value != value else value  # NaN is the one float unequal to itself


def _strings(*values: str) -> bytes:
    parts = []
    for value in values:
        raw = value.encode("utf-8", "surrogatepass")
        parts.append(_LENGTH.pack(len(raw)))
        parts.append(raw)
    return b"".join(parts)


def _read_strings(data: bytes, at: int, count: int) -> list[str]:
    out = []
    for _ in range(count):
        (length,) = _LENGTH.unpack_from(data, at)
        at += 4
        out.append(data[at : at + length].decode("utf-8", "surrogatepass"))
        at += length
    return out


def pack(event: Event) -> bytes | Event:
    """The event as bytes (its task id and seq are the log's and its place in it), or the event
    itself when its kind is not packed."""
    try:
        return _pack(event)
    except (struct.error, OverflowError):  # a count beyond 64 bits: kept as it is
        return event


def _pack(event: Event) -> bytes | Event:
    p = event.payload
    strings: tuple[str, ...]
    if isinstance(p, Tick):
        code, body, strings = _TICK_KIND, _TICK.pack(p.stage_elapsed_s, p.queue_position), (event.message,)
    elif isinstance(p, TextDelta):
        code, body, strings = _DELTA_KIND, _DELTA.pack(p.offset, p.tokens), (event.message, p.text)
    elif isinstance(p, StageStarted):
        code, body = _STARTED_KIND, _STAGE.pack(_STAGE_INDEX[p.stage], _or_nan(p.expected_s))
        strings = (event.message,)
    elif isinstance(p, StageCompleted):
        code, body = _COMPLETED_KIND, _STAGE.pack(_STAGE_INDEX[p.stage], p.duration_s)
        strings = (event.message,)
    elif isinstance(p, Accepted):
        code, body = _ACCEPTED_KIND, _ACCEPTED.pack(_SOURCE_INDEX[p.category_source])
        strings = (event.message, p.request_id, p.category, p.locale, p.generator)
    else:
        return event
    head = _HEAD.pack(
        code, _STAGE_INDEX[event.stage], event.percent, event.elapsed_s, _or_nan(event.eta_s), event.timestamp
    )
    return head + body + _strings(*strings)


def unpack(task_id: str, seq: int, data: bytes) -> Event:
    """The event ``pack`` packed, as the ``seq``-th event of task ``task_id``."""
    code, stage, percent, elapsed_s, eta_s, timestamp = _HEAD.unpack_from(data)
    at = _HEAD.size
    payload: Tick | TextDelta | StageStarted | StageCompleted | Accepted
    if code == _TICK_KIND:
        stage_elapsed_s, position = _TICK.unpack_from(data, at)
        (message,) = _read_strings(data, at + _TICK.size, 1)
        payload = Tick(stage_elapsed_s, position)
    elif code == _DELTA_KIND:
        offset, tokens = _DELTA.unpack_from(data, at)
        message, text = _read_strings(data, at + _DELTA.size, 2)
        payload = TextDelta(text, offset, tokens)
    elif code in (_STARTED_KIND, _COMPLETED_KIND):
        which, seconds = _STAGE.unpack_from(data, at)
        (message,) = _read_strings(data, at + _STAGE.size, 1)
        if code == _STARTED_KIND:
            payload = StageStarted(_STAGES[which], _or_none(seconds))
        else:
            payload = StageCompleted(_STAGES[which], seconds)
    elif code == _ACCEPTED_KIND:
        (source,) = _ACCEPTED.unpack_from(data, at)
        message, request_id, category, locale, generator = _read_strings(data, at + _ACCEPTED.size, 5)
        payload = Accepted(request_id, category, _SOURCES[source], locale, generator)
    else:
        raise ValueError(f"not a packed event (kind {code})")
    return Event(
        task_id=task_id,
        seq=seq,
        stage=_STAGES[stage],
        percent=percent,
        message=message,
        elapsed_s=elapsed_s,
        eta_s=_or_none(eta_s),
        timestamp=timestamp,
        payload=payload,
    )
