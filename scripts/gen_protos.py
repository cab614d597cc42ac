"""Generate the Python stubs of the Qianshi contract: the one command that writes client/qianshi/v1/*_pb2*.

Usage: python scripts/gen_protos.py [--check]

The contract's .proto files live in protos/qianshi/v1/; their stubs (messages, .pyi type stubs and gRPC
service stubs) are written into client/qianshi/v1/, where the ``qianshi-client`` distribution ships
them (the server depends on it), and are never edited by hand. ``--check`` regenerates into a
temporary folder and exits 1 when the committed stubs differ (tests/test_contract.py runs the same
check).
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
THIRD_PARTY = PROTOS / "third_party"
PACKAGE = PROTOS / "qianshi" / "v1"
STUBS = ROOT / "client"
"""Where the stubs go: client/qianshi/v1/, beside the client library in the qianshi-client distribution."""
SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_files() -> list[Path]:
    """The contract's .proto files, relative to protos/."""
    return sorted(p.relative_to(PROTOS) for p in PACKAGE.glob("*.proto"))


def generate(out: Path) -> list[Path]:
    """Run protoc (from grpcio-tools) into ``out``; return the generated files, relative to it."""
    import grpc_tools
    from grpc_tools import protoc

    wkt = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{THIRD_PARTY}",
        f"-I{wkt}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *[str(p) for p in proto_files()],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted(p.relative_to(out) for p in out.rglob("*") if p.name.endswith(SUFFIXES))


def stale_files() -> list[str]:
    """Names of generated files that are missing, different or left over; empty when up to date."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stubs = STUBS / PACKAGE.relative_to(PROTOS)
        committed = sorted(p.relative_to(STUBS) for p in stubs.iterdir() if p.name.endswith(SUFFIXES))
        problems = [f"leftover: {p}" for p in committed if p not in fresh]
        for rel in fresh:
            have = STUBS / rel
            if not have.exists():
                problems.append(f"missing: {rel}")
            elif not filecmp.cmp(have, Path(tmp) / rel, shallow=False):
                problems.append(f"stale: {rel}")
        return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed stubs are stale")
    args = parser.parse_args()
    if args.check:
        problems = stale_files()
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run: python scripts/gen_protos.py", file=sys.stderr)
        return 1 if problems else 0
    for rel in generate(STUBS):
        print(f"wrote {STUBS.relative_to(ROOT) / rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
