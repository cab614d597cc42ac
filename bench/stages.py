"""Where a task's server CPU goes: a py-spy profile of a level, cut into the stages of a task.

``python -m bench run … --profile`` records every server (and its child processes) with py-spy at
200 Hz while a level runs (only samples of threads that are running, so samples are CPU time). Each
sample's stack is given to the innermost stage it passed through (``STAGES``, first match from the
leaf up), so jieba under the query analyzer counts as the analyzer, and what no stage claims is the
event loop's and grpc.aio's own machinery. A stage's share of the samples times the server's CPU per
task (measured apart, from /proc) is its CPU per task.

    python -m bench.stages bench/results/profile-burst-qianshi-1000.txt --cpu-ms-per-task 2.1
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (stage, substrings of a frame "function (file:line)"); first match from the leaf up wins.
    ("retrieval: engine search", ("qdrant_edge", "EdgeIndex.scores", "qdrant_client/", "_passages (bench/")),
    ("retrieval: query analysis (jieba)", ("retrieval/analyzer.py", "jieba/")),
    ("retrieval: query and ranking", ("retrieval/search.py", "retrieval/passages.py", "retrieval/embedded.py")),
    ("category inference", ("reading/categories/", "pipeline/categories/")),
    ("reading: what the slip says (the plan)", ("/reading/",)),
    ("request validation", ("pipeline/requests.py", "service/convert.py:params", "convert.params")),
    ("grounded composition", ("generation/grounded/",)),
    ("coalescing", ("pipeline/coalesce.py", "pipeline/eager.py")),
    ("events: protobuf conversion", ("service/convert.py",)),
    ("events: gRPC write", ("WriteGuard.write", "InterpretService._write")),
    ("events: made, logged, observed", ("pipeline/pacer.py", "pipeline/emitter.py", "pipeline/progress.py", "tasks/memory_log.py",
                                         "observability/", "pipeline/events.py", "pipeline/messages.py")),
    ("task: pipeline and registry", ("pipeline/interpret.py", "pipeline/workqueue.py", "pipeline/admission.py",
                                      "pipeline/line.py", "pipeline/outcome.py", "tasks/registry.py")),
    ("call: handler, interceptors, auth", ("service/interpret_service.py", "service/telemetry.py",
                                            "service/security.py", "service/auth.py")),
)  # fmt: skip
OTHER = "event loop, grpc.aio and the rest"


def stage_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for stage, needles in STAGES:
            if any(needle in frame for needle in needles):
                return stage
    return OTHER


def read(path: Path) -> Counter[str]:
    """Samples per stage of a py-spy ``--format raw`` profile."""
    counts: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        counts[stage_of(stack.split(";"))] += int(number)
    return counts


def stages(path: Path, cpu_ms_per_task: float | None) -> dict[str, Any]:
    counts = read(path)
    total = sum(counts.values())
    rows = {}
    for stage in [*(name for name, _ in STAGES), OTHER]:
        share = counts[stage] / total if total else 0.0
        row: dict[str, Any] = {"share": round(share, 4)}
        if cpu_ms_per_task is not None:
            row["cpu_ms_per_task"] = round(share * cpu_ms_per_task, 3)
        rows[stage] = row
    return {"profile": path.name, "samples": total, "cpu_ms_per_task": cpu_ms_per_task, "stages": rows}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__.split("\n\n")[0])
    p.add_argument("profile", type=Path, help="a py-spy raw profile written by --profile")
    p.add_argument("--cpu-ms-per-task", type=float, default=None, help="the level's server CPU per task")
    args = p.parse_args(argv)
    print(json.dumps(stages(args.profile, args.cpu_ms_per_task), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
