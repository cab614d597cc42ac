"""Small helpers over ``qianshi.v1.ProgressEvent``: its kind, whether it ends the stream, its JSON."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message
from qianshi.v1 import events_pb2

__all__ = ["TERMINAL_KINDS", "event_to_json", "is_terminal", "payload_kind"]

#: The payload kinds that end a task's stream (exactly one per task, always the last event).
TERMINAL_KINDS = frozenset({"result", "error"})

# Characters that json.dumps(ensure_ascii=False) leaves raw but that str.splitlines() (and some
# line-oriented readers) treat as line breaks; escaping them keeps one event on one line.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def payload_kind(event: events_pb2.ProgressEvent) -> str:
    """The name of the event's payload, for example ``"text_delta"``; empty when none is set."""
    return event.WhichOneof("payload") or ""


def is_terminal(event: events_pb2.ProgressEvent) -> bool:
    """True for the event that ends a task: a ``result`` or an ``error``."""
    return payload_kind(event) in TERMINAL_KINDS


def event_to_json(event: Message) -> str:
    """The event (or any message) in protobuf's JSON mapping, as the gateway sends it, on one line
    (grpcurl 1.8.6 prints the same with the proto's own field names: ``task_id`` for ``taskId``).

    Field names are lowerCamelCase, enums are names, durations are strings such as ``"1.200s"``.
    Non-ASCII text (the poem, the interpretation) stays readable rather than ``\\uXXXX``-escaped.
    """
    text = json_format.MessageToJson(
        event, indent=None, preserving_proto_field_name=False, ensure_ascii=False
    )
    return text.translate(_LINE_BREAKS)
