"""The ``qianshi`` command against the scripted server: in-process (``main`` in a worker thread, its
own event loop, output captured by capsys) and, for signals and pipes, as a real subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest
from fake_qianshi_server import (
    TASK_ID,
    TEXT_PIECES,
    VERSES,
    FakeService,
    bad_request,
    canned_events,
    rich_status,
)
from google.protobuf import json_format
from qianshi.client.cli import main
from qianshi.v1 import events_pb2, poems_pb2

QIANSHI = Path(sys.executable).with_name("qianshi")
WAIT = 30  # seconds; fails loudly if a subprocess never gets there, not a timing assertion


async def run(fake: FakeService, *argv: str) -> int:
    return await asyncio.to_thread(main, ["--target", fake.target, *argv])


async def test_json_prints_one_event_per_line_that_round_trips(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run(fake, "interpret", "--set", "mazu60", "--number", "1", "--question", "順利嗎", "--json")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == 0
    assert len(lines) == len(canned_events())
    parsed = [json_format.Parse(line, events_pb2.ProgressEvent()) for line in lines]
    assert parsed == canned_events()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert json.loads(lines[0])["taskId"] == TASK_ID  # the protobuf JSON mapping: lowerCamelCase


async def test_human_output_shows_the_poem_sources_text_and_summary(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run(
        fake, "interpret", "--number", "1", "--question", "順利嗎", "--category", "婚姻", "--seed", "5"
    )
    captured = capsys.readouterr()
    assert code == 0
    out = captured.out
    for verse in VERSES:
        assert f"    {verse}\n" in out
    assert "包公請雷驚仁宗" in out
    assert "上籤" in out
    assert "[1] 婚姻  允成" in out
    assert "".join(TEXT_PIECES) + "\n" in out
    assert (
        out.index(VERSES[-1]) < out.index("Sources") < out.index("".join(TEXT_PIECES)) < out.index("Summary")
    )
    assert "generator grounded" in out
    assert "cited: [1] mazu60/1/judgment/婚姻/0" in out
    assert f"task: {TASK_ID}" in out
    # Not a terminal: one plain progress line per stage change on stderr, no redraws.
    err = captured.err
    assert "\r" not in err
    assert "\x1b" not in err + out
    stages = [line.split()[1] for line in err.splitlines()]
    assert stages == ["accepted", "retrieval", "generation", "done"]
    request = fake.calls["Interpret"][0].request
    assert (request.category, request.options.seed) == ("婚姻", 5)


async def test_an_error_event_exits_1_with_the_status_on_stderr(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    async def fails(request: Any, context: Any) -> Any:
        for event in canned_events(error=True):
            yield event
        await context.abort(grpc.StatusCode.INTERNAL, "generator failed")

    fake.interpret = fails
    code = await run(fake, "interpret", "--number", "1", "--question", "q")
    captured = capsys.readouterr()
    assert code == 1
    assert "qianshi: error: INTERNAL: generator failed" in captured.err
    assert "".join(TEXT_PIECES) in captured.out  # the text streamed before the failure stays


async def test_a_refused_request_exits_1_with_the_field_violations(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    async def refuse(request: Any, context: Any) -> Any:
        await context.abort_with_status(
            rich_status(grpc.StatusCode.INVALID_ARGUMENT, "bad question", bad_request("question", "too long"))
        )
        yield

    fake.interpret = refuse
    code = await run(fake, "interpret", "--number", "1", "--question", "q", "--json")
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert "INVALID_ARGUMENT: bad question" in captured.err
    assert "question: too long" in captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ["interpret", "--question", "q"],  # neither --number nor --random
        ["interpret", "--number", "0", "--question", "q"],
        ["interpret", "--number", "seven", "--question", "q"],
        ["interpret", "--number", "3", "--random", "--question", "q"],
        ["interpret", "--number", "3", "--locale", "fr"],
        ["--timeout", "0", "sets"],
        ["frobnicate"],
        [],
    ],
)
async def test_usage_errors_exit_2(
    fake: FakeService, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert await run(fake, *argv) == 2
    assert "usage:" in capsys.readouterr().err
    assert fake.calls["Interpret"] == []


async def test_random_draws_a_number_within_the_sets_count(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.sets[0].count = 3
    assert await run(fake, "interpret", "--set", "mazu", "--random", "--question", "q", "--json") == 0
    assert await run(fake, "interpret", "--number", "random", "--question", "q", "--json") == 0
    numbers = [call.request.number for call in fake.calls["Interpret"]]
    assert all(1 <= n <= 3 for n in numbers)
    assert "drew poem" in capsys.readouterr().err


async def test_random_from_an_unknown_set_exits_1(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(fake, "interpret", "--set", "nope", "--random", "--question", "q") == 1
    assert "NOT_FOUND" in capsys.readouterr().err


async def test_watch_passes_after_and_options_after_the_command(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(
        main, ["watch", TASK_ID, "--after", "9", "--json", "--target", fake.target]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [json.loads(line)["seq"] for line in lines] == [str(e.seq) for e in canned_events()[9:]]
    assert fake.calls["Watch"][0].request.after_seq == 9


async def test_cancel(fake: FakeService, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run(fake, "--token", "tok", "cancel", TASK_ID) == 0
    fake.cancel_result = False
    assert await run(fake, "cancel", TASK_ID) == 0
    out = capsys.readouterr().out
    assert f"cancelled {TASK_ID}" in out
    assert "had already ended" in out
    assert fake.calls["Cancel"][0].metadata["authorization"] == "Bearer tok"


async def test_sets_table_and_json(fake: FakeService, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run(fake, "sets") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["id", "name", "count", "categories"]
    assert table[1].split()[0] == "mazu60"
    assert "60" in table[1].split()
    assert "婚姻 求財" in table[1]
    assert await run(fake, "sets", "--json") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json_format.Parse(line, poems_pb2.PoemSet()).id for line in lines] == ["mazu60", "guanyin100"]


async def test_poem(fake: FakeService, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run(fake, "poem", "mazu60", "23") == 0
    out = capsys.readouterr().out
    assert "第23籤" in out
    assert all(verse in out for verse in VERSES)
    assert "求財  先大進後小利" in out
    assert await run(fake, "poem", "mazu60", "23", "--json") == 0
    poem = json_format.Parse(capsys.readouterr().out, poems_pb2.Poem())
    assert poem.number == 23
    assert await run(fake, "poem", "unknown", "1") == 1
    assert "NOT_FOUND" in capsys.readouterr().err


async def test_an_unreachable_server_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = await asyncio.to_thread(main, ["--target", "127.0.0.1:1", "--timeout", "5", "sets"])
    assert code == 1
    assert "UNAVAILABLE" in capsys.readouterr().err


# --- as a subprocess: Ctrl-C and a closed pipe ---------------------------------------------------


async def _one_then_park(request: Any, context: Any) -> Any:
    yield canned_events()[0]
    await asyncio.Event().wait()


async def _spawn(fake: FakeService, *argv: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "QIANSHI_TARGET": fake.target}
    return await asyncio.create_subprocess_exec(
        str(QIANSHI),
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


@pytest.mark.skipif(not QIANSHI.exists(), reason="the qianshi console script is not installed")
async def test_ctrl_c_cancels_the_call_and_exits_130(fake: FakeService) -> None:
    fake.interpret = _one_then_park
    process = await _spawn(fake, "interpret", "--number", "1", "--question", "q", "--json")
    assert process.stdout is not None
    first = await asyncio.wait_for(process.stdout.readline(), WAIT)
    assert json.loads(first)["seq"] == "1"
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode == 130
    assert b"Traceback" not in err
    await asyncio.wait_for(fake.calls["Interpret"][0].cancelled.wait(), WAIT)


@pytest.mark.skipif(not QIANSHI.exists(), reason="the qianshi console script is not installed")
async def test_a_closed_pipe_ends_quietly(fake: FakeService) -> None:
    release = asyncio.Event()

    async def first_then_many(request: Any, context: Any) -> Any:
        yield canned_events()[0]
        await release.wait()
        for seq in range(2, 100_000):  # more than any pipe buffer holds
            yield events_pb2.ProgressEvent(task_id=TASK_ID, seq=seq, message="x" * 100)

    fake.interpret = first_then_many
    read_end, write_end = os.pipe()
    process = await asyncio.create_subprocess_exec(
        str(QIANSHI),
        *("--target", fake.target, "interpret", "--number", "1", "--question", "q", "--json"),
        stdout=write_end,
        stderr=asyncio.subprocess.PIPE,
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:  # like `| head -1`: read one line, then go away
        first = await asyncio.wait_for(asyncio.to_thread(reader.readline), WAIT)
    assert json.loads(first)["seq"] == "1"
    release.set()
    _, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode == 141
    assert err == b""
    await asyncio.wait_for(fake.calls["Interpret"][0].cancelled.wait(), WAIT)
