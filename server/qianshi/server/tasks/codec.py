"""Pipeline events as compact JSON bytes, and back (what the shared event log stores).

``encode(event)`` and ``decode(data)`` round-trip every ``Event`` exactly: the payload's kind is
stored beside it, enums by value, tuples as lists, nested dataclasses (``Poem``, ``Passage``,
``Judgment``, ``FieldViolation``) as objects keyed by field name, floats with ``repr`` precision.

Field names — not positions — are the keys, so replicas of two adjacent versions can share one log
during a rolling upgrade: a decoder ignores fields it does not know and fills the ones it lacks from
the dataclass defaults. The converters are derived once per type from its annotations, so a field
added to a payload is encoded without touching this module.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from qianshi.server.pipeline import events as ev

Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]

_KIND_TYPES: dict[str, type] = {kind: cls for cls, kind in ev._KINDS.items()}
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


class CodecError(ValueError):
    """The bytes are not an encoded event (corrupt, or written by an incompatible version)."""


def _same(value: Any) -> Any:
    return value


def _converters(tp: Any) -> tuple[Encode, Decode]:
    """The (encode, decode) pair for one annotated type."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        enc, dec = _converters(inner)
        return (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v))
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            enc, dec = _converters(args[0])
            return (lambda v: [enc(x) for x in v]), (lambda v: tuple(dec(x) for x in v))
        pairs = [_converters(a) for a in args]
        return (
            lambda v: [p[0](x) for p, x in zip(pairs, v, strict=True)],
            lambda v: tuple(p[1](x) for p, x in zip(pairs, v, strict=True)),
        )
    if origin is not None and issubclass(origin, Mapping):
        return (lambda v: dict(v)), (lambda v: dict(v))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return (lambda v: v.value), tp
    if dataclasses.is_dataclass(tp):
        return _dataclass(tp)
    if tp is float:
        return _same, float
    if tp in (str, int, bool):
        return _same, _same
    raise TypeError(f"codec cannot convert {tp!r}")


def _dataclass(cls: Any) -> tuple[Encode, Decode]:
    hints = typing.get_type_hints(cls)
    fields = [(f.name, *_converters(hints[f.name])) for f in dataclasses.fields(cls)]
    decoders = {name: dec for name, _, dec in fields}

    def encode(value: Any) -> dict[str, Any]:
        return {name: enc(getattr(value, name)) for name, enc, _ in fields}

    def decode(data: Any) -> Any:
        # Unknown keys are ignored (a newer writer); absent ones take the default (an older writer).
        return cls(**{name: decoders[name](raw) for name, raw in data.items() if name in decoders})

    return encode, decode


_PAYLOADS: dict[type, tuple[Encode, Decode]] = {cls: _dataclass(cls) for cls in ev._KINDS}
_STAGE_ENC, _STAGE_DEC = _converters(ev.Stage)


def to_dict(event: ev.Event) -> dict[str, Any]:
    """The event as a JSON-ready dict."""
    payload = event.payload
    return {
        "task_id": event.task_id,
        "seq": event.seq,
        "stage": _STAGE_ENC(event.stage),
        "percent": event.percent,
        "message": event.message,
        "elapsed_s": event.elapsed_s,
        "eta_s": event.eta_s,
        "timestamp": event.timestamp,
        "kind": ev._KINDS[type(payload)],
        "payload": _PAYLOADS[type(payload)][0](payload),
    }


def from_dict(data: Mapping[str, Any]) -> ev.Event:
    """The event a ``to_dict`` dict describes."""
    try:
        cls = _KIND_TYPES[data["kind"]]
        eta = data.get("eta_s")
        return ev.Event(
            task_id=data["task_id"],
            seq=int(data["seq"]),
            stage=_STAGE_DEC(data["stage"]),
            percent=float(data["percent"]),
            message=data["message"],
            elapsed_s=float(data["elapsed_s"]),
            eta_s=None if eta is None else float(eta),
            timestamp=float(data["timestamp"]),
            payload=_PAYLOADS[cls][1](data["payload"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CodecError(f"not an encoded event: {type(exc).__name__}: {exc}") from exc


def encode(event: ev.Event) -> bytes:
    """The event as compact UTF-8 JSON."""
    return _ENCODER.encode(to_dict(event)).encode("utf-8")


def decode(data: bytes | str) -> ev.Event:
    """The event ``encode`` wrote; ``CodecError`` when ``data`` is not one."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise CodecError(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise CodecError("not an encoded event: expected a JSON object")
    return from_dict(raw)
