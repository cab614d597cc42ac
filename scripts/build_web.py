"""Build the typed web client: TypeScript generated from protos/, type-checked, bundled for the gateway.

    python scripts/build_web.py            # npm ci (when needed), buf generate, tsc, esbuild
    python scripts/build_web.py --check    # fail when web/src/gen or static/typed.js is stale
    python scripts/build_web.py --install  # only make web/node_modules match web/package-lock.json

Every tool comes from npm, pinned in web/package.json and web/package-lock.json: the buf CLI runs
protoc-gen-es (web/buf.gen.yaml) over the buf workspace at the root into web/src/gen/, tsc checks
web/src (types only), and esbuild bundles web/src/typed.ts with @connectrpc/connect-web into
server/qianshi/server/gateway/static/typed.js.

Both the generated TypeScript and the bundle are committed: the server distribution ships the page as
package data, so ``pip install`` and the quick start need no Node.js, and a web developer reads the
generated client in the repository. ``--check`` rebuilds everything in a copy of the tree and compares
it byte for byte with what is committed (tests/gateway/test_typed_page.py runs it, so CI fails on a
stale bundle or stale generated code).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = Path("web")
GEN = WEB / "src" / "gen"
BUNDLE = Path("server/qianshi/server/gateway/static/typed.js")
STAMP = "node_modules/.qianshi-package-lock.json"
"""A copy of the lock file that ``npm ci`` last installed: when it differs, install again."""
COPIED = (
    "buf.yaml",
    "protos",
    "web/src/typed.ts",
    "web/buf.gen.yaml",
    "web/tsconfig.json",
    "web/package.json",
)


def run(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")


def install(root: Path = ROOT) -> Path:
    """``npm ci`` in web/ unless node_modules already holds what the lock file names."""
    web = root / WEB
    lock, stamp = web / "package-lock.json", web / STAMP
    if not (stamp.exists() and stamp.read_bytes() == lock.read_bytes()):
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is not installed (Debian: apt-get install nodejs npm)")
        run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], web)
        shutil.copyfile(lock, stamp)
    return web / "node_modules"


def build(root: Path, node_modules: Path) -> None:
    """Generate, type-check and bundle inside ``root`` (the repository or a copy of its sources)."""
    bin_ = node_modules / ".bin"
    run([str(bin_ / "buf"), "generate", "--template", str(WEB / "buf.gen.yaml")], root)
    run([str(bin_ / "tsc"), "-p", str(WEB / "tsconfig.json")], root)
    run(
        [
            str(bin_ / "esbuild"),
            str(WEB / "src" / "typed.ts"),
            "--bundle",
            "--minify",
            "--format=esm",
            "--target=es2022",
            "--legal-comments=none",
            "--log-level=warning",
            f"--outfile={BUNDLE}",
        ],
        root,
    )


def stale(node_modules: Path) -> list[str]:
    """What a fresh build would change: files of web/src/gen and the bundle that differ or are missing."""
    with tempfile.TemporaryDirectory(prefix="qianshi-web-") as tmp:
        copy = Path(tmp)
        for name in COPIED:
            source, target = ROOT / name, copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copyfile(source, target)
        (copy / WEB / "node_modules").symlink_to(node_modules, target_is_directory=True)
        (copy / BUNDLE).parent.mkdir(parents=True, exist_ok=True)
        build(copy, node_modules)
        fresh = {p.relative_to(copy) for p in (copy / GEN).rglob("*") if p.is_file()} | {BUNDLE}
        kept = {p.relative_to(ROOT) for p in (ROOT / GEN).rglob("*") if p.is_file()} | {BUNDLE}
        problems = [f"{p}: not generated any more" for p in sorted(kept - fresh)]
        for path in sorted(fresh):
            if not (ROOT / path).exists():
                problems.append(f"{path}: missing")
            elif not filecmp.cmp(copy / path, ROOT / path, shallow=False):
                problems.append(f"{path}: stale")
        return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--check", action="store_true", help="fail when the committed output is stale")
    what.add_argument("--install", action="store_true", help="only install web/node_modules")
    args = parser.parse_args()
    node_modules = install()
    if args.install:
        return
    if args.check:
        problems = stale(node_modules)
        if problems:
            print(
                "stale web build, run `python scripts/build_web.py`:", *problems, sep="\n  ", file=sys.stderr
            )
            raise SystemExit(1)
        return
    build(ROOT, node_modules)


if __name__ == "__main__":
    main()
