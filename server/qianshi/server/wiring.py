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
    """The generator named by ``--llm``, behind the grounded fallback when ``--llm-fallback grounded``."""
    from qianshi.server.backends.grounded import GroundedGenerator

    grounded = GroundedGenerator(pace_s=args.grounded_pace)
    if args.llm == "grounded":
        return grounded
    llm = _llm(args)
    if args.llm_fallback == "grounded":
        from qianshi.server.backends.fallback import FallbackGenerator

        return FallbackGenerator(llm, grounded)
    return llm


def _llm(args: argparse.Namespace) -> Generator:
    if args.llm == "vllm":
        from qianshi.server.backends.vllm_generator import VLLMGenerator

        if not args.model:
            raise SystemExit("--llm vllm needs --model PATH")
        return VLLMGenerator(
            args.model,
            dtype=args.dtype,
            max_model_len=args.max_model_len,
            gpu_memory_utilization=args.gpu_memory_utilization,
            tensor_parallel_size=args.tensor_parallel_size,
            stall_timeout_s=args.llm_stall_timeout,
        )
    from qianshi.server.backends.openai_generator import OpenAIGenerator, discover_model
    from qianshi.server.errors import BackendUnavailable

    model, context = args.llm_model, args.llm_context_tokens
    if not model:
        try:
            model, served_context = discover_model(args.llm_url, args.llm_api_key, args.llm_connect_timeout)
        except BackendUnavailable as exc:
            raise SystemExit(f"--llm openai: {exc.message}") from None
        context = served_context or context
    return OpenAIGenerator(
        args.llm_url,
        model,
        args.llm_api_key,
        timeout_s=args.llm_timeout,
        connect_timeout_s=args.llm_connect_timeout,
        stall_timeout_s=args.llm_stall_timeout,
        max_context_tokens=context,
    )
