"""``qianshi-ingest``: validate an operator's poem sets and index them into Qdrant.

The corpus is JSONL in the shipped format (see the shipped ``corpus/NOTES.md``): a folder with
``sets.json`` and ``<set>.jsonl`` files, or one ``.jsonl`` file. Validation errors name the file, the
line and the field, and nothing is written until the whole corpus is valid. Indexing is idempotent and
versioned: an unchanged corpus is skipped, a changed one re-ingested. ``--qdrant-path DIR`` builds the
embedded store (Qdrant Edge shards, as the server builds them); ``--qdrant-url URL`` a Qdrant server's
collections (qdrant-client). Serve the result with ``qianshi-server --corpus PATH`` (embedded, with
``--qdrant-path DIR`` if it is not the state dir's) or ``--qdrant-url URL --corpus PATH``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from qianshi.server.backends.retrieval.corpus import Corpus, CorpusError, load_corpus
from qianshi.server.backends.retrieval.index import BuildReport, ProgressCallback


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qianshi-ingest", description=__doc__.splitlines()[0])
    p.add_argument("corpus", type=Path, help="folder with sets.json and *.jsonl, or one .jsonl file")
    p.add_argument("--check", action="store_true", help="validate only; index nothing")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--qdrant-url", default="", help="index into the Qdrant server at this URL")
    target.add_argument(
        "--qdrant-path", type=Path, help="index into an embedded store folder (Qdrant Edge shards)"
    )
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

    def progress(done: int, total: int) -> None:
        print(f"\rindexing {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)

    report = _to_server(args, corpus, progress) if args.qdrant_url else _to_edge(args, corpus, progress)
    state = "indexed" if report.rebuilt else "already up to date"
    print(
        f"{state}: version {report.version[:12]}, {sum(report.points.values())} points, {report.seconds:.1f} s"
    )
    return 0


def _to_server(args: argparse.Namespace, corpus: Corpus, progress: ProgressCallback) -> BuildReport:
    from qdrant_client import QdrantClient
    from qianshi.server.backends.retrieval.steps import CollectionOptions, build_index

    client = QdrantClient(url=args.qdrant_url, api_key=args.qdrant_api_key or None)
    options = CollectionOptions(args.shards or None, args.replication or None, payload_indexes=True)
    try:
        return build_index(client, corpus, options=options, progress=progress)
    finally:
        client.close()


def _to_edge(args: argparse.Namespace, corpus: Corpus, progress: ProgressCallback) -> BuildReport:
    from qianshi.server.backends.retrieval import edge

    path: Path = args.qdrant_path.expanduser()
    if edge.old_engine_store(path):
        print(
            f"qianshi-ingest: {path} holds an index of the previous engine (qdrant-client local mode); "
            "rebuilding it once for Qdrant Edge",
            file=sys.stderr,
        )
    return edge.build(path, corpus, progress=progress)


if __name__ == "__main__":
    raise SystemExit(main())
