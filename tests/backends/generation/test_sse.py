"""The SSE event reader: events split across reads, several per read, CRLF, multi-line data, the end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest
from qianshi.server.backends.generation.sse import EventReader


def feeder(pieces: Iterable[bytes]) -> EventReader:
    queue = [*pieces, b""]

    async def read() -> bytes:
        return queue.pop(0)

    return EventReader(read)


async def events_of(*pieces: bytes) -> list[bytes]:
    reader = feeder(pieces)
    out = []
    while (event := await reader.next_event()) is not None:
        out.append(event)
    assert reader.eof
    return out


async def test_one_event_per_read_as_vllm_writes_them():
    assert await events_of(b'data: {"a":1}\n\n', b"data: [DONE]\n\n") == [b'{"a":1}', b"[DONE]"]


async def test_events_split_across_reads_and_several_in_one_read():
    body = b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: {"c":3}\n\n'
    assert await events_of(body[:3], body[3:20], body[20:]) == [b'{"a":1}', b'{"b":2}', b'{"c":3}']
    assert await events_of(*(body[i : i + 1] for i in range(len(body)))) == [
        b'{"a":1}',
        b'{"b":2}',
        b'{"c":3}',
    ]


async def test_crlf_comments_other_fields_and_multiline_data():
    body = b": ping\r\nevent: message\r\nid: 7\r\ndata:x\r\ndata: y\r\nretry: 10\r\n\r\n"
    assert await events_of(body) == [b"x\ny"]


async def test_blank_lines_alone_make_no_event_and_a_cut_body_keeps_its_last_event():
    assert await events_of(b"\n\n\n") == []
    assert await events_of(b"data: 1\n\ndata: partial") == [b"1", b"partial"]


async def test_the_wait_is_bounded_by_the_caller_and_loses_nothing():
    arrived = asyncio.Event()
    pieces = [b"data: late\n\n", b""]

    async def read() -> bytes:
        await arrived.wait()
        return pieces.pop(0)

    reader = EventReader(read)
    loop = asyncio.get_running_loop()
    with pytest.raises(TimeoutError):
        await reader.next_event(loop.time() + 0.01)
    arrived.set()
    assert await reader.next_event(loop.time() + 5) == b"late"
    assert await reader.next_event(loop.time() + 5) is None
