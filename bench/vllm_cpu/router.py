"""vLLM's own router (``vllm-router``, PyPI; a Rust load balancer shipped in a wheel) in a small venv of
its own, and the process that runs it in front of several ``vllm serve``.

Where: ``$QIANSHI_VLLM_ROUTER_VENV`` or ``${XDG_DATA_HOME:-~/.local/share}/qianshi/vllm-router-<pin
hash>``, made once under a file lock (~20 s, ~25 MB from PyPI) and reused while the pin holds. Not in
the project's venv: it requires fastapi (which pins its own starlette range, and the project's gateway
runs on starlette) and requests, which the server does not need; not in vLLM's venv either: that one is
pinned and shared, and adding to it changes what every engineer's tier runs on.

``Router`` starts ``vllm-router --worker-urls URL… --policy round_robin`` on a free port in the
caller's session (like every process of this tier), waits until it answers ``/v1/models`` (it
forwards the workers' model list), and stops it. ``extra`` passes its retry and health options.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import urllib.error
from collections.abc import Sequence
from pathlib import Path

from bench.vllm_cpu import venv
from bench.vllm_cpu.procs import Run, Service, free_port, get_json

ROUTER = "vllm-router==0.1.17"
ENV_VAR = "QIANSHI_VLLM_ROUTER_VENV"
STAMP = ".router-venv-stamp"


def location() -> Path:
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser().absolute()
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data / "qianshi" / f"vllm-router-{hashlib.sha256(ROUTER.encode()).hexdigest()[:12]}"


def binary(where: Path) -> Path:
    return where / "bin" / "vllm-router"


def ensure(say: venv.Say = print, where: Path | None = None) -> Path:
    """The router's venv, made first if missing; ``venv.VenvUnavailable`` if it cannot be."""
    where = where or location()
    stamp = where / STAMP
    if stamp.is_file() and stamp.read_text().strip() == ROUTER and binary(where).exists():
        return where
    with venv._locked(where):
        if stamp.is_file() and stamp.read_text().strip() == ROUTER and binary(where).exists():
            return where
        say(f"[vllm-router] making its venv in {where} (~20 s the first time)")
        shutil.rmtree(where, ignore_errors=True)
        venv._run([shutil.which("python3") or "python3", "-m", "venv", str(where)], say)
        pip = [str(where / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--no-input"]
        venv._run([*pip, "install", "--progress-bar", "off", ROUTER], say)
        stamp.write_text(ROUTER + "\n")
    return where


class Router:
    """``vllm-router`` in front of ``workers`` (base URLs without ``/v1``), round robin."""

    def __init__(self, run: Run, where: Path, workers: Sequence[str], extra: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        argv = [str(binary(where)), "--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--worker-urls", *workers, "--policy", "round_robin", *extra]
        self.service = Service("vllm-router", argv, run.environment())
        run.remember(self.service.pgid)

    def wait_ready(self, timeout: float = 60.0) -> Router:
        """Until ``/v1/models`` answers through the router (there is no log line to wait for that
        also proves the workers are reachable, so it is asked, with a deadline)."""
        end = time.monotonic() + timeout
        while True:
            try:
                get_json(self.url + "/models", timeout=5.0)
                return self
            except (OSError, ValueError, urllib.error.URLError) as exc:
                if time.monotonic() > end or self.service.popen.poll() is not None:
                    raise RuntimeError(f"vllm-router did not come up: {exc}\n{self.service.tail()}") from exc
                time.sleep(0.1)

    def stop(self) -> float:
        return self.service.stop()
