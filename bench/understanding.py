"""Question understanding: how often the topic is right, and what it costs per question.

    python -m bench.understanding                          # this tree; JSON on stdout
    python -m bench.understanding --out bench/results/understanding.json
    python -m bench.understanding compare --against main   # another ref's code on the same questions

**Accuracy**, on the question sets under ``tests/reading/categories/``:

* ``category_questions.jsonl`` (everyday questions, one expected common category each): the share
  ``infer_common`` gets right, by language;
* ``vernacular_questions.jsonl`` (written before tuning) and ``vernacular_fresh.jsonl`` (written
  after, never tuned on) — Cantonese, Taiwanese Hokkien, Chinese mixed with English in either script,
  two worries in one question, casual English: the share whose resolved category, in each of mazu60 and
  guanyin100, is one of the set's own categories the row accepts, by kind. guandi100 is left out: it
  files every topic under 聖意, so it would only count each question once more as right.

**Cost**: ``time.perf_counter`` around ``resolve`` (what the pipeline runs on the event loop for every
request) over every question of every set, best of ``--repeat`` passes, in µs per question;
``reading_topic`` is the reading's own look at the same question right after (``topic_of_question``;
memoised since issue 23, a separate keyword scan before), and ``per_request`` their sum.

``compare`` runs ``measure`` for the working tree and for the server code of a git ref (unpacked with
``git archive``, first on ``PYTHONPATH``) in alternating fresh processes, on this tree's question
files, and reports both with the medians of the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qianshi.server.backends.retrieval.corpus import load_shipped_corpus
from qianshi.server.domain import PoemSet
from qianshi.server.reading import topics
from qianshi.server.reading.categories import infer

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "reading" / "categories"
EVERYDAY = "category_questions.jsonl"
VERNACULAR = ("vernacular_questions.jsonl", "vernacular_fresh.jsonl")
SETS = ("mazu60", "guanyin100")


def poem_sets() -> dict[str, PoemSet]:
    """The shipped sets, with their own category lists."""
    return {s.id: s for s in load_shipped_corpus().sets}


def rows(name: str) -> list[dict[str, Any]]:
    path = QUESTIONS / name
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _share(right: Counter[str], seen: Counter[str]) -> dict[str, float]:
    return {k: round(right[k] / seen[k], 3) for k in sorted(seen)}


def everyday() -> dict[str, Any]:
    right: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for row in rows(EVERYDAY):
        q = row["question"]
        lang = "en" if q.isascii() else "zh"
        for key in (lang, "all"):
            seen[key] += 1
            right[key] += infer.infer_common(q) == row["expected"]
    return {"questions": seen["all"], "accuracy": _share(right, seen)}


def vernacular(name: str, sets: dict[str, PoemSet]) -> dict[str, Any]:
    """Per set and per kind: the share of questions whose resolved own category the row accepts."""
    right: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    misses: list[str] = []
    data = rows(name)
    for row in data:
        for set_id in SETS:
            got = infer.resolve(sets[set_id], "", row["question"]).category
            ok = got in row[set_id]
            for key in (row["kind"], "all", set_id):
                seen[key] += 1
                right[key] += ok
            if not ok:
                misses.append(
                    f"[{row['kind']}] {set_id} {got} (wants {'/'.join(row[set_id])}): {row['question']}"
                )
    return {"questions": len(data), "answers": seen["all"], "accuracy": _share(right, seen), "misses": misses}


def _timings(questions: Sequence[str], repeat: int) -> dict[str, float]:
    """Best of ``repeat`` passes, µs per question: ``resolve`` with a cold memo (as for a new
    request), then the reading's ``topic_of_question`` right after it (as in the same request)."""
    mazu = poem_sets()["mazu60"]
    clear = getattr(getattr(infer, "understand", None), "cache_clear", None)
    best = {"resolve": float("inf"), "reading_topic": float("inf")}
    for _ in range(repeat):
        if clear is not None:
            clear()
        t0 = time.perf_counter()
        for q in questions:
            infer.resolve(mazu, "", q)
        t1 = time.perf_counter()
        for q in questions:
            topics.topic_of_question(q)
        t2 = time.perf_counter()
        best["resolve"] = min(best["resolve"], t1 - t0)
        best["reading_topic"] = min(best["reading_topic"], t2 - t1)
    out = {k: round(v / len(questions) * 1e6, 2) for k, v in best.items()}
    out["per_request"] = round(out["resolve"] + out["reading_topic"], 2)
    return out


def secondary(name: str) -> dict[str, Any] | None:
    """Two-worries rows: how often the other worry is kept as the secondary topic (None where this
    code has no secondary topic)."""
    understand = getattr(infer, "understand", None)
    if understand is None:
        return None
    data = [r for r in rows(name) if r.get("secondary")]
    right = [r["question"] for r in data if understand(r["question"]).secondary in r["secondary"]]
    missed = [
        f"{understand(r['question']).secondary} (wants {'/'.join(r['secondary'])}): {r['question']}"
        for r in data
        if r["question"] not in right
    ]
    return {
        "questions": len(data),
        "accuracy": round(len(right) / len(data), 3) if data else None,
        "misses": missed,
    }


def measure(repeat: int) -> dict[str, Any]:
    sets = poem_sets()
    questions = [r["question"] for name in (EVERYDAY, *VERNACULAR) for r in rows(name)]
    report: dict[str, Any] = {"everyday": everyday()}
    for name in VERNACULAR:
        if rows(name):
            report[name.removesuffix(".jsonl")] = vernacular(name, sets) | {"secondary": secondary(name)}
    report["us_per_question"] = {"questions": len(questions), **_timings(questions, repeat)}
    return report


def compare(ref: str, rounds: int, repeat: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="understanding-") as tmp:
        archive = subprocess.run(["git", "archive", ref, "server"], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        for _ in range(rounds):
            for design in ("before", "after"):
                env = dict(os.environ)
                if design == "before":
                    env["PYTHONPATH"] = os.pathsep.join(
                        filter(None, [f"{tmp}/server", env.get("PYTHONPATH")])
                    )
                done = subprocess.run(
                    [sys.executable, "-m", "bench.understanding", "measure", "--repeat", str(repeat)],
                    cwd=ROOT, env=env, check=True, capture_output=True, text=True,
                )  # fmt: skip
                runs[design].append(json.loads(done.stdout))
    out: dict[str, Any] = {"against": ref, "rounds": rounds, "load_average": os.getloadavg()}
    for design, reports in runs.items():
        report = dict(reports[0])
        report["us_per_question"] = {
            key: statistics.median(r["us_per_question"][key] for r in reports)
            for key in ("resolve", "reading_topic", "per_request")
        } | {"questions": reports[0]["us_per_question"]["questions"]}
        out[design] = report
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.understanding", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("mode", nargs="?", choices=("measure", "compare"), default="measure")
    parser.add_argument("--against", default="main", help="git ref to compare with, for 'compare'")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per design, for 'compare'")
    parser.add_argument("--repeat", type=int, default=20, help="timed passes over the questions (best kept)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.mode == "compare":
        report = compare(args.against, args.rounds, args.repeat)
    else:
        report = measure(args.repeat)
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
