"""Dependencies flow one way: transport → pipeline → backends (STYLE.md §2).

The pipeline and the backends never import gRPC, protobuf, the generated stubs or the web framework;
the backends never import the pipeline or the transport; the pipeline never imports the transport.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "server" / "qianshi" / "server"
TRANSPORT_LIBS = (
    "grpc",
    "grpc_status",
    "grpc_health",
    "google.protobuf",
    "google.rpc",
    "qianshi.v1",
    "starlette",
    "uvicorn",
    "sse_starlette",
)


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((SERVER / package).rglob("*.py"))


def starts(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", modules("pipeline"), ids=lambda p: p.name)
def test_pipeline_speaks_no_transport(path):
    bad = {
        n
        for n in imports(path)
        if starts(n, (*TRANSPORT_LIBS, "qianshi.server.service", "qianshi.server.gateway"))
    }
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", modules("backends"), ids=lambda p: p.name)
def test_backends_depend_on_nothing_above_them(path):
    above = (
        "qianshi.server.pipeline",
        "qianshi.server.service",
        "qianshi.server.gateway",
        "qianshi.v1",
        "grpc",
    )
    bad = {n for n in imports(path) if starts(n, above)}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("name", ["domain.py", "errors.py"])
def test_shared_types_import_nothing_of_the_project(name):
    bad = {n for n in imports(SERVER / name) if n.startswith("qianshi") or starts(n, TRANSPORT_LIBS)}
    assert not bad
