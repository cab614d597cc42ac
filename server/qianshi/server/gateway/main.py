"""``qianshi-gateway``: serve the web pages, Server-Sent Events, gRPC-Web and Connect in front of the
gRPC server.

::

    qianshi-server &                                  # gRPC on 127.0.0.1:50051
    qianshi-gateway --listen 0.0.0.0:8080             # then open http://HOST:8080/

uvicorn runs the app in one event loop, in which the gRPC channel to the server lives too. Access
logs are off: a ``token`` query parameter would otherwise be written to them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import uvicorn
from qianshi.server.gateway.app import create_app
from qianshi.server.gateway.settings import Settings, parse
from qianshi.server.observability import logs

SHUTDOWN_GRACE_S = 5


def split_host_port(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) as a host and a port."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(f"--listen must be HOST:PORT, got {listen!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and serve until SIGINT/SIGTERM."""
    args = parse(argv)
    logs.configure(args.log_level, args.log_format, sys.stderr)
    host, port = split_host_port(args.listen)
    config = uvicorn.Config(
        create_app(Settings.from_args(args)),
        host=host,
        port=port,
        log_config=None,  # keep the handlers logs.configure installed
        log_level=args.log_level.lower(),
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
