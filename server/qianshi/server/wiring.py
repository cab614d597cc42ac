"""Builds the configured backends from the server's options (the only place that chooses them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from qianshi.server.pipeline.seams import Generator, Retriever


def retriever(args: argparse.Namespace, state_dir: Path) -> Retriever:
    """The retriever: a Qdrant server when ``--qdrant-url`` is set, else the embedded store in a worker."""
    if args.qdrant_url:
        from qianshi.server.backends.qdrant_server import ServerRetriever

        return ServerRetriever(url=args.qdrant_url, api_key=args.qdrant_api_key or None)
    from qianshi.server.backends.retrieval_worker import WorkerRetriever

    path = Path(args.qdrant_path).expanduser() if args.qdrant_path else state_dir / "qdrant"
    return WorkerRetriever(path, workers=args.retrieval_workers)


def generator(args: argparse.Namespace) -> Generator:
    """The generator named by ``--llm``."""
    from qianshi.server.backends.grounded import GroundedGenerator

    return GroundedGenerator(pace_s=args.grounded_pace)
