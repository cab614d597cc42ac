"""How templated the grounded reading is, and what it costs: every poem × a set of everyday questions.

    python -m bench.grounded_text                       # repetition and CPU; JSON on stdout
    python -m bench.grounded_text --out bench/results/grounded.json
    python -m bench.grounded_text examples --target 127.0.0.1:50051 --seed 7   # the issue's examples
    python -m bench.grounded_text compare --against main --rounds 3   # CPU and repetition, side by side

**Repetition**: each reading is cut into sentences (at 。！？ and ". ", outside quotes), citation
marks removed; a sentence's share is the fraction of a locale's readings that contain it. The opening
sentence (which names the slip) is left out: it is fixed by design. ``max_share`` is the figure the
issue bounds (≤ 10 %); ``skeleton`` is the same with every quoted text replaced by 「…」 (and the
question's own label left out), a stricter view of how often one *pattern* recurs.

**CPU**: ``time.process_time`` around :func:`compose_chunks` for every request, a warm pass (the
lexicon's caches filled, as on a server that has been up a while) after a cold one. ``compare`` runs
this measure for the working tree and for the server code of a git ref (unpacked with ``git archive``
and put first on ``PYTHONPATH``), alternating fresh processes, and reports medians and ratios — the
machine is shared, so only side-by-side figures mean anything.

Requests are laid out the way the retriever lays them out (the asked category's passages, the verse,
then the general and commentary lines, at most six), from the shipped corpus cut by the indexer's own
``passages_of``; the category comes from the pipeline's own question understanding. ``request_id``
varies per request and ``seed`` is unset, as for a client that sends none.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from qianshi.server.backends.generation.grounded.generator import compose_chunks
from qianshi.server.backends.retrieval.corpus import load_shipped_corpus
from qianshi.server.backends.retrieval.passages import passages_of
from qianshi.server.domain import Passage, PassageKind, Poem, PoemSet
from qianshi.server.reading.categories.infer import resolve
from qianshi.server.writing import GenerationRequest

QUESTIONS: tuple[tuple[str, str], ...] = (
    ("zh-Hant", "今年適合結婚嗎？"),
    ("zh-Hant", "我該不該跟男朋友分手？"),
    ("zh-Hant", "這次換工作會順利嗎？"),
    ("zh-Hant", "我什麼時候才會升遷？"),
    ("zh-Hant", "要不要投資朋友的公司？"),
    ("zh-Hant", "我媽的手術會成功嗎"),
    ("zh-Hant", "官司要和解還是繼續打？"),
    ("zh-Hant", "搬到台北好還是留在台南好？"),
    ("zh-Hant", "遗失的钱包找得回来吗？"),
    ("zh-Hant", "我们什么时候能怀孕？"),
    ("zh-Hant", "应该去哪里找工作比较好？"),
    ("zh-Hant", "誰會是幫我度過難關的貴人？"),
    ("zh-Hant", "今年整體運勢如何？"),
    ("en", "Will we get married this year?"),
    ("en", "Should I break up with my boyfriend?"),
    ("en", "Will my job change go well?"),
    ("en", "When will I get promoted?"),
    ("en", "Should I invest in my friend's company?"),
    ("en", "Will my mother's surgery succeed?"),
    ("en", "Should I settle the lawsuit or keep fighting?"),
    ("en", "Is it better to move to Taipei or stay in Tainan?"),
    ("en", "Will I find my lost wallet?"),
    ("en", "When will we have a baby?"),
    ("en", "Where should I look for a new job?"),
    ("en", "Who will help me through this hard time?"),
    ("en", "How does this year look for me overall?"),
)
"""Everyday questions across topics and forms (yes/no, should-I, either/or, when, where, who, open),
zh-Hant (a few in zh-Hans, as people type them) and English."""

EXAMPLES: tuple[tuple[str, int, str, str], ...] = (
    ("guandi100", 77, "官司要和解還是繼續打？", "zh-Hant"),
    ("mazu60", 44, "我該不該跟男朋友分手？", "zh-Hant"),
    ("mazu60", 23, "搬到台北好還是留在台南好？", "zh-Hant"),
    ("guanyin100", 88, "我媽的手術會成功嗎", "zh-Hant"),
    ("guandi100", 77, "Should I settle the lawsuit or keep fighting it?", "en"),
    ("mazu60", 44, "Should I break up with my boyfriend?", "en"),
    ("mazu60", 23, "Is it better to move to Taipei or stay in Tainan?", "en"),
    ("guanyin100", 88, "Will my mother's surgery succeed?", "en"),
)
"""The issue's examples (關帝 #77, 六十甲子籤 #44, the move, the surgery on 觀音 #88 whose 疾病 is 祭虎)."""

GENERAL_LINES = ("凡事", "聖意", "詩意", "解曰")
LIMIT = 6


def layout(poem: Poem, category: str) -> tuple[Passage, ...]:
    """The passages a retrieval returns for ``category``: its own, the verse, then general lines."""
    docs = passages_of(poem)
    own = [d for d in docs if d.kind is PassageKind.JUDGMENT and d.category == category][:4]
    verse = [d for d in docs if d.kind is PassageKind.VERSE]
    rest = [
        d
        for name in GENERAL_LINES
        if name != category
        for d in docs
        if d.kind is PassageKind.JUDGMENT and d.category == name
    ]
    chosen = [*own, *verse, *rest][:LIMIT]
    return tuple(
        Passage(d.id, d.kind, d.category, d.text, 1.0, d.source, citation=i)
        for i, d in enumerate(chosen, start=1)
    )


def requests(questions: Iterable[tuple[str, str]] = QUESTIONS) -> list[GenerationRequest]:
    """One request per shipped poem and question, as the pipeline would build it."""
    corpus = load_shipped_corpus()
    sets: dict[str, PoemSet] = {s.id: s for s in corpus.sets}
    out = []
    for qi, (locale, question) in enumerate(questions):
        for poem in corpus.poems:
            choice = resolve(sets[poem.set_id], "", question)
            out.append(
                GenerationRequest(
                    request_id=f"bench-{poem.set_id}-{poem.number}-{qi}",
                    question=question,
                    locale=locale,
                    poem=poem,
                    passages=layout(poem, choice.category),
                    category=choice.category,
                    common_category=choice.common,
                    max_tokens=0,
                )
            )
    return out


_CITE = re.compile(r"\s?(\[\d+\])+")
_QUOTED = re.compile(r"「[^」]*」|“[^”]*”")
_ECHO = ("你問的是", "You asked:")


def sentences(text: str) -> list[str]:
    """The sentences of a reading (outside quotes), citation marks removed."""
    out: list[str] = []
    current = ""
    depth = 0
    text = _CITE.sub("", text)
    for i, ch in enumerate(text):
        current += ch
        depth += ch in "「“"
        depth -= ch in "」”"
        end = ch in "。！？\n" or (ch in ".?!" and (i + 1 == len(text) or text[i + 1] in " \n"))
        if end and depth <= 0:
            if current.strip():
                out.append(current.strip())
            current, depth = "", 0
    if current.strip():
        out.append(current.strip())
    return out


def repetition(texts: Sequence[str], *, skeleton: bool = False, top: int = 8) -> dict[str, Any]:
    """The share of readings containing each sentence (the opening sentence left out)."""
    counts: Counter[str] = Counter()
    for text in texts:
        found = sentences(text)[1:]
        if skeleton:  # the question's own label (你問的是「…」) is left out too: it is one pattern by design
            found = [_QUOTED.sub("「…」", s) for s in found if not s.startswith(_ECHO)]
        counts.update(set(found))
    n = max(1, len(texts))
    common = counts.most_common(top)
    return {
        "readings": len(texts),
        "max_share": round(common[0][1] / n, 4) if common else 0.0,
        "over_10pct": sum(1 for _, c in counts.items() if c / n > 0.10),
        "top": [{"share": round(c / n, 4), "sentence": s} for s, c in common],
    }


def measure(reqs: Sequence[GenerationRequest]) -> dict[str, Any]:
    """Compose every request (a cold pass, then a timed warm one) and measure repetition and CPU."""
    t0 = time.process_time()
    for req in reqs:
        compose_chunks(req)
    cold = time.process_time() - t0
    texts: dict[str, list[str]] = {}
    t0 = time.process_time()
    for req in reqs:
        texts.setdefault(req.locale, []).append("".join(compose_chunks(req)))
    warm = time.process_time() - t0
    return {
        "readings": len(reqs),
        "cpu_us_per_reading": {
            "cold": round(cold / len(reqs) * 1e6, 1),
            "warm": round(warm / len(reqs) * 1e6, 1),
        },
        "repetition": {loc: repetition(t) for loc, t in texts.items()},
        "skeleton": {loc: repetition(t, skeleton=True, top=5) for loc, t in texts.items()},
    }


def examples(target: str, seed: int | None) -> list[dict[str, Any]]:
    """The issue's examples through a running server (real retrieval, the server's generator)."""
    from qianshi.client import Client

    out = []
    with Client(target) as client:
        for set_id, number, question, locale in EXAMPLES:
            result = None
            for event in client.interpret(set_id, number, question, locale=locale, seed=seed):
                if event.WhichOneof("payload") == "result":
                    result = event.result
            out.append(
                {
                    "set": set_id,
                    "number": number,
                    "question": question,
                    "locale": locale,
                    "category": result.category if result else None,
                    "text": result.text if result else None,
                }
            )
    return out


def compare(ref: str, rounds: int) -> dict[str, Any]:
    """This tree's grounded generator against ``ref``'s, in alternating subprocesses (see the docstring)."""
    root = Path(__file__).resolve().parent.parent
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="grounded-") as tmp:
        archive = subprocess.run(["git", "archive", ref, "server"], cwd=root, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        for _ in range(rounds):
            for design in ("before", "after"):
                env = dict(os.environ)
                if design == "before":
                    env["PYTHONPATH"] = os.pathsep.join(
                        filter(None, [f"{tmp}/server", env.get("PYTHONPATH")])
                    )
                done = subprocess.run(
                    [sys.executable, "-m", "bench.grounded_text", "measure"],
                    cwd=root, env=env, check=True, capture_output=True, text=True,
                )  # fmt: skip
                runs[design].append(json.loads(done.stdout))

    def summary(design: str) -> dict[str, Any]:
        reports = runs[design]
        return {
            "cpu_us_per_reading_warm": statistics.median(r["cpu_us_per_reading"]["warm"] for r in reports),
            "cpu_us_per_reading_cold": statistics.median(r["cpu_us_per_reading"]["cold"] for r in reports),
            "max_share": {loc: rep["max_share"] for loc, rep in reports[0]["repetition"].items()},
            "sentences_over_10pct": {loc: rep["over_10pct"] for loc, rep in reports[0]["repetition"].items()},
            "skeleton_max_share": {loc: rep["max_share"] for loc, rep in reports[0]["skeleton"].items()},
            "top": {loc: rep["top"][:3] for loc, rep in reports[0]["repetition"].items()},
        }

    before, after = summary("before"), summary("after")
    return {
        "against": ref,
        "rounds": rounds,
        "readings": runs["after"][0]["readings"],
        "load_average": os.getloadavg(),
        "before": before,
        "after": after,
        "cpu_ratio_after_over_before": round(
            after["cpu_us_per_reading_warm"] / before["cpu_us_per_reading_warm"], 2
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.grounded_text", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("mode", nargs="?", choices=("measure", "examples", "compare"), default="measure")
    parser.add_argument("--against", default="main", help="git ref to compare with, for 'compare'")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per design, for 'compare'")
    parser.add_argument("--target", default="127.0.0.1:50051", help="server for 'examples'")
    parser.add_argument("--seed", type=int, default=7, help="seed for 'examples'")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.mode == "examples":
        report: Any = examples(args.target, args.seed)
    elif args.mode == "compare":
        report = compare(args.against, args.rounds)
    else:
        report = measure(requests())
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
