"""Dependencies flow one way (STYLE.md §2, DESIGN.md §1):

    transport (service, gateway) → tasks → pipeline → backends → writing → reading → domain / errors / config

``observability`` watches the pipeline's events from the side (it may import the pipeline's event
types). The composition roots ``main``, ``workers``, ``serving`` and ``wiring`` (and ``ingest``) may
import any package, and each other in one direction only: ``main`` → ``workers`` → ``serving`` →
``wiring``. ``config`` (the options) imports nothing of the project. Below
the transport nothing imports gRPC, protobuf, the generated stubs or the web framework. Seams are owned
by their user: the pipeline owns ``EventLog`` and never imports ``tasks``, which implements it. Inside
``backends``, retrieval and generation do not know each other; inside ``pipeline``, question
understanding (``categories``) knows nothing of the task body.

``LAYOUT`` is the single description of the packages; the README's tree must name the same ones.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server" / "qianshi" / "server"
P = "qianshi.server."
TRANSPORT_LIBS = (
    "grpc",
    "grpc_status",
    "grpc_health",
    "grpc_reflection",
    "google.protobuf",
    "google.rpc",
    "qianshi.v1",
    "starlette",
    "uvicorn",
    "sse_starlette",
    "connectrpc",
    "protobuf",  # protobuf-py, connectrpc's own message runtime (gateway/errors.py)
)
BASE = (P + "domain", P + "errors", P + "config", P + "chinese")
WRITING = (P + "writing", P + "reading")
"""What a generator is asked to write (``writing``) and the reading it writes from: below the pipeline
and the backends, which both speak them, above ``domain``."""

# package → (what it is, what of the project it may import besides itself and BASE)
LAYOUT: dict[str, tuple[str, tuple[str, ...]]] = {
    "service": ("gRPC transport", (P + "tasks", P + "pipeline", P + "observability", "qianshi.v1")),
    "gateway": (
        "HTTP transport: SSE, gRPC-Web, Connect",
        (P + "observability", "qianshi.client", "qianshi.v1"),
    ),
    "tasks": ("registry and event logs", (P + "pipeline",)),
    "tasks/redis": (
        "the shared event log in Redis",
        (P + "tasks.codec", P + "tasks.ids", P + "tasks.lost", P + "tasks.memory_log", P + "pipeline"),
    ),
    "pipeline": ("the task body", WRITING),
    "reading": ("what the slip says to this question", ()),
    "reading/categories": ("question understanding: the topic", ()),
    "backends": ("retrieval and generation", ()),
    "backends/retrieval": ("Qdrant retrieval", ()),
    "backends/generation": ("the generators", WRITING),
    "backends/generation/grounded": ("the grounded generator", WRITING),
    "observability": ("metrics, tracing, logs", (P + "pipeline.events", P + "pipeline.eventlog")),
}
BELOW_TRANSPORT = [name for name in LAYOUT if name not in ("service", "gateway")]


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (the layering checks read absolute names)"
            assert node.module is not None
            if node.module in ("qianshi.server", *(P + pkg.replace("/", ".") for pkg in LAYOUT)):
                # ``from package import module``: what is imported is the module
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                names.add(node.module)
    return names


def own_modules(package: str) -> list[Path]:
    """The modules of ``package`` itself (its subpackages are checked on their own)."""
    folder = SERVER / package
    return sorted(folder.glob("*.py"))


def dotted(package: str) -> str:
    return P + package.replace("/", ".")


def starts(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def ancestors(package: str) -> tuple[str, ...]:
    parts = package.split("/")
    return tuple(dotted("/".join(parts[:i])) for i in range(1, len(parts)))


def cases(packages: list[str]) -> list[Path]:
    return [path for package in packages for path in own_modules(package)]


def case_id(path: Path) -> str:
    return str(path.relative_to(SERVER))


@pytest.mark.parametrize("path", cases(list(LAYOUT)), ids=case_id)
def test_each_package_imports_only_what_lies_below_it(path: Path) -> None:
    package = str(path.parent.relative_to(SERVER))
    _, allowed = LAYOUT[package]
    own = dotted(package)
    # a subpackage may use its parent package's modules (backends/generation/grounded → generation,
    # reading/categories → reading)
    nested = package.startswith(("backends/generation", "reading"))
    mine = (own, *ancestors(package)) if nested else (own,)
    ok = (*mine, *BASE, *allowed)
    bad = {n for n in imports(path) if n.startswith("qianshi") and not starts(n, ok)}
    assert not bad, f"{case_id(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", cases(BELOW_TRANSPORT), ids=case_id)
def test_nothing_below_the_transport_speaks_grpc_protobuf_or_http(path: Path) -> None:
    bad = {n for n in imports(path) if starts(n, TRANSPORT_LIBS)}
    assert not bad, f"{case_id(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", cases(["pipeline"]), ids=case_id)
def test_the_pipeline_never_imports_the_tasks_that_run_it(path: Path) -> None:
    bad = {n for n in imports(path) if starts(n, (P + "tasks", P + "backends"))}
    assert not bad, f"{case_id(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", cases(["reading", "reading/categories"]), ids=case_id)
def test_the_reading_knows_nothing_of_the_task_body_or_the_writers(path: Path) -> None:
    bad = {
        n for n in imports(path) if starts(n, (P + "pipeline", P + "backends", P + "tasks", P + "writing"))
    }
    assert not bad, f"{case_id(path)} imports {sorted(bad)}"


def test_writing_sits_on_the_reading_and_the_domain_only() -> None:
    bad = {
        n
        for n in imports(SERVER / "writing.py")
        if n.startswith("qianshi") and not starts(n, (P + "domain", P + "reading"))
    }
    assert not bad


@pytest.mark.parametrize(
    ("package", "other"),
    [("backends/retrieval", "backends.generation"), ("backends/generation", "backends.retrieval")],
)
def test_retrieval_and_generation_do_not_know_each_other(package: str, other: str) -> None:
    for path in sorted((SERVER / package).rglob("*.py")):
        bad = {n for n in imports(path) if starts(n, (P + other,))}
        assert not bad, f"{case_id(path)} imports {sorted(bad)}"


ROOTS = ("main", "workers", "serving", "wiring")
"""The composition roots, each importing only those after it."""


@pytest.mark.parametrize("index", range(len(ROOTS)), ids=ROOTS)
def test_the_composition_roots_import_each_other_one_way(index: int) -> None:
    name = ROOTS[index]
    earlier = tuple(P + root for root in ROOTS[:index])
    bad = {n for n in imports(SERVER / f"{name}.py") if starts(n, earlier)}
    assert not bad, f"{name}.py imports {sorted(bad)} (the roots import one way: {' → '.join(ROOTS)})"


def test_config_imports_nothing_of_the_project() -> None:
    bad = {n for n in imports(SERVER / "config.py") if n.startswith("qianshi") or starts(n, TRANSPORT_LIBS)}
    assert not bad, f"config.py imports {sorted(bad)}"


@pytest.mark.parametrize("name", ["domain.py", "errors.py", "chinese.py"])
def test_shared_types_import_nothing_of_the_project(name: str) -> None:
    bad = {n for n in imports(SERVER / name) if n.startswith("qianshi") or starts(n, TRANSPORT_LIBS)}
    assert not bad


def test_every_package_is_in_the_layout_and_has_a_docstring() -> None:
    found = {str(p.parent.relative_to(SERVER)) for p in SERVER.rglob("__init__.py")} - {"."}
    assert found == set(LAYOUT)
    for package in LAYOUT:
        tree = ast.parse((SERVER / package / "__init__.py").read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree)
        assert doc and "import" in doc, (
            f"{package}/__init__.py must say what lives there and what it may import"
        )


def test_the_readme_tree_names_the_same_packages() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    box = readme.split("## What is in the box", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"\b([a-z_]+(?:/[a-z_]+)*)/(?=\s)", box))
    for package in LAYOUT:
        assert any(n == package or n.startswith(package + "/") for n in named), (
            f"README tree lacks {package}/"
        )


def test_tests_mirror_the_packages() -> None:
    for package in LAYOUT:
        assert (ROOT / "tests" / package).is_dir(), f"tests/{package}/ is missing"


def test_no_module_is_over_400_lines() -> None:
    big = {
        case_id(p): n
        for p in SERVER.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not big
