"""The index build in a child process, so the server's event loop keeps answering while it runs.

An Edge build holds the GIL for about a second and a half (analysis, upserts, flush, optimize; no Edge
call releases it). The server starts it with :meth:`BuildProcess.spawn` before its gRPC server starts
(no fork once gRPC runs: FACTS.md; this is a fresh interpreter anyway), keeps answering health checks
with NOT_SERVING meanwhile, and opens the shards when the child has finished.

The child is ``python -m qianshi.server.backends.retrieval.builder``. It reads a pickled
:class:`BuildJob` on stdin and writes one line per event on stdout: ``progress DONE TOTAL``, then
``built {report}`` (JSON) or ``failed MESSAGE``; its logs go to the server's stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from qianshi.server.backends.retrieval import analyzer, edge
from qianshi.server.backends.retrieval.corpus import Corpus, load_corpus, load_shipped_corpus
from qianshi.server.backends.retrieval.index import (
    DEFAULT_PREFIX,
    BuildReport,
    Embedder,
    IndexNames,
    ProgressCallback,
)
from qianshi.server.errors import BackendFailed


@dataclass(frozen=True, slots=True)
class BuildJob:
    """What the child builds (picklable)."""

    path: Path
    cache_dir: Path | None = None
    """jieba's dictionary cache (``<state_dir>/cache``); the system temp dir when None."""
    corpus_path: Path | None = None
    """An operator's corpus (folder or JSONL file); the shipped corpus when None."""
    corpus: Corpus | None = None
    """The corpus itself (wins over ``corpus_path``)."""
    embedder: Embedder | None = None
    prefix: str = DEFAULT_PREFIX
    force: bool = False


class BuildProcess:
    """One build in a child process."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen

    @classmethod
    def spawn(cls, job: BuildJob) -> BuildProcess:
        """Start the child now (it starts building at once) without waiting for it."""
        popen = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert popen.stdin is not None
        popen.stdin.write(pickle.dumps(job))
        popen.stdin.close()
        return cls(popen)

    @property
    def pid(self) -> int:
        return self._popen.pid

    async def wait(self, progress: ProgressCallback | None = None) -> BuildReport:
        """Wait for the build, passing its progress on; BackendFailed when it failed. Cancelling the
        wait kills the child (the half-built generation is removed by the next build)."""
        stdout = self._popen.stdout
        assert stdout is not None
        report: BuildReport | None = None
        failure = "the index builder exited without a report"
        try:
            while line := (await asyncio.to_thread(stdout.readline)).decode("utf-8", "replace"):
                kind, _, rest = line.rstrip("\n").partition(" ")
                if kind == "progress" and progress is not None:
                    done, total = rest.split()
                    progress(int(done), int(total))
                elif kind == "built":
                    raw = json.loads(rest)
                    report = BuildReport(raw["version"], raw["rebuilt"], raw["points"], raw["seconds"])
                elif kind == "failed":
                    failure = rest
            code = await asyncio.to_thread(self._popen.wait)
        except BaseException:
            self.kill()
            raise
        finally:
            stdout.close()
        if report is None or code != 0:
            raise BackendFailed(
                f"building the retrieval index failed: {failure}", reason="INDEX_BUILD_FAILED"
            )
        return report

    def kill(self) -> None:
        if self._popen.poll() is None:
            self._popen.kill()
            self._popen.wait()
        if self._popen.stdout is not None:
            self._popen.stdout.close()


def run(job: BuildJob, progress: ProgressCallback | None = None) -> BuildReport:
    """The build itself (in whichever process calls it)."""
    analyzer.configure(job.cache_dir)
    return edge.build(
        job.path,
        job_corpus(job),
        embedder=job.embedder,
        names=IndexNames(job.prefix),
        progress=progress,
        force=job.force,
    )


def job_corpus(job: BuildJob) -> Corpus:
    if job.corpus is not None:
        return job.corpus
    return load_corpus(job.corpus_path) if job.corpus_path else load_shipped_corpus()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    job: BuildJob = pickle.loads(sys.stdin.buffer.read())

    def progress(done: int, total: int) -> None:
        print(f"progress {done} {total}", flush=True)

    try:
        report = run(job, progress)
    except Exception as exc:
        logging.getLogger(__name__).exception("building the retrieval index failed")
        print(f"failed {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)
        return 1
    print(f"built {json.dumps(asdict(report))}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
