"""``qianshi-client`` (client/pyproject.toml) is a distribution of its own, enough for a caller alone.

The static checks: the server requires the client at its own version, the console scripts are split
between the two, and the client declares exactly the distributions its modules import. The ``venv``
test builds the client's wheel from a copy of client/, installs it alone into a fresh virtual
environment (its dependencies from the package index, or pip's cache), and from there uses the
library (``tests/client/client_only_probe.py``) and the ``qianshi`` command against a real server;
none of the server's packages may be importable there. Lives beside the other integration tests to
share their server.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from google.protobuf import json_format
from qianshi.v1 import events_pb2, poems_pb2

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "client"
PROBE = ROOT / "tests" / "client" / "client_only_probe.py"
QUESTION = "我今年換工作會順利嗎？"


def project(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalized(re.split(r"[\s<>=!~;\[@]", r, maxsplit=1)[0]) for r in requirements}


def test_the_server_requires_the_client_at_its_own_version():
    client, server = project(CLIENT), project(ROOT)
    assert client["name"] == "qianshi-client" and server["name"] == "qianshi"
    assert client["version"] == server["version"]
    assert f"qianshi-client=={client['version']}" in server["dependencies"]


def test_the_console_scripts_are_split_between_the_two():
    assert project(CLIENT)["scripts"] == {"qianshi": "qianshi.client.cli:main"}
    assert set(project(ROOT)["scripts"]) == {"qianshi-server", "qianshi-gateway", "qianshi-ingest"}


def submodule(module: str, name: str) -> str:
    """``module.name`` when ``from module import name`` imports a module, else ``module``."""
    if module.split(".")[0] in sys.stdlib_module_names or module.startswith("qianshi"):
        return module
    try:
        return f"{module}.{name}" if importlib.util.find_spec(f"{module}.{name}") else module
    except ModuleNotFoundError:
        return module


def test_every_install_of_the_server_from_the_tree_brings_the_client_along():
    """qianshi-client is not on PyPI: an install of "." must name ./client in the same resolve."""
    lines = [
        (path, line)
        for path in [*sorted((ROOT / "scripts").glob("*.sh")), ROOT / "deploy" / "Dockerfile"]
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"pip install .*(?<![\w/])[\"']?\.(\[[a-z,]+\])?[\"']?(\s|$)", line)
    ]
    assert len(lines) >= 3, lines  # test.sh, demo.sh, the Dockerfile
    for path, line in lines:
        assert "./client" in line, f"{path.name}: {line}"


def imported_modules(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names |= {submodule(node.module, alias.name) for alias in node.names}
    return {
        n for n in names if n.split(".")[0] not in sys.stdlib_module_names and n.split(".")[0] != "qianshi"
    }


def distribution_of(module: str) -> str:
    """The installed distribution whose files hold ``module``."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, module
    origin = Path(spec.origin).resolve()
    candidates = importlib.metadata.packages_distributions()[module.split(".")[0]]
    for name in candidates:
        files = importlib.metadata.distribution(name).files or []
        if any(Path(str(f.locate())).resolve() == origin for f in files):
            return normalized(name)
    raise AssertionError(f"no distribution among {candidates} holds {origin}")


def test_the_client_declares_exactly_the_distributions_it_imports():
    modules = imported_modules(CLIENT / "qianshi")
    assert {"grpc", "google.protobuf.json_format", "google.rpc.status_pb2"} <= modules, modules
    imported = {distribution_of(m) for m in modules}
    assert imported == requirement_names(project(CLIENT)["dependencies"])


# the client alone, in a fresh virtual environment ----------------------------------------------------


def run(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def client_only_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with qianshi-client and its dependencies, nothing else (no pip even)."""
    tmp = tmp_path_factory.mktemp("client-only")
    source = tmp / "source"
    shutil.copytree(CLIENT, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp / "wheels"), str(source)], tmp)
    (wheel,) = (tmp / "wheels").glob("qianshi_client-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp)
    run([*pip, "--python", str(venv / "bin" / "python"), "install", "--quiet", str(wheel)], tmp)
    return venv


async def in_venv(venv: Path, *argv: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "QIANSHI_TARGET")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=venv,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.venv
@pytest.mark.timeout(300)
@pytest.mark.asyncio(loop_scope="session")
async def test_the_client_alone_talks_to_a_real_server(client_only_venv, server):
    venv, target = client_only_venv, f"127.0.0.1:{server.port}"
    python, qianshi = str(venv / "bin" / "python"), str(venv / "bin" / "qianshi")

    code, out, err = await in_venv(venv, python, "-I", str(PROBE), target)
    assert code == 0, err
    report = json.loads(out)
    assert Path(report["python"]).parent == venv / "bin"
    assert report["server_packages_found"] == []
    assert {normalized(d) for d in report["distributions"]} >= {"qianshi-client", "grpcio", "protobuf"}
    assert "qianshi" not in {normalized(d) for d in report["distributions"]}
    sync = report["sync"]
    assert sync["sets"] == ["guandi100", "guanyin100", "mazu60"]
    assert sync["seqs"] == list(range(1, len(sync["seqs"]) + 1))
    assert sync["terminal"] == [False] * (len(sync["seqs"]) - 1) + [True]
    assert sync["result_text"]
    assert sync["refused_fields"] == ["locale", "number"]
    assert report["async"]["kinds"][0] == "accepted" and report["async"]["kinds"][-1] == "result"
    assert report["async"]["poem"] == ["mazu60", 23, 4]

    # the command, as a caller runs it
    code, out, err = await in_venv(venv, qianshi, "--target", target, "sets", "--json")
    assert code == 0, err
    sets = [json_format.Parse(line, poems_pb2.PoemSet()) for line in out.splitlines()]
    assert sorted(s.id for s in sets) == sync["sets"]
    code, out, err = await in_venv(venv, qianshi, "--target", target, "poem", "guandi100", "7", "--json")
    assert code == 0, err
    assert json_format.Parse(out, poems_pb2.Poem()).title
    argv = ["--target", target, "interpret", "--set", "mazu60", "--number", "23", "--question", QUESTION]
    code, out, err = await in_venv(venv, qianshi, *argv, "--json")
    assert code == 0, err
    events = [json_format.Parse(line, events_pb2.ProgressEvent()) for line in out.splitlines()]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].WhichOneof("payload") == "result" and events[-1].percent == 100
    code, out, err = await in_venv(venv, qianshi, *argv[:6], "61", *argv[7:])
    assert code == 1 and "NOT_FOUND" in err, (code, err)
