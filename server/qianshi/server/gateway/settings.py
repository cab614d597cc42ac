"""The gateway's options and the settings the app is built from.

Options are declared the way the server declares its own (``qianshi.server.config``): once, with a
``--help`` text and an environment equivalent. The gateway's variables are ``QIANSHI_GATEWAY_*``
rather than ``QIANSHI_*`` so that a server and a gateway sharing one environment do not read each
other's ``--listen`` or ``--log-level``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qianshi.server import config


@dataclass(frozen=True, slots=True)
class GatewayOption(config.Option):
    """An option of ``qianshi-gateway``: its environment variable is ``QIANSHI_GATEWAY_<DEST>``."""

    @property
    def env(self) -> str:
        return "QIANSHI_GATEWAY_" + self.dest.upper()


OPTIONS: list[config.Option] = [
    GatewayOption("--listen", "address to serve HTTP on (HOST:PORT)", "127.0.0.1:8080"),
    GatewayOption("--backend", "the gRPC server (HOST:PORT)", "127.0.0.1:50051"),
    GatewayOption("--backend-tls", "talk TLS to the gRPC server", False, config.parse_bool),
    GatewayOption(
        "--backend-ca", "PEM file of the CA that signed the server's certificate (implies TLS)", ""
    ),
    GatewayOption(
        "--cors-origins",
        "comma-separated origins allowed to call the API from other sites (empty: same origin only)",
        "",
    ),
    GatewayOption(
        "--token-cookie",
        "cookie that may carry the bearer token (EventSource sends cookies; typed clients may too)",
        "qianshi_token",
    ),
    GatewayOption(
        "--grace", "seconds the server keeps a task running after a browser disconnects", 30.0, float
    ),
    GatewayOption(
        "--heartbeat", "seconds of silence after which an SSE comment keeps the stream alive", 10.0, float
    ),
    GatewayOption(
        "--sse-retry", "reconnection delay suggested to browsers (the SSE retry: field), in ms", 1000, int
    ),
    GatewayOption("--log-level", "logging level", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    GatewayOption(
        "--log-format", "log lines as text or json (one per line)", "text", choices=("text", "json")
    ),
]


@dataclass(frozen=True, slots=True)
class Settings:
    """What ``create_app`` needs; the defaults are those of the command line."""

    backend: str = "127.0.0.1:50051"
    backend_tls: bool = False
    backend_ca: str = ""
    cors_origins: tuple[str, ...] = ()
    token_cookie: str = "qianshi_token"
    grace_s: float = 30.0
    heartbeat_s: float = 10.0
    retry_ms: int = 1000
    channel_options: tuple[tuple[str, Any], ...] = ()
    """gRPC channel arguments. No keepalive pings by default: a live stream is never silent for
    longer than a tick, and pings a server did not opt into get the connection closed (too_many_pings)."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        """Settings from parsed ``qianshi-gateway`` options."""
        return cls(
            backend=args.backend,
            backend_tls=args.backend_tls,
            backend_ca=args.backend_ca,
            cors_origins=tuple(o.strip() for o in args.cors_origins.split(",") if o.strip()),
            token_cookie=args.token_cookie,
            grace_s=args.grace,
            heartbeat_s=args.heartbeat,
            retry_ms=args.sse_retry,
        )


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``qianshi-gateway``'s command line (the environment supplies defaults)."""
    p = config.parser("qianshi-gateway", OPTIONS)
    p.description = (
        "Qianshi gateway: in front of the gRPC service, for browsers: a web page and Server-Sent Events,"
        " and qianshi.v1.InterpretService over gRPC-Web and Connect for generated web clients."
    )
    return p.parse_args(argv)
