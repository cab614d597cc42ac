"""The processes of a real CPU vLLM: their environment, ``vllm serve``'s command line, and ``Service``.

Every temporary file and cache goes under the venv's ``var`` folder (``environment``): the compile
caches in ``var/cache`` (kept: a warm start's engine init is ~4 s instead of ~30), the temporary folder
in ``var/run-<pid>`` (removed by ``Run.close``; it holds vLLM's ZMQ sockets, whose paths must stay
under 108 bytes, and a link to the 150 MB of precompiled inductor headers in ``var/cache``). Nothing
is left in the system's temporary folder or the home cache.

``Service`` starts a command as the leader of a new process group in the caller's session (not a new
session: on this kernel every session is an autogroup, and a generating vLLM — its EngineCore spins
on ``sched_yield`` — then starves the processes of every other session for 1–2 s at a time), reads
its output in a thread, stamping each line with the time it arrived, and stops the whole group
(vLLM's API server spawns an EngineCore and a Worker that rename themselves ``VLLM::…``, and a
resource tracker; a SIGKILL of the leader alone orphans them).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
SOCKET_PATH_MAX = 107


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Run:
    """One run's folders under ``<venv>/var``: its temporary folder, the shared caches, its logs.

    Runs that died without cleaning up are swept when the next one opens: their process groups (the
    ``pgid-*`` files) are killed and their folders removed."""

    def __init__(self, venv: Path) -> None:
        self.var = venv / "var"
        self.cache = self.var / "cache"
        self.folder = self.var / f"run-{os.getpid()}"
        self.tmp = self.folder
        self._sweep()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        (self.cache / "inductor-headers").mkdir(parents=True, exist_ok=True)
        # torch always puts its precompiled headers in $TMPDIR/torchinductor_<user>: share them.
        (self.tmp / f"torchinductor_{getpass.getuser()}").symlink_to(self.cache / "inductor-headers")
        if len(str(self.tmp)) + 38 > SOCKET_PATH_MAX:
            raise RuntimeError(
                f"{self.tmp} is too long for vLLM's socket paths: set a shorter QIANSHI_VLLM_VENV"
            )

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a vLLM process (server or in-process engine) of this run."""
        env = dict(os.environ if base is None else base)
        folders = {
            "TMPDIR": self.tmp,
            "VLLM_CACHE_ROOT": self.cache / "vllm",
            "TORCHINDUCTOR_CACHE_DIR": self.cache / "inductor",
            "XDG_CACHE_HOME": self.cache / "xdg",
            "HF_HOME": self.cache / "xdg" / "huggingface",
        }
        for path in folders.values():
            path.mkdir(parents=True, exist_ok=True)
        env.update({k: str(v) for k, v in folders.items()})
        env.update(
            VLLM_CPU_KVCACHE_SPACE="1",  # GiB of KV cache
            VLLM_TARGET_DEVICE="cpu",
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            VLLM_NO_USAGE_STATS="1",
            DO_NOT_TRACK="1",
            TOKENIZERS_PARALLELISM="false",
            PYTHONUNBUFFERED="1",
            # vLLM 0.32 + torch 2.13 on a CPU cannot load its own AOT artefact and would recompile at
            # every start; the older compile cache loads (engine init ~4 s instead of 8-20 s).
            VLLM_USE_AOT_COMPILE="0",
            # vLLM logs to stdout by default; in-process, stdout is the host's.
            VLLM_LOGGING_STREAM="ext://sys.stderr",
        )
        env.pop("VLLM_CPU_OMP_THREADS_BIND", None)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return env

    def qianshi_environment(self) -> dict[str, str]:
        """The environment of a Qianshi server on the overlay interpreter: this clone's sources first."""
        env = self.environment()
        sources = [str(ROOT / "server"), str(ROOT / "client")]
        env["PYTHONPATH"] = os.pathsep.join([*sources, *filter(None, [env.get("PYTHONPATH", "")])])
        return env

    def remember(self, pgid: int) -> None:
        (self.folder / f"pgid-{pgid}").touch()

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _sweep(self) -> None:
        for folder in self.var.glob("run-*") if self.var.is_dir() else ():
            pid = int(folder.name.removeprefix("run-") or 0)
            if pid == os.getpid() or _alive(pid):
                continue
            for mark in folder.glob("pgid-*"):
                kill_group(int(mark.name.removeprefix("pgid-")), signal.SIGKILL)
            shutil.rmtree(folder, ignore_errors=True)


def serve_command(
    python: Path,
    model: Path,
    port: int,
    *,
    name: str = "tiny",
    max_model_len: int = 2048,
    enforce_eager: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """``vllm serve MODEL`` (the module form: no console script needed) on 127.0.0.1, logging requests."""
    argv = [str(python), "-m", "vllm.entrypoints.cli.main", "serve", str(model), "--served-model-name", name]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--dtype", "bfloat16"]
    argv += ["--max-model-len", str(max_model_len), "--disable-uvicorn-access-log", "--enable-log-requests"]
    return argv + (["--enforce-eager"] if enforce_eager else []) + list(extra)


class Service:
    """A process group in the caller's session; its output lines, timestamped on arrival, in ``lines``
    (and in ``log`` when given)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str],
        log: Path | None = None,
        new_session: bool = False,
    ) -> None:
        self.name = name
        self.lines: list[tuple[float, str]] = []
        self._changed = threading.Condition()
        self._log: IO[str] | None = open(log, "a", encoding="utf-8") if log else None  # noqa: SIM115
        self.popen = subprocess.Popen(
            list(argv),
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            **({"start_new_session": True} if new_session else {"process_group": 0}),
        )
        self.pgid = self.popen.pid
        self.leaked: list[Path] = []
        """Shared memory in /dev/shm the group had mapped and left behind when ``stop`` ended it."""
        self._reader = threading.Thread(target=self._read, name=f"{name}-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            with self._changed:
                self.lines.append((time.time(), line.rstrip("\n")))
                if self._log is not None:
                    self._log.write(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> tuple[float, re.Match[str]]:
        """The first line (from line index ``after`` on) that matches ``pattern``, and when it arrived.
        RuntimeError if the process ends first, TimeoutError after ``timeout`` s, both with the log."""
        regex = re.compile(pattern)
        end = time.monotonic() + timeout
        seen = after
        with self._changed:
            while True:
                for at, line in self.lines[seen:]:
                    if found := regex.search(line):
                        return at, found
                seen = len(self.lines)
                if not self._reader.is_alive():
                    raise RuntimeError(
                        f"{self.name} exited ({self.popen.poll()}) before {pattern!r}:\n{self.tail()}"
                    )
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.name}: no {pattern!r} within {timeout} s:\n{self.tail()}")
                self._changed.wait(left)

    def tail(self, n: int = 40) -> str:
        return "\n".join(line for _, line in self.lines[-n:])

    def members(self) -> list[int]:
        return group_members(self.pgid)

    def stop(self, timeout: float = 30.0, *, leader_only: bool = False) -> float:
        """SIGTERM to the group (``leader_only``: to its leader, as a container runtime does, which then
        stops the rest itself), wait until every member is gone (SIGKILL after ``timeout``); the seconds
        it took."""
        started = time.monotonic()
        shared = shared_memory(self.members())
        if leader_only:
            self.popen.send_signal(signal.SIGTERM)
        else:
            kill_group(self.pgid, signal.SIGTERM)
        if not wait_gone(self.members(), timeout):
            kill_group(self.pgid, signal.SIGKILL)
            wait_gone(self.members(), 10.0)
        self.leaked = sorted(p for p in shared if p.exists())
        for path in self.leaked:
            path.unlink(missing_ok=True)
        self._finish()
        return time.monotonic() - started

    def _finish(self) -> None:
        self.popen.wait(10.0)
        self._reader.join(10.0)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        if self._log is not None:
            self._log.close()

    def kill(self) -> None:
        """A crash: SIGKILL to the leader (vLLM's API server: its connections drop at once); then the
        orphans it leaves (EngineCore, Worker, resource tracker) are stopped, and the shared memory they
        mapped from /dev/shm is removed if they could not (SIGKILLed processes clean nothing up)."""
        shared = shared_memory(self.members())
        self.popen.kill()
        self.popen.wait(10.0)
        kill_group(self.pgid, signal.SIGTERM)
        if not wait_gone(self.members(), 30.0):
            kill_group(self.pgid, signal.SIGKILL)
            wait_gone(self.members(), 10.0)
        for path in shared:
            path.unlink(missing_ok=True)
        self._finish()


def kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def shared_memory(pids: Sequence[int]) -> set[Path]:
    """The /dev/shm files the processes have mapped (multiprocessing's psm_*, sem.mp-*)."""
    found: set[Path] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].startswith("/dev/shm/"):
                    found.add(Path(fields[5].removesuffix(" (deleted)")))
    return found


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                members.append(int(entry))
    return members


def wait_gone(pids: Sequence[int], timeout: float) -> bool:
    """Wait until every process in ``pids`` has exited (pidfds: no polling); False on timeout."""
    fds = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            fds.append(os.pidfd_open(pid))
    try:
        end = time.monotonic() + timeout
        pending = list(fds)
        while pending:
            left = end - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select(pending, [], [], left)
            pending = [fd for fd in pending if fd not in ready]
        return True
    finally:
        for fd in fds:
            os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        return json.load(reply)


def get_text(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        return str(reply.read().decode())


class VLLMServer:
    """``vllm serve`` of the tiny model on a free port: started, ready (its log says so and
    ``/v1/models`` answers), stopped with everything it spawned."""

    def __init__(
        self,
        run: Run,
        python: Path,
        model: Path,
        *,
        enforce_eager: bool = False,
        name: str = "vllm",
        new_session: bool = False,
        served: str = "tiny",
        unpinned: bool = False,
        extra: Sequence[str] = (),
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        argv = serve_command(python, model, self.port, name=served, enforce_eager=enforce_eager, extra=extra)
        env = run.environment()
        if unpinned:
            # Several vLLMs on one small host: "auto" pins each one's OpenMP thread to the same core
            # (core 0 of two), where they starve each other; one thread each, left to the scheduler.
            env.update(VLLM_CPU_OMP_THREADS_BIND="nobind", OMP_NUM_THREADS="1")
        self.service = Service(name, argv, env, new_session=new_session)
        run.remember(self.service.pgid)
        self.started = time.monotonic()
        self.ready_s = 0.0
        self.models: dict[str, Any] = {}

    def wait_ready(self, timeout: float = 600.0) -> VLLMServer:
        self.service.wait_for(r"Application startup complete", timeout)
        # uvicorn logs that line just before it listens on the socket vLLM bound, and logs nothing
        # after: the only sign left is the port accepting a connection (moments later).
        end = time.monotonic() + 10.0
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=2.0).close()
                break
            except ConnectionRefusedError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.01)
        try:
            self.models = get_json(self.url + "/models")
        except (OSError, ValueError) as exc:
            raise RuntimeError(
                f"vLLM said it started but /v1/models failed: {exc}\n{self.service.tail()}"
            ) from exc
        self.ready_s = time.monotonic() - self.started
        return self

    def running_requests(self) -> float:
        """``vllm:num_requests_running`` from its ``/metrics`` (summed over engines); a ``LookupError``
        when the metric is missing — a renamed metric must fail a check, never read as zero."""
        text = get_text(self.url.removesuffix("/v1") + "/metrics")
        values = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("vllm:num_requests_running{")
        ]
        if not values:
            raise LookupError("vLLM's /metrics has no vllm:num_requests_running")
        return sum(values)

    def stop(self) -> float:
        return self.service.stop()
