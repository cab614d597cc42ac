"""The contract: generated stubs are fresh, the proto passes buf lint, and it reads as documented."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci import in_ci

ROOT = Path(__file__).resolve().parent.parent


def _gen_protos():
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_stubs_are_up_to_date():
    problems = _gen_protos().stale_files()
    assert problems == [], f"stale stubs, run `python scripts/gen_protos.py`: {problems}"


def _buf() -> str | None:
    local = ROOT / ".tools" / "node_modules" / ".bin" / "buf"
    if local.exists():
        return str(local)
    return shutil.which("buf")


def test_proto_passes_buf_lint():
    buf = _buf()
    if buf is None:
        if in_ci():
            pytest.fail("buf is not installed (scripts/test.sh installs it from npm)")
        pytest.skip("buf is not installed; run scripts/test.sh")
    result = subprocess.run([buf, "lint"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_message_field_and_enum_value_is_commented():
    from google.protobuf import descriptor_pb2
    from qianshi.v1 import events_pb2, interpret_service_pb2, poems_pb2

    for module in (events_pb2, interpret_service_pb2, poems_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        text = (ROOT / "protos" / module.DESCRIPTOR.name).read_text(encoding="utf-8")
        lines = text.splitlines()
        for i, line in enumerate(lines):
            stripped = line.strip()
            declares = stripped.startswith(("message ", "enum ", "rpc ", "service ", "oneof ")) or (
                stripped.endswith(";") and "=" in stripped and not stripped.startswith(("option", "syntax"))
            )
            if declares:
                assert lines[i - 1].strip().startswith("//"), f"{module.DESCRIPTOR.name}:{i + 1}: {stripped}"


def test_stubs_import_without_the_server():
    code = "import qianshi.v1.interpret_service_pb2_grpc, qianshi.v1.events_pb2; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
