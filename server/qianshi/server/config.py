"""The server's options: every flag has a ``QIANSHI_*`` environment equivalent and a ``--help`` text.

Options are declared once in ``OPTIONS``; ``parse`` builds the argparse parser from them (the
environment supplies defaults, flags override), and ``options_table`` renders them for the README so
the docs cannot drift from the code (tests/test_docs.py checks it).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Option:
    flag: str
    help: str
    default: Any = None
    type: Callable[[str], Any] = str
    choices: Sequence[str] | None = None
    secret: bool = False

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env(self) -> str:
        return "QIANSHI_" + self.dest.upper()


def parse_bool(value: str) -> bool:
    """An option's true/false value (1/0, true/false, yes/no, on/off)."""
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def default_state_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "qianshi")


OPTIONS: list[Option] = [
    Option("--listen", "address to serve gRPC on (HOST:PORT; port 0 picks a free port)", "127.0.0.1:50051"),
    Option(
        "--state-dir",
        "where the embedded index and the learned estimates live",
        default_state_dir(),
    ),
    Option("--qdrant-path", "embedded Qdrant storage (default: STATE_DIR/qdrant)", ""),
    Option("--qdrant-url", "use a Qdrant server at this URL instead of the embedded store", ""),
    Option("--qdrant-api-key", "API key for the Qdrant server", "", secret=True),
    Option("--qdrant-timeout", "seconds a Qdrant server request may take", 10.0, float),
    Option(
        "--qdrant-shards",
        "shard number of collections created on a Qdrant server (0: server default)",
        0,
        int,
    ),
    Option(
        "--qdrant-replication",
        "replication factor of collections created on a Qdrant server (0: default)",
        0,
        int,
    ),
    Option(
        "--corpus",
        "an operator's poem sets (folder of sets.json + *.jsonl, or one .jsonl) instead of the shipped ones",
        "",
    ),
    Option(
        "--retrieval-workers",
        "deprecated, ignored (the embedded store runs in-process); removed in the next release",
        0,
        int,
    ),
    Option(
        "--llm",
        "the generator: grounded (no model), openai (vllm serve or any OpenAI-compatible server), vllm",
        "grounded",
        choices=("grounded", "openai", "vllm"),
    ),
    Option("--llm-url", "base URL of the OpenAI-compatible server (vllm serve)", "http://127.0.0.1:8000/v1"),
    Option("--llm-model", "model to ask the server for (default: the first one it lists)", ""),
    Option("--llm-api-key", "API key for the LLM server", "", secret=True),
    Option("--llm-timeout", "longest an LLM request may take in all, in seconds", 120.0, float),
    Option("--llm-connect-timeout", "seconds to connect to the LLM server", 5.0, float),
    Option("--llm-stall-timeout", "seconds without a chunk (the first too): the LLM stalled", 30.0, float),
    Option(
        "--llm-fallback",
        "generator that answers when the LLM fails before writing",
        "",
        choices=("", "grounded"),
    ),
    Option("--llm-context-tokens", "the model's context length when the server does not say", 8192, int),
    Option(
        "--llm-guard",
        "check LLM text as it streams (script, language, loops, citations, stance): off, flag (report "
        "only), fallback (the grounded reading stands in when a check trips before the text goes out)",
        "fallback",
        choices=("off", "flag", "fallback"),
    ),
    Option(
        "--llm-guard-window",
        "characters (a CJK character counts two) the guard holds and checks before the first text goes out",
        80,
        int,
    ),
    Option(
        "--prompt-version",
        "the LLM prompt: qianshi-interpret-v2 (with the reading plan) or qianshi-interpret-v1",
        "qianshi-interpret-v2",
        choices=("qianshi-interpret-v1", "qianshi-interpret-v2"),
    ),
    Option("--llm-temperature", "sampling temperature when a request sets none", 0.3, float),
    Option(
        "--llm-frequency-penalty",
        "penalty on tokens the answer already used (OpenAI's frequency_penalty; 0: off): breaks loops",
        0.8,
        float,
    ),
    Option(
        "--llm-repetition-penalty",
        "vLLM's repetition_penalty (1.0: off; it also penalizes the poem's characters and [n] markers)",
        1.0,
        float,
    ),
    Option(
        "--llm-repetition-detection",
        "vLLM's repetition_detection: MIN,MAX,COUNT (pattern tokens, repeats) or off",
        "2,64,3",
    ),
    Option(
        "--llm-stream-interval",
        "tokens per streamed chunk, vLLM's stream_interval (1: each token; other servers may need 1)",
        4,
        int,
    ),
    Option("--model", "model path or name for --llm vllm", ""),
    Option("--dtype", "weights dtype for --llm vllm", "auto"),
    Option("--max-model-len", "context length for --llm vllm (0: the model's own)", 0, int),
    Option("--gpu-memory-utilization", "share of GPU memory vLLM may use (--llm vllm)", 0.9, float),
    Option("--tensor-parallel-size", "GPUs to split the model over (--llm vllm)", 1, int),
    Option(
        "--grounded-pace",
        "seconds between the grounded generator's clauses (0: as fast as composed)",
        0.03,
        float,
    ),
    Option("--tick-retrieval", "longest silence during retrieval, in seconds", 0.8, float),
    Option("--tick-generation", "longest silence during generation, in seconds", 1.2, float),
    Option("--max-active-tasks", "tasks running at once; beyond it calls get RESOURCE_EXHAUSTED", 2000, int),
    Option("--max-generations", "LLM generations at once; more wait in a queue the stream reports", 64, int),
    Option("--max-queued-generations", "tasks that may wait for an LLM slot (more are refused)", 1000, int),
    Option("--max-write-stall", "seconds a write to a slow reader may wait; then the call ends", 30.0, float),
    Option("--max-message-bytes", "largest request message accepted, in bytes", 65536, int),
    Option("--max-metadata-bytes", "largest request metadata (headers) accepted, in bytes", 8192, int),
    Option("--max-pending-calls", "calls gRPC may hold before the service takes them (bursts)", 20000, int),
    Option("--auth-tokens-file", "bearer tokens: one sha256:<hex> (or NAME sha256:<hex>) per line", ""),
    Option("--auth-tokens", "comma-separated bearer tokens (set it in the environment)", "", secret=True),
    Option("--auth-open-health", "serve health checks without a token when auth is on", True, parse_bool),
    Option("--auth-open-reflection", "serve reflection without a token when auth is on", True, parse_bool),
    Option("--tls-cert", "PEM certificate chain: serve gRPC over TLS", ""),
    Option("--tls-key", "PEM private key of --tls-cert", ""),
    Option("--tls-client-ca", "PEM CA bundle: require client certificates signed by it (mutual TLS)", ""),
    Option("--max-tokens", "default maximum tokens of an interpretation", 512, int),
    Option("--retention", "seconds an ended task stays watchable", 300.0, float),
    Option(
        "--default-grace", "grace window for keep-running tasks whose caller left, in seconds", 30.0, float
    ),
    Option("--max-grace", "longest grace window a request may ask for, in seconds", 300.0, float),
    Option("--shutdown-grace", "seconds running tasks get to finish on SIGTERM/SIGINT", 10.0, float),
    Option("--log-level", "logging level", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    Option("--log-format", "log lines as text or json (one per line)", "text", choices=("text", "json")),
    Option(
        "--event-log",
        "where task events are kept for Watch: memory (this replica), redis://HOST:PORT/DB (one Redis,"
        " shared) or redis-cluster://HOST:PORT[,HOST:PORT…] (a Redis Cluster; rediss:// and"
        " rediss-cluster:// for TLS)",
        "memory",
    ),
    Option(
        "--event-log-wait",
        "on a Redis Cluster: replicas that must hold a task's terminal event (WAIT) before its caller"
        " sees it, so a master's failover cannot take it back (0: none)",
        1,
        int,
    ),
    Option(
        "--event-log-wait-ms",
        "how long a terminal event waits for --event-log-wait replicas; a master none answers in time"
        " is written to without waiting for 10 s (logged)",
        500,
        int,
    ),
    Option(
        "--lease",
        "with a shared event log: seconds a server's lease lasts unrenewed; when a server dies, its tasks"
        " end UNAVAILABLE (REPLICA_LOST) within --lease plus --lease-tick",
        5.0,
        float,
    ),
    Option(
        "--lease-tick",
        "seconds between sweeps for lost servers (leases are renewed every min(tick, lease/3))",
        1.0,
        float,
    ),
    Option(
        "--workers",
        "server processes on one port (SO_REUSEPORT); more than 1 needs a shared --event-log (redis://…)",
        1,
        int,
    ),
    Option("--metrics-listen", "serve Prometheus metrics on HOST:PORT (empty: off)", ""),
    Option(
        "--otel", "export OpenTelemetry spans per task and stage (needs the tracing extra)", False, parse_bool
    ),
    Option("--otel-endpoint", "OTLP/gRPC endpoint for --otel (empty: from OTEL_EXPORTER_OTLP_*)", ""),
]


def parser(prog: str = "qianshi-server", options: Sequence[Option] = OPTIONS) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Qianshi: real-time interpretation of temple fortune poems over gRPC streaming.",
        epilog="Every option can also be set through the environment variable shown in brackets.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for opt in options:
        raw = os.environ.get(opt.env)
        default = opt.default
        if raw is not None:
            try:
                default = opt.type(raw)
            except (ValueError, argparse.ArgumentTypeError) as exc:
                p.error(f"{opt.env}={raw!r}: {exc}")
        kwargs: dict[str, Any] = {"default": default, "help": f"{opt.help} [{opt.env}]"}
        if opt.type is parse_bool:
            kwargs["type"] = parse_bool
            kwargs["metavar"] = "BOOL"
        elif opt.type is not str:
            kwargs["type"] = opt.type
        if opt.choices:
            kwargs["choices"] = opt.choices
        p.add_argument(opt.flag, **kwargs)
    return p


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = parser()
    args = p.parse_args(argv)
    if not 0 < args.lease_tick < args.lease:
        p.error(f"--lease-tick ({args.lease_tick}) must be positive and shorter than --lease ({args.lease})")
    if args.workers < 1:
        p.error(f"--workers must be at least 1, got {args.workers}")
    return args


def options_table(options: Sequence[Option] = OPTIONS) -> str:
    """The options as a Markdown table (for the README)."""
    rows = ["| flag | environment | default | what it does |", "| --- | --- | --- | --- |"]
    for opt in options:
        default = "" if opt.secret else opt.default
        if opt.flag == "--state-dir":
            default = "$XDG_STATE_HOME/qianshi or ~/.local/state/qianshi"
        rows.append(f"| `{opt.flag}` | `{opt.env}` | `{default}` | {opt.help} |")
    return "\n".join(rows)
