"""``qianshi-ingest``: validate an operator's poem sets and index them into Qdrant.

The corpus is JSONL in the shipped format (see the shipped ``corpus/NOTES.md``): a folder with
``sets.json`` and ``<set>.jsonl`` files, or one ``.jsonl`` file. Validation errors name the file, the
line and the field, and nothing is written until the whole corpus is valid. Indexing is idempotent and
versioned: an unchanged corpus is skipped, a changed one re-ingested. Serve the result with
``qianshi-server --corpus PATH`` (embedded) or ``--qdrant-url URL --corpus PATH``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from qianshi.server.backends.retrieval.corpus import CorpusError, load_corpus
from qianshi.server.backends.retrieval.index import CollectionOptions, build_index


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qianshi-ingest", description=__doc__.splitlines()[0])
    p.add_argument("corpus", type=Path, help="folder with sets.json and *.jsonl, or one .jsonl file")
    p.add_argument("--check", action="store_true", help="validate only; index nothing")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--qdrant-url", default="", help="index into the Qdrant server at this URL")
    target.add_argument("--qdrant-path", type=Path, help="index into an embedded Qdrant folder")
    p.add_argument("--qdrant-api-key", default="", help="API key for the Qdrant server")
    p.add_argument("--shards", type=int, default=0, help="shard number of new collections (0: default)")
    p.add_argument("--replication", type=int, default=0, help="replication factor (0: default)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        corpus = load_corpus(args.corpus)
    except (CorpusError, OSError) as exc:
        print(f"qianshi-ingest: invalid corpus: {exc}", file=sys.stderr)
        return 2
    for poem_set in corpus.sets:
        print(f"{poem_set.id}: {len(corpus.poems_of(poem_set.id))} poems ({poem_set.name_zh})")
    if args.check:
        return 0
    if not args.qdrant_url and args.qdrant_path is None:
        print("qianshi-ingest: give --qdrant-url or --qdrant-path (or --check)", file=sys.stderr)
        return 2
    from qdrant_client import QdrantClient

    if args.qdrant_url:
        client = QdrantClient(url=args.qdrant_url, api_key=args.qdrant_api_key or None)
        options = CollectionOptions(args.shards or None, args.replication or None, payload_indexes=True)
    else:
        client = QdrantClient(path=str(args.qdrant_path))
        options = CollectionOptions()

    def progress(done: int, total: int) -> None:
        print(f"\rindexing {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)

    try:
        report = build_index(client, corpus, options=options, progress=progress)
    finally:
        client.close()
    state = "indexed" if report.rebuilt else "already up to date"
    print(
        f"{state}: version {report.version[:12]}, {sum(report.points.values())} points, {report.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
